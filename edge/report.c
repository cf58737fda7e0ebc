/* Periodic reports to the origin (see report.h).  Rates (egress, hit
 * ratio, upstream latency) are taken over the interval since the last
 * report from the same counters /metrics shows.  Everything here runs on
 * one worker's loop; other threads only hand over a new configuration or a
 * stop through an async handle.  The request head is written here, as
 * upstream.c writes its own, and sent with h2o's HTTP/1 client, which reads
 * the answer. */
#include "report.h"

#include "clock.h"
#include "error.h"
#include "log.h"
#include "viewers.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* docs/api.md: the origin refuses bodies over 64 KiB.  Viewers are the only
 * part that grows (up to LLHLS_VIEWER_STREAMS names of 129 bytes); past this
 * budget the streams with the fewest viewers are left out. */
#define VIEWERS_BUDGET (48 * 1024)

typedef struct counters {
    uint64_t bytes_out, hits, misses, fetches, latency_us;
    int64_t at_ms;
} counters_t;

struct llhls_report {
    llhls_worker_t *w;
    uv_timer_t timer;
    uv_async_t wake;            /* a reload or a stop from another thread */
    pthread_mutex_t lock;       /* guards conf, changed and stopping */
    llhls_edge_config_t *conf;  /* the newest configuration handed over */
    int changed, stopping;
    /* The rest belongs to the loop's thread. */
    uint32_t interval_ms;       /* the timer's, 0 while off */
    counters_t last;
    int64_t started_ms;
    h2o_http1client_t *client;  /* the report in flight, NULL when none */
    int failing;                /* the last report to url failed: said once */
    char url[LLHLS_URL_MAX];    /* where the last report went, for messages */
    h2o_iovec_t reqbufs[2];
    char *head, *body;
};

static void read_counters(llhls_edge_t *e, counters_t *c)
{
    llhls_cache_stats_t cs;
    llhls_cache_stats(e->cache, &cs);
    c->bytes_out = atomic_load(&e->metrics.bytes_out);
    c->hits = cs.hits;
    c->misses = cs.misses;
    c->fetches = atomic_load(&e->metrics.upstream_fetches);
    c->latency_us = atomic_load(&e->metrics.upstream_latency_us);
    c->at_ms = llhls_mono_ms();
}

typedef struct stream_count {
    char name[LLHLS_NAME_MAX];
    uint32_t n;
} stream_count_t;

typedef struct stream_counts {
    stream_count_t *v;
    size_t n, cap;
} stream_counts_t;

static void add_stream(const char *stream, uint32_t n, void *ctx)
{
    stream_counts_t *s = ctx;
    if (s->n < s->cap) {
        snprintf(s->v[s->n].name, sizeof(s->v[0].name), "%s", stream);
        s->v[s->n++].n = n;
    }
}

static int by_viewers_desc(const void *a, const void *b)
{
    const stream_count_t *x = a, *y = b;
    return x->n < y->n ? 1 : x->n > y->n ? -1 : strcmp(x->name, y->name);
}

static json_t *viewers_object(llhls_edge_t *e, int64_t now_ms)
{
    json_t *o = json_object();
    stream_counts_t s = {calloc(LLHLS_VIEWER_STREAMS, sizeof(stream_count_t)), 0, LLHLS_VIEWER_STREAMS};
    if (s.v == NULL)
        return o;
    llhls_viewers_each(e->viewers, now_ms, add_stream, &s);
    qsort(s.v, s.n, sizeof(s.v[0]), by_viewers_desc);
    size_t bytes = 0;
    for (size_t i = 0; i < s.n; i++) {
        /* "name": 4294967295, -- names need no escaping (viewers.c). */
        bytes += strlen(s.v[i].name) + 16;
        if (bytes > VIEWERS_BUDGET)
            break;
        json_object_set_new(o, s.v[i].name, json_integer(s.v[i].n));
    }
    free(s.v);
    return o;
}

