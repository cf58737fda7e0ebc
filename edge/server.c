/* The edge's worker threads: each runs a libuv loop with an h2o context
 * and its own SO_REUSEPORT listeners, and answers every request from the
 * shared cache.  A request attaches a reader to the cache object of its
 * key; the first one for a key starts the single upstream fetch, the others
 * wait on it.  Cache callbacks arrive on whichever thread fills the object,
 * so they only post the worker's interest to its mailbox; the worker's loop
 * then moves all of its readers of that object on, in one turn. */
#include "edge.h"

#include "clock.h"
#include "error.h"
#include "hold.h"
#include "log.h"
#include "rapid_reset.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Requests held per client connection, to bound what one connection can
 * make the edge hold (limits.max_held_per_connection). */
struct held_count {
    struct held_count *next;
    const void *conn;
    uint32_t n;
};

static struct held_count **held_slot(llhls_worker_t *w, const void *conn)
{
    size_t b = ((uintptr_t)conn >> 4) % 256;
    struct held_count **pp = &w->held_by_conn[b];
    while (*pp && (*pp)->conn != conn)
        pp = &(*pp)->next;
    return pp;
}

/* Counts one more held request on conn; returns 0, or -1 over the bound. */
static int held_add(llhls_worker_t *w, const void *conn)
{
    struct held_count **pp = held_slot(w, conn);
    if (*pp == NULL) {
        if ((*pp = calloc(1, sizeof(**pp))) == NULL)
            abort();
        (*pp)->conn = conn;
    }
    if ((*pp)->n >= atomic_load_explicit(&w->edge->limits.max_held_per_connection, memory_order_relaxed))
        return -1;
    (*pp)->n++;
    return 0;
}

static void held_remove(llhls_worker_t *w, const void *conn)
{
    struct held_count **pp = held_slot(w, conn), *h = *pp;
    if (h && --h->n == 0) {
        *pp = h->next;
        free(h);
    }
}

struct llhls_reader {
    h2o_generator_t gen; /* first: h2o hands it back to us */
    h2o_req_t *req;
    llhls_interest_t *interest;
    llhls_reader_t *next, *prev;
    llhls_object_t *obj;
    uint64_t sent;
    int started;   /* h2o_start_response called */
    int in_flight; /* h2o_send called, proceed not yet */
    int done;      /* the final (or error) send was made, or the client left */
    int held;      /* counted in metrics.held and per connection */
    const void *conn;
    uint32_t hold_td;               /* target duration of a hold limit, for the 503's max-age */
    h2o_timeout_entry_t hold_timer; /* three target durations after the hold began */
    h2o_timeout_entry_t send_timer; /* timeouts.client_send after a send that has not proceeded */
};

static llhls_worker_t *worker_of(h2o_req_t *req)
{
    return (llhls_worker_t *)((char *)req->conn->ctx - offsetof(llhls_worker_t, ctx));
}

static void count_status(llhls_edge_t *e, int status)
{
    static const int codes[] = {200, 206, 304, 400, 404, 502, 503};
    size_t i = 0;
    while (i < 7 && codes[i] != status)
        i++;
    atomic_fetch_add_explicit(&e->metrics.requests[i], 1, memory_order_relaxed);
}

static void add_cors(h2o_req_t *req)
{
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ACCESS_CONTROL_ALLOW_ORIGIN, NULL, H2O_STRLIT("*"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("access-control-expose-headers"), 0, NULL,
                          H2O_STRLIT("Age, Content-Length, Date"));
}

static void send_simple(llhls_worker_t *w, h2o_req_t *req, int status, const char *reason, const char *body,
                        const char *cache)
{
    req->res.status = status;
    req->res.reason = reason;
    add_cors(req);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("text/plain"));
    if (cache)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, cache, strlen(cache));
    count_status(w->edge, status);
    h2o_send_inline(req, body, strlen(body));
}

/* ---- interests: one per (worker, object) ---- */

