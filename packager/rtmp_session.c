/* The RTMP protocol of one publishing connection: handshake, then the chunk
 * stream, the protocol control messages and the AMF0 command exchange that
 * encoders (ffmpeg, OBS, hardware) go through before sending FLV tags.
 * It never touches a socket, so every exchange can be replayed in tests.
 * See docs/rtmp.md for the states and the answer to each command. */
#include "rtmp_session.h"

#include "amf0.h"
#include "error.h"
#include "log.h"
#include "rtmp_handshake.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    SS_HANDSHAKE,
    SS_WAIT_CONNECT,
    SS_CONNECTED,
    SS_PUBLISHING,
} session_state_t;

/* Chunk stream ids for what the server sends: protocol control, commands
 * on the connection, and NetStream status. */
#define CSID_CONTROL 2
#define CSID_COMMAND 3
#define CSID_STREAM 5
#define STREAM_ID 1

/* Replies are small; this caps what one reply may take. */
#define MAX_REPLY 4096

#define NAME_MAX_LEN 128

struct llhls_rtmp_session {
    llhls_rtmp_session_cbs_t cbs;
    void *opaque;
    char peer[64];
    session_state_t state;
    int published;              /* a publish has come and gone */
    llhls_rtmp_handshake_t hs;
    llhls_rtmp_chunk_reader_t *reader;
    uint32_t out_chunk_size;
    uint32_t ack_window;        /* the peer's Window Acknowledgement Size */
    uint64_t received;
    uint64_t acked;
    uint8_t types_logged[32];   /* one bit per message type warned about */
    char app[NAME_MAX_LEN + 1];
    char name[NAME_MAX_LEN + 1];
    char query[256];
    char stream[2 * NAME_MAX_LEN + 2];
    llhls_buf_t out;
    llhls_buf_t amf;
    int err;
    char reason[256];
};

