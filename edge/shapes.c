/* Playlist shapes for cache-key folding (see shapes.h).  A small hash table
 * of playlist paths under one lock; each entry is rewritten whole when a
 * newer playlist of its path arrives. */
#include "shapes.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 256
#define PATH_MAX_LEN 256

typedef struct entry {
    struct entry *next;
    char path[PATH_MAX_LEN];
    size_t path_len;
    uint64_t first_msn;
    uint16_t parts[LLHLS_SHAPE_SEGMENTS];
    size_t n;
} entry_t;

struct llhls_shapes {
    pthread_mutex_t lock;
    entry_t *buckets[BUCKETS];
};

llhls_shapes_t *llhls_shapes_create(void)
{
    llhls_shapes_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        abort();
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

void llhls_shapes_destroy(llhls_shapes_t *s)
{
    for (size_t b = 0; b < BUCKETS; b++) {
        while (s->buckets[b]) {
            entry_t *e = s->buckets[b];
            s->buckets[b] = e->next;
            free(e);
        }
    }
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static unsigned hash(const char *p, size_t n)
{
    unsigned h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h % BUCKETS;
}

static int starts(const char *line, size_t n, const char *tag)
{
    size_t t = strlen(tag);
    return n >= t && memcmp(line, tag, t) == 0;
}

int llhls_shape_parse(const char *text, size_t len, uint64_t *first_msn, uint16_t *parts, size_t *n)
{
    uint64_t msn = 0, first = 0;
    int have_seq = 0, any = 0;
    uint32_t open_parts = 0;
    /* Counts for every segment seen, kept in a ring of the newest. */
    uint16_t ring[LLHLS_SHAPE_SEGMENTS];
    size_t count = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ln = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (ln && p[ln - 1] == '\r')
            ln--;
        if (starts(p, ln, "#EXT-X-MEDIA-SEQUENCE:")) {
            msn = strtoull(p + 22, NULL, 10);
            have_seq = 1;
        } else if (starts(p, ln, "#EXT-X-SKIP:")) {
            const char *k = memchr(p, '=', ln);
            if (k)
                msn += strtoull(k + 1, NULL, 10);
        } else if (starts(p, ln, "#EXT-X-PART:")) {
            open_parts++;
        } else if (ln > 0 && p[0] != '#') {
            /* A segment URI closes the segment: its parts are all listed,
             * or none are (older than three target durations). */
            if (!any)
                first = msn;
            any = 1;
            ring[count % LLHLS_SHAPE_SEGMENTS] = (uint16_t)(open_parts > 0xffff ? 0 : open_parts);
            count++;
            msn++;
            open_parts = 0;
        }
        p = nl ? nl + 1 : end;
    }
    if (!have_seq || !any)
        return -1;
    size_t keep = count < LLHLS_SHAPE_SEGMENTS ? count : LLHLS_SHAPE_SEGMENTS;
    for (size_t i = 0; i < keep; i++)
        parts[i] = ring[(count - keep + i) % LLHLS_SHAPE_SEGMENTS];
    *first_msn = first + (count - keep);
    *n = keep;
    return 0;
}

void llhls_shapes_learn(llhls_shapes_t *s, const char *path, size_t path_len, const char *text, size_t len)
{
    uint64_t first;
    uint16_t parts[LLHLS_SHAPE_SEGMENTS];
    size_t n;
    if (path_len >= PATH_MAX_LEN || llhls_shape_parse(text, len, &first, parts, &n) != 0)
        return;
    unsigned b = hash(path, path_len);
    pthread_mutex_lock(&s->lock);
    entry_t *e = s->buckets[b];
    while (e && !(e->path_len == path_len && memcmp(e->path, path, path_len) == 0))
        e = e->next;
    if (e == NULL) {
        if ((e = calloc(1, sizeof(*e))) == NULL)
            abort();
        memcpy(e->path, path, path_len);
        e->path_len = path_len;
        e->next = s->buckets[b];
        s->buckets[b] = e;
    }
    /* An older answer (a cached blocking reload) never replaces a newer. */
    if (e->n == 0 || first + n >= e->first_msn + e->n) {
        e->first_msn = first;
        memcpy(e->parts, parts, n * sizeof(parts[0]));
        e->n = n;
    }
    pthread_mutex_unlock(&s->lock);
}

const llhls_playlist_shape_t *llhls_shapes_get(llhls_shapes_t *s, const char *path, size_t path_len,
                                               llhls_shape_copy_t *out)
{
    const llhls_playlist_shape_t *r = NULL;
    unsigned b = hash(path, path_len);
    pthread_mutex_lock(&s->lock);
    for (entry_t *e = s->buckets[b]; e; e = e->next) {
        if (e->path_len == path_len && memcmp(e->path, path, path_len) == 0 && e->n > 0) {
            memcpy(out->parts, e->parts, e->n * sizeof(e->parts[0]));
            out->shape.first_msn = e->first_msn;
            out->shape.parts = out->parts;
            out->shape.n = e->n;
            r = &out->shape;
            break;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return r;
}
