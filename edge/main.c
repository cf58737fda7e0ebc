/* llhls-edge: HTTP/2 (h2 over TLS, h2c) and HTTP/1.1 to players, one
 * upstream fetch per object to the origins, worker threads sharing one
 * cache.  The main thread starts the workers, then waits for signals:
 * SIGTERM/SIGINT stop, SIGHUP rereads the config file. */
#include "edge.h"

#include "clock.h"
#include "error.h"
#include "log.h"
#include "process.h"
#include "report.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct viewer_lines {
    char *buf;
    size_t *n;
    size_t cap;
} viewer_lines_t;

static void viewer_line(const char *stream, uint32_t count, void *ctx)
{
    viewer_lines_t *v = ctx;
    size_t n = *v->n;
    *v->n += (size_t)snprintf(v->buf + n, n < v->cap ? v->cap - n : 0, "llhls_edge_viewers{stream=\"%s\"} %u\n", stream,
                              count);
}

int llhls_edge_metrics_render(llhls_edge_t *e, h2o_mem_pool_t *pool, h2o_iovec_t *out)
{
    static const char *codes[8] = {"200", "206", "304", "400", "404", "502", "503", "other"};
    llhls_cache_stats_t cs;
    llhls_cache_stats(e->cache, &cs);
    char *buf = h2o_mem_alloc_pool(pool, 8192);
    size_t n = 0, cap = 8192;
#define P(...) n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, __VA_ARGS__)
#define M(name, type, help, v)                                                                                         \
    P("# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name, (unsigned long long)(v))
    llhls_edge_metrics_t *m = &e->metrics;
    M("llhls_edge_connections_total", "counter", "Client connections accepted.", atomic_load(&m->connections));
    M("llhls_edge_connections", "gauge", "Client connections open.", (uint64_t)atomic_load(&m->connections_open));
    M("llhls_edge_connections_refused_total", "counter", "Connections closed at once: over the limit.",
      atomic_load(&m->connections_refused));
    P("# HELP llhls_edge_requests_total Responses by status code.\n# TYPE llhls_edge_requests_total counter\n");
    for (int i = 0; i < 8; i++)
        P("llhls_edge_requests_total{code=\"%s\"} %llu\n", codes[i], (unsigned long long)atomic_load(&m->requests[i]));
    M("llhls_edge_bytes_out_total", "counter", "Body bytes handed to client connections.", atomic_load(&m->bytes_out));
    M("llhls_edge_cache_hits_total", "counter", "Lookups answered by a cached or filling object.", cs.hits);
    M("llhls_edge_cache_misses_total", "counter", "Lookups that started an upstream fetch.", cs.misses);
    M("llhls_edge_cache_collapsed_total", "counter", "Lookups that waited on a fill already in flight.", cs.collapsed);
    M("llhls_edge_cache_bytes", "gauge", "Bytes of bodies in the cache.", cs.bytes);
    M("llhls_edge_cache_objects", "gauge", "Objects in the cache.", cs.objects);
    M("llhls_edge_cache_evictions_total", "counter", "Objects evicted for memory.", cs.evictions);
    M("llhls_edge_upstream_fetches_total", "counter", "Upstream fetches started.", atomic_load(&m->upstream_fetches));
    M("llhls_edge_upstream_errors_total", "counter", "Upstream attempts that failed.",
      atomic_load(&m->upstream_errors));
    M("llhls_edge_upstream_first_byte_seconds_sum_us", "counter", "Microseconds to the upstream head, summed.",
      atomic_load(&m->upstream_latency_us));
    M("llhls_edge_rapid_reset_closes_total", "counter", "HTTP/2 connections closed for resetting too many streams.",
      atomic_load(&m->rapid_resets));
    M("llhls_edge_stalled_closes_total", "counter",
      "Connections closed: a response made no progress for timeouts.client_send.", atomic_load(&m->stalled_cut));
    M("llhls_edge_refused_ahead_total", "counter", "Blocking requests refused here (400): too far ahead.",
      atomic_load(&m->refused_ahead));
    M("llhls_edge_header_too_large_total", "counter", "Requests refused (431): over limits.max_header_size.",
      atomic_load(&m->header_too_large));
    M("llhls_edge_held_expired_total", "counter", "Held requests answered 503 here after three target durations.",
      atomic_load(&m->held_expired));
    M("llhls_edge_held_requests", "gauge", "Requests waiting on a fill (blocking reloads, hinted parts).",
      (uint64_t)atomic_load(&m->held));
    P("# HELP llhls_edge_origin_up Whether an origin is considered up.\n# TYPE llhls_edge_origin_up gauge\n");
    llhls_origin_set_t *set = atomic_load(&e->origins);
    for (size_t i = 0; i < set->n; i++)
        P("llhls_edge_origin_up{origin=\"%s\"} %d\n", set->origins[i].conf.url, !atomic_load(&set->origins[i].down));
    P("# HELP llhls_edge_viewers Client connections that asked for a stream in the last 10 s.\n"
      "# TYPE llhls_edge_viewers gauge\n");
    viewer_lines_t vl = {buf, &n, cap};
    llhls_viewers_each(e->viewers, llhls_mono_ms(), viewer_line, &vl);
#undef M
#undef P
    *out = h2o_iovec_init(buf, n < cap ? n : cap);
    return 0;
}

static SSL_CTX *make_ssl_ctx(const llhls_edge_listener_t *l)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(ctx, l->cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, l->key, SSL_FILETYPE_PEM) != 1) {
        char buf[256];
        ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
        LLHLS_ERROR("edge", "cannot load the TLS certificate %s / key %s: %s", l->cert, l->key, buf);
        SSL_CTX_free(ctx);
        return NULL;
    }
    h2o_ssl_register_alpn_protocols(ctx, h2o_http2_alpn_protocols);
    return ctx;
}

