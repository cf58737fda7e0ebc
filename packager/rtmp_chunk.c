/* The RTMP chunk stream reader and writer.  The reader is a byte-at-a-time
 * capable state machine: header bytes are gathered in a small array until a
 * whole header is known, payload bytes go straight into the message being
 * assembled on that chunk stream, so a slice may end anywhere.  Memory
 * grows only with bytes actually received, never with a declared length. */
#include "rtmp_chunk.h"

#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Messages being assembled on all chunk streams together may hold this many
 * times max_message_size: one large video frame and the audio beside it. */
#define PENDING_FACTOR 2
/* A finished message buffer larger than this is released rather than kept
 * for the next message on its chunk stream. */
#define KEEP_BUFFER_BYTES (1u << 20)

typedef struct cstream {
    uint32_t csid;
    int have_header;  /* a header of any type was seen on it */
    uint32_t timestamp;
    uint32_t delta;
    uint32_t length;
    uint8_t type;
    uint32_t stream_id;
    int ext;          /* the last header of type 0-2 used an extended timestamp */
    int in_progress;  /* a message is partly received */
    llhls_buf_t body;
} cstream_t;

typedef enum { ST_BASIC, ST_MSG_HEADER, ST_EXT_TIMESTAMP, ST_PAYLOAD } state_t;

struct llhls_rtmp_chunk_reader {
    llhls_rtmp_chunk_limits_t limits;
    uint32_t chunk_size;
    state_t state;
    uint8_t hdr[18];  /* 3 basic + 11 message header + 4 extended timestamp */
    size_t hdr_len;
    size_t hdr_need;
    uint8_t fmt;
    size_t basic_len;
    cstream_t *cur;
    size_t chunk_left;  /* payload bytes left in the current chunk */
    cstream_t *streams;
    size_t nstreams;
    size_t pending;     /* bytes held in partly received messages */
    int err;
    char why[160];
};

