/* The edge's object cache: a hash table of upstream responses shared by every
 * worker thread, with one fill per key, bodies streamed to readers as they
 * arrive from one copy in memory, max-age expiry, negative caching of
 * failures and least-recently-used eviction within a memory bound.  One mutex
 * guards everything; watcher callbacks run without it.  The states, locking
 * and accounting are described in docs/edge-cache.md. */
#include "cache.h"

#include "clock.h"
#include "error.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Bodies of unknown length grow in chunks from the small one (a playlist
 * fits) up to the large one (a part of an 8K stream takes a few). */
#define CHUNK_FIRST (16 * 1024)
#define CHUNK_MAX (256 * 1024)
#define BUCKETS_INITIAL 64

typedef struct chunk {
    uint64_t start; /* offset of data[0] in the body */
    size_t len, cap;
    uint8_t data[];
} chunk_t;

struct llhls_object {
    llhls_cache_t *cache;
    llhls_object_t *hnext; /* bucket chain; also the free list of a sweep */
    llhls_object_t *lru_prev, *lru_next;
    uint64_t hash;
    char *key;
    size_t key_len;
    unsigned refs; /* the table's, readers', fillers' */
    int in_table, in_lru;
    llhls_object_state_t state;
    int has_head;
    llhls_object_head_t head;
    chunk_t **chunks; /* the array may grow; the chunks never move */
    size_t nchunks, chunks_cap;
    uint64_t size;      /* body bytes appended */
    size_t accounted;   /* chunk capacity, counted in the cache's bytes while in the table */
    int64_t expires_ms; /* COMPLETE or negative-cached FAILED */
    int64_t completed_ms, fetched_ms;
    llhls_object_t *stale; /* the expired answer it replaces (referenced), or NULL */
    /* Watchers, a circular list around a sentinel.  During a notification
     * pass, cursor is the next watcher to call: unwatch moves it on when it
     * removes that watcher, so a callback may unwatch anyone. */
    llhls_object_watcher_t watchers;
    llhls_object_watcher_t *cursor;
    llhls_object_watcher_t *calling; /* whose callback runs now */
    pthread_t notifier;
    int notifying, renotify;
};

struct llhls_cache {
    pthread_mutex_t lock;
    pthread_cond_t callback_done; /* an unwatch waits for the callback it races */
    size_t max_bytes;
    llhls_object_t **buckets;
    size_t nbuckets, count;
    llhls_object_t *lru_head, *lru_tail; /* head: most recently used */
    llhls_cache_stats_t stats;
    /* The owner's reference plus one per live object: objects still sent
     * after llhls_cache_destroy keep the lock and the accounting alive. */
    size_t refs;
};

static uint64_t hash_key(const char *key, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)key[i];
        h *= 1099511628211ull;
    }
    return h;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (p == NULL)
        abort();
    return p;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s != NULL ? s : "");
    if (d == NULL)
        abort();
    return d;
}

llhls_cache_t *llhls_cache_create(size_t max_bytes)
{
    llhls_cache_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->buckets = calloc(BUCKETS_INITIAL, sizeof(*c->buckets));
    if (c->buckets == NULL) {
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->callback_done, NULL);
    c->nbuckets = BUCKETS_INITIAL;
    c->max_bytes = max_bytes;
    c->refs = 1;
    return c;
}

static void cache_free(llhls_cache_t *c)
{
    pthread_cond_destroy(&c->callback_done);
    pthread_mutex_destroy(&c->lock);
    free(c->buckets);
    free(c);
}

/* ---- table and LRU, under the lock ---- */

static void lru_remove(llhls_cache_t *c, llhls_object_t *o)
{
    if (!o->in_lru)
        return;
    if (o->lru_prev)
        o->lru_prev->lru_next = o->lru_next;
    else
        c->lru_head = o->lru_next;
    if (o->lru_next)
        o->lru_next->lru_prev = o->lru_prev;
    else
        c->lru_tail = o->lru_prev;
    o->lru_prev = o->lru_next = NULL;
    o->in_lru = 0;
}

static void lru_push_front(llhls_cache_t *c, llhls_object_t *o)
{
    o->lru_prev = NULL;
    o->lru_next = c->lru_head;
    if (c->lru_head)
        c->lru_head->lru_prev = o;
    else
        c->lru_tail = o;
    c->lru_head = o;
    o->in_lru = 1;
}

