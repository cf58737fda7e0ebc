/* Periodic reports to the origin (see report.h).  Rates (egress, hit
 * ratio, upstream latency) are taken over the interval since the last
 * report from the same counters /metrics shows.  The request is written
 * here and sent with h2o's HTTP/1 client, which reads the answer. */
#include "report.h"

#include "error.h"
#include "log.h"
#include "viewers.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct counters {
    uint64_t bytes_out, hits, misses, fetches, latency_us;
    int64_t at_ms;
} counters_t;

struct llhls_report {
    llhls_worker_t *w;
    uv_timer_t timer;
    pthread_mutex_t lock;       /* guards conf against a reload */
    llhls_edge_config_t *conf;  /* report.* and listeners only */
    counters_t last;
    int64_t started_ms;
    int busy;                   /* a report in flight */
    int failing;                /* the last one failed: say so once */
    char url[LLHLS_URL_MAX];    /* of the report in flight, for messages */
    h2o_iovec_t reqbufs[2];
    char *head, *body;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void read_counters(llhls_edge_t *e, counters_t *c)
{
    llhls_cache_stats_t cs;
    llhls_cache_stats(e->cache, &cs);
    c->bytes_out = atomic_load(&e->metrics.bytes_out);
    c->hits = cs.hits;
    c->misses = cs.misses;
    c->fetches = atomic_load(&e->metrics.upstream_fetches);
    c->latency_us = atomic_load(&e->metrics.upstream_latency_us);
    c->at_ms = mono_ms();
}

static void add_viewers(const char *stream, uint32_t n, void *ctx)
{
    json_object_set_new(ctx, stream, json_integer(n));
}

static json_t *summary(llhls_report_t *r, const llhls_edge_config_t *conf)
{
    llhls_edge_t *e = r->w->edge;
    counters_t now;
    read_counters(e, &now);
    double secs = (double)(now.at_ms - r->last.at_ms) / 1000.0;
    if (secs <= 0)
        secs = 1;
    uint64_t lookups = (now.hits - r->last.hits) + (now.misses - r->last.misses);
    double hit_ratio = lookups ? (double)(now.hits - r->last.hits) / (double)lookups
                               : (now.hits + now.misses ? (double)now.hits / (double)(now.hits + now.misses) : 1.0);
    uint64_t fetches = now.fetches - r->last.fetches;
    double latency_ms = fetches ? (double)(now.latency_us - r->last.latency_us) / (double)fetches / 1000.0 : 0.0;
    uint64_t requests = 0;
    for (int i = 0; i < 8; i++)
        requests += atomic_load(&e->metrics.requests[i]);
    json_t *viewers = json_object();
    llhls_viewers_each(e->viewers, now.at_ms, add_viewers, viewers);
    json_t *origins = json_array();
    llhls_origin_set_t *set = atomic_load(&e->origins);
    for (size_t i = 0; i < set->n; i++)
        json_array_append_new(origins, json_pack("{s:s, s:b}", "url", set->origins[i].conf.url,
                                                 "up", !atomic_load(&set->origins[i].down)));
    char listen[LLHLS_ADDR_MAX + 32] = "";
    if (conf->nlisteners) {
        const llhls_edge_listener_t *l = &conf->listeners[0];
        snprintf(listen, sizeof(listen), strchr(l->addr, ':') ? "%s://[%s]:%d" : "%s://%s:%d",
                 l->tls ? "https" : "http", l->addr, llhls_worker_port(r->w, 0));
    }
    json_t *o = json_pack("{s:s, s:s, s:I, s:f, s:I, s:I, s:f, s:f, s:f, s:I, s:o, s:o}", "id", conf->report_id,
                          "listen", listen, "interval_ms", (json_int_t)conf->report_interval_ms, "uptime_s",
                          (double)(now.at_ms - r->started_ms) / 1000.0, "connections",
                          (json_int_t)atomic_load(&e->metrics.connections_open), "requests_total",
                          (json_int_t)requests, "egress_bps", (double)(now.bytes_out - r->last.bytes_out) * 8 / secs,
                          "hit_ratio", hit_ratio, "upstream_latency_ms", latency_ms, "held",
                          (json_int_t)atomic_load(&e->metrics.held), "viewers", viewers, "origins", origins);
    r->last = now;
    return o;
}

static void done(llhls_report_t *r, const char *failure)
{
    if (failure && !r->failing)
        LLHLS_WARN("edge", "report to %s failed: %s (reports go on)", r->url, failure);
    else if (!failure && r->failing)
        LLHLS_INFO("edge", "report to %s accepted again", r->url);
    r->failing = failure != NULL;
    r->busy = 0;
    free(r->head);
    free(r->body);
    r->head = r->body = NULL;
}

static int on_body(h2o_http1client_t *client, const char *errstr)
{
    h2o_buffer_consume(&client->sock->input, client->sock->input->size);
    if (errstr != NULL) {
        if (errstr != h2o_http1client_error_is_eos)
            done(client->data, errstr);
        else
            done(client->data, NULL);
        return -1;
    }
    return 0;
}

static h2o_http1client_body_cb on_head(h2o_http1client_t *client, const char *errstr, int minor_version, int status,
                                       h2o_iovec_t msg, h2o_header_t *headers, size_t num_headers, int rlen)
{
    llhls_report_t *r = client->data;
    if (errstr != NULL && errstr != h2o_http1client_error_is_eos) {
        done(r, errstr);
        return NULL;
    }
    if (status < 200 || status > 299) {
        char why[64];
        snprintf(why, sizeof(why), "the origin answered %d", status);
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

static void on_timer(uv_timer_t *t)
{
    llhls_report_t *r = t->data;
    pthread_mutex_lock(&r->lock);
    uint32_t interval = r->conf->report_interval_ms;
    int on = r->conf->report_url[0] != 0;
    if (on && !r->busy) {
        json_t *o = summary(r, r->conf);
        r->body = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        size_t blen = r->body ? strlen(r->body) : 0;
        int hn = r->body ? asprintf(&r->head,
                                    "POST %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: llhls-edge\r\n"
                                    "Content-Type: application/json\r\nContent-Length: %zu\r\n%s%s%s\r\n",
                                    r->conf->report_path, r->conf->report_host, r->conf->report_port, blen,
                                    r->conf->report_token[0] ? "Authorization: Bearer " : "", r->conf->report_token,
                                    r->conf->report_token[0] ? "\r\n" : "")
                         : -1;
        if (hn > 0) {
            r->reqbufs[0] = h2o_iovec_init(r->head, (size_t)hn);
            r->reqbufs[1] = h2o_iovec_init(r->body, blen);
            r->busy = 1;
            snprintf(r->url, sizeof(r->url), "%s", r->conf->report_url);
            h2o_http1client_t *client;
            h2o_http1client_connect(&client, r, &r->w->client_ctx,
                                    h2o_iovec_init(r->conf->report_host, strlen(r->conf->report_host)),
                                    (uint16_t)r->conf->report_port, 0, on_connect);
        } else {
            free(r->body);
            r->body = NULL;
        }
    }
    pthread_mutex_unlock(&r->lock);
    /* Re-armed each time, so that a reloaded interval applies at once. */
    uv_timer_start(&r->timer, on_timer, interval, 0);
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
    llhls_report_configure(r, &w->edge->cfg);
    read_counters(w->edge, &r->last);
    r->started_ms = r->last.at_ms;
    uv_timer_init(&w->loop, &r->timer);
    r->timer.data = r;
    uv_timer_start(&r->timer, on_timer, r->conf->report_interval_ms, 0);
    if (r->conf->report_url[0])
        LLHLS_INFO("edge", "reporting to %s every %u ms as %s", r->conf->report_url, r->conf->report_interval_ms,
                   r->conf->report_id);
    return r;
}

void llhls_report_configure(llhls_report_t *r, const llhls_edge_config_t *c)
{
    pthread_mutex_lock(&r->lock);
    memcpy(r->conf, c, sizeof(*c));
    pthread_mutex_unlock(&r->lock);
}

void llhls_report_stop(llhls_report_t *r)
{
    if (r)
        uv_timer_stop(&r->timer);
}
