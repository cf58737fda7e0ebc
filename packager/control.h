/* Operator actions on the packager from other threads (the admin API):
 * each is queued to the packager's loop, done there, and its result handed
 * back to the caller, which waits for it (briefly). */
#ifndef LLHLS_CONTROL_H
#define LLHLS_CONTROL_H

#include "ingest.h"

#include <uv.h>

typedef struct llhls_control llhls_control_t;

typedef enum {
    LLHLS_CONTROL_END = 1,        /* llhls_packager_end_stream */
    LLHLS_CONTROL_KICK = 2,       /* llhls_packager_kick */
    LLHLS_CONTROL_DELETE = 3,     /* llhls_packager_delete_stream */
} llhls_control_action_t;

/* Creates the queue on the packager's loop (before that loop runs, or on
 * its thread); ing may be set later.  Returns 0 or -LLHLS_ENOMEM. */
int llhls_control_create(uv_loop_t *loop, llhls_ingest_t *ing, llhls_control_t **out);
/* Names the packager the actions go to (call on the packager thread,
 * before its loop runs). */
void llhls_control_set_ingest(llhls_control_t *c, llhls_ingest_t *ing);
/* Stops taking actions (call on the packager thread, before the packager
 * goes): actions queued or asked later get -LLHLS_ECANCELED.  The handle
 * closes with the loop's next turn; the struct itself stays until
 * llhls_control_free, once no thread can call llhls_control_run. */
void llhls_control_close(llhls_control_t *c);
void llhls_control_free(llhls_control_t *c);

/* Runs an action on stream ("app/name") from any thread and returns its
 * result: 0 or the packager's negative error; -LLHLS_EAGAIN when the
 * packager did not answer within timeout_ms. */
int llhls_control_run(llhls_control_t *c, llhls_control_action_t action, const char *stream, int timeout_ms);

#endif
