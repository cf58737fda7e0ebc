/* Upstream fetches: one HTTP/1.1 request to an origin per cache object,
 * over keep-alive connections from a per-origin pool.  Origins are tried
 * in order, skipping those marked down; a connect failure, a timeout or a
 * 5xx before any byte of the body moves on to the next and marks the
 * failed one down until a probe of /healthz succeeds.  (A 503 answering a
 * blocking playlist request is the origin's normal word for "not in time"
 * and is passed on.) */
#include "edge.h"

#include "clock.h"
#include "error.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POOL_CAPACITY 64
#define BLOCKING_TIMEOUT_MS 100000 /* above 3 x the longest target duration the origin allows (30 s) */

typedef struct fetch {
    llhls_worker_t *w;
    llhls_object_t *obj;
    h2o_http1client_t *client;
    char target[LLHLS_CACHE_KEY_MAX + 200]; /* path and canonical query */
    char request[LLHLS_CACHE_KEY_MAX + 400];
    h2o_iovec_t reqbuf;
    int blocking;
    llhls_origin_pools_t *pools; /* the origins this fetch tries, and their pools */
    size_t origin;
    size_t tried;
    int64_t started_us;
    int head_done;
    int learn;       /* a media playlist: its shape is learned */
    size_t path_len; /* of target, without the query */
} fetch_t;

void llhls_upstream_init(llhls_worker_t *w)
{
    llhls_edge_t *e = w->edge;
    h2o_multithread_register_receiver(w->ctx.queue, &w->getaddr_receiver, h2o_hostinfo_getaddr_receiver);
    h2o_timeout_init(w->ctx.loop, &w->io_timeout, e->cfg.upstream_timeout_ms);
    h2o_timeout_init(w->ctx.loop, &w->blocking_timeout, BLOCKING_TIMEOUT_MS);
    w->client_ctx.loop = w->ctx.loop;
    w->client_ctx.getaddr_receiver = &w->getaddr_receiver;
    w->client_ctx.io_timeout = &w->io_timeout;
    w->blocking_client_ctx = w->client_ctx;
    w->blocking_client_ctx.io_timeout = &w->blocking_timeout;
}

llhls_origin_set_t *llhls_origin_set_make(const llhls_edge_config_t *c, const llhls_origin_set_t *older)
{
    llhls_origin_set_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->n = c->norigins;
    for (size_t i = 0; i < s->n; i++) {
        s->origins[i].conf = c->origins[i];
        for (size_t k = 0; older && k < older->n; k++)
            if (strcmp(older->origins[k].conf.url, c->origins[i].url) == 0)
                atomic_store(&s->origins[i].down, atomic_load(&older->origins[k].down));
    }
    return s;
}

int llhls_origin_set_same(const llhls_origin_set_t *s, const llhls_edge_config_t *c)
{
    if (s->n != c->norigins)
        return 0;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->origins[i].conf.host, c->origins[i].host) != 0 || s->origins[i].conf.port != c->origins[i].port)
            return 0;
    return 1;
}

/* The worker's pools for the set in use, made when a reload replaced it.
 * Retired pools stay: fetches in flight hold them, and their idle
 * connections close on the pool's own timeout. */
static llhls_origin_pools_t *pools_current(llhls_worker_t *w)
{
    llhls_origin_set_t *set = atomic_load(&w->edge->origins);
    if (w->pools && w->pools->set == set)
        return w->pools;
    llhls_origin_pools_t *p = calloc(1, sizeof(*p));
    if (p == NULL)
        abort();
    p->set = set;
    for (size_t i = 0; i < set->n; i++) {
        const llhls_edge_origin_t *o = &set->origins[i].conf;
        h2o_socketpool_init_by_hostport(&p->pools[i], h2o_iovec_init(o->host, strlen(o->host)), (uint16_t)o->port, 0,
                                        POOL_CAPACITY);
        h2o_socketpool_set_timeout(&p->pools[i], w->ctx.loop, 30000);
    }
    p->older = w->pools;
    w->pools = p;
    return p;
}

static void fetch_try(fetch_t *f);

