/* The edge's object cache, shared by every worker thread.  An object is one
 * upstream response (head and body) under one cache key.  It is FILLING
 * while its body arrives, readers attached to it see bytes as they come
 * (one copy in memory, referenced by every response that sends it), then
 * COMPLETE or FAILED.  Complete objects live for their max-age within a
 * memory bound, least recently used first out.  See docs/edge-cache.md. */
#ifndef LLHLS_CACHE_H
#define LLHLS_CACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct llhls_cache llhls_cache_t;
typedef struct llhls_object llhls_object_t;

typedef enum {
    LLHLS_OBJECT_FILLING = 0,  /* the fill is in flight; head may not be known yet */
    LLHLS_OBJECT_COMPLETE = 1, /* every byte is here */
    LLHLS_OBJECT_FAILED = 2,   /* the fill failed before the head; readers answer 502/503 */
} llhls_object_state_t;

#define LLHLS_OBJECT_HEADERS_MAX 8

typedef struct llhls_object_head {
    int status;              /* 0 until the head arrived */
    uint64_t content_length; /* UINT64_MAX when unknown */
    int64_t max_age_ms;      /* from Cache-Control max-age; -1 when absent */
    int64_t age_ms;          /* the upstream's Age, at the time it was received */
    /* Headers passed on to players verbatim (Content-Type, Cache-Control,
     * Content-Encoding, Vary...): name/value pairs, copied. */
    size_t nheaders;
    char *names[LLHLS_OBJECT_HEADERS_MAX];
    char *values[LLHLS_OBJECT_HEADERS_MAX];
} llhls_object_head_t;

/* A reader's interest in an object: cb runs (on the filling thread, with no
 * cache lock held) whenever the head arrives, bytes are appended, or the
 * object completes or fails.  The callee reads the new state itself. */
typedef struct llhls_object_watcher {
    struct llhls_object_watcher *next, *prev; /* owned by the object */
    void (*cb)(struct llhls_object_watcher *w, llhls_object_t *o);
    void *ctx;
} llhls_object_watcher_t;

typedef struct llhls_cache_stats {
    uint64_t hits, misses, collapsed; /* collapsed: found FILLING and waited on it */
    uint64_t evictions, expirations;
    uint64_t bytes, objects; /* now */
} llhls_cache_stats_t;

/* Creates a cache holding at most max_bytes of bodies. */
llhls_cache_t *llhls_cache_create(size_t max_bytes);
void llhls_cache_destroy(llhls_cache_t *c);
/* Changes the bound (a reload); past a smaller one the least recently used
 * objects go at once. */
void llhls_cache_resize(llhls_cache_t *c, size_t max_bytes);

/* Finds key.  Returns the object with a reference the caller must drop with
 * llhls_object_unref, or, when the key is absent or expired, inserts a new
 * FILLING object, sets *must_fill, and returns it: the caller then starts
 * the one upstream fetch for it.  Never returns NULL (aborts on OOM). */
llhls_object_t *llhls_cache_lookup(llhls_cache_t *c, const char *key, size_t len, int64_t now_ms, int *must_fill);

/* Removes key so that the next lookup fills again (the object lives on
 * while referenced). */
void llhls_cache_drop(llhls_cache_t *c, const char *key, size_t len);

void llhls_cache_stats(llhls_cache_t *c, llhls_cache_stats_t *out);

void llhls_object_ref(llhls_object_t *o);
void llhls_object_unref(llhls_object_t *o);

/* ---- the filler (the one upstream fetch) ---- */

/* Sets the head (copied) and wakes the watchers. */
void llhls_object_set_head(llhls_object_t *o, const llhls_object_head_t *head);
/* Appends body bytes (copied once into the object) and wakes the watchers.
 * Returns 0, or -LLHLS_ETOOBIG when the object alone would exceed the cache
 * bound (the object then fails). */
int llhls_object_append(llhls_object_t *o, const void *data, size_t len);
/* Marks the object complete (its expiry counts from now_ms) and wakes the
 * watchers. */
void llhls_object_complete(llhls_object_t *o, int64_t now_ms);
/* Marks the object failed: it leaves the cache at once, unless
 * negative_ttl_ms > 0 (an error answer kept briefly), and wakes the
 * watchers. */
void llhls_object_fail(llhls_object_t *o, int64_t now_ms, int64_t negative_ttl_ms);

/* ---- readers ---- */

llhls_object_state_t llhls_object_state(llhls_object_t *o);
/* The head, or NULL while it has not arrived.  Valid while o is referenced. */
const llhls_object_head_t *llhls_object_head(llhls_object_t *o);
/* Bytes of body available so far. */
uint64_t llhls_object_size(llhls_object_t *o);
/* Points *p at the contiguous bytes that start at offset and returns their
 * count (0 when none yet).  They stay valid and unmoved while o is
 * referenced: bodies are kept in chunks that never move. */
size_t llhls_object_read(llhls_object_t *o, uint64_t offset, const uint8_t **p);
/* When the object became complete (for Age), 0 before. */
int64_t llhls_object_completed_ms(llhls_object_t *o);
/* When its head arrived (for Age), 0 before. */
int64_t llhls_object_fetched_ms(llhls_object_t *o);

/* The answer this object replaces: the last complete 200 under the same
 * key, expired when o was inserted (stale-if-error), or NULL.  It stays
 * valid while o is referenced. */
llhls_object_t *llhls_object_stale(llhls_object_t *o);

void llhls_object_watch(llhls_object_t *o, llhls_object_watcher_t *w);
void llhls_object_unwatch(llhls_object_t *o, llhls_object_watcher_t *w);

#endif