static void interest_release(llhls_worker_t *w, llhls_interest_t *in)
{
    llhls_object_t *obj = in->obj;
    llhls_object_unwatch(obj, &in->watcher);
    pthread_mutex_lock(&w->mailbox_lock);
    in->obj = NULL;
    in->generation++;
    pthread_mutex_unlock(&w->mailbox_lock);
    for (llhls_interest_t **pp = &w->interests; *pp; pp = &(*pp)->next) {
        if (*pp == in) {
            *pp = in->next;
            break;
        }
    }
    in->next = w->free_interests;
    w->free_interests = in;
    llhls_object_unref(obj);
}

/* Any thread: the object changed; wake the worker that reads it. */
static void on_object_change(llhls_object_watcher_t *watcher, llhls_object_t *o)
{
    llhls_interest_t *in = watcher->ctx;
    llhls_worker_t *w = in->worker;
    int wake = 0;
    pthread_mutex_lock(&w->mailbox_lock);
    if (in->obj == o && !in->queued) {
        if (w->mailbox_len == w->mailbox_cap) {
            size_t cap = w->mailbox_cap ? w->mailbox_cap * 2 : 64;
            llhls_interest_t **m = realloc(w->mailbox, cap * sizeof(*m));
            if (m == NULL)
                abort();
            w->mailbox = m;
            w->mailbox_cap = cap;
        }
        w->mailbox[w->mailbox_len++] = in;
        in->queued = 1;
        wake = 1;
    }
    pthread_mutex_unlock(&w->mailbox_lock);
    if (wake)
        uv_async_send(&w->wake);
}

static llhls_interest_t *interest_get(llhls_worker_t *w, llhls_object_t *obj)
{
    for (llhls_interest_t *in = w->interests; in; in = in->next)
        if (in->obj == obj)
            return in;
    llhls_interest_t *in = w->free_interests;
    if (in)
        w->free_interests = in->next;
    else if ((in = calloc(1, sizeof(*in))) == NULL)
        abort();
    in->worker = w;
    in->readers = NULL;
    in->watcher.cb = on_object_change;
    in->watcher.ctx = in;
    llhls_object_ref(obj);
    pthread_mutex_lock(&w->mailbox_lock);
    in->obj = obj;
    pthread_mutex_unlock(&w->mailbox_lock);
    in->next = w->interests;
    w->interests = in;
    llhls_object_watch(obj, &in->watcher);
    return in;
}

/* ---- readers ---- */

static void reader_progress(llhls_reader_t *r);
static void reader_unhold(llhls_reader_t *r);

static void on_proceed(h2o_generator_t *gen, h2o_req_t *req)
{
    llhls_reader_t *r = (llhls_reader_t *)gen;
    r->in_flight = 0;
    h2o_timeout_unlink(&r->send_timer);
    reader_progress(r);
}

static void on_stop(h2o_generator_t *gen, h2o_req_t *req)
{
    llhls_reader_t *r = (llhls_reader_t *)gen;
    r->done = 1;
    h2o_timeout_unlink(&r->send_timer);
}

/* The player took nothing of a response for timeouts.client_send: it has
 * stopped reading.  Its connection is shut down under h2o, which then
 * closes it through its own error path and frees what it held. */
static void on_send_stalled(h2o_timeout_entry_t *entry)
{
    llhls_reader_t *r = (llhls_reader_t *)((char *)entry - offsetof(llhls_reader_t, send_timer));
    llhls_worker_t *w = r->interest->worker;
    h2o_socket_t *sock = r->req->conn->callbacks->get_socket ? r->req->conn->callbacks->get_socket(r->req->conn) : NULL;
    atomic_fetch_add_explicit(&w->edge->metrics.stalled_cut, 1, memory_order_relaxed);
    LLHLS_DEBUG("edge", "a response to %.*s made no progress for %u ms: connection closed", (int)r->req->path.len,
                r->req->path.base, w->edge->cfg.client_send_timeout_ms);
    if (sock != NULL)
        shutdown(h2o_socket_get_fd(sock), SHUT_RDWR);
}