static uint32_t rd24(const uint8_t *p)
{
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t rd32le(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static int fail(llhls_rtmp_chunk_reader_t *r, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(llhls_rtmp_chunk_reader_t *r, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
    r->err = err;
    return err;
}

int llhls_rtmp_chunk_reader_new(const llhls_rtmp_chunk_limits_t *limits, llhls_rtmp_chunk_reader_t **out)
{
    llhls_rtmp_chunk_reader_t *r = calloc(1, sizeof *r);
    if (r == NULL)
        return -LLHLS_ENOMEM;
    r->limits = *limits;
    if (r->limits.max_chunk_size > 0x7fffffff)
        r->limits.max_chunk_size = 0x7fffffff;
    if (r->limits.max_chunk_streams == 0)
        r->limits.max_chunk_streams = 1;
    r->streams = calloc(r->limits.max_chunk_streams, sizeof *r->streams);
    if (r->streams == NULL) {
        free(r);
        return -LLHLS_ENOMEM;
    }
    r->chunk_size = LLHLS_RTMP_DEFAULT_CHUNK_SIZE;
    r->state = ST_BASIC;
    *out = r;
    return 0;
}

void llhls_rtmp_chunk_reader_free(llhls_rtmp_chunk_reader_t *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->nstreams; i++)
        llhls_buf_free(&r->streams[i].body);
    free(r->streams);
    free(r);
}

const char *llhls_rtmp_chunk_reader_error(const llhls_rtmp_chunk_reader_t *r)
{
    return r->err ? r->why : "";
}

uint32_t llhls_rtmp_chunk_reader_chunk_size(const llhls_rtmp_chunk_reader_t *r)
{
    return r->chunk_size;
}

static cstream_t *find_stream(llhls_rtmp_chunk_reader_t *r, uint32_t csid)
{
    for (size_t i = 0; i < r->nstreams; i++)
        if (r->streams[i].csid == csid)
            return &r->streams[i];
    return NULL;
}

static void drop_body(llhls_rtmp_chunk_reader_t *r, cstream_t *cs)
{
    r->pending -= cs->body.len;
    if (cs->body.cap > KEEP_BUFFER_BYTES)
        llhls_buf_free(&cs->body);
    llhls_buf_reset(&cs->body);
    cs->in_progress = 0;
}

/* Chunk-layer control messages change how the next chunk is read, so they
 * are applied here, before any later byte is parsed. */
static int apply_control(llhls_rtmp_chunk_reader_t *r, const cstream_t *cs)
{
    const uint8_t *p = cs->body.data;
    if (cs->type == LLHLS_RTMP_SET_CHUNK_SIZE) {
        if (cs->length < 4)
            return fail(r, -LLHLS_EPROTO, "Set Chunk Size message of %u bytes (expected 4)", cs->length);
        uint32_t size = rd32(p);
        if (size & 0x80000000u || size == 0)
            return fail(r, -LLHLS_EPROTO, "Set Chunk Size to %u (valid: 1 to 2147483647)", size);
        if (size > r->limits.max_chunk_size)
            return fail(r, -LLHLS_ETOOBIG, "Set Chunk Size to %u is over this server's limit of %u", size,
                        r->limits.max_chunk_size);
        r->chunk_size = size;
    } else if (cs->type == LLHLS_RTMP_ABORT) {
        if (cs->length < 4)
            return fail(r, -LLHLS_EPROTO, "Abort message of %u bytes (expected 4)", cs->length);
        cstream_t *victim = find_stream(r, rd32(p));
        if (victim && victim != cs && victim->in_progress)
            drop_body(r, victim);
    }
    return 0;
}

static int deliver(llhls_rtmp_chunk_reader_t *r, cstream_t *cs, llhls_rtmp_message_cb cb, void *opaque)
{
    int rc = 0;
    if (cs->type == LLHLS_RTMP_SET_CHUNK_SIZE || cs->type == LLHLS_RTMP_ABORT)
        rc = apply_control(r, cs);
    if (rc < 0)
        return rc;
    llhls_rtmp_message_t m = {
        .type = cs->type,
        .csid = cs->csid,
        .stream_id = cs->stream_id,
        .timestamp = cs->timestamp,
        .payload = cs->body.data ? cs->body.data : (const uint8_t *)"",
        .len = cs->body.len,
    };
    rc = cb ? cb(opaque, &m) : 0;
    drop_body(r, cs);
    if (rc != 0)
        r->err = rc < 0 ? rc : -LLHLS_EPROTO;
    return rc;
}

/* The basic header is known: find or create the chunk stream. */
static int on_basic_header(llhls_rtmp_chunk_reader_t *r)
{
    uint32_t csid = r->hdr[0] & 0x3f;
    if (csid == 0)
        csid = 64 + r->hdr[1];
    else if (csid == 1)
        csid = 64 + r->hdr[1] + 256u * r->hdr[2];
    cstream_t *cs = find_stream(r, csid);
    if (cs == NULL) {
        if (r->nstreams >= r->limits.max_chunk_streams)
            return fail(r, -LLHLS_ETOOBIG, "more than %u chunk streams in use (chunk stream id %u)",
                        r->limits.max_chunk_streams, csid);
        cs = &r->streams[r->nstreams++];
        memset(cs, 0, sizeof *cs);
        cs->csid = csid;
        llhls_buf_init(&cs->body, r->limits.max_message_size);
    }
    r->cur = cs;
    if (r->fmt != 0 && !cs->have_header)
        return fail(r, -LLHLS_EPROTO, "chunk stream %u starts with a type %u header, not type 0", csid, r->fmt);
    static const uint8_t msg_header_len[4] = {11, 7, 3, 0};
    r->hdr_need = r->basic_len + msg_header_len[r->fmt];
    return 0;
}

/* The message header is known: decide whether an extended timestamp follows. */
static void on_message_header(llhls_rtmp_chunk_reader_t *r)
{
    if (r->fmt < 3)
        r->cur->ext = rd24(r->hdr + r->basic_len) == 0xffffff;
    if (r->cur->ext)
        r->hdr_need += 4;
}

/* The whole chunk header is known: update the chunk stream and start (or
 * continue) its message. */
static int on_chunk_header(llhls_rtmp_chunk_reader_t *r)
{
    cstream_t *cs = r->cur;
    const uint8_t *h = r->hdr + r->basic_len;
    uint32_t ts = r->fmt < 3 ? rd24(h) : cs->delta;
    if (cs->ext)
        ts = rd32(r->hdr + r->hdr_need - 4);

    if (r->fmt == 3 && cs->in_progress) {
        /* A continuation; its extended timestamp, if any, repeats the
         * header's and carries nothing new. */
    } else {
        if (cs->in_progress)
            return fail(r, -LLHLS_EPROTO, "chunk stream %u: a new message began before the previous one ended",
                        cs->csid);
        switch (r->fmt) {
        case 0:
            cs->timestamp = ts;
            /* A later type 3 header for a new message reuses this value as
             * its delta, which is how ffmpeg both writes and reads it. */
            cs->delta = ts;
            cs->length = rd24(h + 3);
            cs->type = h[6];
            cs->stream_id = rd32le(h + 7);
            break;
        case 1:
            cs->delta = ts;
            cs->timestamp += ts;
            cs->length = rd24(h + 3);
            cs->type = h[6];
            break;
        case 2:
            cs->delta = ts;
            cs->timestamp += ts;
            break;
        case 3:
            cs->timestamp += cs->delta;
            break;
        }
        cs->have_header = 1;
        if (cs->length > r->limits.max_message_size)
            return fail(r, -LLHLS_ETOOBIG, "chunk stream %u: message of %u bytes is over the limit of %u",
                        cs->csid, cs->length, r->limits.max_message_size);
        cs->in_progress = 1;
        llhls_buf_reset(&cs->body);
    }
    uint32_t left = cs->length - (uint32_t)cs->body.len;
    r->chunk_left = left < r->chunk_size ? left : r->chunk_size;
    return 0;
}

int llhls_rtmp_chunk_reader_feed(llhls_rtmp_chunk_reader_t *r, const uint8_t *p, size_t len, llhls_rtmp_message_cb cb,
                                 void *opaque)
{
    size_t pos = 0;
    int rc;
    if (r->err)
        return r->err;
    while (pos < len || (r->state == ST_PAYLOAD && r->chunk_left == 0)) {
        if (r->state != ST_PAYLOAD) {
            if (r->state == ST_BASIC && r->hdr_len == 0) {
                r->fmt = p[pos] >> 6;
                r->basic_len = (p[pos] & 0x3f) == 0 ? 2 : (p[pos] & 0x3f) == 1 ? 3 : 1;
                r->hdr_need = r->basic_len;
            }
            size_t take = r->hdr_need - r->hdr_len;
            if (take > len - pos)
                take = len - pos;
            memcpy(r->hdr + r->hdr_len, p + pos, take);
            r->hdr_len += take;
            pos += take;
            if (r->hdr_len < r->hdr_need)
                break;
            /* Each stage may extend hdr_need; a stage that needs no more
             * bytes falls straight through to the next. */
            if (r->state == ST_BASIC) {
                if ((rc = on_basic_header(r)) < 0)
                    return rc;
                r->state = ST_MSG_HEADER;
                if (r->hdr_len < r->hdr_need)
                    continue;
            }
            if (r->state == ST_MSG_HEADER) {
                on_message_header(r);
                r->state = ST_EXT_TIMESTAMP;
                if (r->hdr_len < r->hdr_need)
                    continue;
            }
            if ((rc = on_chunk_header(r)) < 0)
                return rc;
            r->hdr_len = 0;
            r->state = ST_PAYLOAD;
            continue;
        }
        cstream_t *cs = r->cur;
        size_t take = r->chunk_left < len - pos ? r->chunk_left : len - pos;
        if (take) {
            if (r->pending + take > (size_t)r->limits.max_message_size * PENDING_FACTOR)
                return fail(r, -LLHLS_ETOOBIG, "more than %zu bytes held in partly received messages",
                            (size_t)r->limits.max_message_size * PENDING_FACTOR);
            if ((rc = llhls_buf_append(&cs->body, p + pos, take)) < 0)
                return fail(r, rc, "out of memory assembling a message of %u bytes", cs->length);
            r->pending += take;
            pos += take;
            r->chunk_left -= take;
        }
        if (r->chunk_left == 0) {
            r->state = ST_BASIC;
            if (cs->body.len == cs->length && (rc = deliver(r, cs, cb, opaque)) != 0)
                return rc;
        }
    }
    return 0;
}

static int put_basic_header(llhls_buf_t *out, uint8_t fmt, uint32_t csid)
{
    uint8_t b[3];
    size_t n;
    if (csid < 64) {
        b[0] = (uint8_t)(fmt << 6 | csid);
        n = 1;
    } else if (csid < 64 + 256) {
        b[0] = (uint8_t)(fmt << 6);
        b[1] = (uint8_t)(csid - 64);
        n = 2;
    } else {
        b[0] = (uint8_t)(fmt << 6 | 1);
        b[1] = (uint8_t)((csid - 64) & 0xff);
        b[2] = (uint8_t)((csid - 64) >> 8);
        n = 3;
    }
    return llhls_buf_append(out, b, n);
}

static void wr24(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 16);
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    wr24(p + 1, v);
}

int llhls_rtmp_chunk_write(llhls_buf_t *out, uint32_t chunk_size, const llhls_rtmp_chunk_header_t *h,
                           const uint8_t *payload, size_t len)
{
    if (h->csid < 2 || h->csid > LLHLS_RTMP_MAX_CSID || h->fmt > 3 || chunk_size == 0 || len > 0xffffff)
        return -LLHLS_EINVAL;
    int ext = h->timestamp >= 0xffffff;
    uint8_t mh[15];
    size_t n = 0;
    if (h->fmt < 3) {
        wr24(mh, ext ? 0xffffff : h->timestamp);
        n = 3;
        if (h->fmt < 2) {
            wr24(mh + 3, (uint32_t)len);
            mh[6] = h->type;
            n = 7;
            if (h->fmt == 0) {
                mh[7] = (uint8_t)h->stream_id;
                mh[8] = (uint8_t)(h->stream_id >> 8);
                mh[9] = (uint8_t)(h->stream_id >> 16);
                mh[10] = (uint8_t)(h->stream_id >> 24);
                n = 11;
            }
        }
    }
    if (ext) {
        wr32(mh + n, h->timestamp);
        n += 4;
    }
    int rc;
    if ((rc = put_basic_header(out, h->fmt, h->csid)) < 0 || (rc = llhls_buf_append(out, mh, n)) < 0)
        return rc;
    size_t pos = 0;
    for (;;) {
        size_t take = len - pos < chunk_size ? len - pos : chunk_size;
        if ((rc = llhls_buf_append(out, payload + pos, take)) < 0)
            return rc;
        pos += take;
        if (pos == len)
            return 0;
        if ((rc = put_basic_header(out, 3, h->csid)) < 0)
            return rc;
        if (ext && (rc = llhls_buf_append(out, mh + n - 4, 4)) < 0)
            return rc;
    }
}