static void fetch_free(fetch_t *f)
{
    llhls_object_unref(f->obj);
    free(f);
}

/* This origin failed: mark it down and try the next, or fail the object. */
static void fetch_failed(fetch_t *f, const char *why)
{
    llhls_edge_t *e = f->w->edge;
    llhls_origin_state_t *o = &f->pools->set->origins[f->origin];
    atomic_fetch_add_explicit(&o->failures, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&e->metrics.upstream_errors, 1, memory_order_relaxed);
    if (!atomic_exchange(&o->down, 1))
        LLHLS_WARN("edge", "origin %s marked down: %s", o->conf.url, why);
    f->client = NULL;
    if (f->tried < f->pools->set->n) {
        fetch_try(f);
        return;
    }
    llhls_object_t *stale = f->head_done ? NULL : llhls_object_stale(f->obj);
    if (stale) {
        /* Every origin failed: the last good answer stands in (for its
         * short max-age), rather than an error for every player. */
        LLHLS_WARN("edge", "no origin answered %s; serving the last good copy", f->target);
        llhls_object_set_head(f->obj, llhls_object_head(stale));
        const uint8_t *p;
        size_t n;
        for (uint64_t off = 0; (n = llhls_object_read(stale, off, &p)) > 0; off += n)
            llhls_object_append(f->obj, p, n);
        llhls_object_complete(f->obj, llhls_mono_ms());
        fetch_free(f);
        return;
    }
    llhls_object_fail(f->obj, llhls_mono_ms(), 0);
    fetch_free(f);
}

static int64_t parse_max_age(const char *v, size_t n)
{
    for (size_t i = 0; i + 8 <= n; i++) {
        if (strncasecmp(v + i, "max-age=", 8) == 0) {
            int64_t s = 0;
            size_t j = i + 8;
            if (j >= n || v[j] < '0' || v[j] > '9')
                return -1;
            for (; j < n && v[j] >= '0' && v[j] <= '9' && s < 100000000; j++)
                s = s * 10 + (v[j] - '0');
            return s * 1000;
        }
    }
    return -1;
}

/* A media playlist arrived whole: remember its segments' part counts. */
static void learn_shape(fetch_t *f)
{
    const llhls_object_head_t *head = llhls_object_head(f->obj);
    uint64_t size = llhls_object_size(f->obj);
    if (!f->learn || head == NULL || head->status != 200 || size == 0 || size > (1u << 22))
        return;
    char *text = malloc((size_t)size);
    if (text == NULL)
        return;
    uint64_t off = 0;
    while (off < size) {
        const uint8_t *p;
        size_t n = llhls_object_read(f->obj, off, &p);
        if (n == 0)
            break;
        memcpy(text + off, p, n);
        off += n;
    }
    /* The playlist was current when the origin (or a parent) made it. */
    llhls_shapes_learn(f->w->edge->shapes, f->target, f->path_len, text, (size_t)off, llhls_mono_ms() - head->age_ms);
    free(text);
}

static int on_body(h2o_http1client_t *client, const char *errstr)
{
    fetch_t *f = client->data;
    if (errstr != NULL && errstr != h2o_http1client_error_is_eos) {
        LLHLS_WARN("edge", "upstream body from %s broke: %s", f->pools->set->origins[f->origin].conf.url, errstr);
        llhls_object_fail(f->obj, llhls_mono_ms(), 0);
        fetch_free(f);
        return -1;
    }
    h2o_buffer_t *in = client->sock->input;
    if (in->size > 0) {
        if (llhls_object_append(f->obj, in->bytes, in->size) != 0) {
            h2o_buffer_consume(&client->sock->input, in->size);
            fetch_free(f);
            return -1;
        }
        h2o_buffer_consume(&client->sock->input, in->size);
    }
    if (errstr == h2o_http1client_error_is_eos) {
        learn_shape(f);
        llhls_object_complete(f->obj, llhls_mono_ms());
        fetch_free(f);
    }
    return 0;
}

