/* What the edge learned from the media playlists it fetched: for each
 * playlist path, how many parts each of its complete segments has, where
 * the playlist ended and its target durations.  Cache keys use the part
 * counts to fold "part past the end of segment M" onto "part 0 of M+1", so
 * that both requests share one key and one upstream fetch; the edge uses the
 * rest to apply the spec's limits on blocking requests itself (edge/hold.c). */
#ifndef LLHLS_SHAPES_H
#define LLHLS_SHAPES_H

#include "cache_key.h"
#include "index.h"

#include <stddef.h>
#include <stdint.h>

#define LLHLS_SHAPE_SEGMENTS 32 /* the newest segments remembered per playlist */

typedef struct llhls_shapes llhls_shapes_t;

/* What one media playlist says. */
typedef struct llhls_shape {
    uint64_t first_msn;                   /* MSN of parts[0] */
    uint16_t parts[LLHLS_SHAPE_SEGMENTS]; /* part counts of complete segments, 0 when unknown */
    size_t n;
    llhls_position_t tip;       /* where the playlist ends */
    uint32_t target_duration_s; /* EXT-X-TARGETDURATION, 0 when absent */
    uint32_t part_target_us;    /* PART-TARGET, 0 when absent */
} llhls_shape_t;

/* A copy of one playlist's shape, filled by llhls_shapes_get. */
typedef struct llhls_shape_copy {
    llhls_shape_t shape;
    int64_t current_ms;             /* monotonic time at which the playlist was current */
    llhls_playlist_shape_t folding; /* points into shape.parts */
} llhls_shape_copy_t;

llhls_shapes_t *llhls_shapes_create(void);
void llhls_shapes_destroy(llhls_shapes_t *s);

/* Learns from a media playlist's text fetched for path (the path without
 * its query), current at current_ms (now, less the Age it arrived with).
 * An older view never replaces a newer one.  Thread safe. */
void llhls_shapes_learn(llhls_shapes_t *s, const char *path, size_t path_len, const char *text, size_t len,
                        int64_t current_ms);

/* Copies what is known of path into out and returns 0, or -1 when nothing
 * is (out->folding.n is 0 when no segment is complete yet).  Thread safe. */
int llhls_shapes_get(llhls_shapes_t *s, const char *path, size_t path_len, llhls_shape_copy_t *out);

/* Parses a media playlist into a shape.  Returns 0, or -1 when the text
 * lists no segment and no part. */
int llhls_shape_parse(const char *text, size_t len, llhls_shape_t *out);

#endif