/* Held three target durations: the spec's 503, decided here whether or
 * not the upstream request is still out (it goes on for other players). */
static void on_hold_expired(h2o_timeout_entry_t *entry)
{
    llhls_reader_t *r = (llhls_reader_t *)((char *)entry - offsetof(llhls_reader_t, hold_timer));
    if (r->started || r->done)
        return;
    llhls_worker_t *w = r->interest->worker;
    reader_unhold(r);
    r->done = 1;
    atomic_fetch_add_explicit(&w->edge->metrics.held_expired, 1, memory_order_relaxed);
    char cache[32];
    snprintf(cache, sizeof(cache), "max-age=%u", r->hold_td ? r->hold_td : 1);
    send_simple(w, r->req, 503, "Service Unavailable", "the requested part did not arrive in time\n",
                h2o_strdup(&r->req->pool, cache, SIZE_MAX).base);
}

static void reader_unhold(llhls_reader_t *r)
{
    h2o_timeout_unlink(&r->hold_timer);
    if (r->held) {
        r->held = 0;
        atomic_fetch_sub_explicit(&r->interest->worker->edge->metrics.held, 1, memory_order_relaxed);
        held_remove(r->interest->worker, r->conn);
    }
}

static void start_response(llhls_reader_t *r, const llhls_object_head_t *head)
{
    h2o_req_t *req = r->req;
    llhls_worker_t *w = r->interest->worker;
    req->res.status = head->status;
    req->res.reason = head->status == 200 ? "OK" : "";
    req->res.content_length = head->content_length == UINT64_MAX ? SIZE_MAX : (size_t)head->content_length;
    for (size_t i = 0; i < head->nheaders; i++)
        h2o_add_header_by_str(&req->pool, &req->res.headers, head->names[i], strlen(head->names[i]), 1, NULL,
                              head->values[i], strlen(head->values[i]));
    /* Age: what the upstream said, plus the time the object spent here. */
    int64_t fetched = llhls_object_fetched_ms(r->obj);
    int64_t age = head->age_ms / 1000 + (fetched ? (llhls_mono_ms() - fetched) / 1000 : 0);
    char *buf = h2o_mem_alloc_pool(&req->pool, 24);
    int n = snprintf(buf, 24, "%lld", (long long)(age > 0 ? age : 0));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_AGE, NULL, buf, (size_t)n);
    add_cors(req);
    count_status(w->edge, head->status);
    r->started = 1;
    h2o_start_response(req, &r->gen);
}

static void reader_progress(llhls_reader_t *r)
{
    if (r->done || r->in_flight)
        return;
    llhls_object_state_t st = llhls_object_state(r->obj);
    const llhls_object_head_t *head = llhls_object_head(r->obj);
    llhls_worker_t *w = r->interest->worker;
    if (!r->started) {
        if (head == NULL || head->status == 0) {
            if (st == LLHLS_OBJECT_FAILED) {
                reader_unhold(r);
                r->done = 1;
                send_simple(w, r->req, 502, "Bad Gateway", "no origin answered\n", "max-age=1");
            }
            return;
        }
        reader_unhold(r);
        start_response(r, head);
    }
    uint64_t size = llhls_object_size(r->obj);
    const uint8_t *p = NULL;
    size_t n = r->sent < size ? llhls_object_read(r->obj, r->sent, &p) : 0;
    if (n > 0) {
        r->sent += n;
        int final = st == LLHLS_OBJECT_COMPLETE && r->sent == size;
        h2o_iovec_t buf = h2o_iovec_init(p, n);
        r->in_flight = 1;
        r->done = final;
        if (!h2o_timeout_is_linked(&r->send_timer))
            h2o_timeout_link(w->ctx.loop, &w->send_timeout, &r->send_timer);
        atomic_fetch_add_explicit(&w->edge->metrics.bytes_out, n, memory_order_relaxed);
        h2o_send(r->req, &buf, 1, final ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS);
        return;
    }
    if (st == LLHLS_OBJECT_COMPLETE) {
        r->done = 1;
        h2o_send(r->req, NULL, 0, H2O_SEND_STATE_FINAL);
    } else if (st == LLHLS_OBJECT_FAILED) {
        r->done = 1;
        h2o_send(r->req, NULL, 0, H2O_SEND_STATE_ERROR);
    }
}

