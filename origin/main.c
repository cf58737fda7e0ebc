/* llhls-origin: the packager (RTMP in, CMAF parts out) on its own libuv
 * thread, the LMDB store, and the HTTP side on libmicrohttpd's threads, in
 * one process.  The main thread only starts them, waits for SIGINT/SIGTERM
 * and stops them in order. */
#include "admin.h"
#include "clock.h"
#include "config.h"
#include "control.h"
#include "edges.h"
#include "error.h"
#include "history.h"
#include "http.h"
#include "log.h"
#include "process.h"
#include "packager.h"
#include "rtmp_server.h"
#include "store.h"
#include "waiters.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct origin {
    llhls_config_t cfg;
    llhls_metrics_t metrics;
    llhls_store_t *store;
    llhls_fresh_t *fresh;
    llhls_waiters_t *waiters;
    llhls_history_t *history;
    llhls_edges_t *edges;
    llhls_control_t *control;
    llhls_admin_t *admin;
    llhls_http_t *http;
    uv_loop_t loop;
    uv_async_t stop;
    llhls_ingest_t *ingest;
    llhls_rtmp_server_t *rtmp;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int started;                /* 1 running, -1 failed */
} origin_t;

static void on_stop(uv_async_t *a)
{
    origin_t *o = a->data;
    llhls_control_close(o->control);
    if (o->rtmp)
        llhls_rtmp_server_stop(o->rtmp);
    o->rtmp = NULL;
    if (o->ingest)
        llhls_packager_destroy(o->ingest);
    o->ingest = NULL;
    uv_close((uv_handle_t *)&o->stop, NULL);
}

static void set_started(origin_t *o, int v)
{
    pthread_mutex_lock(&o->lock);
    o->started = v;
    pthread_cond_signal(&o->cond);
    pthread_mutex_unlock(&o->lock);
}

/* Once a part can be read (packager thread): wake the requests waiting
 * for the track, then count the newest part into the stream's history.
 * The part is usually still fresh: its commit comes next. */
static void on_update(void *ctx, const char *stream, int track, const llhls_position_t *pos)
{
    origin_t *o = ctx;
    llhls_waiters_update(o->waiters, stream, track, pos);
    if (!pos->has_parts)
        return;
    llhls_segment_t seg;
    const llhls_fresh_part_t *fp = llhls_fresh_get(o->fresh, stream, track);
    int have = 0;
    if (fp && fp->seg.msn == pos->last_msn) {
        seg = fp->seg;
        have = 1;
    } else {
        llhls_rtxn_t *r;
        if (llhls_store_read_begin(o->store, &r) == 0) {
            have = llhls_rtxn_get_segment(r, stream, track, pos->last_msn, &seg) == 0;
            llhls_store_read_end(r);
        }
    }
    llhls_fresh_release(fp);
    if (have && pos->last_part < seg.nparts)
        llhls_history_note(o->history, stream, track, pos->last_msn, pos->last_part, seg.parts[pos->last_part].size,
                           seg.parts[pos->last_part].duration_us, llhls_wall_ms());
}

static void *packager_main(void *arg)
{
    origin_t *o = arg;
    llhls_packager_params_t pp = {
        .store = o->store,
        .fresh = o->fresh,
        .metrics = &o->metrics,
        .segment_target_us = o->cfg.segment_target_us,
        .part_target_us = o->cfg.part_target_us,
        .window_ms = o->cfg.window_ms,
        .record = o->cfg.record,
        .grace_ms = o->cfg.grace_ms,
        .on_update = on_update,
        .update_ctx = o,
    };
    llhls_rtmp_limits_t limits;
    llhls_rtmp_limits_default(&limits);
    limits.max_connections = o->cfg.rtmp_max_connections;
    limits.max_message_size = o->cfg.rtmp_max_message_size;
    limits.idle_timeout_ms = o->cfg.rtmp_idle_timeout_ms;
    uv_async_init(&o->loop, &o->stop, on_stop);
    o->stop.data = o;
    if (llhls_packager_create(&o->loop, &pp, &o->ingest) != 0 ||
        llhls_rtmp_server_start(&o->loop, o->cfg.rtmp_addr, o->cfg.rtmp_port, &limits, o->ingest, &o->rtmp) != 0) {
        if (o->ingest)
            llhls_packager_destroy(o->ingest);
        o->ingest = NULL;
        llhls_control_close(o->control);
        uv_close((uv_handle_t *)&o->stop, NULL);
        uv_run(&o->loop, UV_RUN_DEFAULT);
        set_started(o, -1);
        return NULL;
    }
    llhls_control_set_ingest(o->control, o->ingest);
    set_started(o, 1);
    uv_run(&o->loop, UV_RUN_DEFAULT);
    return NULL;
}

