/* Cache keys of the edge: the request path plus the LL-HLS delivery
 * directives in canonical form.  Order does not matter, unknown query
 * parameters (auth tokens, cache busters) never split the cache, and "part
 * past the end of segment M" is the same key as "part 0 of M+1" once the
 * edge knows how many parts M has. */
#ifndef LLHLS_CACHE_KEY_H
#define LLHLS_CACHE_KEY_H

#include "directives.h"

#include <stddef.h>
#include <stdint.h>

#define LLHLS_CACHE_KEY_MAX 512

typedef struct llhls_cache_key {
    char s[LLHLS_CACHE_KEY_MAX]; /* NUL-terminated */
    size_t len;
    int is_playlist;             /* the path ends in .m3u8 */
    llhls_directives_t d;        /* parsed directives (playlists only) */
} llhls_cache_key_t;

/* What the edge last saw of a media playlist: the parts of its segments,
 * so that a part index past a segment's end can be folded onto the next
 * segment.  parts[i] is the number of parts of segment first_msn + i when it
 * is complete, or 0 when it is not (or unknown). */
typedef struct llhls_playlist_shape {
    uint64_t first_msn;
    const uint16_t *parts;
    size_t n;
} llhls_playlist_shape_t;

/* Makes the key for a request.  path excludes the query; query is the raw
 * text after '?' (NULL or empty when none), percent-encoded as received.
 * shape may be NULL.  Returns 0, or -LLHLS_EINVAL when a directive is
 * malformed (the caller answers 400 with *why), or -LLHLS_ETOOBIG when the
 * path is too long for a key. */
int llhls_cache_key_make(llhls_cache_key_t *k, const char *path, size_t path_len, const char *query,
                         size_t query_len, const llhls_playlist_shape_t *shape, const char **why);

/* The query string to send upstream for k: the canonical directives
 * ("_HLS_msn=12&_HLS_part=3&_HLS_skip=YES"), or "" when there are none.
 * Writes at most cap bytes including the NUL; returns the length. */
size_t llhls_cache_key_upstream_query(const llhls_cache_key_t *k, char *out, size_t cap);

#endif