static int fail(llhls_rtmp_session_t *s, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(llhls_rtmp_session_t *s, int err, const char *fmt, ...)
{
    if (s->err)
        return s->err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->reason, sizeof s->reason, fmt, ap);
    va_end(ap);
    s->err = err;
    return err;
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

int llhls_rtmp_session_new(const llhls_rtmp_session_config_t *cfg, const llhls_rtmp_session_cbs_t *cbs, void *opaque,
                           llhls_rtmp_session_t **out)
{
    llhls_rtmp_session_t *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -LLHLS_ENOMEM;
    if (llhls_rtmp_chunk_reader_new(&cfg->limits, &s->reader) < 0) {
        free(s);
        return -LLHLS_ENOMEM;
    }
    s->cbs = *cbs;
    s->opaque = opaque;
    snprintf(s->peer, sizeof s->peer, "%s", cfg->peer ? cfg->peer : "?");
    s->state = SS_HANDSHAKE;
    s->out_chunk_size = LLHLS_RTMP_DEFAULT_CHUNK_SIZE;
    llhls_rtmp_handshake_init(&s->hs, cfg->epoch_ms, cfg->seed);
    /* S0+S1+S2 are the largest thing ever sent at once. */
    llhls_buf_init(&s->out, 2 * LLHLS_RTMP_HANDSHAKE_SIZE + 1 + MAX_REPLY);
    llhls_buf_init(&s->amf, MAX_REPLY);
    *out = s;
    return 0;
}

static void stop_publish(llhls_rtmp_session_t *s)
{
    if (s->state != SS_PUBLISHING)
        return;
    s->state = SS_CONNECTED;
    s->published = 1;
    if (s->cbs.publish_stop)
        s->cbs.publish_stop(s->opaque);
    s->stream[0] = '\0';
}

void llhls_rtmp_session_free(llhls_rtmp_session_t *s)
{
    if (s == NULL)
        return;
    stop_publish(s);
    llhls_rtmp_chunk_reader_free(s->reader);
    llhls_buf_free(&s->out);
    llhls_buf_free(&s->amf);
    free(s);
}

const char *llhls_rtmp_session_reason(const llhls_rtmp_session_t *s)
{
    return s->reason;
}

int llhls_rtmp_session_handshake_done(const llhls_rtmp_session_t *s)
{
    return s->state != SS_HANDSHAKE;
}

const char *llhls_rtmp_session_stream(const llhls_rtmp_session_t *s)
{
    return s->state == SS_PUBLISHING ? s->stream : NULL;
}

const char *llhls_rtmp_session_query(const llhls_rtmp_session_t *s)
{
    return s->query;
}

static int flush(llhls_rtmp_session_t *s)
{
    int rc = 0;
    if (s->out.len && s->cbs.send)
        rc = s->cbs.send(s->opaque, s->out.data, s->out.len);
    llhls_buf_reset(&s->out);
    if (rc < 0)
        return fail(s, rc, "the peer does not read what is sent to it");
    return 0;
}

static int send_message(llhls_rtmp_session_t *s, uint32_t csid, uint8_t type, uint32_t stream_id, const uint8_t *p,
                        size_t len)
{
    llhls_rtmp_chunk_header_t h = {.fmt = 0, .csid = csid, .timestamp = 0, .type = type, .stream_id = stream_id};
    int rc = llhls_rtmp_chunk_write(&s->out, s->out_chunk_size, &h, p, len);
    if (rc < 0)
        return fail(s, rc, "could not build a reply: %s", llhls_strerror(rc));
    return flush(s);
}

/* Sends the AMF0 built in s->amf as a command message. */
static int send_amf(llhls_rtmp_session_t *s, uint32_t csid, uint32_t stream_id, int rc)
{
    if (rc == 0)
        rc = send_message(s, csid, LLHLS_RTMP_COMMAND_AMF0, stream_id, s->amf.data, s->amf.len);
    else
        rc = fail(s, rc, "could not build a reply: %s", llhls_strerror(rc));
    llhls_buf_reset(&s->amf);
    return rc;
}

static int send_u32(llhls_rtmp_session_t *s, uint8_t type, uint32_t v)
{
    uint8_t b[4];
    wr32(b, v);
    return send_message(s, CSID_CONTROL, type, 0, b, 4);
}

static int send_user_control(llhls_rtmp_session_t *s, uint16_t event, uint32_t v)
{
    uint8_t b[6] = {(uint8_t)(event >> 8), (uint8_t)event};
    wr32(b + 2, v);
    return send_message(s, CSID_CONTROL, LLHLS_RTMP_USER_CONTROL, 0, b, 6);
}

static int send_status(llhls_rtmp_session_t *s, uint32_t csid, uint32_t stream_id, const char *name, double txn,
                       const char *level, const char *code, const char *description)
{
    return send_amf(s, csid, stream_id, llhls_amf0_put_status(&s->amf, name, txn, level, code, description));
}

/* Copies src up to its first '?' into dst; the rest (without '?') into
 * query when given.  Returns -LLHLS_ETOOBIG when a part does not fit. */
static int split_query(const char *src, char *dst, size_t dst_size, char *query, size_t query_size)
{
    const char *q = strchr(src, '?');
    size_t n = q ? (size_t)(q - src) : strlen(src);
    if (n >= dst_size)
        return -LLHLS_ETOOBIG;
    memcpy(dst, src, n);
    dst[n] = '\0';
    if (query) {
        query[0] = '\0';
        if (q && snprintf(query, query_size, "%s", q + 1) >= (int)query_size)
            return -LLHLS_ETOOBIG;
    }
    return 0;
}

static int on_connect(llhls_rtmp_session_t *s, const llhls_amf0_command_t *cmd)
{
    if (s->state != SS_WAIT_CONNECT)
        return fail(s, -LLHLS_EPROTO, "a second connect command on one connection");
    const char *app = cmd->nargs ? llhls_amf0_get_string(cmd->args[0], "app") : NULL;
    if (app == NULL)
        return fail(s, -LLHLS_EPROTO, "connect command without an app");
    if (split_query(app, s->app, sizeof s->app, NULL, 0) < 0)
        return fail(s, -LLHLS_ETOOBIG, "connect: app name longer than %d bytes", NAME_MAX_LEN);
    /* Trailing slashes come from URLs like rtmp://host/live/; they name the
     * same app. */
    for (size_t n = strlen(s->app); n > 0 && s->app[n - 1] == '/'; n--)
        s->app[n - 1] = '\0';

    int rc;
    if ((rc = send_u32(s, LLHLS_RTMP_WINDOW_ACK_SIZE, LLHLS_RTMP_WINDOW)) < 0)
        return rc;
    uint8_t bw[5];
    wr32(bw, LLHLS_RTMP_WINDOW);
    bw[4] = 2; /* dynamic */
    if ((rc = send_message(s, CSID_CONTROL, LLHLS_RTMP_SET_PEER_BANDWIDTH, 0, bw, 5)) < 0)
        return rc;
    if ((rc = send_u32(s, LLHLS_RTMP_SET_CHUNK_SIZE, LLHLS_RTMP_OUT_CHUNK_SIZE)) < 0)
        return rc;
    s->out_chunk_size = LLHLS_RTMP_OUT_CHUNK_SIZE;

    llhls_buf_t *b = &s->amf;
    if ((rc = llhls_amf0_put_cstring(b, "_result")) == 0 && (rc = llhls_amf0_put_number(b, cmd->txn)) == 0 &&
        (rc = llhls_amf0_put_object_begin(b)) == 0 && (rc = llhls_amf0_put_key(b, "fmsVer")) == 0 &&
        (rc = llhls_amf0_put_cstring(b, "FMS/3,0,1,123")) == 0 && (rc = llhls_amf0_put_key(b, "capabilities")) == 0 &&
        (rc = llhls_amf0_put_number(b, 31)) == 0 && (rc = llhls_amf0_put_object_end(b)) == 0 &&
        (rc = llhls_amf0_put_object_begin(b)) == 0 && (rc = llhls_amf0_put_key(b, "level")) == 0 &&
        (rc = llhls_amf0_put_cstring(b, "status")) == 0 && (rc = llhls_amf0_put_key(b, "code")) == 0 &&
        (rc = llhls_amf0_put_cstring(b, "NetConnection.Connect.Success")) == 0 &&
        (rc = llhls_amf0_put_key(b, "description")) == 0 &&
        (rc = llhls_amf0_put_cstring(b, "Connection succeeded.")) == 0 &&
        (rc = llhls_amf0_put_key(b, "objectEncoding")) == 0 && (rc = llhls_amf0_put_number(b, 0)) == 0)
        rc = llhls_amf0_put_object_end(b);
    if ((rc = send_amf(s, CSID_COMMAND, 0, rc)) < 0)
        return rc;
    s->state = SS_CONNECTED;
    LLHLS_DEBUG("rtmp", "%s: connected to app \"%s\"", s->peer, s->app);
    return 0;
}

static int refuse_publish(llhls_rtmp_session_t *s, uint32_t stream_id, int err, const char *why)
{
    int rc = send_status(s, CSID_STREAM, stream_id, "onStatus", 0, "error", "NetStream.Publish.BadName", why);
    if (rc < 0)
        return rc;
    return fail(s, err, "publish refused: %s", why);
}

static int on_publish(llhls_rtmp_session_t *s, const llhls_amf0_command_t *cmd, uint32_t stream_id)
{
    char why_buf[384];
    if (stream_id == 0)
        stream_id = STREAM_ID;
    if (s->state == SS_PUBLISHING)
        return refuse_publish(s, stream_id, -LLHLS_EBUSY, "This connection is already publishing a stream.");
    const llhls_amf0_value_t *v = cmd->nargs >= 2 ? cmd->args[1] : NULL;
    if (v == NULL || v->type != LLHLS_AMF0_STRING || v->str_len == 0)
        return refuse_publish(s, stream_id, -LLHLS_EINVAL, "The publish command has no stream name.");
    if (split_query(v->str, s->name, sizeof s->name, s->query, sizeof s->query) < 0) {
        snprintf(why_buf, sizeof why_buf, "The stream name (or its query) is too long: at most %d bytes.",
                 NAME_MAX_LEN);
        return refuse_publish(s, stream_id, -LLHLS_EINVAL, why_buf);
    }
    const char *why = NULL;
    int rc = s->cbs.publish_start ? s->cbs.publish_start(s->opaque, s->app, s->name, &why) : -LLHLS_EUNSUPPORTED;
    if (rc < 0) {
        if (why == NULL) {
            snprintf(why_buf, sizeof why_buf, rc == -LLHLS_EBUSY ? "Stream %s/%s is already being published."
                                                                 : "Stream %s/%s cannot be published: %s.",
                     s->app, s->name, llhls_strerror(rc));
            why = why_buf;
        }
        return refuse_publish(s, stream_id, rc, why);
    }
    s->state = SS_PUBLISHING;
    snprintf(s->stream, sizeof s->stream, "%s/%s", s->app, s->name);
    LLHLS_DEBUG("rtmp", "%s: publishing %s", s->peer, s->stream);
    if ((rc = send_user_control(s, 0, stream_id)) < 0)
        return rc;
    snprintf(why_buf, sizeof why_buf, "Publishing %s.", s->stream);
    return send_status(s, CSID_STREAM, stream_id, "onStatus", 0, "status", "NetStream.Publish.Start", why_buf);
}

static int on_command(llhls_rtmp_session_t *s, const llhls_rtmp_message_t *m, const uint8_t *p, size_t len)
{
    if (len > LLHLS_RTMP_MAX_COMMAND_SIZE)
        return fail(s, -LLHLS_ETOOBIG, "command message of %zu bytes (limit %d)", len, LLHLS_RTMP_MAX_COMMAND_SIZE);
    llhls_amf0_command_t cmd;
    int rc = llhls_amf0_command_decode(p, len, 0, &cmd);
    if (rc == -LLHLS_ETOOBIG)
        return fail(s, rc, "AMF0 command over a bound: nesting deeper than %d, more than %d elements in a container "
                    "or %d values in all", LLHLS_AMF0_MAX_DEPTH, LLHLS_AMF0_MAX_ELEMENTS, LLHLS_AMF0_MAX_NODES);
    if (rc == -LLHLS_EUNSUPPORTED)
        return fail(s, rc, "AMF0 command with an unsupported type (reference, typed object or AMF3 value)");
    if (rc < 0)
        return fail(s, -LLHLS_EPROTO, "malformed or truncated AMF0 command");
    const char *name = cmd.name;
    if (strcmp(name, "connect") == 0) {
        rc = on_connect(s, &cmd);
    } else if (s->state == SS_WAIT_CONNECT) {
        rc = fail(s, -LLHLS_EPROTO, "command \"%.40s\" before connect", name);
    } else if (strcmp(name, "releaseStream") == 0) {
        if (cmd.txn != 0) {
            llhls_buf_t *b = &s->amf;
            if ((rc = llhls_amf0_put_cstring(b, "_result")) == 0 && (rc = llhls_amf0_put_number(b, cmd.txn)) == 0 &&
                (rc = llhls_amf0_put_null(b)) == 0)
                rc = llhls_amf0_put_undefined(b);
            rc = send_amf(s, CSID_COMMAND, 0, rc);
        }
    } else if (strcmp(name, "FCPublish") == 0) {
        const llhls_amf0_value_t *v = cmd.nargs >= 2 ? cmd.args[1] : NULL;
        const char *stream = v && v->type == LLHLS_AMF0_STRING ? v->str : "";
        rc = send_status(s, CSID_COMMAND, 0, "onFCPublish", 0, "status", "NetStream.Publish.Start", stream);
    } else if (strcmp(name, "createStream") == 0) {
        llhls_buf_t *b = &s->amf;
        if ((rc = llhls_amf0_put_cstring(b, "_result")) == 0 && (rc = llhls_amf0_put_number(b, cmd.txn)) == 0 &&
            (rc = llhls_amf0_put_null(b)) == 0)
            rc = llhls_amf0_put_number(b, STREAM_ID);
        rc = send_amf(s, CSID_COMMAND, 0, rc);
    } else if (strcmp(name, "publish") == 0) {
        rc = on_publish(s, &cmd, m->stream_id);
    } else if (strcmp(name, "FCUnpublish") == 0) {
        const llhls_amf0_value_t *v = cmd.nargs >= 2 ? cmd.args[1] : NULL;
        const char *stream = v && v->type == LLHLS_AMF0_STRING ? v->str : "";
        stop_publish(s);
        rc = send_status(s, CSID_COMMAND, 0, "onFCUnpublish", 0, "status", "NetStream.Unpublish.Success", stream);
    } else if (strcmp(name, "deleteStream") == 0 || strcmp(name, "closeStream") == 0) {
        stop_publish(s);
    } else if (strcmp(name, "play") == 0 || strcmp(name, "play2") == 0) {
        rc = send_status(s, CSID_STREAM, m->stream_id ? m->stream_id : STREAM_ID, "onStatus", 0, "error",
                         "NetStream.Play.Failed",
                         "This server does not play RTMP streams; play them over HLS at /APP/NAME/index.m3u8.");
        if (rc == 0)
            rc = fail(s, -LLHLS_EUNSUPPORTED, "the peer asked to play; this server only takes publishers");
    } else if (strcmp(name, "_result") == 0 || strcmp(name, "_error") == 0 || strcmp(name, "onStatus") == 0) {
        /* Answers to calls this server never makes. */
    } else if (cmd.txn != 0) {
        /* getStreamLength, _checkbw and anything else: a clear refusal
         * that clients treat as non-fatal. */
        char why[120];
        snprintf(why, sizeof why, "Command \"%.40s\" is not supported by this server (it takes publishers only).",
                 name);
        rc = send_status(s, CSID_COMMAND, m->stream_id, "_error", cmd.txn, "error", "NetConnection.Call.Failed", why);
    }
    llhls_amf0_command_free(&cmd);
    return rc;
}

static void on_data(llhls_rtmp_session_t *s, const uint8_t *p, size_t len)
{
    if (s->state != SS_PUBLISHING || len > LLHLS_RTMP_MAX_COMMAND_SIZE)
        return;
    llhls_amf0_command_t cmd;
    if (llhls_amf0_command_decode(p, len, 1, &cmd) < 0) {
        LLHLS_WARN("rtmp", "%s: ignoring a malformed AMF0 data message", s->peer);
        return;
    }
    const llhls_amf0_value_t *meta = NULL;
    if (strcmp(cmd.name, "@setDataFrame") == 0 && cmd.nargs >= 2 && cmd.args[0]->type == LLHLS_AMF0_STRING &&
        strcmp(cmd.args[0]->str, "onMetaData") == 0)
        meta = cmd.args[1];
    else if (strcmp(cmd.name, "onMetaData") == 0 && cmd.nargs >= 1)
        meta = cmd.args[0];
    if (meta) {
        double fps = 0;
        if (llhls_amf0_get_number(meta, "framerate", &fps) < 0)
            llhls_amf0_get_number(meta, "videoframerate", &fps);
        if (!(fps > 0 && fps < 1000))
            fps = 0;
        if (s->cbs.metadata)
            s->cbs.metadata(s->opaque, fps);
    }
    llhls_amf0_command_free(&cmd);
}

static int media(llhls_rtmp_session_t *s, uint8_t type, uint32_t ts, const uint8_t *p, size_t len)
{
    int (*cb)(void *, uint32_t, const uint8_t *, size_t) = type == LLHLS_RTMP_VIDEO ? s->cbs.video : s->cbs.audio;
    int rc = cb ? cb(s->opaque, ts, p, len) : 0;
    if (rc != 0)
        return fail(s, rc < 0 ? rc : -LLHLS_EINVAL, "the packager refused a%s frame of %s",
                    type == LLHLS_RTMP_VIDEO ? " video" : "n audio", s->stream);
    return 0;
}

/* An aggregate message is a run of FLV tags (11-byte header, body, 4-byte
 * previous tag size) whose timestamps are relative to the first. */
static int on_aggregate(llhls_rtmp_session_t *s, uint32_t base, const uint8_t *p, size_t len)
{
    size_t pos = 0;
    int have_first = 0;
    uint32_t first = 0;
    while (pos < len) {
        if (len - pos < 11)
            return fail(s, -LLHLS_EPROTO, "truncated tag in an aggregate message");
        const uint8_t *t = p + pos;
        size_t size = (size_t)t[1] << 16 | (size_t)t[2] << 8 | t[3];
        uint32_t ts = (uint32_t)t[7] << 24 | (uint32_t)t[4] << 16 | (uint32_t)t[5] << 8 | t[6];
        if (len - pos - 11 < size)
            return fail(s, -LLHLS_EPROTO, "truncated tag in an aggregate message");
        if (!have_first) {
            first = ts;
            have_first = 1;
        }
        if ((t[0] == LLHLS_RTMP_VIDEO || t[0] == LLHLS_RTMP_AUDIO)) {
            int rc = media(s, t[0], base + (ts - first), t + 11, size);
            if (rc < 0)
                return rc;
        }
        pos += 11 + size;
        pos += len - pos < 4 ? len - pos : 4;
    }
    return 0;
}

static void log_unknown_once(llhls_rtmp_session_t *s, uint8_t type)
{
    if (s->types_logged[type / 8] & (1u << (type % 8)))
        return;
    s->types_logged[type / 8] |= (uint8_t)(1u << (type % 8));
    LLHLS_WARN("rtmp", "%s: ignoring RTMP message type %u", s->peer, type);
}

static int on_message(void *opaque, const llhls_rtmp_message_t *m)
{
    llhls_rtmp_session_t *s = opaque;
    const uint8_t *p = m->payload;
    switch (m->type) {
    case LLHLS_RTMP_SET_CHUNK_SIZE:
    case LLHLS_RTMP_ABORT:
    case LLHLS_RTMP_ACK:
    case LLHLS_RTMP_SET_PEER_BANDWIDTH:
        return 0;
    case LLHLS_RTMP_WINDOW_ACK_SIZE:
        if (m->len >= 4)
            s->ack_window = rd32(p);
        return 0;
    case LLHLS_RTMP_USER_CONTROL:
        /* Ping request: answer with the same timestamp. */
        if (m->len >= 6 && p[0] == 0 && p[1] == 6)
            return send_user_control(s, 7, rd32(p + 2));
        return 0;
    case LLHLS_RTMP_AUDIO:
    case LLHLS_RTMP_VIDEO:
    case LLHLS_RTMP_AGGREGATE:
        if (s->state != SS_PUBLISHING) {
            if (s->published)
                return 0; /* in flight when the publish ended */
            return fail(s, -LLHLS_EPROTO, "media (message type %u) before publish", m->type);
        }
        if (m->type == LLHLS_RTMP_AGGREGATE)
            return on_aggregate(s, m->timestamp, p, m->len);
        return media(s, m->type, m->timestamp, p, m->len);
    case LLHLS_RTMP_DATA_AMF3:
    case LLHLS_RTMP_DATA_AMF0:
        if (m->type == LLHLS_RTMP_DATA_AMF3 && m->len > 0 && p[0] == 0)
            on_data(s, p + 1, m->len - 1);
        else if (m->type == LLHLS_RTMP_DATA_AMF0)
            on_data(s, p, m->len);
        return 0;
    case LLHLS_RTMP_COMMAND_AMF3:
        /* AMF3 commands begin with a format byte; 0 means the rest is AMF0. */
        if (m->len == 0 || p[0] != 0)
            return fail(s, -LLHLS_EUNSUPPORTED, "AMF3-encoded command (only AMF0 is spoken here)");
        return on_command(s, m, p + 1, m->len - 1);
    case LLHLS_RTMP_COMMAND_AMF0:
        return on_command(s, m, p, m->len);
    default:
        log_unknown_once(s, m->type);
        return 0;
    }
}

int llhls_rtmp_session_feed(llhls_rtmp_session_t *s, const uint8_t *p, size_t len)
{
    int rc;
    if (s->err)
        return s->err;
    if (s->state == SS_HANDSHAKE) {
        size_t used = 0;
        const char *why = NULL;
        rc = llhls_rtmp_handshake_feed(&s->hs, p, len, &used, &s->out, &why);
        if (rc < 0)
            return fail(s, rc, "%s", why ? why : llhls_strerror(rc));
        if ((rc = flush(s)) < 0)
            return rc;
        if (s->hs.state != LLHLS_RTMP_HS_DONE)
            return 0;
        s->state = SS_WAIT_CONNECT;
        p += used;
        len -= used;
    }
    s->received += len;
    rc = llhls_rtmp_chunk_reader_feed(s->reader, p, len, on_message, s);
    if (rc < 0)
        return fail(s, rc, "%s", llhls_rtmp_chunk_reader_error(s->reader));
    if (s->ack_window && s->received - s->acked >= s->ack_window) {
        s->acked = s->received;
        if ((rc = send_u32(s, LLHLS_RTMP_ACK, (uint32_t)s->received)) < 0)
            return rc;
    }
    return 0;
}
