/* What the RTMP server hands the packager: a publish of APP/NAME starts,
 * carries FLV audio/video tag bodies, and stops.  The packager turns them
 * into CMAF parts in the store and wakes the requests waiting for them.
 * Every call happens on the packager's libuv thread. */
#ifndef LLHLS_INGEST_H
#define LLHLS_INGEST_H

#include <stddef.h>
#include <stdint.h>

typedef struct llhls_ingest llhls_ingest_t;   /* the packager */
typedef struct llhls_publish llhls_publish_t; /* one publish in progress */

/* Starts a publish from peer ("1.2.3.4:5678").  Returns 0, -LLHLS_EINVAL
 * (bad name; *why says why) or -LLHLS_EBUSY (a publisher is already live on
 * that name).  The packager logs the refusal. */
int llhls_publish_start(llhls_ingest_t *ing, const char *app, const char *name, const char *peer,
                        llhls_publish_t **out, const char **why);

/* onMetaData figures (0 when absent): used only as a fallback for the
 * frame rate when the SPS has none. */
void llhls_publish_metadata(llhls_publish_t *p, double framerate);

/* One FLV tag body with its RTMP timestamp (ms, 32 bits, may wrap).
 * Returns 0, or a negative error after which the caller closes the
 * connection (the packager has logged why, and nothing stored is lost). */
int llhls_publish_video(llhls_publish_t *p, uint32_t ts_ms, const uint8_t *body, size_t len);
int llhls_publish_audio(llhls_publish_t *p, uint32_t ts_ms, const uint8_t *body, size_t len);

/* The publisher left (unpublish, disconnect or error).  The stream waits for
 * it for the grace period, then ends.  p is freed. */
void llhls_publish_stop(llhls_publish_t *p);

#endif
