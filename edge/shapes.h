/* What the edge learned from the media playlists it fetched: for each
 * playlist path, how many parts each of its complete segments has.  Cache
 * keys use it to fold "part past the end of segment M" onto "part 0 of
 * M+1", so that both requests share one key and one upstream fetch. */
#ifndef LLHLS_SHAPES_H
#define LLHLS_SHAPES_H

#include "cache_key.h"

#include <stddef.h>
#include <stdint.h>

#define LLHLS_SHAPE_SEGMENTS 32 /* the newest segments remembered per playlist */

typedef struct llhls_shapes llhls_shapes_t;

/* A copy of one playlist's shape, filled by llhls_shapes_get. */
typedef struct llhls_shape_copy {
    uint16_t parts[LLHLS_SHAPE_SEGMENTS];
    llhls_playlist_shape_t shape;   /* points into parts */
} llhls_shape_copy_t;

llhls_shapes_t *llhls_shapes_create(void);
void llhls_shapes_destroy(llhls_shapes_t *s);

/* Learns from a media playlist's text fetched for path (the path without
 * its query).  Thread safe. */
void llhls_shapes_learn(llhls_shapes_t *s, const char *path, size_t path_len, const char *text, size_t len);

/* Copies what is known of path into out and returns &out->shape, or NULL
 * when nothing is.  Thread safe. */
const llhls_playlist_shape_t *llhls_shapes_get(llhls_shapes_t *s, const char *path, size_t path_len,
                                               llhls_shape_copy_t *out);

/* Parses a media playlist into a shape (exposed for tests): the part
 * counts of its newest complete segments.  Returns 0 or -1 when the text
 * lists no segment. */
int llhls_shape_parse(const char *text, size_t len, uint64_t *first_msn, uint16_t *parts, size_t *n);

#endif