static void worker_exit(llhls_worker_t *w)
{
    if (uv_is_closing((uv_handle_t *)&w->wake))
        return;
    uv_timer_stop(&w->drain);
    uv_close((uv_handle_t *)&w->drain, NULL);
    uv_close((uv_handle_t *)&w->wake, NULL);
    uv_stop(&w->loop);
}

static void on_drain_timeout(uv_timer_t *t)
{
    worker_exit(t->data);
}

static void on_reader_dispose(void *p)
{
    llhls_reader_t *r = p;
    llhls_interest_t *in = r->interest;
    if (in == NULL)
        return;
    llhls_worker_t *w = in->worker;
    if (--w->readers == 0 && w->draining)
        worker_exit(w);
    reader_unhold(r);
    h2o_timeout_unlink(&r->send_timer);
    if (r->prev)
        r->prev->next = r->next;
    else
        in->readers = r->next;
    if (r->next)
        r->next->prev = r->prev;
    if (in->readers == NULL)
        interest_release(in->worker, in);
}

static void on_wake(uv_async_t *a)
{
    llhls_worker_t *w = a->data;
    for (;;) {
        pthread_mutex_lock(&w->mailbox_lock);
        if (w->mailbox_len == 0) {
            pthread_mutex_unlock(&w->mailbox_lock);
            break;
        }
        llhls_interest_t *in = w->mailbox[--w->mailbox_len];
        in->queued = 0;
        int live = in->obj != NULL;
        pthread_mutex_unlock(&w->mailbox_lock);
        if (!live)
            continue;
        /* Every reader of this thread moves on now: all the players held
         * on one key are answered in the same turn. */
        for (llhls_reader_t *r = in->readers, *next; r; r = next) {
            next = r->next;
            reader_progress(r);
        }
    }
    if (w->stopping && !uv_is_closing((uv_handle_t *)&w->wake)) {
        /* Graceful: no new connections, GOAWAY to the open ones, and the
         * responses in progress get a few seconds to finish. */
        int first = 0;
        for (size_t i = 0; i < w->nlisteners; i++) {
            if (!uv_is_closing((uv_handle_t *)&w->listeners[i])) {
                uv_close((uv_handle_t *)&w->listeners[i], NULL);
                first = 1;
            }
        }
        if (!first)
            return;
        h2o_context_request_shutdown(&w->ctx);
        w->draining = 1;
        if (w->readers == 0) {
            worker_exit(w);
            return;
        }
        uv_timer_start(&w->drain, on_drain_timeout, 5000, 0);
    }
}

/* ---- requests ---- */

static int serve_metrics(llhls_worker_t *w, h2o_req_t *req)
{
    h2o_iovec_t body;
    llhls_edge_metrics_render(w->edge, &req->pool, &body);
    req->res.status = 200;
    req->res.reason = "OK";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("text/plain; version=0.0.4"));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-store"));
    count_status(w->edge, 200);
    h2o_send_inline(req, body.base, body.len);
    return 0;
}

static h2o_mime_attributes_t playlist_attr = {.is_compressible = 1};

/* The request line and headers as a player sent them, near enough: each
 * header counted as "name: value\r\n" whether it came as HTTP/1.1 text or
 * HPACK, so that one bound means the same on both. */