int main(int argc, char **argv)
{
    origin_t o;
    memset(&o, 0, sizeof(o));
    char err[512];
    llhls_config_default(&o.cfg);
    int r = llhls_config_parse_args(&o.cfg, argc, argv, err, sizeof(err));
    if (r == 1)
        return 0;
    if (r != 0) {
        fprintf(stderr, "llhls-origin: %s\n", err);
        return 2;
    }
    llhls_log_set_level(o.cfg.log_level);
    llhls_raise_fd_limit();
    signal(SIGPIPE, SIG_IGN);
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    /* Every thread started from here on leaves these signals to sigwait. */
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    if ((r = llhls_store_open(&o.store, o.cfg.data_dir, o.cfg.store_size)) != 0) {
        LLHLS_ERROR("origin", "cannot open the store in %s: %s", o.cfg.data_dir, llhls_strerror(r));
        return 1;
    }
    if ((r = llhls_fresh_create(&o.fresh)) != 0 ||
        (r = llhls_waiters_create(&o.waiters, &o.metrics, o.cfg.http_max_waiting)) != 0) {
        LLHLS_ERROR("origin", "cannot start: %s", llhls_strerror(r));
        return 1;
    }
    if (o.cfg.www_dir[0] == 0) {
        /* The installed pages, else those of a source tree run in place. */
        const char *installed = LLHLS_DATADIR "/www";
        snprintf(o.cfg.www_dir, sizeof(o.cfg.www_dir), "%s", access(installed, R_OK) == 0 ? installed : "./www");
    }
    uv_loop_init(&o.loop);
    if (llhls_history_create(&o.history) != 0 || llhls_edges_create(&o.edges) != 0 ||
        llhls_control_create(&o.loop, NULL, &o.control) != 0) {
        LLHLS_ERROR("origin", "cannot start: out of memory");
        return 1;
    }
    llhls_admin_params_t ap = {
        .store = o.store,
        .history = o.history,
        .edges = o.edges,
        .control = o.control,
        .token = o.cfg.admin_token,
        .user = o.cfg.admin_user,
        .password = o.cfg.admin_password,
    };
    if (llhls_admin_create(&ap, &o.admin) != 0) {
        LLHLS_ERROR("origin", "cannot start: out of memory");
        return 1;
    }
    if (!o.cfg.admin_token[0] && !o.cfg.admin_user[0])
        LLHLS_INFO("origin", "no admin credential configured: /api/ answers loopback peers only");
    llhls_http_params_t hp = {
        .store = o.store,
        .fresh = o.fresh,
        .waiters = o.waiters,
        .metrics = &o.metrics,
        .addr = o.cfg.http_addr,
        .port = o.cfg.http_port,
        .threads = o.cfg.http_threads,
        .max_connections = o.cfg.http_max_connections,
        .segment_target_us = o.cfg.segment_target_us,
        .www_dir = o.cfg.www_dir,
        .admin = o.admin,
    };
    if ((r = llhls_http_start(&hp, &o.http)) != 0)
        return 1;
    pthread_mutex_init(&o.lock, NULL);
    pthread_cond_init(&o.cond, NULL);
    pthread_create(&o.thread, NULL, packager_main, &o);
    pthread_mutex_lock(&o.lock);
    while (o.started == 0)
        pthread_cond_wait(&o.cond, &o.lock);
    pthread_mutex_unlock(&o.lock);
    if (o.started < 0) {
        pthread_join(o.thread, NULL);
        llhls_http_stop(o.http);
        return 1;
    }
    llhls_admin_set_rtmp_port(o.admin, llhls_rtmp_server_port(o.rtmp));
    LLHLS_INFO("origin", "listening: rtmp %s:%d", o.cfg.rtmp_addr, llhls_rtmp_server_port(o.rtmp));
    LLHLS_INFO("origin", "listening: http %s:%d", o.cfg.http_addr, llhls_http_port(o.http));
    LLHLS_INFO("origin", "store: %s", o.cfg.data_dir);

    int sig = 0;
    sigwait(&sigs, &sig);
    LLHLS_INFO("origin", "signal %d: stopping", sig);
    uv_async_send(&o.stop);
    pthread_join(o.thread, NULL);
    uv_loop_close(&o.loop);
    llhls_http_stop(o.http);
    llhls_admin_destroy(o.admin);
    llhls_control_free(o.control);
    llhls_history_destroy(o.history);
    llhls_edges_destroy(o.edges);
    llhls_waiters_destroy(o.waiters);
    llhls_fresh_destroy(o.fresh);
    llhls_store_close(o.store);
    LLHLS_INFO("origin", "stopped");
    return 0;
}
