/* The RTMP client of llhls-push.  It speaks the plain handshake and the
 * publishing commands that FMLE, OBS and ffmpeg send, answers the server's
 * pings and acknowledgement window, and sends media as batches of writev(2)
 * vectors: a small per-connection first chunk header, then the message's
 * chunks as they were cut at load time, shared by every connection. */
#include "rtmp_client.h"

#include "amf0.h"
#include "clock.h"
#include "error.h"
#include "rtmp_chunk.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#ifndef IOV_MAX
#define IOV_MAX 1024
#endif
#define HANDSHAKE_SIZE 1536
#define BATCH_FRAMES 256       /* two vectors each, well under IOV_MAX */
#define BATCH_BYTES (4u << 20) /* a batch is written once it holds this much */
#define MAX_HEADER 16          /* basic 1 + message 11 + extended timestamp 4 */
#define RECV_SIZE 65536
#define TXN_CONNECT 1
#define TXN_RELEASE 2
#define TXN_FCPUBLISH 3
#define TXN_CREATE 4
#define TXN_PUBLISH 5

typedef struct csid_state {
    int have;
    uint32_t ts;
} csid_state_t;

struct push_conn {
    push_conn_params_t p;
    int fd;
    llhls_rtmp_chunk_reader_t *reader;
    llhls_buf_t out; /* control and command messages waiting to go out */
    llhls_buf_t amf;
    uint8_t *rbuf;
    uint64_t received, acked;
    uint32_t ack_window;
    uint32_t stream_id;
    int closed; /* the server closed the connection */
    /* The last answer to one of our calls, and the last onStatus. */
    double reply_txn;
    int reply_ok; /* _result (1) or _error (0) */
    double reply_number;
    char status_level[16];
    char status_code[80];
    char status_desc[256];
    int have_status;
    int status_error; /* the last onStatus or _error was an error */
    /* The batch being built. */
    struct iovec iov[BATCH_FRAMES * 2];
    int niov;
    size_t batch_bytes;
    uint8_t hdr[BATCH_FRAMES][MAX_HEADER];
    int nhdr;
    csid_state_t av[2]; /* audio, video */
    char err[512];
};

static int failf(push_conn_t *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int failf(push_conn_t *c, int rc, const char *fmt, ...)
{
    if (c->err[0] == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err, sizeof c->err, fmt, ap);
        va_end(ap);
    }
    return rc;
}

const char *push_conn_error(const push_conn_t *c)
{
    return c->err[0] ? c->err : "no error";
}

int push_frame_wire(push_frame_t *f, uint32_t csid, uint32_t chunk_size, const uint8_t *body, size_t len)
{
    if (len > 0xffffff)
        return -LLHLS_ETOOBIG;
    size_t extra = len > chunk_size ? (len - 1) / chunk_size : 0;
    f->wire = malloc(len + extra + 1);
    if (f->wire == NULL)
        return -LLHLS_ENOMEM;
    uint8_t *w = f->wire;
    for (size_t pos = 0; pos < len;) {
        if (pos > 0)
            *w++ = (uint8_t)(0xc0 | csid);
        size_t take = len - pos < chunk_size ? len - pos : chunk_size;
        memcpy(w, body + pos, take);
        w += take;
        pos += take;
    }
    f->wire_len = (size_t)(w - f->wire);
    f->len = (uint32_t)len;
    return 0;
}

void push_frame_free(push_frame_t *f)
{
    free(f->wire);
    f->wire = NULL;
    f->wire_len = 0;
}

