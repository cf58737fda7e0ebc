/* Blocking-request limits at the edge (see hold.h).  The edge's view of a
 * playlist is as old as its last fetch, and the playlist may have grown
 * since, so a refusal allows for the most it could have grown: only a
 * request too far ahead of any playlist the origin could have now is
 * refused here; anything closer goes to the origin, which knows. */
#include "hold.h"

#include "directives.h"

#include <string.h>

int llhls_hold_too_far(const llhls_shape_copy_t *c, const llhls_cache_key_t *k, int64_t now_ms, const char **why,
                       uint32_t *td)
{
    if (!k->is_playlist || !k->d.has_msn)
        return 0;
    const llhls_shape_t *s = &c->shape;
    if (s->part_target_us == 0 || s->tip.ended)
        return 0;
    /* Each part target since the view was current may have brought one
     * part, and at most each of those began a new segment: the tip moved
     * at most that many segments on, to part 0 of its newest.  Against such
     * a tip the request is nearer than against any real one. */
    int64_t elapsed_us = (now_ms > c->current_ms ? now_ms - c->current_ms : 0) * 1000;
    uint64_t grown = (uint64_t)(elapsed_us / s->part_target_us) + 1;
    llhls_position_t pos = s->tip;
    pos.last_msn += grown;
    pos.last_part = 0;
    pos.last_complete = 0;
    if (llhls_block_decide(&k->d, &pos, s->part_target_us, why) != LLHLS_BLOCK_BAD)
        return 0;
    *td = s->target_duration_s;
    return 1;
}

uint32_t llhls_hold_limit_ms(llhls_edge_t *e, const char *path, size_t path_len, const llhls_shape_copy_t *known,
                             uint32_t *td)
{
    llhls_shape_copy_t c;
    if (known == NULL) {
        /* A part's playlist is its folder's name: /live/a/video/41.2.m4s is
         * listed in /live/a/video.m3u8. */
        char playlist[LLHLS_CACHE_KEY_MAX];
        if (path_len <= 4 || memcmp(path + path_len - 4, ".m4s", 4) != 0)
            return 0;
        const char *slash = memrchr(path, '/', path_len);
        size_t dir = slash ? (size_t)(slash - path) : 0;
        if (dir == 0 || dir + 5 >= sizeof(playlist))
            return 0;
        memcpy(playlist, path, dir);
        memcpy(playlist + dir, ".m3u8", 5);
        if (llhls_shapes_get(e->shapes, playlist, dir + 5, &c) != 0)
            return 0;
        known = &c;
    }
    if (known->shape.target_duration_s == 0)
        return 0;
    *td = known->shape.target_duration_s;
    return 3000 * known->shape.target_duration_s;
}

h2o_timeout_t *llhls_hold_timeout(llhls_worker_t *w, uint32_t ms)
{
    for (size_t i = 0; i < w->nhold_timeouts; i++)
        if (w->hold_ms[i] == ms)
            return &w->hold_timeouts[i];
    if (w->nhold_timeouts == LLHLS_HOLD_TIMEOUTS)
        return NULL;
    size_t i = w->nhold_timeouts++;
    w->hold_ms[i] = ms;
    h2o_timeout_init(w->ctx.loop, &w->hold_timeouts[i], ms);
    return &w->hold_timeouts[i];
}