static json_t *summary(llhls_report_t *r, const llhls_edge_config_t *conf)
{
    llhls_edge_t *e = r->w->edge;
    counters_t now;
    read_counters(e, &now);
    double secs = (double)(now.at_ms - r->last.at_ms) / 1000.0;
    if (secs <= 0)
        secs = 1;
    /* No lookup in the interval: the ratio since the start says more than
     * nothing; with no lookup at all, nothing was missed. */
    uint64_t lookups = (now.hits - r->last.hits) + (now.misses - r->last.misses);
    double hit_ratio = lookups ? (double)(now.hits - r->last.hits) / (double)lookups
                               : (now.hits + now.misses ? (double)now.hits / (double)(now.hits + now.misses) : 1.0);
    uint64_t fetches = now.fetches - r->last.fetches;
    double latency_ms = fetches ? (double)(now.latency_us - r->last.latency_us) / (double)fetches / 1000.0 : 0.0;
    uint64_t requests = 0;
    for (int i = 0; i < 8; i++)
        requests += atomic_load(&e->metrics.requests[i]);
    json_t *origins = json_array();
    llhls_origin_set_t *set = atomic_load(&e->origins);
    for (size_t i = 0; i < set->n; i++)
        json_array_append_new(origins, json_pack("{s:s, s:b}", "url", set->origins[i].conf.url, "up",
                                                 !atomic_load(&set->origins[i].down)));
    char listen[LLHLS_ADDR_MAX + 32] = "";
    if (conf->nlisteners) {
        const llhls_edge_listener_t *l = &conf->listeners[0];
        snprintf(listen, sizeof(listen), strchr(l->addr, ':') ? "%s://[%s]:%d" : "%s://%s:%d",
                 l->tls ? "https" : "http", l->addr, llhls_worker_port(r->w, 0));
    }
    int64_t open = atomic_load(&e->metrics.connections_open), held = atomic_load(&e->metrics.held);
    json_t *o = json_pack("{s:s, s:s, s:I, s:f, s:I, s:I, s:f, s:f, s:f, s:I, s:o, s:o}", "id", conf->report_id,
                          "listen", listen, "interval_ms", (json_int_t)conf->report_interval_ms, "uptime_s",
                          (double)(now.at_ms - r->started_ms) / 1000.0, "connections",
                          (json_int_t)(open > 0 ? open : 0), "requests_total", (json_int_t)requests, "egress_bps",
                          (double)(now.bytes_out - r->last.bytes_out) * 8 / secs, "hit_ratio", hit_ratio,
                          "upstream_latency_ms", latency_ms, "held", (json_int_t)(held > 0 ? held : 0), "viewers",
                          viewers_object(e, now.at_ms), "origins", origins);
    r->last = now;
    return o;
}

static void release(llhls_report_t *r)
{
    r->client = NULL;
    free(r->head);
    free(r->body);
    r->head = r->body = NULL;
}

static void done(llhls_report_t *r, const char *failure)
{
    if (failure && !r->failing)
        LLHLS_WARN("edge", "report to %s failed: %s (reports go on)", r->url, failure);
    else if (!failure && r->failing)
        LLHLS_INFO("edge", "report to %s accepted again", r->url);
    r->failing = failure != NULL;
    release(r);
}

static int on_body(h2o_http1client_t *client, const char *errstr)
{
    /* The answer's body says nothing the edge needs. */
    h2o_buffer_consume(&client->sock->input, client->sock->input->size);
    if (errstr != NULL) {
        done(client->data, errstr == h2o_http1client_error_is_eos ? NULL : errstr);
        return -1;
    }
    return 0;
}

static h2o_http1client_body_cb on_head(h2o_http1client_t *client, const char *errstr, int minor_version, int status,
                                       h2o_iovec_t msg, h2o_header_t *headers, size_t num_headers, int rlen)
{
    (void)minor_version, (void)msg, (void)headers, (void)num_headers, (void)rlen;
    llhls_report_t *r = client->data;
    if (errstr != NULL && errstr != h2o_http1client_error_is_eos) {
        done(r, errstr);
        return NULL;
    }
    if (status < 200 || status > 299) {
        char why[64];
        snprintf(why, sizeof(why), "the receiver answered %d", status);
        done(r, why);
        return NULL;
    }
    if (errstr == h2o_http1client_error_is_eos) {
        done(r, NULL);
        return NULL;
    }
    return on_body;
}

static h2o_http1client_head_cb on_connect(h2o_http1client_t *client, const char *errstr, h2o_iovec_t **reqbufs,
                                          size_t *reqbufcnt, int *method_is_head)
{
    llhls_report_t *r = client->data;
    if (errstr != NULL) {
        done(r, errstr);
        return NULL;
    }
    *reqbufs = r->reqbufs;
    *reqbufcnt = 2;
    *method_is_head = 0;
    return on_head;
}

