/* What the edge's modules share: the process-wide state (cache, origins,
 * metrics, configuration) and one worker per thread (its libuv loop, its
 * h2o context, its listeners, its mailbox).  See docs/edge.md. */
#ifndef LLHLS_EDGE_H
#define LLHLS_EDGE_H

#include "cache.h"
#include "cache_key.h"
#include "edge_config.h"
#include "shapes.h"
#include "viewers.h"

#include <h2o.h>
#include <pthread.h>
#include <stdatomic.h>
#include <uv.h>

#define LLHLS_HOLD_TIMEOUTS 8 /* distinct hold limits per worker */

typedef struct llhls_edge llhls_edge_t;
typedef struct llhls_worker llhls_worker_t;

/* One origin and what the edge knows of its health, shared by all threads. */
typedef struct llhls_origin_state {
    llhls_edge_origin_t conf;
    atomic_int down; /* marked down by a failure, up by a probe */
    atomic_uint_fast64_t fetches, failures;
} llhls_origin_state_t;

/* The origins in use: replaced whole by a reload that changes them.  Sets
 * are never freed while the edge runs (fetches in flight keep theirs), so a
 * reload that changes origins costs one small set. */
typedef struct llhls_origin_set {
    struct llhls_origin_set *older;
    llhls_origin_state_t origins[LLHLS_EDGE_MAX_ORIGINS];
    size_t n;
} llhls_origin_set_t;

/* A worker's connection pools to the origins of one set. */
typedef struct llhls_origin_pools {
    struct llhls_origin_pools *older; /* retired: in-flight fetches may still use them */
    llhls_origin_set_t *set;
    h2o_socketpool_t pools[LLHLS_EDGE_MAX_ORIGINS];
} llhls_origin_pools_t;

/* The limits a reload may change while requests run. */
typedef struct llhls_edge_limits {
    atomic_uint_fast32_t max_connections, max_held, max_held_per_connection, max_header_size;
} llhls_edge_limits_t;

typedef struct llhls_edge_metrics {
    atomic_uint_fast64_t connections; /* accepted, total */
    atomic_int_fast64_t connections_open;
    atomic_uint_fast64_t connections_refused; /* over limits.max_connections */
    atomic_uint_fast64_t requests[8];         /* 200 206 304 400 404 502 503 other */
    atomic_uint_fast64_t bytes_out;
    atomic_uint_fast64_t upstream_fetches;
    atomic_uint_fast64_t upstream_errors;
    atomic_uint_fast64_t upstream_latency_us; /* sum of time to first byte */
    atomic_int_fast64_t held;                 /* requests waiting on a fill */
    atomic_uint_fast64_t rapid_resets;        /* connections closed for cancelling too much */
    atomic_uint_fast64_t stalled_cut;         /* connections closed: a response made no progress */
    atomic_uint_fast64_t refused_ahead;       /* 400s decided here: too far ahead */
    atomic_uint_fast64_t header_too_large;    /* 431s: over limits.max_header_size */
    atomic_uint_fast64_t held_expired;        /* 503s decided here: held three target durations */
} llhls_edge_metrics_t;

struct llhls_edge {
    llhls_edge_config_t cfg;
    llhls_cache_t *cache;
    llhls_shapes_t *shapes;                /* part counts of the playlists fetched */
    llhls_viewers_t *viewers;              /* players per stream, for /metrics and the report */
    struct llhls_report *report;           /* to the origin's admin API; NULL when not started */
    _Atomic(llhls_origin_set_t *) origins; /* the set in use */
    llhls_edge_limits_t limits;
    llhls_edge_metrics_t metrics;
    llhls_worker_t *workers;
    size_t nworkers;
    SSL_CTX *ssl_ctx;                        /* for TLS listeners, NULL when none */
    h2o_access_log_filehandle_t *access_log; /* NULL when off */
};

/* A response being fed from a cache object; lives in its request's pool. */
typedef struct llhls_reader llhls_reader_t;

/* A worker's interest in one object: the watcher the cache calls, and the
 * readers of this thread that send it.  Never freed while the worker runs:
 * a callback racing with the end of the interest finds it recycled, and its
 * wake-up is recognised as stale (see server.c). */
