/* Cache keys of the edge.  A request's key is its path plus the LL-HLS
 * delivery directives of a playlist request in one canonical text, so that
 * every request the origin would answer with the same bytes shares one key
 * and one upstream fetch.  Everything else in the query (auth tokens, cache
 * busters, player-added noise) is dropped here and never reaches the cache. */
#include "cache_key.h"

#include "error.h"
#include "playlist.h"

#include <stdio.h>
#include <string.h>

/* A directive value longer than this is malformed whatever it says: the
 * longest valid one is 18 decimal digits. */
#define VALUE_MAX 32

enum { DIR_MSN = 0, DIR_PART = 1, DIR_SKIP = 2, DIR_COUNT = 3 };

static const char *const directive_names[DIR_COUNT] = {"_HLS_msn", "_HLS_part", "_HLS_skip"};

static int invalid(const char **why, const char *sentence)
{
    if (why != NULL)
        *why = sentence;
    return -LLHLS_EINVAL;
}

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) into out (NUL-terminated).  '+' is a space, as in
 * form encoding; no directive may contain one, so either reading refuses it.
 * A decoded NUL is refused: it would cut the value short unseen. */
static int decode_value(const char *s, size_t n, char out[VALUE_MAX + 1], const char **why)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '%') {
            int hi = i + 2 < n ? hex_digit(s[i + 1]) : -1;
            int lo = i + 2 < n ? hex_digit(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return invalid(why, "a directive value has a malformed percent-encoding");
            ch = (char)(hi * 16 + lo);
            i += 2;
        } else if (ch == '+') {
            ch = ' ';
        }
        if (ch == '\0')
            return invalid(why, "a directive value contains a NUL byte");
        if (o == VALUE_MAX)
            return invalid(why, "a directive value is too long");
        out[o++] = ch;
    }
    out[o] = '\0';
    return 0;
}

/* Picks the three directives out of the raw query.  Names are compared as
 * received (no decoding, case-sensitive), as the origin does. */
static int pick_directives(const char *query, size_t query_len, char values[DIR_COUNT][VALUE_MAX + 1],
                           int present[DIR_COUNT], const char **why)
{
    size_t i = 0;
    while (i < query_len) {
        size_t start = i;
        while (i < query_len && query[i] != '&')
            i++;
        size_t end = i++;
        size_t eq = start;
        while (eq < end && query[eq] != '=')
            eq++;
        size_t name_len = eq - start;
        for (int d = 0; d < DIR_COUNT; d++) {
            if (strlen(directive_names[d]) != name_len || memcmp(query + start, directive_names[d], name_len) != 0)
                continue;
            if (present[d])
                return invalid(why, "a delivery directive appears twice in the query");
            present[d] = 1;
            /* A bare name with no '=' is an empty value, which the
             * directive parser refuses. */
            size_t vstart = eq < end ? eq + 1 : end;
            int err = decode_value(query + vstart, end - vstart, values[d], why);
            if (err != 0)
                return err;
            break;
        }
    }
    return 0;
}

/* Whether the last characters of path are ".m3u8". */
static int ends_with_m3u8(const char *path, size_t len)
{
    static const char ext[] = ".m3u8";
    size_t n = sizeof(ext) - 1;
    return len >= n && memcmp(path + len - n, ext, n) == 0;
}

static int path_acceptable(const char *path, size_t len, const char **why)
{
    if (memchr(path, '\0', len) != NULL)
        return invalid(why, "the path contains a NUL byte");
    /* A '?' would make "path?directives" ambiguous; it cannot come from a
     * parsed request target, whose query was split off before. */
    if (memchr(path, '?', len) != NULL)
        return invalid(why, "the path contains a '?'");
    for (size_t i = 0; i + 3 <= len; i++) {
        if (memcmp(path + i, "/..", 3) == 0 && (i + 3 == len || path[i + 3] == '/'))
            return invalid(why, "the path contains a \"..\" segment");
    }
    return 0;
}

/* "Part past the end of segment M" is "part 0 of M+1" once M is known to be
 * complete with that many parts.  The fold lands on part 0, never carries the
 * excess over: the origin answers (M, N past the end) as soon as M+1 has any
 * part, exactly as it answers (M+1, 0). */
