/* Requests held until a track moves on: blocking playlist reloads and
 * requests for the preload-hinted part.  The HTTP side suspends the
 * connection and registers a waiter; the packager's update callback resumes
 * exactly the waiters its new position satisfies; a single timer thread
 * resumes those whose deadline passed.  Nothing polls. */
#ifndef LLHLS_WAITERS_H
#define LLHLS_WAITERS_H

#include "directives.h"
#include "index.h"
#include "metrics.h"

#include <microhttpd.h>

typedef struct llhls_waiters llhls_waiters_t;

typedef enum { LLHLS_WAIT_PLAYLIST = 0, LLHLS_WAIT_PART = 1 } llhls_wait_kind_t;
typedef enum { LLHLS_WAITER_IDLE = 0, LLHLS_WAITER_WAITING, LLHLS_WAITER_WOKEN, LLHLS_WAITER_TIMED_OUT } llhls_waiter_state_t;

/* Embedded in the HTTP request state; owned by it. */
typedef struct llhls_waiter {
    struct llhls_waiter *next, *prev;
    struct MHD_Connection *conn;
    char stream[LLHLS_NAME_MAX];
    int track;
    int kind;                   /* llhls_wait_kind_t */
    llhls_directives_t d;       /* PLAYLIST */
    uint64_t msn;               /* PART */
    uint32_t part;
    uint32_t part_target_us;
    int64_t deadline_ms;
    volatile int state;         /* llhls_waiter_state_t, under the registry lock */
} llhls_waiter_t;

int llhls_waiters_create(llhls_waiters_t **out, llhls_metrics_t *metrics, uint32_t max_per_stream);
/* Stops the timer thread and frees the registry (after MHD stopped). */
void llhls_waiters_destroy(llhls_waiters_t *w);
/* Resumes every held request as timed out (at shutdown, before MHD stops). */
void llhls_waiters_release_all(llhls_waiters_t *ws);

/* Registers w and suspends its connection, unless the newest position the
 * registry knows of already satisfies it.  Returns 1 when suspended, 0 when
 * the caller should answer at once (the track moved on meanwhile), or
 * -LLHLS_EBUSY when the stream already has max_per_stream waiters.  Called
 * from the connection's handler. */
int llhls_waiters_hold(llhls_waiters_t *ws, llhls_waiter_t *w);

/* Removes w if it is still registered (its connection went away). */
void llhls_waiters_forget(llhls_waiters_t *ws, llhls_waiter_t *w);

/* The packager's update callback: records pos and resumes the waiters of
 * stream/track that it satisfies. */
void llhls_waiters_update(void *ctx, const char *stream, int track, const llhls_position_t *pos);

#endif