static size_t header_size(const h2o_req_t *req)
{
    size_t n = req->method.len + req->path.len + req->authority.len + 16;
    for (size_t i = 0; i < req->headers.size; i++)
        n += req->headers.entries[i].name->len + req->headers.entries[i].value.len + 4;
    return n;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    llhls_worker_t *w = worker_of(req);
    llhls_edge_t *e = w->edge;
    llhls_rapid_reset_watch(req, &e->metrics.rapid_resets);
    if (header_size(req) > atomic_load_explicit(&e->limits.max_header_size, memory_order_relaxed)) {
        atomic_fetch_add_explicit(&e->metrics.header_too_large, 1, memory_order_relaxed);
        send_simple(w, req, 431, "Request Header Fields Too Large", "request headers too large\n", "no-store");
        return 0;
    }
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("OPTIONS"))) {
        req->res.status = 204;
        req->res.reason = "No Content";
        add_cors(req);
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("access-control-allow-methods"), 0, NULL,
                              H2O_STRLIT("GET, HEAD, OPTIONS"));
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("access-control-max-age"), 0, NULL,
                              H2O_STRLIT("86400"));
        h2o_send_inline(req, NULL, 0);
        return 0;
    }
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) &&
        !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"))) {
        send_simple(w, req, 405, "Method Not Allowed", "only GET, HEAD and OPTIONS\n", "max-age=1");
        return 0;
    }
    const char *path = req->path_normalized.base;
    size_t path_len = req->path_normalized.len;
    if (h2o_memis(path, path_len, H2O_STRLIT("/metrics")))
        return serve_metrics(w, req);
    if (h2o_memis(path, path_len, H2O_STRLIT("/healthz"))) {
        send_simple(w, req, 200, "OK", "ok\n", "no-store");
        return 0;
    }
    llhls_viewers_seen(e->viewers, path, path_len, req->conn->id, llhls_mono_ms());
    const char *query = NULL;
    size_t query_len = 0;
    if (req->query_at != SIZE_MAX) {
        query = req->path.base + req->query_at + 1;
        query_len = req->path.len - req->query_at - 1;
    }
    llhls_cache_key_t key;
    const char *why = "bad request";
    const char *raw = NULL;
    llhls_shape_copy_t shape_copy;
    int known = query != NULL && llhls_shapes_get(e->shapes, path, path_len, &shape_copy) == 0;
    const llhls_playlist_shape_t *shape = known && shape_copy.folding.n ? &shape_copy.folding : NULL;
    if (llhls_cache_key_make(&key, path, path_len, query, query_len, shape, &why) != 0) {
        /* The origin words the refusal and sets its max-age (a target
         * duration, which only it knows); the answer is cached under the
         * raw request like any other. */
        if (path_len + query_len + 3 > sizeof(key.s) || memchr(path, 0, path_len) || memchr(query, 0, query_len)) {
            send_simple(w, req, 400, "Bad Request", "request too long\n", "max-age=1");
            return 0;
        }
        memset(&key, 0, sizeof(key));
        key.len = (size_t)snprintf(key.s, sizeof(key.s), "!%.*s?%.*s", (int)path_len, path, (int)query_len, query);
        key.is_playlist = path_len > 5 && memcmp(path + path_len - 5, ".m3u8", 5) == 0;
        raw = query;
    }
    uint32_t td = 0;
    if (raw == NULL && known && llhls_hold_too_far(&shape_copy, &key, llhls_mono_ms(), &why, &td)) {
        atomic_fetch_add_explicit(&e->metrics.refused_ahead, 1, memory_order_relaxed);
        char *cache = h2o_mem_alloc_pool(&req->pool, 32), *body = h2o_mem_alloc_pool(&req->pool, strlen(why) + 2);
        snprintf(cache, 32, "max-age=%u", td ? td : 1);
        sprintf(body, "%s\n", why);
        send_simple(w, req, 400, "Bad Request", body, cache);
        return 0;
    }
    if ((uint64_t)atomic_load(&e->metrics.held) >= atomic_load_explicit(&e->limits.max_held, memory_order_relaxed)) {
        send_simple(w, req, 503, "Service Unavailable", "too many requests held at this edge\n", "max-age=1");
        return 0;
    }
    int must_fill = 0;
    llhls_object_t *obj = llhls_cache_lookup(e->cache, key.s, key.len, llhls_mono_ms(), &must_fill);
    if (must_fill)
        llhls_upstream_fetch(w, obj, &key, path, path_len, raw, query_len);
    llhls_reader_t *r = h2o_mem_alloc_shared(&req->pool, sizeof(*r), on_reader_dispose);
    memset(r, 0, sizeof(*r));
    r->gen.proceed = on_proceed;
    r->gen.stop = on_stop;
    r->hold_timer.cb = on_hold_expired;
    r->send_timer.cb = on_send_stalled;
    r->req = req;
    r->obj = obj;
    w->readers++;
    if (key.is_playlist)
        req->res.mime_attr = &playlist_attr;
    llhls_interest_t *in = interest_get(w, obj);
    r->interest = in;
    r->next = in->readers;
    if (in->readers)
        in->readers->prev = r;
    in->readers = r;
    /* The interest holds its own reference; the reader's lookup reference
     * is dropped here, the interest outlives every reader. */
    llhls_object_unref(obj);
    if (llhls_object_head(obj) == NULL) {
        r->conn = req->conn;
        if (held_add(w, r->conn) != 0) {
            r->done = 1;
            send_simple(w, req, 503, "Service Unavailable", "too many requests held on this connection\n", "max-age=1");
            return 0;
        }
        r->held = 1;
        atomic_fetch_add_explicit(&e->metrics.held, 1, memory_order_relaxed);
        uint32_t limit = !key.is_playlist || key.d.has_msn
                             ? llhls_hold_limit_ms(e, path, path_len, known ? &shape_copy : NULL, &td)
                             : 0;
        h2o_timeout_t *t = limit ? llhls_hold_timeout(w, limit) : NULL;
        if (t != NULL) {
            r->hold_td = td;
            h2o_timeout_link(w->ctx.loop, t, &r->hold_timer);
        }
    }
    reader_progress(r);
    return 0;
}

