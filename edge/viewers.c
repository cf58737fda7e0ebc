/* Viewers per stream (see viewers.h): an open-addressing table of
 * (connection, stream) pairs with the time each was last seen, swept of
 * stale pairs when it fills, and a small table of stream names. */
#include "viewers.h"

#include "group.h"
#include "index.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    uint64_t conn;      /* 0: empty */
    uint32_t stream;    /* index in names */
    int64_t last_ms;
} entry_t;

struct llhls_viewers {
    pthread_mutex_t lock;
    entry_t *table;
    size_t cap, used;
    int64_t swept_ms;   /* a full table is swept at most once a second */
    char names[LLHLS_VIEWER_STREAMS][LLHLS_NAME_MAX];
    int64_t name_seen_ms[LLHLS_VIEWER_STREAMS];
    size_t nnames;
};

llhls_viewers_t *llhls_viewers_create(void)
{
    llhls_viewers_t *v = calloc(1, sizeof(*v));
    if (v == NULL)
        return NULL;
    v->cap = 1024;
    v->table = calloc(v->cap, sizeof(*v->table));
    if (v->table == NULL) {
        free(v);
        return NULL;
    }
    pthread_mutex_init(&v->lock, NULL);
    return v;
}

void llhls_viewers_destroy(llhls_viewers_t *v)
{
    if (v == NULL)
        return;
    pthread_mutex_destroy(&v->lock);
    free(v->table);
    free(v);
}

static uint64_t mix(uint64_t conn, uint32_t stream)
{
    uint64_t x = conn * 0x9e3779b97f4a7c15ull ^ ((uint64_t)stream << 32 | stream);
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ull;
    return x ^ (x >> 29);
}

static void put(entry_t *table, size_t cap, const entry_t *e)
{
    for (size_t i = mix(e->conn, e->stream) & (cap - 1);; i = (i + 1) & (cap - 1)) {
        if (table[i].conn == 0 || (table[i].conn == e->conn && table[i].stream == e->stream)) {
            table[i] = *e;
            return;
        }
    }
}

/* Rebuilds the table into cap slots, leaving out pairs not seen within the
 * window.  Returns 0 or -1 (out of memory: the old table stays). */
static int rebuild(llhls_viewers_t *v, size_t cap, int64_t now_ms)
{
    entry_t *fresh = calloc(cap, sizeof(*fresh));
    if (fresh == NULL)
        return -1;
    size_t used = 0;
    for (size_t i = 0; i < v->cap; i++) {
        if (v->table[i].conn && now_ms - v->table[i].last_ms <= LLHLS_VIEWER_WINDOW_MS) {
            put(fresh, cap, &v->table[i]);
            used++;
        }
    }
    free(v->table);
    v->table = fresh;
    v->cap = cap;
    v->used = used;
    return 0;
}

/* The index of a stream's name, adding it (in place of one not seen for a
 * window) when new; -1 when the table is full of streams in use. */
static int name_index(llhls_viewers_t *v, const char *s, size_t n, int64_t now_ms)
{
    int stale = -1;
    for (size_t i = 0; i < v->nnames; i++) {
        if (strncmp(v->names[i], s, n) == 0 && v->names[i][n] == 0) {
            v->name_seen_ms[i] = now_ms;
            return (int)i;
        }
        if (stale < 0 && now_ms - v->name_seen_ms[i] > LLHLS_VIEWER_WINDOW_MS)
            stale = (int)i;
    }
    size_t i;
    if (v->nnames < LLHLS_VIEWER_STREAMS)
        i = v->nnames++;
    else if (stale >= 0)
        i = (size_t)stale;
    else
        return -1;
    /* Pairs of the name replaced are stale too: they age out unseen. */
    memcpy(v->names[i], s, n);
    v->names[i][n] = 0;
    v->name_seen_ms[i] = now_ms;
    return (int)i;
}

/* Whether app[0..an) and name[0..nn) make a stream name a publisher could
 * have.  The path comes from the network already percent-decoded, and the
 * names go verbatim into /metrics labels and the report: anything else is
 * not a stream and is not counted. */
static int stream_name_ok(const char *app, size_t an, const char *name, size_t nn)
{
    char a[65], n[65];
    const char *why;
    if (an >= sizeof(a) || nn >= sizeof(n))
        return 0;
    memcpy(a, app, an);
    a[an] = 0;
    memcpy(n, name, nn);
    n[nn] = 0;
    return memchr(a, 0, an) == NULL && memchr(n, 0, nn) == NULL && llhls_publish_name_check(a, n, &why) == 0;
}

void llhls_viewers_seen(llhls_viewers_t *v, const char *path, size_t len, uint64_t conn, int64_t now_ms)
{
    /* "/APP/NAME/REST": the stream is APP/NAME, and REST must be there. */
    if (len < 5 || path[0] != '/' || conn == 0)
        return;
    const char *s1 = memchr(path + 1, '/', len - 1);
    const char *s2 = s1 ? memchr(s1 + 1, '/', len - (size_t)(s1 + 1 - path)) : NULL;
    size_t n = s2 ? (size_t)(s2 - path - 1) : 0;
    if (s2 == NULL || n >= LLHLS_NAME_MAX || s2 + 1 == path + len ||
        !stream_name_ok(path + 1, (size_t)(s1 - path - 1), s1 + 1, (size_t)(s2 - s1 - 1)))
        return;
    pthread_mutex_lock(&v->lock);
    int idx = name_index(v, path + 1, n, now_ms);
    if (idx >= 0) {
        entry_t e = {.conn = conn, .stream = (uint32_t)idx, .last_ms = now_ms};
        size_t i = mix(conn, e.stream) & (v->cap - 1);
        for (; v->table[i].conn; i = (i + 1) & (v->cap - 1)) {
            if (v->table[i].conn == conn && v->table[i].stream == e.stream) {
                v->table[i].last_ms = now_ms;
                pthread_mutex_unlock(&v->lock);
                return;
            }
        }
        /* A new pair: keep the table at most 3/4 full, first by dropping
         * stale pairs, then by growing it up to its bound. */
        if ((v->used + 1) * 4 > v->cap * 3) {
            if (v->cap < LLHLS_VIEWER_ENTRIES)
                rebuild(v, v->cap * 2, now_ms);
            else if (now_ms - v->swept_ms >= 1000 || now_ms < v->swept_ms)
                rebuild(v, v->cap, now_ms);
            v->swept_ms = now_ms;
        }
        if ((v->used + 1) * 4 <= v->cap * 3) {
            put(v->table, v->cap, &e);
            v->used++;
        }
    }
    pthread_mutex_unlock(&v->lock);
}

uint64_t llhls_viewers_each(llhls_viewers_t *v, int64_t now_ms, void (*fn)(const char *stream, uint32_t n, void *ctx),
                            void *ctx)
{
    uint32_t counts[LLHLS_VIEWER_STREAMS] = {0};
    uint64_t total = 0;
    pthread_mutex_lock(&v->lock);
    for (size_t i = 0; i < v->cap; i++) {
        if (v->table[i].conn && now_ms - v->table[i].last_ms <= LLHLS_VIEWER_WINDOW_MS) {
            counts[v->table[i].stream]++;
            total++;
        }
    }
    for (size_t i = 0; i < v->nnames; i++)
        if (counts[i] && fn)
            fn(v->names[i], counts[i], ctx);
    pthread_mutex_unlock(&v->lock);
    return total;
}