static h2o_http1client_body_cb on_head(h2o_http1client_t *client, const char *errstr, int minor_version, int status,
                                       h2o_iovec_t msg, h2o_header_t *headers, size_t num_headers, int rlen)
{
    fetch_t *f = client->data;
    llhls_edge_t *e = f->w->edge;
    if (errstr != NULL && errstr != h2o_http1client_error_is_eos) {
        fetch_failed(f, errstr);
        return NULL;
    }
    if (status >= 500 && !(status == 503 && f->blocking)) {
        char why[48];
        snprintf(why, sizeof(why), "answered %d", status);
        fetch_failed(f, why);
        return NULL;
    }
    atomic_fetch_add_explicit(&e->metrics.upstream_latency_us, (uint64_t)(llhls_mono_us() - f->started_us),
                              memory_order_relaxed);
    llhls_object_head_t head;
    memset(&head, 0, sizeof(head));
    head.status = status;
    head.content_length = UINT64_MAX;
    head.max_age_ms = -1;
    for (size_t i = 0; i < num_headers; i++) {
        const h2o_token_t *t = h2o_iovec_is_token(headers[i].name) ? (const h2o_token_t *)headers[i].name : NULL;
        h2o_iovec_t v = headers[i].value;
        if (t == H2O_TOKEN_CONTENT_LENGTH) {
            head.content_length = h2o_strtosize(v.base, v.len);
            if (head.content_length == SIZE_MAX)
                head.content_length = UINT64_MAX;
            continue;
        }
        if (t == H2O_TOKEN_AGE) {
            size_t age = h2o_strtosize(v.base, v.len);
            head.age_ms = age == SIZE_MAX ? 0 : (int64_t)age * 1000;
            continue;
        }
        if (t == H2O_TOKEN_CACHE_CONTROL)
            head.max_age_ms = parse_max_age(v.base, v.len);
        if ((t == H2O_TOKEN_CONTENT_TYPE || t == H2O_TOKEN_CACHE_CONTROL || t == H2O_TOKEN_ETAG ||
             t == H2O_TOKEN_LAST_MODIFIED) &&
            head.nheaders < LLHLS_OBJECT_HEADERS_MAX) {
            char *name = strndup(headers[i].name->base, headers[i].name->len);
            char *value = strndup(v.base, v.len);
            head.names[head.nheaders] = name;
            head.values[head.nheaders] = value;
            head.nheaders++;
        }
    }
    llhls_object_set_head(f->obj, &head);
    for (size_t i = 0; i < head.nheaders; i++) {
        free(head.names[i]);
        free(head.values[i]);
    }
    f->head_done = 1;
    if (errstr == h2o_http1client_error_is_eos) {
        llhls_object_complete(f->obj, llhls_mono_ms());
        fetch_free(f);
        return NULL;
    }
    return on_body;
}

static h2o_http1client_head_cb on_connect(h2o_http1client_t *client, const char *errstr, h2o_iovec_t **reqbufs,
                                          size_t *reqbufcnt, int *method_is_head)
{
    fetch_t *f = client->data;
    if (errstr != NULL) {
        fetch_failed(f, errstr);
        return NULL;
    }
    *reqbufs = &f->reqbuf;
    *reqbufcnt = 1;
    *method_is_head = 0;
    return on_head;
}

static void fetch_try(fetch_t *f)
{
    llhls_origin_set_t *set = f->pools->set;
    /* The first origin not marked down, after the ones already tried;
     * when all are down, the next in turn anyway. */
    size_t pick = (f->origin + (f->tried ? 1 : 0)) % set->n;
    for (size_t k = 0; k < set->n; k++) {
        size_t i = (f->origin + (f->tried ? 1 : 0) + k) % set->n;
        if (!atomic_load(&set->origins[i].down)) {
            pick = i;
            break;
        }
    }
    f->origin = pick;
    f->tried++;
    llhls_origin_state_t *o = &set->origins[pick];
    atomic_fetch_add_explicit(&o->fetches, 1, memory_order_relaxed);
    int n = snprintf(f->request, sizeof(f->request), "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: llhls-edge\r\n\r\n",
                     f->target, o->conf.host, o->conf.port);
    f->reqbuf = h2o_iovec_init(f->request, (size_t)n);
    h2o_http1client_connect_with_pool(&f->client, f, f->blocking ? &f->w->blocking_client_ctx : &f->w->client_ctx,
                                      &f->pools->pools[pick], on_connect);
}

