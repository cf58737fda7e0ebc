/* Rapid reset mitigation (see rapid_reset.h).  The socket's read callback is
 * wrapped: before h2o parses what arrived, the wrapper walks the frame
 * headers in the new bytes and counts RST_STREAM frames.  When a connection
 * goes over the budget, the stream id of the offending RST_STREAM is zeroed
 * in the input: h2o then sees a protocol error and closes the connection
 * itself, with a GOAWAY, through its ordinary path.  h2o leaves only a
 * partial frame in its input buffer between reads, so the input always
 * begins at a frame boundary when the watch starts. */
#include "rapid_reset.h"

#include "clock.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FRAME_HEADER 9
#define FRAME_RST_STREAM 3

typedef struct guard {
    h2o_socket_cb read;             /* h2o's own read callback */
    void (*on_close)(void *data);   /* and close callback, chained */
    void *on_close_data;
    size_t scanned;                 /* bytes of sock->input already walked */
    size_t skip;                    /* payload bytes of the current frame still to pass */
    uint32_t resets;
    int64_t window_start_ms;
    int tripped;
    int in_read;                    /* inside h2o's read callback */
    int gone;                       /* the socket closed during it */
    atomic_uint_fast64_t *closed;
} guard_t;

static void on_close(void *data)
{
    guard_t *g = data;
    if (g->on_close)
        g->on_close(g->on_close_data);
    /* Closed from inside the read callback: on_read frees it after. */
    if (g->in_read)
        g->gone = 1;
    else
        free(g);
}

static guard_t *guard_of(h2o_socket_t *sock)
{
    return sock->on_close.cb == on_close ? sock->on_close.data : NULL;
}

/* Walks the bytes of input from g->scanned on. */
static void scan(guard_t *g, h2o_socket_t *sock)
{
    uint8_t *p = (uint8_t *)sock->input->bytes;
    size_t size = sock->input->size, pos = g->scanned;
    while (pos < size) {
        if (g->skip > 0) {
            size_t n = size - pos < g->skip ? size - pos : g->skip;
            pos += n;
            g->skip -= n;
            continue;
        }
        if (size - pos < FRAME_HEADER)
            break; /* the rest of this header comes with the next read */
        uint8_t *h = p + pos;
        size_t length = (size_t)h[0] << 16 | (size_t)h[1] << 8 | h[2];
        if (h[3] == FRAME_RST_STREAM && !g->tripped) {
            int64_t now = llhls_mono_ms();
            if (now - g->window_start_ms > LLHLS_RAPID_RESET_WINDOW_MS) {
                g->window_start_ms = now;
                g->resets = 0;
            }
            if (++g->resets > LLHLS_RAPID_RESET_MAX) {
                /* Stream 0 makes this RST_STREAM a protocol error: h2o sends
                 * GOAWAY and closes. */
                h[5] = h[6] = h[7] = h[8] = 0;
                g->tripped = 1;
                atomic_fetch_add_explicit(g->closed, 1, memory_order_relaxed);
                LLHLS_WARN("edge", "HTTP/2 connection closed: over %d stream resets in %d ms (rapid reset)",
                           LLHLS_RAPID_RESET_MAX, LLHLS_RAPID_RESET_WINDOW_MS);
            }
        }
        pos += FRAME_HEADER;
        g->skip = length;
    }
    g->scanned = pos;
}

static void on_read(h2o_socket_t *sock, const char *err)
{
    guard_t *g = guard_of(sock);
    if (g == NULL || err != NULL) {
        if (g)
            g->read(sock, err);
        return;
    }
    scan(g, sock);
    size_t before = sock->input->size;
    g->in_read = 1;
    g->read(sock, NULL);
    g->in_read = 0;
    if (g->gone) {
        free(g);
        return;
    }
    /* h2o consumed whole frames from the front; what is left was walked. */
    size_t consumed = before - sock->input->size;
    g->scanned = g->scanned > consumed ? g->scanned - consumed : 0;
}

void llhls_rapid_reset_watch(h2o_req_t *req, atomic_uint_fast64_t *closed)
{
    if (req->version < 0x200)
        return;
    if (req->conn->callbacks->get_socket == NULL)
        return;
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    if (sock == NULL || guard_of(sock) != NULL || sock->_cb.read == NULL)
        return;
    guard_t *g = calloc(1, sizeof(*g));
    if (g == NULL)
        return;
    g->read = sock->_cb.read;
    g->on_close = sock->on_close.cb;
    g->on_close_data = sock->on_close.data;
    g->window_start_ms = llhls_mono_ms();
    g->closed = closed;
    sock->on_close.cb = on_close;
    sock->on_close.data = g;
    sock->_cb.read = on_read;
}
