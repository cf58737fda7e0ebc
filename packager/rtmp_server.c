/* The RTMP server on libuv: a listener, and per connection a TCP handle, a
 * timer (handshake deadline, then idle deadline, then the linger after a
 * refusal) and an rtmp_session that holds all the protocol.  Every close
 * path goes through conn_close(), which frees the session and with it stops
 * the publish. */
#include "rtmp_server.h"

#include "error.h"
#include "log.h"
#include "rtmp_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A publisher is sent a few replies and acknowledgements; this much unread
 * means it stopped reading. */
#define WRITE_QUEUE_MAX (1u << 20)
#define READ_BUFFER_SIZE (64u << 10)
/* How long queued replies (a refusal's onStatus) may take to drain before
 * the connection is closed anyway. */
#define LINGER_MS 2000

typedef struct conn conn_t;

struct llhls_rtmp_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    llhls_rtmp_limits_t limits;
    llhls_ingest_t *ing;
    conn_t *conns;
    uint32_t nconns;
    int port;
};

struct conn {
    conn_t *next, *prev;
    llhls_rtmp_server_t *srv;
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_shutdown_t shutdown;
    llhls_rtmp_session_t *session;
    llhls_publish_t *pub;
    int closing;    /* the session is gone; only the flush remains */
    int released;   /* the handles are closing */
    int handles;    /* open handles; c is freed at 0 */
    size_t queued;  /* bytes written and not yet sent */
    char peer[64];
    uint8_t rbuf[READ_BUFFER_SIZE];
};

typedef struct write_req {
    uv_write_t req;
    conn_t *c;
    size_t len;
    uint8_t data[];
} write_req_t;

void llhls_rtmp_limits_default(llhls_rtmp_limits_t *l)
{
    l->max_connections = 1000;
    l->max_chunk_size = 16u << 20;
    l->max_message_size = 32u << 20;
    l->max_chunk_streams = 64;
    l->handshake_timeout_ms = 10000;
    l->idle_timeout_ms = 30000;
}

static void on_handle_closed(uv_handle_t *h)
{
    conn_t *c = h->data;
    if (--c->handles == 0)
        free(c);
}

/* Closes the handles; c is freed once libuv is done with them. */
static void conn_release(conn_t *c)
{
    if (c->released)
        return;
    c->released = 1;
    llhls_rtmp_server_t *s = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    conn_release(req->data);
}

static void on_linger_timeout(uv_timer_t *t)
{
    conn_release(t->data);
}

/* Ends the connection: the publish stops now; with flush, what is queued
 * (a refusal, for instance) is sent first, within LINGER_MS. */
static void conn_close(conn_t *c, int warn, const char *why, int flush)
{
    if (c->closing)
        return;
    c->closing = 1;
    if (why) {
        const char *stream = c->session ? llhls_rtmp_session_stream(c->session) : NULL;
        llhls_log(warn ? LLHLS_LOG_WARN : LLHLS_LOG_INFO, "rtmp", "%s%s%s: closed: %s", c->peer, stream ? " " : "",
                  stream ? stream : "", why);
    }
    llhls_rtmp_session_free(c->session);
    c->session = NULL;
    uv_read_stop((uv_stream_t *)&c->tcp);
    if (flush && c->queued > 0) {
        c->shutdown.data = c;
        if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown) == 0) {
            uv_timer_start(&c->timer, on_linger_timeout, LINGER_MS, 0);
            return;
        }
    }
    conn_release(c);
}

static void on_written(uv_write_t *req, int status)
{
    write_req_t *w = (write_req_t *)req;
    w->c->queued -= w->len;
    free(w);
}

static int on_send(void *opaque, const uint8_t *p, size_t len)
{
    conn_t *c = opaque;
    if (c->queued + len > WRITE_QUEUE_MAX)
        return -LLHLS_ETOOBIG;
    write_req_t *w = malloc(sizeof *w + len);
    if (w == NULL)
        return -LLHLS_ENOMEM;
    memcpy(w->data, p, len);
    w->c = c;
    w->len = len;
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)len);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
        free(w);
        return -LLHLS_EIO;
    }
    c->queued += len;
    return 0;
}

static int on_publish_start(void *opaque, const char *app, const char *name, const char **why)
{
    conn_t *c = opaque;
    return llhls_publish_start(c->srv->ing, app, name, c->peer, &c->pub, why);
}

static void on_publish_stop(void *opaque)
{
    conn_t *c = opaque;
    if (c->pub)
        llhls_publish_stop(c->pub);
    c->pub = NULL;
}

static void on_metadata(void *opaque, double framerate)
{
    conn_t *c = opaque;
    if (c->pub)
        llhls_publish_metadata(c->pub, framerate);
}

static int on_video(void *opaque, uint32_t ts_ms, const uint8_t *body, size_t len)
{
    conn_t *c = opaque;
    return c->pub ? llhls_publish_video(c->pub, ts_ms, body, len) : 0;
}

static int on_audio(void *opaque, uint32_t ts_ms, const uint8_t *body, size_t len)
{
    conn_t *c = opaque;
    return c->pub ? llhls_publish_audio(c->pub, ts_ms, body, len) : 0;
}

static const llhls_rtmp_session_cbs_t session_cbs = {
    .send = on_send,
    .publish_start = on_publish_start,
    .publish_stop = on_publish_stop,
    .metadata = on_metadata,
    .video = on_video,
    .audio = on_audio,
};