static void on_probe_timer(uv_timer_t *t)
{
    llhls_upstream_probe(t->data);
}

void llhls_edge_limits_set(llhls_edge_t *e, const llhls_edge_config_t *c)
{
    atomic_store(&e->limits.max_connections, c->max_connections);
    atomic_store(&e->limits.max_held, c->max_held);
    atomic_store(&e->limits.max_held_per_connection, c->max_held_per_connection);
    atomic_store(&e->limits.max_header_size, c->max_header_size);
}

/* What a reload cannot change while connections stay open, by key. */
static void note_restart_keys(const llhls_edge_config_t *a, const llhls_edge_config_t *b)
{
    int listen_changed = a->nlisteners != b->nlisteners;
    for (size_t i = 0; !listen_changed && i < a->nlisteners; i++)
        listen_changed = strcmp(a->listeners[i].addr, b->listeners[i].addr) != 0 ||
                         a->listeners[i].port != b->listeners[i].port || a->listeners[i].tls != b->listeners[i].tls;
    const struct {
        int changed;
        const char *key;
    } keys[] = {
        {listen_changed, "listen"},
        {a->threads != b->threads, "threads"},
        {a->upstream_connect_timeout_ms != b->upstream_connect_timeout_ms, "timeouts.upstream_connect"},
        {a->upstream_timeout_ms != b->upstream_timeout_ms, "timeouts.upstream_response"},
        {a->client_idle_timeout_ms != b->client_idle_timeout_ms, "timeouts.client_idle"},
        {a->client_send_timeout_ms != b->client_send_timeout_ms, "timeouts.client_send"},
        {a->tls_handshake_timeout_ms != b->tls_handshake_timeout_ms, "timeouts.tls_handshake"},
        {a->probe_interval_ms != b->probe_interval_ms, "timeouts.origin_probe"},
        {strcmp(a->access_log, b->access_log) != 0, "log.access"},
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (keys[i].changed)
            LLHLS_WARN("edge", "reload: %s changed; it takes effect at the next restart", keys[i].key);
}

/* SIGHUP: the whole command line again (its flags still win over the
 * file).  A bad file changes nothing.  A good one applies at once what can
 * change under open connections: origins, cache size, limits, log level
 * and the TLS certificate (for new connections). */
static void reload(llhls_edge_t *e, int argc, char **argv)
{
    char err[512];
    llhls_edge_config_t next;
    const char *path = NULL;
    llhls_edge_config_default(&next);
    if (llhls_edge_config_parse_args(&next, argc, argv, &path, err, sizeof(err)) != 0) {
        LLHLS_ERROR("edge", "reload refused, the running configuration stays: %s", err);
        return;
    }
    /* A context in use by a handshake on another thread may still be read,
     * so replaced ones are kept. */
    for (size_t i = 0; i < next.nlisteners && e->ssl_ctx; i++) {
        if (!next.listeners[i].tls)
            continue;
        SSL_CTX *fresh = make_ssl_ctx(&next.listeners[i]);
        if (fresh == NULL) {
            LLHLS_ERROR("edge", "reload refused, the running configuration stays: the TLS certificate did not load");
            return;
        }
        for (size_t k = 0; k < e->nworkers; k++)
            __atomic_store_n(&e->workers[k].accept_tls.ssl_ctx, fresh, __ATOMIC_RELEASE);
        e->ssl_ctx = fresh;
        LLHLS_INFO("edge", "reload: TLS certificate applied to new connections");
        break;
    }
    note_restart_keys(&e->cfg, &next);
    llhls_origin_set_t *set = atomic_load(&e->origins);
    if (!llhls_origin_set_same(set, &next)) {
        llhls_origin_set_t *fresh = llhls_origin_set_make(&next, set);
        if (fresh == NULL) {
            LLHLS_ERROR("edge", "reload: out of memory; the origins stay");
        } else {
            fresh->older = set;
            atomic_store(&e->origins, fresh);
            for (size_t i = 0; i < fresh->n; i++)
                LLHLS_INFO("edge", "origin: %s", fresh->origins[i].conf.url);
        }
    }
    if (next.cache_size != e->cfg.cache_size)
        llhls_cache_resize(e->cache, next.cache_size);
    llhls_edge_limits_set(e, &next);
    llhls_log_set_level(next.log_level);
    /* Workers read only what was applied above, never e->cfg's fields a
     * reload changes; keeping the rest as it was started keeps the notes
     * above right at the next reload. */
    memcpy(e->cfg.origins, next.origins, sizeof(next.origins));
    e->cfg.norigins = next.norigins;
    e->cfg.cache_size = next.cache_size;
    e->cfg.max_connections = next.max_connections;
    e->cfg.max_held = next.max_held;
    e->cfg.max_held_per_connection = next.max_held_per_connection;
    e->cfg.max_header_size = next.max_header_size;
    e->cfg.log_level = next.log_level;
    if (e->report) {
        llhls_report_configure(e->report, &next);
        LLHLS_INFO("edge", "reload: reports %s%s", next.report_url[0] ? "to " : "off", next.report_url);
    }
    LLHLS_INFO("edge", "configuration reloaded from %s", path ? path : "the command line");
}

int main(int argc, char **argv)
{
    static llhls_edge_t edge;
    llhls_edge_t *e = &edge;
    char err[512];
    const char *config_path = NULL;
    llhls_edge_config_default(&e->cfg);
    int r = llhls_edge_config_parse_args(&e->cfg, argc, argv, &config_path, err, sizeof(err));
    if (r == 1)
        return 0;
    if (r != 0) {
        fprintf(stderr, "llhls-edge: %s\n", err);
        return 2;
    }
    llhls_log_set_level(e->cfg.log_level);
    llhls_raise_fd_limit();
    signal(SIGPIPE, SIG_IGN);
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    e->cache = llhls_cache_create(e->cfg.cache_size);
    e->shapes = llhls_shapes_create();
    e->viewers = llhls_viewers_create();
    if (e->viewers == NULL)
        return 1;
    llhls_edge_limits_set(e, &e->cfg);
    llhls_origin_set_t *set = llhls_origin_set_make(&e->cfg, NULL);
    if (set == NULL)
        return 1;
    atomic_store(&e->origins, set);
    for (size_t i = 0; i < e->cfg.nlisteners; i++) {
        if (e->cfg.listeners[i].tls && e->ssl_ctx == NULL && (e->ssl_ctx = make_ssl_ctx(&e->cfg.listeners[i])) == NULL)
            return 1;
    }
    if (e->cfg.access_log[0]) {
        /* Combined log format, and the time the request took. */
        const char *path = strcmp(e->cfg.access_log, "-") == 0 ? "/dev/stderr" : e->cfg.access_log;
        e->access_log = h2o_access_log_open_handle(
            path, "%h %l %u %t \"%r\" %s %b \"%{referer}i\" \"%{user-agent}i\" %{duration}x", 0);
        if (e->access_log == NULL) {
            LLHLS_ERROR("edge", "cannot open the access log %s", e->cfg.access_log);
            return 1;
        }
    }
    e->nworkers = e->cfg.threads;
    e->workers = calloc(e->nworkers, sizeof(*e->workers));
    for (size_t i = 0; i < e->nworkers; i++) {
        if (llhls_worker_init(&e->workers[i], e, i) != 0)
            return 1;
    }
    uv_timer_t probe;
    uv_timer_init(&e->workers[0].loop, &probe);
    probe.data = &e->workers[0];
    uv_timer_start(&probe, on_probe_timer, e->cfg.probe_interval_ms, e->cfg.probe_interval_ms);
    for (size_t i = 0; i < e->cfg.nlisteners; i++)
        LLHLS_INFO("edge", "listening: %s %s:%d", e->cfg.listeners[i].tls ? "https" : "http", e->cfg.listeners[i].addr,
                   llhls_worker_port(&e->workers[0], i));
    for (size_t i = 0; i < set->n; i++)
        LLHLS_INFO("edge", "origin: %s", set->origins[i].conf.url);
    e->report = llhls_report_start(&e->workers[0]);
    for (size_t i = 0; i < e->nworkers; i++)
        pthread_create(&e->workers[i].thread, NULL, llhls_worker_main, &e->workers[i]);

    for (;;) {
        int sig = 0;
        sigwait(&sigs, &sig);
        if (sig == SIGHUP) {
            reload(e, argc, argv);
            continue;
        }
        LLHLS_INFO("edge", "signal %d: stopping", sig);
        break;
    }
    /* The report stops at once (a post in flight is cancelled); the probe
     * timer belongs to worker 0's loop, so it is left to that loop's end
     * rather than touched from this thread. */
    llhls_report_stop(e->report);
    for (size_t i = 0; i < e->nworkers; i++)
        llhls_worker_stop(&e->workers[i]);
    for (size_t i = 0; i < e->nworkers; i++)
        pthread_join(e->workers[i].thread, NULL);
    uv_timer_stop(&probe);
    LLHLS_INFO("edge", "stopped");
    return 0;
}
