/* Playlist shapes (see shapes.h).  A small hash table of playlist paths
 * under one lock; each entry is rewritten whole when a newer playlist of its
 * path arrives. */
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
    llhls_shape_t shape;
    int64_t current_ms;
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

/* A decimal attribute value in seconds ("0.33334"), as microseconds. */
static uint32_t seconds_us(const char *p, const char *end)
{
    uint64_t whole = 0, frac = 0, scale = 1000000;
    while (p < end && *p >= '0' && *p <= '9' && whole < 100000)
        whole = whole * 10 + (uint64_t)(*p++ - '0');
    if (p < end && *p == '.') {
        for (p++; p < end && *p >= '0' && *p <= '9'; p++) {
            if (scale > 1) {
                scale /= 10;
                frac += (uint64_t)(*p - '0') * scale;
            }
        }
    }
    uint64_t us = whole * 1000000 + frac;
    return us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

int llhls_shape_parse(const char *text, size_t len, llhls_shape_t *out)
{
    uint64_t msn = 0, first = 0;
    int have_seq = 0, any = 0, ended = 0;
    uint32_t open_parts = 0, td = 0, part_target = 0;
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
        } else if (starts(p, ln, "#EXT-X-TARGETDURATION:")) {
            td = (uint32_t)strtoul(p + 22, NULL, 10);
        } else if (starts(p, ln, "#EXT-X-PART-INF:PART-TARGET=")) {
            part_target = seconds_us(p + 28, p + ln);
        } else if (starts(p, ln, "#EXT-X-ENDLIST")) {
            ended = 1;
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
    if (!have_seq || (!any && open_parts == 0))
        return -1;
    memset(out, 0, sizeof(*out));
    size_t keep = count < LLHLS_SHAPE_SEGMENTS ? count : LLHLS_SHAPE_SEGMENTS;
    for (size_t i = 0; i < keep; i++)
        out->parts[i] = ring[(count - keep + i) % LLHLS_SHAPE_SEGMENTS];
    out->first_msn = any ? first + (count - keep) : msn;
    out->n = keep;
    out->target_duration_s = td;
    out->part_target_us = part_target;
    out->tip.has_parts = 1;
    out->tip.ended = (uint8_t)ended;
    if (open_parts > 0) {
        out->tip.last_msn = msn;
        out->tip.last_part = open_parts - 1;
    } else {
        uint16_t last = out->parts[keep - 1];
        out->tip.last_msn = msn - 1;
        out->tip.last_part = last ? last - 1u : 0;
        out->tip.last_complete = 1;
    }
    return 0;
}

/* Orders views of one playlist by how far they reach. */
static uint64_t reach(const llhls_shape_t *s)
{
    return (s->tip.last_msn << 17) + (s->tip.last_complete ? 0x1ffff : (s->tip.last_part & 0xffff));
}

void llhls_shapes_learn(llhls_shapes_t *s, const char *path, size_t path_len, const char *text, size_t len,
                        int64_t current_ms)
{
    llhls_shape_t shape;
    if (path_len >= PATH_MAX_LEN || llhls_shape_parse(text, len, &shape) != 0)
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
        e->shape = shape;
        e->current_ms = current_ms;
    } else if (reach(&shape) > reach(&e->shape) || (reach(&shape) == reach(&e->shape) && shape.tip.ended)) {
        /* An older answer (a cached blocking reload) never replaces a newer. */
        e->shape = shape;
        e->current_ms = current_ms;
    } else if (reach(&shape) == reach(&e->shape) && current_ms > e->current_ms) {
        e->current_ms = current_ms; /* the same view, seen again: still current */
    }
    pthread_mutex_unlock(&s->lock);
}

int llhls_shapes_get(llhls_shapes_t *s, const char *path, size_t path_len, llhls_shape_copy_t *out)
{
    int r = -1;
    unsigned b = hash(path, path_len);
    pthread_mutex_lock(&s->lock);
    for (entry_t *e = s->buckets[b]; e; e = e->next) {
        if (e->path_len == path_len && memcmp(e->path, path, path_len) == 0) {
            out->shape = e->shape;
            out->current_ms = e->current_ms;
            r = 0;
            break;
        }
    }
    pthread_mutex_unlock(&s->lock);
    if (r == 0) {
        out->folding.first_msn = out->shape.first_msn;
        out->folding.parts = out->shape.parts;
        out->folding.n = out->shape.n;
    }
    return r;
}
