/* Recent history of every stream, for the admin page's plots: one sample
 * per second over the last five minutes (media bytes, parts, part arrival
 * jitter), kept in memory.  Fed on the packager thread as parts are
 * committed, read from the HTTP threads; a mutex keeps them apart.  Times
 * are passed in (wall clock, ms), so that tests drive the clock. */
#ifndef LLHLS_HISTORY_H
#define LLHLS_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#define LLHLS_HISTORY_SECONDS 300
#define LLHLS_HISTORY_STREAMS 1024  /* streams followed; the one silent longest goes first */

typedef struct llhls_history llhls_history_t;

typedef struct llhls_history_series {
    int64_t start_ms;               /* the oldest sample's second */
    uint64_t bytes[LLHLS_HISTORY_SECONDS];
    uint32_t parts[LLHLS_HISTORY_SECONDS];
    uint32_t jitter_us[LLHLS_HISTORY_SECONDS];
} llhls_history_series_t;

int llhls_history_create(llhls_history_t **out);
void llhls_history_destroy(llhls_history_t *h);

/* A part of stream's track was committed at now_ms: part `part` of segment
 * msn, bytes long, lasting duration_us.  The same part told twice (the
 * packager reports a track again when its segment completes) counts once. */
void llhls_history_note(llhls_history_t *h, const char *stream, int track, uint64_t msn, uint32_t part,
                        uint32_t bytes, uint32_t duration_us, int64_t now_ms);

/* The last LLHLS_HISTORY_SECONDS whole seconds before now_ms, oldest
 * first (seconds with nothing are zeros).  Returns 0 or -LLHLS_ENOTFOUND. */
int llhls_history_read(llhls_history_t *h, const char *stream, int64_t now_ms, llhls_history_series_t *out);

/* Bits per second committed over the last window_ms before now_ms (the
 * running second counted pro rata).  0 for an unknown stream. */
uint64_t llhls_history_bitrate(llhls_history_t *h, const char *stream, int64_t now_ms, uint32_t window_ms);

/* Forgets a stream (deleted). */
void llhls_history_forget(llhls_history_t *h, const char *stream);

#endif
