/* libFuzzer target: the edge's cache keys, made from a request's path and
 * query as a player sends them (split at the first '?'). */
#include "cache_key.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    const char *q = memchr(s, '?', size);
    size_t path_len = q ? (size_t)(q - s) : size;
    static const uint16_t parts[] = {7, 7, 3, 0};
    llhls_playlist_shape_t shape = {.first_msn = 10, .parts = parts, .n = 4};
    llhls_cache_key_t k;
    const char *why;
    if (llhls_cache_key_make(&k, s, path_len, q ? q + 1 : NULL, q ? size - path_len - 1 : 0, &shape, &why) == 0) {
        char out[256];
        llhls_cache_key_upstream_query(&k, out, sizeof(out));
    }
    return 0;
}