int push_url_parse(const char *url, push_url_t *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof *u);
    if (strncmp(url, "rtmp://", 7) != 0) {
        snprintf(err, errlen, "'%s' is not an rtmp:// URL", url);
        return -LLHLS_EINVAL;
    }
    const char *h = url + 7;
    const char *slash = strchr(h, '/');
    const char *last = strrchr(h, '/');
    if (slash == NULL || last == slash || last[1] == '\0') {
        snprintf(err, errlen, "'%s' has no application and stream name: use rtmp://HOST[:PORT]/APP/NAME", url);
        return -LLHLS_EINVAL;
    }
    size_t hostlen = (size_t)(slash - h);
    const char *colon = memchr(h, ':', hostlen);
    if (h[0] == '[') {
        /* An IPv6 literal: [addr]:port. */
        const char *close = memchr(h, ']', hostlen);
        colon = close && close + 1 < slash && close[1] == ':' ? close + 1 : NULL;
        if (close == NULL || (size_t)(close - h - 1) >= sizeof u->host)
            goto bad;
        memcpy(u->host, h + 1, (size_t)(close - h - 1));
    } else {
        size_t n = colon ? (size_t)(colon - h) : hostlen;
        if (n == 0 || n >= sizeof u->host)
            goto bad;
        memcpy(u->host, h, n);
    }
    if (colon) {
        size_t n = (size_t)(slash - colon - 1);
        if (n == 0 || n >= sizeof u->port || strspn(colon + 1, "0123456789") < n)
            goto bad;
        memcpy(u->port, colon + 1, n);
    } else {
        snprintf(u->port, sizeof u->port, "1935");
    }
    size_t applen = (size_t)(last - slash - 1);
    if (applen >= sizeof u->app || strlen(last + 1) >= sizeof u->name)
        goto bad;
    memcpy(u->app, slash + 1, applen);
    snprintf(u->name, sizeof u->name, "%s", last + 1);
    if ((size_t)snprintf(u->tc_url, sizeof u->tc_url, "rtmp://%.*s/%s", (int)hostlen, h, u->app) >= sizeof u->tc_url)
        goto bad;
    return 0;
bad:
    snprintf(err, errlen, "malformed RTMP URL '%s': use rtmp://HOST[:PORT]/APP/NAME", url);
    return -LLHLS_EINVAL;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Copies a string property of an information object. */
static void copy_prop(const llhls_amf0_value_t *o, const char *key, char *dst, size_t n)
{
    const char *s = o ? llhls_amf0_get_string(o, key) : NULL;
    snprintf(dst, n, "%s", s ? s : "");
}

static int queue_message(push_conn_t *c, uint32_t csid, uint8_t type, uint32_t stream_id, uint32_t ts, const uint8_t *p,
                         size_t len)
{
    llhls_rtmp_chunk_header_t h = {.fmt = 0, .csid = csid, .timestamp = ts, .type = type, .stream_id = stream_id};
    int rc = llhls_rtmp_chunk_write(&c->out, c->p.chunk_size, &h, p, len);
    return rc < 0 ? failf(c, rc, "cannot build a message: %s", llhls_strerror(rc)) : 0;
}

static int on_command(push_conn_t *c, const uint8_t *p, size_t len)
{
    llhls_amf0_command_t cmd;
    if (llhls_amf0_command_decode(p, len, 0, &cmd) < 0)
        return 0; /* nothing we asked for */
    const llhls_amf0_value_t *info = cmd.nargs >= 2 ? cmd.args[1] : NULL;
    if (strcmp(cmd.name, "_result") == 0 || strcmp(cmd.name, "_error") == 0) {
        c->reply_txn = cmd.txn;
        c->reply_ok = cmd.name[1] == 'r';
        c->reply_number = info && info->type == LLHLS_AMF0_NUMBER ? info->number : 0;
        c->status_error = !c->reply_ok;
        if (!c->reply_ok) {
            copy_prop(info, "code", c->status_code, sizeof c->status_code);
            copy_prop(info, "description", c->status_desc, sizeof c->status_desc);
        }
    } else if (strcmp(cmd.name, "onStatus") == 0) {
        copy_prop(info, "level", c->status_level, sizeof c->status_level);
        copy_prop(info, "code", c->status_code, sizeof c->status_code);
        copy_prop(info, "description", c->status_desc, sizeof c->status_desc);
        c->have_status = 1;
        c->status_error = strcmp(c->status_level, "error") == 0;
    }
    llhls_amf0_command_free(&cmd);
    return 0;
}