/* Writes the request for one report; 0, or -LLHLS_ENOMEM. */
static int compose(llhls_report_t *r, const llhls_edge_config_t *conf)
{
    json_t *o = summary(r, conf);
    r->body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (r->body == NULL)
        return -LLHLS_ENOMEM;
    size_t blen = strlen(r->body);
    const char *bearer = conf->report_token[0] ? "Authorization: Bearer " : "";
    int hn = asprintf(&r->head,
                      "POST %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: llhls-edge\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\n%s%s%s\r\n",
                      conf->report_path, conf->report_host, conf->report_port, blen, bearer, conf->report_token,
                      conf->report_token[0] ? "\r\n" : "");
    if (hn < 0) {
        r->head = NULL;
        release(r);
        return -LLHLS_ENOMEM;
    }
    r->reqbufs[0] = h2o_iovec_init(r->head, (size_t)hn);
    r->reqbufs[1] = h2o_iovec_init(r->body, blen);
    return 0;
}

static void on_timer(uv_timer_t *t)
{
    llhls_report_t *r = t->data;
    /* One at a time: a slow receiver makes reports rarer, not pile up (the
     * client's I/O timeout bounds how long one can take). */
    if (r->client != NULL || r->head != NULL)
        return;
    pthread_mutex_lock(&r->lock);
    int on = r->conf->report_url[0] != 0 && !r->stopping;
    if (on) {
        if (strcmp(r->url, r->conf->report_url) != 0) {
            /* A new receiver: its first failure is news. */
            snprintf(r->url, sizeof(r->url), "%s", r->conf->report_url);
            r->failing = 0;
        }
        on = compose(r, r->conf) == 0;
    }
    char host[LLHLS_ADDR_MAX];
    snprintf(host, sizeof(host), "%s", r->conf->report_host);
    uint16_t port = (uint16_t)r->conf->report_port;
    pthread_mutex_unlock(&r->lock);
    if (on)
        h2o_http1client_connect(&r->client, r, &r->w->client_ctx, h2o_iovec_init(host, strlen(host)), port, 0,
                                on_connect);
}

static void on_close(uv_handle_t *h)
{
    (void)h;
}

/* On the loop: applies what another thread handed over. */
static void on_wake(uv_async_t *a)
{
    llhls_report_t *r = a->data;
    pthread_mutex_lock(&r->lock);
    int stopping = r->stopping, changed = r->changed;
    uint32_t interval = r->conf->report_url[0] ? r->conf->report_interval_ms : 0;
    r->changed = 0;
    pthread_mutex_unlock(&r->lock);
    if (stopping) {
        if (r->client != NULL)
            h2o_http1client_cancel(r->client);
        release(r);
        if (!uv_is_closing((uv_handle_t *)&r->wake)) {
            uv_close((uv_handle_t *)&r->timer, on_close);
            uv_close((uv_handle_t *)&r->wake, on_close);
        }
        return;
    }
    if (!changed || interval == r->interval_ms)
        return;
    /* A new interval applies now, not after the old one ran out; reports
     * turned back on measure from now, not from when they stopped. */
    if (r->interval_ms == 0)
        read_counters(r->w->edge, &r->last);
    r->interval_ms = interval;
    if (interval)
        uv_timer_start(&r->timer, on_timer, interval, interval);
    else
        uv_timer_stop(&r->timer);
}

llhls_report_t *llhls_report_start(llhls_worker_t *w)
{
    llhls_report_t *r = calloc(1, sizeof(*r));
    if (r == NULL || (r->conf = calloc(1, sizeof(*r->conf))) == NULL) {
        free(r);
        return NULL;
    }
    r->w = w;
    pthread_mutex_init(&r->lock, NULL);
    memcpy(r->conf, &w->edge->cfg, sizeof(*r->conf));
    read_counters(w->edge, &r->last);
    r->started_ms = r->last.at_ms;
    uv_timer_init(&w->loop, &r->timer);
    r->timer.data = r;
    uv_async_init(&w->loop, &r->wake, on_wake);
    r->wake.data = r;
    if (r->conf->report_url[0]) {
        r->interval_ms = r->conf->report_interval_ms;
        uv_timer_start(&r->timer, on_timer, r->interval_ms, r->interval_ms);
        LLHLS_INFO("edge", "reporting to %s every %u ms as %s", r->conf->report_url, r->interval_ms,
                   r->conf->report_id);
    }
    return r;
}

void llhls_report_configure(llhls_report_t *r, const llhls_edge_config_t *c)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->lock);
    memcpy(r->conf, c, sizeof(*c));
    r->changed = 1;
    /* Under the lock: once stopping is set, the handle may be closing. */
    if (!r->stopping)
        uv_async_send(&r->wake);
    pthread_mutex_unlock(&r->lock);
}

void llhls_report_stop(llhls_report_t *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->lock);
    if (!r->stopping) {
        r->stopping = 1;
        uv_async_send(&r->wake);
    }
    pthread_mutex_unlock(&r->lock);
}