static void on_timeout(uv_timer_t *t)
{
    conn_t *c = t->data;
    if (c->closing) {
        conn_release(c);
        return;
    }
    if (!llhls_rtmp_session_handshake_done(c->session))
        conn_close(c, 1, "no RTMP handshake within the handshake timeout", 0);
    else
        conn_close(c, 1, "no bytes received within the idle timeout", 0);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    conn_t *c = h->data;
    buf->base = (char *)c->rbuf;
    buf->len = sizeof c->rbuf;
}

static void on_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
    conn_t *c = stream->data;
    if (c->closing)
        return;
    if (n < 0) {
        conn_close(c, 0, n == UV_EOF ? "peer closed the connection" : uv_strerror((int)n), 0);
        return;
    }
    if (n == 0)
        return;
    int was_done = llhls_rtmp_session_handshake_done(c->session);
    int rc = llhls_rtmp_session_feed(c->session, (const uint8_t *)buf->base, (size_t)n);
    if (rc < 0) {
        /* Queued replies (a refusal's onStatus) are flushed before the close. */
        conn_close(c, 1, llhls_rtmp_session_reason(c->session), 1);
        return;
    }
    uint32_t timeout = llhls_rtmp_session_handshake_done(c->session) ? c->srv->limits.idle_timeout_ms
                                                                     : c->srv->limits.handshake_timeout_ms;
    /* During the handshake the deadline is absolute: trickling bytes must
     * not extend it. */
    if (was_done || llhls_rtmp_session_handshake_done(c->session))
        uv_timer_start(&c->timer, on_timeout, timeout, 0);
}

static void peer_name(uv_tcp_t *tcp, char *out, size_t size)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (uv_tcp_getpeername(tcp, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&ss, host, sizeof host);
            port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
            snprintf(out, size, "[%s]:%d", host, port);
            return;
        }
        uv_ip4_name((struct sockaddr_in *)&ss, host, sizeof host);
        port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
    snprintf(out, size, "%s:%d", host, port);
}

static void on_connection(uv_stream_t *listener, int status)
{
    llhls_rtmp_server_t *s = listener->data;
    if (status < 0) {
        LLHLS_WARN("rtmp", "accept failed: %s", uv_strerror(status));
        return;
    }
    conn_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return;
    c->srv = s;
    uv_tcp_init(s->loop, &c->tcp);
    uv_timer_init(s->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles = 2;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
        c->closing = 1;
        conn_release(c);
        return;
    }
    peer_name(&c->tcp, c->peer, sizeof c->peer);
    if (s->nconns > s->limits.max_connections) {
        char why[96];
        snprintf(why, sizeof why, "refused: %u connections already open", s->limits.max_connections);
        conn_close(c, 1, why, 0);
        return;
    }
    llhls_rtmp_session_config_t cfg = {
        .limits = {s->limits.max_chunk_size, s->limits.max_message_size, s->limits.max_chunk_streams},
        .peer = c->peer,
        .epoch_ms = (uint32_t)uv_now(s->loop),
        .seed = (uint32_t)(uv_hrtime() ^ (uintptr_t)c),
    };
    if (llhls_rtmp_session_new(&cfg, &session_cbs, c, &c->session) < 0) {
        conn_close(c, 1, "out of memory", 0);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_timer_start(&c->timer, on_timeout, s->limits.handshake_timeout_ms, 0);
    int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (rc != 0) {
        conn_close(c, 1, uv_strerror(rc), 0);
        return;
    }
    LLHLS_DEBUG("rtmp", "%s: connected", c->peer);
}

static void on_listener_closed(uv_handle_t *h)
{
    free(h->data);
}

int llhls_rtmp_server_start(uv_loop_t *loop, const char *addr, int port, const llhls_rtmp_limits_t *limits,
                            llhls_ingest_t *ing, llhls_rtmp_server_t **out)
{
    llhls_rtmp_server_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -LLHLS_ENOMEM;
    s->loop = loop;
    s->limits = *limits;
    s->ing = ing;
    struct sockaddr_storage ss;
    if (uv_ip4_addr(addr, port, (struct sockaddr_in *)&ss) != 0 &&
        uv_ip6_addr(addr, port, (struct sockaddr_in6 *)&ss) != 0) {
        LLHLS_ERROR("rtmp", "cannot listen on \"%s\": not a numeric IPv4 or IPv6 address", addr);
        free(s);
        return -LLHLS_EIO;
    }
    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    int rc = uv_tcp_bind(&s->listener, (struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&s->listener, 128, on_connection);
    if (rc != 0) {
        LLHLS_ERROR("rtmp", "cannot listen on %s:%d: %s", addr, port, uv_strerror(rc));
        uv_close((uv_handle_t *)&s->listener, on_listener_closed);
        return -LLHLS_EIO;
    }
    int len = sizeof ss;
    uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len);
    s->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                       : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    *out = s;
    return 0;
}

int llhls_rtmp_server_port(llhls_rtmp_server_t *s)
{
    return s->port;
}

void llhls_rtmp_server_stop(llhls_rtmp_server_t *s)
{
    /* Connections are released here, synchronously, so that no callback
     * of theirs needs s after the listener's close frees it. */
    while (s->conns) {
        conn_t *c = s->conns;
        conn_close(c, 0, "server stopping", 0);
        conn_release(c);
    }
    uv_close((uv_handle_t *)&s->listener, on_listener_closed);
}

int llhls_rtmp_server_kick(llhls_rtmp_server_t *s, const char *stream)
{
    for (conn_t *c = s->conns; c; c = c->next) {
        const char *st = c->session ? llhls_rtmp_session_stream(c->session) : NULL;
        if (st && strcmp(st, stream) == 0) {
            conn_close(c, 0, "disconnected by the operator", 0);
            return 0;
        }
    }
    return -LLHLS_ENOTFOUND;
}