static int on_message(void *opaque, const llhls_rtmp_message_t *m)
{
    push_conn_t *c = opaque;
    const uint8_t *p = m->payload;
    switch (m->type) {
    case LLHLS_RTMP_WINDOW_ACK_SIZE:
        if (m->len >= 4)
            c->ack_window = rd32(p);
        return 0;
    case LLHLS_RTMP_USER_CONTROL:
        if (m->len >= 6 && p[0] == 0 && p[1] == 6) {
            uint8_t pong[6] = {0, 7, p[2], p[3], p[4], p[5]};
            return queue_message(c, PUSH_CSID_CONTROL, LLHLS_RTMP_USER_CONTROL, 0, 0, pong, 6);
        }
        return 0;
    case LLHLS_RTMP_COMMAND_AMF0: return on_command(c, p, m->len);
    case LLHLS_RTMP_COMMAND_AMF3: return m->len > 0 && p[0] == 0 ? on_command(c, p + 1, m->len - 1) : 0;
    default: return 0;
    }
}

/* The error for a connection the server closed, with the reason it gave
 * when its last status was an error. */
static int closed(push_conn_t *c, const char *waiting_for)
{
    const char *why = c->status_error ? c->status_desc : "";
    return failf(c, -LLHLS_EIO, "the server closed the connection%s%s%s%s%s%s",
                 waiting_for[0] ? " while waiting for an answer to " : "", waiting_for, c->status_error ? ": " : "",
                 c->status_error ? c->status_code : "", why[0] ? ": " : "", why);
}