typedef struct llhls_interest {
    struct llhls_interest *next; /* in the worker's table or free list */
    llhls_worker_t *worker;
    llhls_object_watcher_t watcher;
    llhls_object_t *obj;     /* NULL when free */
    uint64_t generation;     /* bumped at each reuse */
    llhls_reader_t *readers; /* this thread's readers of obj */
    int queued;              /* in the mailbox (under the mailbox lock) */
} llhls_interest_t;

struct llhls_worker {
    llhls_edge_t *edge;
    size_t index;
    pthread_t thread;
    uv_loop_t loop;
    h2o_globalconf_t h2oconf;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_plain, accept_tls;
    uv_tcp_t listeners[LLHLS_EDGE_MAX_LISTENERS];
    size_t nlisteners;
    uv_async_t wake; /* the mailbox has entries, or stop */
    pthread_mutex_t mailbox_lock;
    llhls_interest_t **mailbox; /* interests woken, drained by the loop */
    size_t mailbox_len, mailbox_cap;
    llhls_interest_t *interests; /* active, by a linear list (few at once) */
    llhls_interest_t *free_interests;
    int stopping;
    int draining;                         /* stopping: listeners closed, waiting for readers */
    struct held_count *held_by_conn[256]; /* requests held per client connection */
    size_t readers;                       /* responses in progress (for a graceful stop) */
    uv_timer_t drain;                     /* bounds the wait for them */
    /* upstream */
    h2o_multithread_receiver_t getaddr_receiver;
    h2o_timeout_t io_timeout;                         /* ordinary fetches */
    h2o_timeout_t blocking_timeout;                   /* blocking playlist fetches */
    h2o_timeout_t send_timeout;                       /* a response without progress (timeouts.client_send) */
    h2o_timeout_t hold_timeouts[LLHLS_HOLD_TIMEOUTS]; /* three target durations, by length */
    uint32_t hold_ms[LLHLS_HOLD_TIMEOUTS];
    size_t nhold_timeouts;
    h2o_http1client_ctx_t client_ctx;
    h2o_http1client_ctx_t blocking_client_ctx;
    llhls_origin_pools_t *pools; /* for the newest set this worker has seen */
};

/* server.c */
int llhls_worker_init(llhls_worker_t *w, llhls_edge_t *edge, size_t index);
void *llhls_worker_main(void *arg);
/* Asks the worker's loop to close its listeners and stop (any thread). */
void llhls_worker_stop(llhls_worker_t *w);
/* The port a listener of worker 0 actually bound (for port 0). */
int llhls_worker_port(llhls_worker_t *w, size_t listener);

/* upstream.c: starts the one fetch that fills obj (on the calling worker).
 * The query sent is the key's canonical directives, or raw_query verbatim
 * when given (a request the edge could not make sense of: the origin's
 * answer, an error with its own max-age, is passed on). */
void llhls_upstream_fetch(llhls_worker_t *w, llhls_object_t *obj, const llhls_cache_key_t *key, const char *path,
                          size_t path_len, const char *raw_query, size_t raw_len);
/* Marks origins down/up (probe timer). */
void llhls_upstream_probe(llhls_worker_t *w);
void llhls_upstream_init(llhls_worker_t *w);
/* Makes a set of origins from a configuration; states carried over from
 * older (down or up) for origins it still has.  Returns NULL on OOM. */
llhls_origin_set_t *llhls_origin_set_make(const llhls_edge_config_t *c, const llhls_origin_set_t *older);
/* Whether two configurations name the same origins in the same order. */
int llhls_origin_set_same(const llhls_origin_set_t *s, const llhls_edge_config_t *c);
/* Copies the reloadable limits of c into e. */
void llhls_edge_limits_set(llhls_edge_t *e, const llhls_edge_config_t *c);

/* Renders the edge's /metrics. */
int llhls_edge_metrics_render(llhls_edge_t *e, h2o_mem_pool_t *pool, h2o_iovec_t *out);

#endif