static void table_grow(llhls_cache_t *c)
{
    size_t n = c->nbuckets * 2;
    llhls_object_t **b = calloc(n, sizeof(*b));
    if (b == NULL)
        return; /* a longer chain is slower, not wrong */
    for (size_t i = 0; i < c->nbuckets; i++) {
        llhls_object_t *o = c->buckets[i];
        while (o) {
            llhls_object_t *next = o->hnext;
            size_t j = (size_t)o->hash & (n - 1);
            o->hnext = b[j];
            b[j] = o;
            o = next;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = n;
}

static llhls_object_t *table_find(llhls_cache_t *c, const char *key, size_t len, uint64_t h)
{
    for (llhls_object_t *o = c->buckets[h & (c->nbuckets - 1)]; o; o = o->hnext)
        if (o->hash == h && o->key_len == len && memcmp(o->key, key, len) == 0)
            return o;
    return NULL;
}

/* Drops one reference; an object that reaches none is put on *dead to be
 * freed once the lock is released. */
static void unref_locked(llhls_object_t *o, llhls_object_t **dead)
{
    if (--o->refs == 0) {
        o->hnext = *dead;
        *dead = o;
    }
}

/* Takes o out of the table and the LRU, dropping the table's reference. */
static void unlink_locked(llhls_cache_t *c, llhls_object_t *o, llhls_object_t **dead)
{
    if (!o->in_table)
        return;
    llhls_object_t **pp = &c->buckets[o->hash & (c->nbuckets - 1)];
    while (*pp != o)
        pp = &(*pp)->hnext;
    *pp = o->hnext;
    o->hnext = NULL;
    o->in_table = 0;
    c->stats.bytes -= o->accounted;
    c->count--;
    c->stats.objects = c->count;
    lru_remove(c, o);
    unref_locked(o, dead);
}

/* Evicts the least recently used complete objects until the bodies fit. */
static void evict_locked(llhls_cache_t *c, llhls_object_t **dead)
{
    while (c->stats.bytes > c->max_bytes && c->lru_tail != NULL) {
        c->stats.evictions++;
        unlink_locked(c, c->lru_tail, dead);
    }
}

static void object_free(llhls_object_t *o)
{
    if (o->stale)
        llhls_object_unref(o->stale);
    for (size_t i = 0; i < o->head.nheaders; i++) {
        free(o->head.names[i]);
        free(o->head.values[i]);
    }
    for (size_t i = 0; i < o->nchunks; i++)
        free(o->chunks[i]);
    free(o->chunks);
    free(o->key);
    free(o);
}

/* Frees what the sweep collected, then lets the cache go if it was the last
 * thing keeping it. */
static void free_dead(llhls_cache_t *c, llhls_object_t *dead)
{
    if (dead == NULL)
        return;
    size_t n = 0;
    for (llhls_object_t *o = dead; o; o = o->hnext)
        n++;
    pthread_mutex_lock(&c->lock);
    c->refs -= n;
    int last = c->refs == 0;
    pthread_mutex_unlock(&c->lock);
    while (dead) {
        llhls_object_t *next = dead->hnext;
        object_free(dead);
        dead = next;
    }
    if (last)
        cache_free(c);
}

void llhls_cache_resize(llhls_cache_t *c, size_t max_bytes)
{
    llhls_object_t *dead = NULL;
    pthread_mutex_lock(&c->lock);
    c->max_bytes = max_bytes;
    evict_locked(c, &dead);
    pthread_mutex_unlock(&c->lock);
    free_dead(c, dead);
}

void llhls_cache_destroy(llhls_cache_t *c)
{
    if (c == NULL)
        return;
    llhls_object_t *dead = NULL;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < c->nbuckets; i++)
        while (c->buckets[i])
            unlink_locked(c, c->buckets[i], &dead);
    int last = --c->refs == 0;
    pthread_mutex_unlock(&c->lock);
    if (last)
        cache_free(c); /* no object was alive, so dead is empty */
    else
        free_dead(c, dead);
}

/* Whether a complete or negative-cached object has outlived its time. */
static int expired(const llhls_object_t *o, int64_t now_ms)
{
    if (o->state == LLHLS_OBJECT_FILLING)
        return 0;
    return now_ms >= o->expires_ms;
}

llhls_object_t *llhls_cache_lookup(llhls_cache_t *c, const char *key, size_t len, int64_t now_ms, int *must_fill)
{
    uint64_t h = hash_key(key, len);
    llhls_object_t *dead = NULL;
    *must_fill = 0;
    pthread_mutex_lock(&c->lock);
    llhls_object_t *o = table_find(c, key, len, h);
    llhls_object_t *stale = NULL;
    if (o != NULL && expired(o, now_ms)) {
        c->stats.expirations++;
        /* A good answer that expired is kept by its successor, to stand in
         * for it if every origin fails (stale-if-error); one deep only. */
        if (o->state == LLHLS_OBJECT_COMPLETE && o->has_head && o->head.status == 200) {
            stale = o;
            o->refs++;
            if (o->stale) {
                unref_locked(o->stale, &dead);
                o->stale = NULL;
            }
        }
        unlink_locked(c, o, &dead);
        o = NULL;
    }
    if (o != NULL) {
        if (o->state == LLHLS_OBJECT_FILLING) {
            c->stats.collapsed++;
        } else {
            c->stats.hits++;
            if (o->in_lru) {
                lru_remove(c, o);
                lru_push_front(c, o);
            }
        }
        o->refs++;
    } else {
        o = xcalloc(1, sizeof(*o));
        o->key = malloc(len + 1);
        if (o->key == NULL)
            abort();
        memcpy(o->key, key, len);
        o->key[len] = '\0';
        o->key_len = len;
        o->hash = h;
        o->cache = c;
        o->state = LLHLS_OBJECT_FILLING;
        o->stale = stale;
        o->watchers.next = o->watchers.prev = &o->watchers;
        o->refs = 2; /* the table's and the caller's */
        o->in_table = 1;
        size_t b = (size_t)h & (c->nbuckets - 1);
        o->hnext = c->buckets[b];
        c->buckets[b] = o;
        c->count++;
        c->stats.objects = c->count;
        c->stats.misses++;
        c->refs++;
        if (c->count > c->nbuckets)
            table_grow(c);
        *must_fill = 1;
    }
    pthread_mutex_unlock(&c->lock);
    free_dead(c, dead);
    return o;
}

void llhls_cache_drop(llhls_cache_t *c, const char *key, size_t len)
{
    llhls_object_t *dead = NULL;
    pthread_mutex_lock(&c->lock);
    llhls_object_t *o = table_find(c, key, len, hash_key(key, len));
    if (o != NULL)
        unlink_locked(c, o, &dead);
    pthread_mutex_unlock(&c->lock);
    free_dead(c, dead);
}

void llhls_cache_stats(llhls_cache_t *c, llhls_cache_stats_t *out)
{
    pthread_mutex_lock(&c->lock);
    *out = c->stats;
    pthread_mutex_unlock(&c->lock);
}

void llhls_object_ref(llhls_object_t *o)
{
    pthread_mutex_lock(&o->cache->lock);
    o->refs++;
    pthread_mutex_unlock(&o->cache->lock);
}

llhls_object_t *llhls_object_stale(llhls_object_t *o)
{
    return o->stale;
}

void llhls_object_unref(llhls_object_t *o)
{
    if (o == NULL)
        return;
    llhls_cache_t *c = o->cache;
    llhls_object_t *dead = NULL;
    pthread_mutex_lock(&c->lock);
    unref_locked(o, &dead);
    pthread_mutex_unlock(&c->lock);
    free_dead(c, dead);
}

/* ---- watchers ---- */

void llhls_object_watch(llhls_object_t *o, llhls_object_watcher_t *w)
{
    pthread_mutex_lock(&o->cache->lock);
    w->prev = o->watchers.prev;
    w->next = &o->watchers;
    o->watchers.prev->next = w;
    o->watchers.prev = w;
    pthread_mutex_unlock(&o->cache->lock);
}

void llhls_object_unwatch(llhls_object_t *o, llhls_object_watcher_t *w)
{
    llhls_cache_t *c = o->cache;
    pthread_mutex_lock(&c->lock);
    if (w->next != NULL) {
        if (o->cursor == w)
            o->cursor = w->next;
        w->prev->next = w->next;
        w->next->prev = w->prev;
        w->next = w->prev = NULL;
    }
    /* After unwatch returns the caller may free w, so its callback must not
     * be running on another thread.  From inside that callback itself there
     * is nothing to wait for. */
    while (o->calling == w && !pthread_equal(o->notifier, pthread_self()))
        pthread_cond_wait(&c->callback_done, &c->lock);
    pthread_mutex_unlock(&c->lock);
}

/* Calls every watcher once, without the lock.  A notification that arrives
 * while a pass runs (a callback that changes the object, or another thread)
 * only asks for one more pass: callbacks read the state themselves, so
 * passes coalesce. */
static void notify(llhls_object_t *o)
{
    llhls_cache_t *c = o->cache;
    pthread_mutex_lock(&c->lock);
    if (o->notifying) {
        o->renotify = 1;
        pthread_mutex_unlock(&c->lock);
        return;
    }
    o->notifying = 1;
    o->notifier = pthread_self();
    o->refs++; /* a callback may drop the last reference it knows of */
    do {
        o->renotify = 0;
        o->cursor = o->watchers.next;
        while (o->cursor != &o->watchers) {
            llhls_object_watcher_t *w = o->cursor;
            o->cursor = w->next;
            o->calling = w;
            pthread_mutex_unlock(&c->lock);
            w->cb(w, o);
            pthread_mutex_lock(&c->lock);
            o->calling = NULL;
            pthread_cond_broadcast(&c->callback_done);
        }
    } while (o->renotify);
    o->cursor = NULL;
    o->notifying = 0;
    llhls_object_t *dead = NULL;
    unref_locked(o, &dead);
    pthread_mutex_unlock(&c->lock);
    free_dead(c, dead);
}

/* ---- the filler ---- */

void llhls_object_set_head(llhls_object_t *o, const llhls_object_head_t *head)
{
    llhls_object_head_t copy = *head;
    if (copy.nheaders > LLHLS_OBJECT_HEADERS_MAX)
        copy.nheaders = LLHLS_OBJECT_HEADERS_MAX;
    for (size_t i = 0; i < copy.nheaders; i++) {
        copy.names[i] = xstrdup(head->names[i]);
        copy.values[i] = xstrdup(head->values[i]);
    }
    for (size_t i = copy.nheaders; i < LLHLS_OBJECT_HEADERS_MAX; i++)
        copy.names[i] = copy.values[i] = NULL;
    int64_t now = llhls_mono_ms();
    pthread_mutex_lock(&o->cache->lock);
    /* Readers hold pointers into the head from the moment it is set, so it
     * is set once and never changed. */
    int taken = !o->has_head && o->state == LLHLS_OBJECT_FILLING;
    if (taken) {
        o->head = copy;
        o->has_head = 1;
        o->fetched_ms = now;
    }
    pthread_mutex_unlock(&o->cache->lock);
    if (!taken) {
        for (size_t i = 0; i < copy.nheaders; i++) {
            free(copy.names[i]);
            free(copy.values[i]);
        }
        return;
    }
    notify(o);
}

/* The capacity of the next chunk: exactly the announced length for the first
 * one (a part arrives as one contiguous run), else doubling up to the large
 * size, at least what the caller needs but never more than the large size. */
static size_t next_chunk_cap(const llhls_object_t *o, size_t max_bytes)
{
    if (o->nchunks == 0 && o->has_head && o->head.content_length != UINT64_MAX && o->head.content_length > 0 &&
        o->head.content_length <= max_bytes)
        return (size_t)o->head.content_length;
    if (o->nchunks == 0)
        return CHUNK_FIRST;
    size_t last = o->chunks[o->nchunks - 1]->cap;
    return last >= CHUNK_MAX / 2 ? CHUNK_MAX : last * 2;
}

/* Fails o under the lock: the state, the table, the expiry.  Returns whether
 * it changed (only a filling object can fail). */
static int fail_locked(llhls_object_t *o, int64_t now_ms, int64_t negative_ttl_ms, llhls_object_t **dead)
{
    if (o->state != LLHLS_OBJECT_FILLING)
        return 0;
    o->state = LLHLS_OBJECT_FAILED;
    if (negative_ttl_ms > 0 && o->in_table)
        o->expires_ms = now_ms + negative_ttl_ms;
    else
        unlink_locked(o->cache, o, dead);
    return 1;
}

int llhls_object_append(llhls_object_t *o, const void *data, size_t len)
{
    llhls_cache_t *c = o->cache;
    llhls_object_t *dead = NULL;
    const uint8_t *src = data;
    int err = 0;
    pthread_mutex_lock(&c->lock);
    if (o->state != LLHLS_OBJECT_FILLING) {
        err = -LLHLS_EINVAL;
        goto out;
    }
    if (len > c->max_bytes || o->size > c->max_bytes - len) {
        fail_locked(o, llhls_mono_ms(), 0, &dead);
        err = -LLHLS_ETOOBIG;
        goto out;
    }
    while (len > 0) {
        chunk_t *ch = o->nchunks ? o->chunks[o->nchunks - 1] : NULL;
        if (ch == NULL || ch->len == ch->cap) {
            size_t cap = next_chunk_cap(o, c->max_bytes);
            ch = malloc(sizeof(*ch) + cap);
            if (ch == NULL)
                abort();
            ch->start = o->size;
            ch->len = 0;
            ch->cap = cap;
            if (o->nchunks == o->chunks_cap) {
                size_t n = o->chunks_cap ? o->chunks_cap * 2 : 4;
                chunk_t **a = realloc(o->chunks, n * sizeof(*a));
                if (a == NULL)
                    abort();
                o->chunks = a;
                o->chunks_cap = n;
            }
            o->chunks[o->nchunks++] = ch;
            o->accounted += cap;
            if (o->in_table)
                c->stats.bytes += cap;
        }
        size_t n = ch->cap - ch->len < len ? ch->cap - ch->len : len;
        memcpy(ch->data + ch->len, src, n);
        ch->len += n;
        o->size += n;
        src += n;
        len -= n;
    }
    evict_locked(c, &dead);
out:
    pthread_mutex_unlock(&c->lock);
    free_dead(c, dead);
    if (err != -LLHLS_EINVAL)
        notify(o);
    return err;
}

void llhls_object_complete(llhls_object_t *o, int64_t now_ms)
{
    llhls_cache_t *c = o->cache;
    llhls_object_t *dead = NULL;
    pthread_mutex_lock(&c->lock);
    if (o->state != LLHLS_OBJECT_FILLING) {
        pthread_mutex_unlock(&c->lock);
        return;
    }
    if (!o->has_head) {
        /* Nothing a reader could answer with: a failure, not an empty 200. */
        fail_locked(o, now_ms, 0, &dead);
    } else {
        o->state = LLHLS_OBJECT_COMPLETE;
        o->completed_ms = now_ms;
        o->expires_ms = now_ms + o->head.max_age_ms - o->head.age_ms;
        if (o->head.max_age_ms < 0 || o->expires_ms <= now_ms) {
            /* Not cacheable: the readers of the fill have it all, the next
             * request fills again. */
            unlink_locked(c, o, &dead);
        } else if (o->in_table) {
            lru_push_front(c, o);
            evict_locked(c, &dead);
        }
    }
    pthread_mutex_unlock(&c->lock);
    free_dead(c, dead);
    notify(o);
}

void llhls_object_fail(llhls_object_t *o, int64_t now_ms, int64_t negative_ttl_ms)
{
    llhls_cache_t *c = o->cache;
    llhls_object_t *dead = NULL;
    pthread_mutex_lock(&c->lock);
    int changed = fail_locked(o, now_ms, negative_ttl_ms, &dead);
    pthread_mutex_unlock(&c->lock);
    free_dead(c, dead);
    if (changed)
        notify(o);
}

/* ---- readers ---- */

llhls_object_state_t llhls_object_state(llhls_object_t *o)
{
    pthread_mutex_lock(&o->cache->lock);
    llhls_object_state_t st = o->state;
    pthread_mutex_unlock(&o->cache->lock);
    return st;
}

const llhls_object_head_t *llhls_object_head(llhls_object_t *o)
{
    pthread_mutex_lock(&o->cache->lock);
    const llhls_object_head_t *h = o->has_head ? &o->head : NULL;
    pthread_mutex_unlock(&o->cache->lock);
    return h;
}

uint64_t llhls_object_size(llhls_object_t *o)
{
    pthread_mutex_lock(&o->cache->lock);
    uint64_t n = o->size;
    pthread_mutex_unlock(&o->cache->lock);
    return n;
}

size_t llhls_object_read(llhls_object_t *o, uint64_t offset, const uint8_t **p)
{
    size_t n = 0;
    *p = NULL;
    pthread_mutex_lock(&o->cache->lock);
    if (offset < o->size) {
        /* The last chunk whose start is at or before offset. */
        size_t lo = 0, hi = o->nchunks;
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (o->chunks[mid]->start <= offset)
                lo = mid;
            else
                hi = mid;
        }
        const chunk_t *ch = o->chunks[lo];
        size_t at = (size_t)(offset - ch->start);
        if (at < ch->len) {
            *p = ch->data + at;
            n = ch->len - at;
        }
    }
    pthread_mutex_unlock(&o->cache->lock);
    return n;
}

int64_t llhls_object_completed_ms(llhls_object_t *o)
{
    pthread_mutex_lock(&o->cache->lock);
    int64_t t = o->completed_ms;
    pthread_mutex_unlock(&o->cache->lock);
    return t;
}

int64_t llhls_object_fetched_ms(llhls_object_t *o)
{
    pthread_mutex_lock(&o->cache->lock);
    int64_t t = o->fetched_ms;
    pthread_mutex_unlock(&o->cache->lock);
    return t;
}