/* Waits for the socket to be ready for events; 0 on timeout. */
static int wait_fd(push_conn_t *c, short events, int timeout_ms, short *revents)
{
    struct pollfd pfd = {.fd = c->fd, .events = events};
    int r;
    do
        r = poll(&pfd, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return failf(c, -LLHLS_EIO, "poll: %s", strerror(errno));
    *revents = r ? pfd.revents : 0;
    return r;
}

/* Reads what is there (without blocking) and handles it. */
static int read_available(push_conn_t *c)
{
    for (;;) {
        ssize_t n = recv(c->fd, c->rbuf, RECV_SIZE, MSG_DONTWAIT);
        if (n == 0) {
            c->closed = 1;
            return 0;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return 0;
            c->closed = 1;
            return failf(c, -LLHLS_EIO, "the connection failed: %s", strerror(errno));
        }
        c->received += (uint64_t)n;
        int rc = llhls_rtmp_chunk_reader_feed(c->reader, c->rbuf, (size_t)n, on_message, c);
        if (rc < 0)
            return failf(c, -LLHLS_EPROTO, "malformed data from the server: %s",
                         llhls_rtmp_chunk_reader_error(c->reader));
        if (c->ack_window && c->received - c->acked >= c->ack_window) {
            uint8_t b[4];
            wr32(b, (uint32_t)c->received);
            c->acked = c->received;
            if ((rc = queue_message(c, PUSH_CSID_CONTROL, LLHLS_RTMP_ACK, 0, 0, b, 4)) < 0)
                return rc;
        }
        if (n < RECV_SIZE)
            return 0;
    }
}

/* Writes every vector, reading the server's messages while the socket is
 * full so that neither side waits on the other. */
static int write_iov(push_conn_t *c, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w = writev(c->fd, iov, n > IOV_MAX ? IOV_MAX : n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return failf(c, -LLHLS_EIO, "the server closed the connection (%s)", strerror(errno));
            short ev;
            int r = wait_fd(c, POLLOUT | POLLIN, c->p.timeout_ms, &ev);
            if (r < 0)
                return r;
            if (r == 0)
                return failf(c, -LLHLS_EIO, "the server has read nothing for %d ms", c->p.timeout_ms);
            if (ev & (POLLIN | POLLHUP | POLLERR)) {
                if ((r = read_available(c)) < 0)
                    return r;
                if (c->closed)
                    return closed(c, "");
            }
            continue;
        }
        atomic_fetch_add_explicit(c->p.bytes, (uint64_t)w, memory_order_relaxed);
        size_t left = (size_t)w;
        while (n > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return 0;
}

static int write_out(push_conn_t *c)
{
    while (c->out.len > 0) {
        /* Answers queued while this is written wait for the next round. */
        size_t n = c->out.len;
        uint8_t *copy = malloc(n);
        if (copy == NULL)
            return failf(c, -LLHLS_ENOMEM, "out of memory");
        memcpy(copy, c->out.data, n);
        llhls_buf_reset(&c->out);
        struct iovec v = {copy, n};
        int rc = write_iov(c, &v, 1);
        free(copy);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int push_conn_flush(push_conn_t *c)
{
    int rc = 0;
    if (c->niov > 0)
        rc = write_iov(c, c->iov, c->niov);
    c->niov = 0;
    c->nhdr = 0;
    c->batch_bytes = 0;
    if (rc == 0)
        rc = read_available(c);
    if (rc == 0)
        rc = write_out(c);
    return rc;
}

/* Reads until pred holds, the server closes, or the timeout. */
static int wait_until(push_conn_t *c, int (*pred)(const push_conn_t *), const char *what)
{
    int64_t deadline = llhls_mono_ms() + c->p.timeout_ms;
    int rc;
    while (!pred(c)) {
        if ((rc = write_out(c)) < 0)
            return rc;
        if (c->closed)
            return closed(c, what);
        int64_t left = deadline - llhls_mono_ms();
        short ev;
        if (left <= 0 || (rc = wait_fd(c, POLLIN, (int)left, &ev)) == 0)
            return failf(c, -LLHLS_EIO, "no answer from the server to %s within %d ms", what, c->p.timeout_ms);
        if (rc < 0 || (rc = read_available(c)) < 0)
            return rc;
    }
    return 0;
}

static int read_exact(push_conn_t *c, uint8_t *p, size_t len)
{
    int64_t deadline = llhls_mono_ms() + c->p.timeout_ms;
    size_t have = 0;
    while (have < len) {
        ssize_t n = recv(c->fd, p + have, len - have, MSG_DONTWAIT);
        if (n > 0) {
            have += (size_t)n;
            continue;
        }
        if (n == 0)
            return failf(c, -LLHLS_EIO, "the server closed the connection during the handshake");
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return failf(c, -LLHLS_EIO, "handshake failed: %s", strerror(errno));
        short ev;
        int64_t left = deadline - llhls_mono_ms();
        int r = left > 0 ? wait_fd(c, POLLIN, (int)left, &ev) : 0;
        if (r < 0)
            return r;
        if (r == 0)
            return failf(c, -LLHLS_EIO, "no handshake answer from the server within %d ms", c->p.timeout_ms);
    }
    return 0;
}

static int handshake(push_conn_t *c)
{
    uint8_t *b = malloc(1 + HANDSHAKE_SIZE * 2);
    if (b == NULL)
        return failf(c, -LLHLS_ENOMEM, "out of memory");
    b[0] = 3;
    uint8_t *c1 = b + 1;
    wr32(c1, (uint32_t)llhls_mono_ms());
    memset(c1 + 4, 0, 4);
    uint32_t x = (uint32_t)llhls_mono_ms() ^ (uint32_t)getpid() ^ 0x9e3779b9u;
    for (size_t i = 8; i < HANDSHAKE_SIZE; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        c1[i] = (uint8_t)x;
    }
    struct iovec v = {b, 1 + HANDSHAKE_SIZE};
    int rc = write_iov(c, &v, 1);
    /* S0, S1 and S2; C2 echoes S1. */
    if (rc == 0)
        rc = read_exact(c, b, 1 + HANDSHAKE_SIZE * 2);
    if (rc == 0 && b[0] != 3)
        rc = failf(c, -LLHLS_EPROTO, "the server answered with RTMP version %u, not 3 (is it an RTMP server?)", b[0]);
    if (rc == 0) {
        struct iovec v2 = {b + 1, HANDSHAKE_SIZE};
        rc = write_iov(c, &v2, 1);
    }
    free(b);
    return rc;
}

static int send_command(push_conn_t *c, uint32_t csid, uint32_t stream_id)
{
    int rc = queue_message(c, csid, LLHLS_RTMP_COMMAND_AMF0, stream_id, 0, c->amf.data, c->amf.len);
    llhls_buf_reset(&c->amf);
    return rc;
}

static int send_connect(push_conn_t *c)
{
    llhls_buf_t *b = &c->amf;
    int rc = 0;
    rc |= llhls_amf0_put_cstring(b, "connect");
    rc |= llhls_amf0_put_number(b, TXN_CONNECT);
    rc |= llhls_amf0_put_object_begin(b);
    rc |= llhls_amf0_put_key(b, "app");
    rc |= llhls_amf0_put_cstring(b, c->p.url->app);
    rc |= llhls_amf0_put_key(b, "type");
    rc |= llhls_amf0_put_cstring(b, "nonprivate");
    rc |= llhls_amf0_put_key(b, "flashVer");
    rc |= llhls_amf0_put_cstring(b, "FMLE/3.0 (compatible; llhls-push)");
    rc |= llhls_amf0_put_key(b, "tcUrl");
    rc |= llhls_amf0_put_cstring(b, c->p.url->tc_url);
    if (c->p.enhanced) {
        /* Enhanced RTMP: the codecs this client may send, as a strict array. */
        uint8_t arr[5] = {LLHLS_AMF0_STRICT_ARRAY, 0, 0, 0, 1};
        rc |= llhls_amf0_put_key(b, "fourCcList");
        rc |= llhls_buf_append(b, arr, sizeof arr);
        rc |= llhls_amf0_put_cstring(b, "hvc1");
    }
    rc |= llhls_amf0_put_object_end(b);
    if (rc != 0)
        return failf(c, -LLHLS_ENOMEM, "cannot build the connect command");
    return send_command(c, PUSH_CSID_COMMAND, 0);
}

static int send_call(push_conn_t *c, const char *name, double txn, const char *arg, uint32_t csid, uint32_t stream_id)
{
    llhls_buf_t *b = &c->amf;
    int rc = 0;
    rc |= llhls_amf0_put_cstring(b, name);
    rc |= llhls_amf0_put_number(b, txn);
    rc |= llhls_amf0_put_null(b);
    if (arg)
        rc |= llhls_amf0_put_cstring(b, arg);
    if (strcmp(name, "publish") == 0)
        rc |= llhls_amf0_put_cstring(b, "live");
    if (rc != 0)
        return failf(c, -LLHLS_ENOMEM, "cannot build the %s command", name);
    return send_command(c, csid, stream_id);
}

static int connect_done(const push_conn_t *c)
{
    return c->reply_txn == TXN_CONNECT;
}

static int create_done(const push_conn_t *c)
{
    return c->reply_txn == TXN_CREATE;
}

static int status_seen(const push_conn_t *c)
{
    return c->have_status;
}

static int publish(push_conn_t *c)
{
    uint8_t cs[4];
    wr32(cs, c->p.chunk_size);
    int rc = queue_message(c, PUSH_CSID_CONTROL, LLHLS_RTMP_SET_CHUNK_SIZE, 0, 0, cs, 4);
    if (rc == 0)
        rc = send_connect(c);
    if (rc == 0)
        rc = wait_until(c, connect_done, "connect");
    if (rc < 0)
        return rc;
    if (!c->reply_ok)
        return failf(c, -LLHLS_EPROTO, "connect refused: %s%s%s", c->status_code, c->status_desc[0] ? ": " : "",
                     c->status_desc);
    if ((rc = send_call(c, "releaseStream", TXN_RELEASE, c->p.name, PUSH_CSID_COMMAND, 0)) < 0 ||
        (rc = send_call(c, "FCPublish", TXN_FCPUBLISH, c->p.name, PUSH_CSID_COMMAND, 0)) < 0 ||
        (rc = send_call(c, "createStream", TXN_CREATE, NULL, PUSH_CSID_COMMAND, 0)) < 0 ||
        (rc = wait_until(c, create_done, "createStream")) < 0)
        return rc;
    if (!c->reply_ok)
        return failf(c, -LLHLS_EPROTO, "createStream refused: %s %s", c->status_code, c->status_desc);
    c->stream_id = c->reply_number > 0 && c->reply_number < 1e9 ? (uint32_t)c->reply_number : 1;
    /* onFCPublish and the like may carry a status before publish's own. */
    c->have_status = 0;
    if ((rc = send_call(c, "publish", TXN_PUBLISH, c->p.name, PUSH_CSID_STREAM, c->stream_id)) < 0)
        return rc;
    for (;;) {
        if ((rc = wait_until(c, status_seen, "publish")) < 0)
            return rc;
        if (strcmp(c->status_code, "NetStream.Publish.Start") == 0)
            return 0;
        if (strcmp(c->status_level, "error") == 0 || strstr(c->status_code, "Publish.") ||
            strstr(c->status_code, "Failed") || strstr(c->status_code, "Reject"))
            return failf(c, -LLHLS_EBUSY, "publish refused: %s%s%s", c->status_code, c->status_desc[0] ? ": " : "",
                         c->status_desc);
        c->have_status = 0;
    }
}

static int dial(push_conn_t *c)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    const push_url_t *u = c->p.url;
    int r = getaddrinfo(u->host, u->port, &hints, &res);
    if (r != 0)
        return failf(c, -LLHLS_EIO, "cannot resolve %s: %s", u->host, gai_strerror(r));
    int err = 0;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
            c->fd = fd;
            break;
        }
        err = errno;
        close(fd);
    }
    freeaddrinfo(res);
    if (c->fd < 0)
        return failf(c, -LLHLS_EIO, "cannot connect to %s:%s: %s", u->host, u->port, strerror(err));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    return 0;
}

int push_conn_open(const push_conn_params_t *p, push_conn_t **out, char *err, size_t errlen)
{
    *out = NULL;
    push_conn_t *c = calloc(1, sizeof *c);
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return -LLHLS_ENOMEM;
    }
    c->p = *p;
    c->fd = -1;
    c->reply_txn = -1;
    llhls_buf_init(&c->out, 0);
    llhls_buf_init(&c->amf, 0);
    llhls_rtmp_chunk_limits_t lim = {
        .max_chunk_size = 16u << 20, .max_message_size = 1u << 20, .max_chunk_streams = 16};
    int rc = llhls_rtmp_chunk_reader_new(&lim, &c->reader);
    c->rbuf = malloc(RECV_SIZE);
    if (rc < 0 || c->rbuf == NULL)
        rc = failf(c, -LLHLS_ENOMEM, "out of memory");
    if (rc == 0)
        rc = dial(c);
    if (rc == 0)
        rc = handshake(c);
    if (rc == 0)
        rc = publish(c);
    if (rc < 0) {
        snprintf(err, errlen, "%s", c->err);
        push_conn_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

int push_conn_send_data(push_conn_t *c, const uint8_t *amf, size_t len)
{
    int rc = queue_message(c, PUSH_CSID_DATA, LLHLS_RTMP_DATA_AMF0, c->stream_id, 0, amf, len);
    return rc < 0 ? rc : push_conn_flush(c);
}

/* Writes the first chunk header of a message into h; returns its size. */
static size_t first_header(push_conn_t *c, const push_frame_t *f, uint32_t ts, uint32_t csid, int *ext)
{
    csid_state_t *st = &c->av[f->type == LLHLS_RTMP_VIDEO];
    uint8_t *h = c->hdr[c->nhdr];
    size_t n;
    uint32_t delta = ts - st->ts;
    if (st->have && delta < 0xffffff) {
        /* fmt 1: the delta, length and type; the stream id is the one before. */
        h[0] = (uint8_t)(0x40 | csid);
        h[1] = (uint8_t)(delta >> 16);
        h[2] = (uint8_t)(delta >> 8);
        h[3] = (uint8_t)delta;
        n = 8;
        *ext = 0;
    } else {
        h[0] = (uint8_t)csid;
        uint32_t t = ts >= 0xffffff ? 0xffffff : ts;
        h[1] = (uint8_t)(t >> 16);
        h[2] = (uint8_t)(t >> 8);
        h[3] = (uint8_t)t;
        h[8] = (uint8_t)c->stream_id;
        h[9] = (uint8_t)(c->stream_id >> 8);
        h[10] = (uint8_t)(c->stream_id >> 16);
        h[11] = (uint8_t)(c->stream_id >> 24);
        n = 12;
        *ext = ts >= 0xffffff;
        if (*ext) {
            wr32(h + 12, ts);
            n = 16;
        }
    }
    h[4] = (uint8_t)(f->len >> 16);
    h[5] = (uint8_t)(f->len >> 8);
    h[6] = (uint8_t)f->len;
    h[7] = f->type;
    st->have = 1;
    st->ts = ts;
    return n;
}

int push_conn_queue(push_conn_t *c, const push_frame_t *f, uint32_t ts)
{
    uint32_t csid = f->type == LLHLS_RTMP_VIDEO ? PUSH_CSID_VIDEO : PUSH_CSID_AUDIO;
    int ext;
    size_t n = first_header(c, f, ts, csid, &ext);
    if (ext && f->len > c->p.chunk_size) {
        /* Every chunk of this message repeats the extended timestamp, which
         * the pre-cut chunks lack: cut it again, here.  It happens at most
         * once per chunk stream (deltas follow). */
        int rc = push_conn_flush(c);
        if (rc < 0)
            return rc;
        uint8_t *body = malloc(f->len);
        if (body == NULL)
            return failf(c, -LLHLS_ENOMEM, "out of memory");
        for (size_t i = 0, pos = 0; pos < f->len; i++) {
            size_t take = f->len - pos < c->p.chunk_size ? f->len - pos : c->p.chunk_size;
            memcpy(body + pos, f->wire + pos + i, take);
            pos += take;
        }
        llhls_rtmp_chunk_header_t h = {
            .fmt = 0, .csid = csid, .timestamp = ts, .type = f->type, .stream_id = c->stream_id};
        rc = llhls_rtmp_chunk_write(&c->out, c->p.chunk_size, &h, body, f->len);
        free(body);
        if (rc < 0)
            return failf(c, rc, "cannot build a message: %s", llhls_strerror(rc));
        return write_out(c);
    }
    c->iov[c->niov].iov_base = c->hdr[c->nhdr++];
    c->iov[c->niov++].iov_len = n;
    c->iov[c->niov].iov_base = f->wire;
    c->iov[c->niov++].iov_len = f->wire_len;
    c->batch_bytes += n + f->wire_len;
    if (c->nhdr == BATCH_FRAMES || c->batch_bytes >= BATCH_BYTES)
        return push_conn_flush(c);
    return 0;
}

int push_conn_serve(push_conn_t *c, int timeout_ms)
{
    short ev;
    int rc = wait_fd(c, POLLIN, timeout_ms, &ev);
    if (rc > 0 && (rc = read_available(c)) == 0)
        rc = write_out(c);
    if (rc == 0 && c->closed)
        rc = closed(c, "");
    return rc;
}

int push_conn_finish(push_conn_t *c, const uint8_t *eos, size_t eos_len)
{
    int rc = push_conn_flush(c);
    if (rc < 0)
        return rc;
    if (eos && (rc = queue_message(c, PUSH_CSID_VIDEO, LLHLS_RTMP_VIDEO, c->stream_id, c->av[1].ts, eos, eos_len)) < 0)
        return rc;
    if ((rc = send_call(c, "FCUnpublish", 6, c->p.name, PUSH_CSID_COMMAND, 0)) < 0 ||
        (rc = llhls_amf0_put_cstring(&c->amf, "deleteStream")) < 0 || (rc = llhls_amf0_put_number(&c->amf, 7)) < 0 ||
        (rc = llhls_amf0_put_null(&c->amf)) < 0 || (rc = llhls_amf0_put_number(&c->amf, c->stream_id)) < 0 ||
        (rc = send_command(c, PUSH_CSID_COMMAND, 0)) < 0 || (rc = write_out(c)) < 0)
        return rc;
    /* Closing our side and reading until the server closes its own means the
     * server has read every byte before we report them as sent. */
    shutdown(c->fd, SHUT_WR);
    int64_t deadline = llhls_mono_ms() + 5000;
    while (!c->closed) {
        int64_t left = deadline - llhls_mono_ms();
        short ev;
        if (left <= 0 || wait_fd(c, POLLIN, (int)left, &ev) <= 0)
            break;
        if (read_available(c) < 0)
            break;
    }
    return 0;
}

void push_conn_close(push_conn_t *c)
{
    if (c == NULL)
        return;
    if (c->fd >= 0)
        close(c->fd);
    llhls_rtmp_chunk_reader_free(c->reader);
    llhls_buf_free(&c->out);
    llhls_buf_free(&c->amf);
    free(c->rbuf);
    free(c);
}
