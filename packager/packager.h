/* The packager: owns every stream being published, cuts their samples into
 * CMAF parts, commits them to the store and tells the HTTP side that a
 * track moved on.  It runs on one libuv loop (the packager thread); the
 * update callback is called on that thread once a part can be read: right
 * after its commit, or, with fresh parts, as soon as it is published
 * there (the commit follows). */
#ifndef LLHLS_PACKAGER_H
#define LLHLS_PACKAGER_H

#include "fresh.h"
#include "index.h"
#include "ingest.h"
#include "metrics.h"
#include "store.h"

#include <uv.h>

/* Called after a commit moved a track's playlist (a new part, a segment
 * completed, the stream ended).  pos is the track's new position. */
typedef void (*llhls_update_cb)(void *ctx, const char *stream, int track, const llhls_position_t *pos);

typedef struct llhls_packager_params {
    llhls_store_t *store;
    llhls_fresh_t *fresh;       /* where parts are shown while committed; may be NULL */
    llhls_metrics_t *metrics;
    uint32_t segment_target_us;
    uint32_t part_target_us;
    uint32_t window_ms;         /* listed in playlists */
    int record;                 /* keep every segment of new publishes (hls.record) */
    uint32_t grace_ms;          /* how long a stream waits for its publisher */
    llhls_update_cb on_update;
    void *update_ctx;
} llhls_packager_params_t;

/* Creates the packager on loop.  Streams the store holds as live (the
 * process stopped while they were published) get a fresh grace period, so
 * an encoder that reconnects continues its playlist.  Returns 0 or a
 * negative error. */
int llhls_packager_create(uv_loop_t *loop, const llhls_packager_params_t *p, llhls_ingest_t **out);
/* Stops every publish (as if the publishers left) and frees the packager.
 * Run the loop afterwards so that timers close. */
void llhls_packager_destroy(llhls_ingest_t *ing);
/* Ends a stream now (admin action or shutdown): a publisher still
 * connected is disconnected (as llhls_packager_kick) and the playlists get
 * EXT-X-ENDLIST at once.  Returns 0 or -LLHLS_ENOTFOUND (not live or idle
 * in this process). */
int llhls_packager_end_stream(llhls_ingest_t *ing, const char *stream);
/* Disconnects the publisher of a stream (admin action): its publish stops
 * as if it had left (the stream waits its grace period, so the encoder may
 * come back), and the next media message of that connection gets
 * -LLHLS_ECANCELED so that the RTMP server closes it.  Returns 0 or
 * -LLHLS_ENOTFOUND (no publisher connected on that stream). */
int llhls_packager_kick(llhls_ingest_t *ing, const char *stream);
/* Deletes a stream that is neither live nor idle, with everything stored
 * of it.  Returns 0, -LLHLS_EBUSY (live or idle), -LLHLS_ENOTFOUND or a
 * store error. */
int llhls_packager_delete_stream(llhls_ingest_t *ing, const char *stream);

#endif
