/* The spec's limits on blocking requests, applied by the edge itself from
 * what it learned of each playlist (shapes.h): a request too far ahead of
 * the playlist is refused at once with 400, without asking the origin, and
 * a request held for three target durations gets 503. */
#ifndef LLHLS_HOLD_H
#define LLHLS_HOLD_H

#include "edge.h"

/* Whether a playlist request with key k must be refused at once, given
 * what the edge knows of its playlist: returns 1 with *why (the 400 body)
 * and *td (for its max-age), else 0 — also when the edge knows too little,
 * and the origin decides. */
int llhls_hold_too_far(const llhls_shape_copy_t *c, const llhls_cache_key_t *k, int64_t now_ms, const char **why,
                       uint32_t *td);

/* How long a blocking request for path (a playlist with directives, or a
 * part) may be held: three target durations of its playlist, or 0 when the
 * edge knows none (the origin's own limit then applies).  known is what the
 * caller already has of path's own playlist, or NULL: a part's playlist is
 * then looked up.  *td gets the target duration. */
uint32_t llhls_hold_limit_ms(llhls_edge_t *e, const char *path, size_t path_len, const llhls_shape_copy_t *known,
                             uint32_t *td);

/* The worker's timeout list for a hold limit, or NULL when it has too many
 * different ones already. */
h2o_timeout_t *llhls_hold_timeout(llhls_worker_t *w, uint32_t ms);

#endif