/* ---- listeners ---- */

typedef struct listener_ctx {
    llhls_worker_t *w;
    int tls;
} listener_ctx_t;

static void on_socket_closed(uv_handle_t *h)
{
    llhls_worker_t *w = h->loop->data;
    atomic_fetch_sub_explicit(&w->edge->metrics.connections_open, 1, memory_order_relaxed);
    free(h);
}

static void on_refused_closed(uv_handle_t *h)
{
    free(h);
}

static void on_accept(uv_stream_t *listener, int status)
{
    llhls_worker_t *w = listener->loop->data;
    int tls = (int)(intptr_t)listener->data;
    if (status != 0)
        return;
    uv_tcp_t *conn = malloc(sizeof(*conn));
    if (conn == NULL)
        return;
    uv_tcp_init(listener->loop, conn);
    if (uv_accept(listener, (uv_stream_t *)conn) != 0) {
        uv_close((uv_handle_t *)conn, on_refused_closed);
        return;
    }
    llhls_edge_metrics_t *m = &w->edge->metrics;
    if ((uint64_t)atomic_load(&m->connections_open) >=
        atomic_load_explicit(&w->edge->limits.max_connections, memory_order_relaxed)) {
        /* Over the bound: closed at once, before any byte is read. */
        atomic_fetch_add_explicit(&m->connections_refused, 1, memory_order_relaxed);
        uv_close((uv_handle_t *)conn, on_refused_closed);
        return;
    }
    uv_tcp_nodelay(conn, 1);
    atomic_fetch_add_explicit(&m->connections, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->connections_open, 1, memory_order_relaxed);
    h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *)conn, on_socket_closed);
    h2o_accept(tls ? &w->accept_tls : &w->accept_plain, sock);
}