static void fold_part(llhls_directives_t *d, const llhls_playlist_shape_t *shape)
{
    if (shape == NULL || shape->parts == NULL || !d->has_part)
        return;
    for (;;) {
        if (d->msn < shape->first_msn || d->msn - shape->first_msn >= shape->n)
            return;
        uint16_t parts = shape->parts[d->msn - shape->first_msn];
        if (parts == 0 || d->part < parts)
            return;
        d->msn++;
        d->part = 0;
    }
}

int llhls_cache_key_make(llhls_cache_key_t *k, const char *path, size_t path_len, const char *query,
                         size_t query_len, const llhls_playlist_shape_t *shape, const char **why)
{
    memset(k, 0, sizeof(*k));
    if (path == NULL)
        return invalid(why, "the request has no path");
    int err = path_acceptable(path, path_len, why);
    if (err != 0)
        return err;
    if (path_len >= LLHLS_CACHE_KEY_MAX) {
        if (why != NULL)
            *why = "the path is too long";
        return -LLHLS_ETOOBIG;
    }
    k->is_playlist = ends_with_m3u8(path, path_len);
    if (k->is_playlist && query != NULL && query_len > 0) {
        char values[DIR_COUNT][VALUE_MAX + 1];
        int present[DIR_COUNT] = {0, 0, 0};
        err = pick_directives(query, query_len, values, present, why);
        if (err != 0)
            return err;
        err = llhls_directives_parse(&k->d, present[DIR_MSN] ? values[DIR_MSN] : NULL,
                                     present[DIR_PART] ? values[DIR_PART] : NULL,
                                     present[DIR_SKIP] ? values[DIR_SKIP] : NULL, why);
        if (err != 0)
            return err;
        fold_part(&k->d, shape);
    }
    /* The canonical text: a fixed order and names of our own, so that it
     * cannot be mistaken for any raw query. */
    char dirs[96];
    int dl = 0;
    if (k->d.has_msn)
        dl += snprintf(dirs + dl, sizeof(dirs) - (size_t)dl, "%smsn=%llu", dl ? "&" : "", (unsigned long long)k->d.msn);
    if (k->d.has_part)
        dl += snprintf(dirs + dl, sizeof(dirs) - (size_t)dl, "%spart=%u", dl ? "&" : "", (unsigned)k->d.part);
    if (k->d.skip != LLHLS_SKIP_NONE)
        dl += snprintf(dirs + dl, sizeof(dirs) - (size_t)dl, "%sskip=%d", dl ? "&" : "", k->d.skip);
    size_t total = path_len + (dl > 0 ? 1 + (size_t)dl : 0);
    if (total >= LLHLS_CACHE_KEY_MAX) {
        memset(k, 0, sizeof(*k));
        if (why != NULL)
            *why = "the path is too long";
        return -LLHLS_ETOOBIG;
    }
    memcpy(k->s, path, path_len);
    if (dl > 0) {
        k->s[path_len] = '?';
        memcpy(k->s + path_len + 1, dirs, (size_t)dl);
    }
    k->s[total] = '\0';
    k->len = total;
    return 0;
}

size_t llhls_cache_key_upstream_query(const llhls_cache_key_t *k, char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    char q[96];
    int n = 0;
    if (k->is_playlist) {
        if (k->d.has_msn)
            n += snprintf(q + n, sizeof(q) - (size_t)n, "_HLS_msn=%llu", (unsigned long long)k->d.msn);
        if (k->d.has_part)
            n += snprintf(q + n, sizeof(q) - (size_t)n, "&_HLS_part=%u", (unsigned)k->d.part);
        if (k->d.skip != LLHLS_SKIP_NONE)
            n += snprintf(q + n, sizeof(q) - (size_t)n, "%s_HLS_skip=%s", n ? "&" : "",
                          k->d.skip == LLHLS_SKIP_V2 ? "v2" : "YES");
    }
    /* Never a truncated directive upstream: a query that does not fit is
     * sent as none, and the length says so. */
    if ((size_t)n >= cap) {
        out[0] = '\0';
        return 0;
    }
    memcpy(out, q, (size_t)n);
    out[n] = '\0';
    return (size_t)n;
}