void llhls_upstream_fetch(llhls_worker_t *w, llhls_object_t *obj, const llhls_cache_key_t *key, const char *path,
                          size_t path_len, const char *raw_query, size_t raw_len)
{
    llhls_edge_t *e = w->edge;
    fetch_t *f = calloc(1, sizeof(*f));
    if (f == NULL)
        abort();
    f->w = w;
    f->obj = obj;
    llhls_object_ref(obj);
    f->blocking = key->is_playlist && (key->d.has_msn || key->d.skip);
    f->learn = key->is_playlist && raw_query == NULL;
    f->path_len = path_len;
    char query[160];
    size_t ql = llhls_cache_key_upstream_query(key, query, sizeof(query));
    if (raw_query)
        snprintf(f->target, sizeof(f->target), "%.*s?%.*s", (int)path_len, path, (int)raw_len, raw_query);
    else
        snprintf(f->target, sizeof(f->target), "%.*s%s%s", (int)path_len, path, ql ? "?" : "", query);
    f->started_us = llhls_mono_us();
    f->pools = pools_current(w);
    atomic_fetch_add_explicit(&e->metrics.upstream_fetches, 1, memory_order_relaxed);
    fetch_try(f);
}

/* ---- probes ---- */

typedef struct probe {
    llhls_worker_t *w;
    llhls_origin_set_t *set;
    size_t origin;
    h2o_iovec_t reqbuf;
    char request[256];
} probe_t;

static int on_probe_body(h2o_http1client_t *client, const char *errstr)
{
    probe_t *p = client->data;
    h2o_buffer_consume(&client->sock->input, client->sock->input->size);
    if (errstr != NULL) {
        free(p);
        return errstr == h2o_http1client_error_is_eos ? 0 : -1;
    }
    return 0;
}

static h2o_http1client_body_cb on_probe_head(h2o_http1client_t *client, const char *errstr, int minor_version,
                                             int status, h2o_iovec_t msg, h2o_header_t *headers, size_t num_headers,
                                             int rlen)
{
    probe_t *p = client->data;
    llhls_origin_state_t *o = &p->set->origins[p->origin];
    if (errstr == NULL || errstr == h2o_http1client_error_is_eos) {
        if (status == 200 && atomic_exchange(&o->down, 0))
            LLHLS_INFO("edge", "origin %s is up again", o->conf.url);
    }
    if (errstr != NULL) {
        free(p);
        return NULL;
    }
    return on_probe_body;
}

static h2o_http1client_head_cb on_probe_connect(h2o_http1client_t *client, const char *errstr, h2o_iovec_t **reqbufs,
                                                size_t *reqbufcnt, int *method_is_head)
{
    probe_t *p = client->data;
    if (errstr != NULL) {
        free(p);
        return NULL;
    }
    *reqbufs = &p->reqbuf;
    *reqbufcnt = 1;
    *method_is_head = 0;
    return on_probe_head;
}

void llhls_upstream_probe(llhls_worker_t *w)
{
    llhls_origin_set_t *set = atomic_load(&w->edge->origins);
    for (size_t i = 0; i < set->n; i++) {
        const llhls_edge_origin_t *o = &set->origins[i].conf;
        if (!atomic_load(&set->origins[i].down))
            continue;
        probe_t *p = calloc(1, sizeof(*p));
        if (p == NULL)
            return;
        p->w = w;
        p->set = set;
        p->origin = i;
        int n = snprintf(p->request, sizeof(p->request),
                         "GET /healthz HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: llhls-edge\r\n\r\n", o->host, o->port);
        p->reqbuf = h2o_iovec_init(p->request, (size_t)n);
        h2o_http1client_t *client;
        h2o_http1client_connect(&client, p, &w->client_ctx, h2o_iovec_init(o->host, strlen(o->host)), (uint16_t)o->port,
                                0, on_probe_connect);
    }
}