static int bind_listener(llhls_worker_t *w, size_t i, const llhls_edge_listener_t *l, int port)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    if (uv_ip4_addr(l->addr, port, (struct sockaddr_in *)&ss) != 0 &&
        uv_ip6_addr(l->addr, port, (struct sockaddr_in6 *)&ss) != 0)
        return -LLHLS_ECONFIG;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -LLHLS_EIO;
    int one = 1;
    /* Every worker listens on the same port; the kernel spreads the
     * connections over them. */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    socklen_t len = ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
        LLHLS_ERROR("edge", "cannot listen on %s:%d: %s", l->addr, port, strerror(errno));
        close(fd);
        return -LLHLS_EIO;
    }
    uv_tcp_init(&w->loop, &w->listeners[i]);
    uv_tcp_open(&w->listeners[i], fd);
    w->listeners[i].data = (void *)(intptr_t)l->tls;
    if (uv_listen((uv_stream_t *)&w->listeners[i], 4096, on_accept) != 0) {
        LLHLS_ERROR("edge", "cannot listen on %s:%d", l->addr, port);
        return -LLHLS_EIO;
    }
    return 0;
}

int llhls_worker_port(llhls_worker_t *w, size_t i)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    if (uv_tcp_getsockname(&w->listeners[i], (struct sockaddr *)&ss, &len) != 0)
        return -1;
    return ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                    : ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

int llhls_worker_init(llhls_worker_t *w, llhls_edge_t *e, size_t index)
{
    memset(w, 0, sizeof(*w));
    w->edge = e;
    w->index = index;
    uv_loop_init(&w->loop);
    w->loop.data = w;
    pthread_mutex_init(&w->mailbox_lock, NULL);
    uv_async_init(&w->loop, &w->wake, on_wake);
    w->wake.data = w;
    h2o_config_init(&w->h2oconf);
    w->h2oconf.server_name = h2o_iovec_init(H2O_STRLIT("llhls-edge"));
    w->h2oconf.http2.idle_timeout = e->cfg.client_idle_timeout_ms;
    w->h2oconf.http1.req_timeout = e->cfg.client_idle_timeout_ms;
    w->h2oconf.handshake_timeout = e->cfg.tls_handshake_timeout_ms;
    h2o_hostconf_t *host = h2o_config_register_host(&w->h2oconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(path, sizeof(*handler));
    handler->on_req = on_req;
    h2o_compress_args_t args = {.min_size = 100, .gzip = {.quality = 1}, .brotli = {.quality = -1}};
    h2o_compress_register(path, &args);
    if (e->access_log)
        h2o_access_log_register(path, e->access_log);
    uv_timer_init(&w->loop, &w->drain);
    w->drain.data = w;
    h2o_context_init(&w->ctx, &w->loop, &w->h2oconf);
    h2o_timeout_init(w->ctx.loop, &w->send_timeout, e->cfg.client_send_timeout_ms);
    w->accept_plain.ctx = &w->ctx;
    w->accept_plain.hosts = w->h2oconf.hosts;
    w->accept_tls = w->accept_plain;
    w->accept_tls.ssl_ctx = e->ssl_ctx;
    llhls_upstream_init(w);
    /* Worker 0 binds first (a port 0 becomes a real port); the others join
     * it on the same ports. */
    for (size_t i = 0; i < e->cfg.nlisteners; i++) {
        int port = index == 0 ? e->cfg.listeners[i].port : llhls_worker_port(&e->workers[0], i);
        int r = bind_listener(w, i, &e->cfg.listeners[i], port);
        if (r != 0)
            return r;
        w->nlisteners++;
    }
    return 0;
}

void *llhls_worker_main(void *arg)
{
    llhls_worker_t *w = arg;
    uv_run(&w->loop, UV_RUN_DEFAULT);
    return NULL;
}

void llhls_worker_stop(llhls_worker_t *w)
{
    pthread_mutex_lock(&w->mailbox_lock);
    w->stopping = 1;
    pthread_mutex_unlock(&w->mailbox_lock);
    uv_async_send(&w->wake);
}
