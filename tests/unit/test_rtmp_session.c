/* The RTMP session without sockets: a publish exchange built the way ffmpeg
 * sends it, the replies read back out of the bytes the server sends, and the
 * calls the packager would get; then the refusals and protocol errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "amf0.h"
#include "buf.h"
#include "error.h"
#include "rtmp_chunk.h"
#include "rtmp_handshake.h"
#include "rtmp_session.h"

/* What the session did, as text lines, plus the bytes it sent. */
typedef struct recorder {
    llhls_buf_t sent;
    llhls_buf_t calls;
    int start_rc;
    const char *start_why;
    int media_rc;
    int send_rc;
} recorder_t;

static int rec_send(void *opaque, const uint8_t *p, size_t len)
{
    recorder_t *r = opaque;
    if (r->send_rc)
        return r->send_rc;
    return llhls_buf_append(&r->sent, p, len);
}

static int rec_start(void *opaque, const char *app, const char *name, const char **why)
{
    recorder_t *r = opaque;
    llhls_buf_printf(&r->calls, "start %s %s\n", app, name);
    *why = r->start_why;
    return r->start_rc;
}

static void rec_stop(void *opaque)
{
    llhls_buf_printf(&((recorder_t *)opaque)->calls, "stop\n");
}

static void rec_meta(void *opaque, double fps)
{
    llhls_buf_printf(&((recorder_t *)opaque)->calls, "meta %.2f\n", fps);
}

static int rec_video(void *opaque, uint32_t ts, const uint8_t *body, size_t len)
{
    recorder_t *r = opaque;
    llhls_buf_printf(&r->calls, "video %u %zu %02x\n", ts, len, body[0]);
    return r->media_rc;
}

static int rec_audio(void *opaque, uint32_t ts, const uint8_t *body, size_t len)
{
    recorder_t *r = opaque;
    llhls_buf_printf(&r->calls, "audio %u %zu %02x\n", ts, len, body[0]);
    return r->media_rc;
}

static const llhls_rtmp_session_cbs_t cbs = {
    .send = rec_send,
    .publish_start = rec_start,
    .publish_stop = rec_stop,
    .metadata = rec_meta,
    .video = rec_video,
    .audio = rec_audio,
};

static llhls_rtmp_session_t *session(recorder_t *r)
{
    memset(r, 0, sizeof *r);
    llhls_buf_init(&r->sent, 0);
    llhls_buf_init(&r->calls, 0);
    llhls_rtmp_session_config_t cfg = {
        .limits = {.max_chunk_size = 1u << 24, .max_message_size = 1u << 25, .max_chunk_streams = 64},
        .peer = "192.0.2.1:5000",
        .epoch_ms = 1234,
        .seed = 42,
    };
    llhls_rtmp_session_t *s;
    assert_int_equal(llhls_rtmp_session_new(&cfg, &cbs, r, &s), 0);
    return s;
}

static void recorder_free(recorder_t *r)
{
    llhls_buf_free(&r->sent);
    llhls_buf_free(&r->calls);
}

static const char *calls(recorder_t *r)
{
    llhls_buf_append(&r->calls, "", 1);
    r->calls.len--;
    return (const char *)r->calls.data;
}

/* The client side, as ffmpeg writes it: chunk size 4096 after the
 * handshake, commands on csid 3, media on csids 4 (audio) and 6 (video). */
typedef struct client {
    llhls_buf_t out;
    llhls_buf_t amf;
    uint32_t chunk_size;
} client_t;

static void client_init(client_t *c)
{
    llhls_buf_init(&c->out, 0);
    llhls_buf_init(&c->amf, 0);
    c->chunk_size = 128;
}

static void client_free(client_t *c)
{
    llhls_buf_free(&c->out);
    llhls_buf_free(&c->amf);
}

static void client_handshake(client_t *c, uint8_t *c1)
{
    uint8_t c0 = 3;
    for (int i = 0; i < LLHLS_RTMP_HANDSHAKE_SIZE; i++)
        c1[i] = (uint8_t)(i * 31 + 7);
    llhls_buf_append(&c->out, &c0, 1);
    llhls_buf_append(&c->out, c1, LLHLS_RTMP_HANDSHAKE_SIZE);
    /* C2 echoes S1; the server does not check it. */
    uint8_t c2[LLHLS_RTMP_HANDSHAKE_SIZE] = {0};
    llhls_buf_append(&c->out, c2, sizeof c2);
}

static void client_msg(client_t *c, uint32_t csid, uint8_t type, uint32_t sid, uint32_t ts, const uint8_t *p,
                       size_t len)
{
    llhls_rtmp_chunk_header_t h = {.fmt = 0, .csid = csid, .timestamp = ts, .type = type, .stream_id = sid};
    assert_int_equal(llhls_rtmp_chunk_write(&c->out, c->chunk_size, &h, p, len), 0);
}

static void client_amf(client_t *c, uint32_t csid, uint8_t type, uint32_t sid)
{
    client_msg(c, csid, type, sid, 0, c->amf.data, c->amf.len);
    llhls_buf_reset(&c->amf);
}

static void client_set_chunk_size(client_t *c, uint32_t size)
{
    uint8_t p[4] = {(uint8_t)(size >> 24), (uint8_t)(size >> 16), (uint8_t)(size >> 8), (uint8_t)size};
    client_msg(c, 2, LLHLS_RTMP_SET_CHUNK_SIZE, 0, 0, p, 4);
    c->chunk_size = size;
}

static void client_connect(client_t *c, const char *app)
{
    llhls_buf_t *b = &c->amf;
    llhls_amf0_put_cstring(b, "connect");
    llhls_amf0_put_number(b, 1);
    llhls_amf0_put_object_begin(b);
    llhls_amf0_put_key(b, "app");
    llhls_amf0_put_cstring(b, app);
    llhls_amf0_put_key(b, "type");
    llhls_amf0_put_cstring(b, "nonprivate");
    llhls_amf0_put_key(b, "flashVer");
    llhls_amf0_put_cstring(b, "FMLE/3.0 (compatible; Lavf59.27.100)");
    llhls_amf0_put_key(b, "tcUrl");
    llhls_amf0_put_cstring(b, "rtmp://127.0.0.1:1935/live");
    llhls_amf0_put_object_end(b);
    client_amf(c, 3, LLHLS_RTMP_COMMAND_AMF0, 0);
}

static void client_call(client_t *c, const char *name, double txn, const char *arg, uint32_t sid)
{
    llhls_buf_t *b = &c->amf;
    llhls_amf0_put_cstring(b, name);
    llhls_amf0_put_number(b, txn);
    llhls_amf0_put_null(b);
    if (arg)
        llhls_amf0_put_cstring(b, arg);
    client_amf(c, sid ? 8 : 3, LLHLS_RTMP_COMMAND_AMF0, sid);
}

static void client_publish(client_t *c, const char *name)
{
    llhls_buf_t *b = &c->amf;
    llhls_amf0_put_cstring(b, "publish");
    llhls_amf0_put_number(b, 5);
    llhls_amf0_put_null(b);
    llhls_amf0_put_cstring(b, name);
    llhls_amf0_put_cstring(b, "live");
    client_amf(c, 8, LLHLS_RTMP_COMMAND_AMF0, 1);
}

static void client_start_publish(client_t *c, uint8_t *c1, const char *app, const char *name)
{
    client_handshake(c, c1);
    client_set_chunk_size(c, 4096);
    client_connect(c, app);
    client_call(c, "releaseStream", 2, name, 0);
    client_call(c, "FCPublish", 3, name, 0);
    client_call(c, "createStream", 4, NULL, 0);
    client_publish(c, name);
}

/* Reads the server's bytes back as a list of lines: "ctl <type> <value>"
 * for protocol control, "uc <event> <value>" for user control, and
 * "<command> <txn> [<code>]" for commands. */
typedef struct reply_reader {
    llhls_buf_t text;
} reply_reader_t;

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int on_reply(void *opaque, const llhls_rtmp_message_t *m)
{
    reply_reader_t *rr = opaque;
    if (m->type == LLHLS_RTMP_COMMAND_AMF0) {
        llhls_amf0_command_t cmd;
        assert_int_equal(llhls_amf0_command_decode(m->payload, m->len, 0, &cmd), 0);
        const char *code = NULL;
        for (size_t i = 0; i < cmd.nargs && !code; i++)
            code = llhls_amf0_get_string(cmd.args[i], "code");
        llhls_buf_printf(&rr->text, "%s %g%s%s\n", cmd.name, cmd.txn, code ? " " : "", code ? code : "");
        llhls_amf0_command_free(&cmd);
    } else if (m->type == LLHLS_RTMP_USER_CONTROL) {
        assert_int_equal(m->len, 6);
        llhls_buf_printf(&rr->text, "uc %u %u\n", m->payload[0] << 8 | m->payload[1], be32(m->payload + 2));
    } else {
        assert_true(m->len >= 4);
        llhls_buf_printf(&rr->text, "ctl %u %u\n", m->type, be32(m->payload));
    }
    return 0;
}

/* Everything sent after the handshake, decoded. */
static char *replies(recorder_t *r, size_t skip)
{
    const llhls_rtmp_chunk_limits_t l = {.max_chunk_size = 1u << 24, .max_message_size = 1u << 20,
                                         .max_chunk_streams = 8};
    llhls_rtmp_chunk_reader_t *reader;
    assert_int_equal(llhls_rtmp_chunk_reader_new(&l, &reader), 0);
    reply_reader_t rr;
    llhls_buf_init(&rr.text, 0);
    assert_true(r->sent.len >= skip);
    assert_int_equal(llhls_rtmp_chunk_reader_feed(reader, r->sent.data + skip, r->sent.len - skip, on_reply, &rr), 0);
    llhls_rtmp_chunk_reader_free(reader);
    llhls_buf_append(&rr.text, "", 1);
    return (char *)rr.text.data;
}

#define HS_REPLY (1 + 2 * LLHLS_RTMP_HANDSHAKE_SIZE)

static const char *want_publish_replies = "ctl 5 5000000\n"
                                          "ctl 6 5000000\n"
                                          "ctl 1 60000\n"
                                          "_result 1 NetConnection.Connect.Success\n"
                                          "_result 2\n"
                                          "onFCPublish 0 NetStream.Publish.Start\n"
                                          "_result 4\n"
                                          "uc 0 1\n"
                                          "onStatus 0 NetStream.Publish.Start\n";

static void feed_media(client_t *c)
{
    /* @setDataFrame, then AVC and AAC sequence headers, then frames. */
    llhls_buf_t *b = &c->amf;
    llhls_amf0_put_cstring(b, "@setDataFrame");
    llhls_amf0_put_cstring(b, "onMetaData");
    llhls_amf0_put_ecma_array_begin(b, 2);
    llhls_amf0_put_key(b, "width");
    llhls_amf0_put_number(b, 7680);
    llhls_amf0_put_key(b, "framerate");
    llhls_amf0_put_number(b, 30);
    llhls_amf0_put_object_end(b);
    client_amf(c, 4, LLHLS_RTMP_DATA_AMF0, 1);
    static const uint8_t avc_seq[] = {0x17, 0x00, 0, 0, 0, 1, 0x64, 0, 0x28};
    static const uint8_t aac_seq[] = {0xaf, 0x00, 0x11, 0x90};
    client_msg(c, 6, LLHLS_RTMP_VIDEO, 1, 0, avc_seq, sizeof avc_seq);
    client_msg(c, 4, LLHLS_RTMP_AUDIO, 1, 0, aac_seq, sizeof aac_seq);
    static uint8_t key[10000];
    key[0] = 0x17;
    key[1] = 0x01;
    client_msg(c, 6, LLHLS_RTMP_VIDEO, 1, 33, key, sizeof key);
    static const uint8_t aac[] = {0xaf, 0x01, 0x21, 0x10};
    client_msg(c, 4, LLHLS_RTMP_AUDIO, 1, 21, aac, sizeof aac);
    /* Past 4.6 hours the timestamp needs the extended field. */
    client_msg(c, 6, LLHLS_RTMP_VIDEO, 1, 0x01000000, key, 5000);
}

static const char *want_media_calls = "meta 30.00\n"
                                      "video 0 9 17\n"
                                      "audio 0 4 af\n"
                                      "video 33 10000 17\n"
                                      "audio 21 4 af\n"
                                      "video 16777216 5000 17\n";

static void test_session_full_publish_exchange_as_ffmpeg_sends_it(void **state)
{
    recorder_t r;
    llhls_rtmp_session_t *s = session(&r);
    client_t c;
    client_init(&c);
    uint8_t c1[LLHLS_RTMP_HANDSHAKE_SIZE];
    client_start_publish(&c, c1, "live", "test?key=s3cret");
    feed_media(&c);
    client_call(&c, "FCUnpublish", 6, "test?key=s3cret", 0);
    client_call(&c, "deleteStream", 7, NULL, 0);

    assert_int_equal(llhls_rtmp_session_feed(s, c.out.data, c.out.len), 0);
    assert_string_equal(llhls_rtmp_session_reason(s), "");
    assert_true(llhls_rtmp_session_handshake_done(s));
    assert_string_equal(llhls_rtmp_session_query(s), "key=s3cret");

    /* S0 is version 3, S1 starts with our time and a zero version field,
     * S2 echoes C1. */
    assert_true(r.sent.len > HS_REPLY);
    assert_int_equal(r.sent.data[0], 3);
    assert_memory_equal(r.sent.data + 1, "\x00\x00\x04\xd2\x00\x00\x00\x00", 8);
    assert_memory_equal(r.sent.data + 1 + LLHLS_RTMP_HANDSHAKE_SIZE, c1, LLHLS_RTMP_HANDSHAKE_SIZE);

    char *got = replies(&r, HS_REPLY);
    char want[1024];
    snprintf(want, sizeof want, "%sonFCUnpublish 0 NetStream.Unpublish.Success\n", want_publish_replies);
    assert_string_equal(got, want);
    free(got);

    char want_calls[1024];
    snprintf(want_calls, sizeof want_calls, "start live test\n%sstop\n", want_media_calls);
    assert_string_equal(calls(&r), want_calls);
    assert_null(llhls_rtmp_session_stream(s));
    llhls_rtmp_session_free(s);
    /* Already stopped: freeing must not stop it twice. */
    assert_string_equal(calls(&r), want_calls);
    client_free(&c);
    recorder_free(&r);
}

static void test_session_same_exchange_fed_byte_by_byte(void **state)
{
    recorder_t r;
    llhls_rtmp_session_t *s = session(&r);
    client_t c;
    client_init(&c);
    uint8_t c1[LLHLS_RTMP_HANDSHAKE_SIZE];
    client_start_publish(&c, c1, "live/", "test");
    feed_media(&c);
    for (size_t i = 0; i < c.out.len; i++)
        assert_int_equal(llhls_rtmp_session_feed(s, c.out.data + i, 1), 0);
    char *got = replies(&r, HS_REPLY);
    assert_string_equal(got, want_publish_replies);
    free(got);
    assert_string_equal(llhls_rtmp_session_stream(s), "live/test");
    /* The connection drops without unpublishing: free stops the publish. */
    llhls_rtmp_session_free(s);
    char want_calls[1024];
    snprintf(want_calls, sizeof want_calls, "start live test\n%sstop\n", want_media_calls);
    assert_string_equal(calls(&r), want_calls);
    client_free(&c);
    recorder_free(&r);
}

static void test_session_refuses_a_name_already_published(void **state)
{
    recorder_t r;
    llhls_rtmp_session_t *s = session(&r);
    r.start_rc = -LLHLS_EBUSY;
    r.start_why = "Stream live/test is already being published from 198.51.100.7:4000.";
    client_t c;
    client_init(&c);
    uint8_t c1[LLHLS_RTMP_HANDSHAKE_SIZE];
    client_start_publish(&c, c1, "live", "test");
    feed_media(&c);
    assert_int_equal(llhls_rtmp_session_feed(s, c.out.data, c.out.len), -LLHLS_EBUSY);
    assert_non_null(strstr(llhls_rtmp_session_reason(s), "already being published"));
    char *got = replies(&r, HS_REPLY);
    assert_string_equal(got, "ctl 5 5000000\n"
                             "ctl 6 5000000\n"
                             "ctl 1 60000\n"
                             "_result 1 NetConnection.Connect.Success\n"
                             "_result 2\n"
                             "onFCPublish 0 NetStream.Publish.Start\n"
                             "_result 4\n"
                             "onStatus 0 NetStream.Publish.BadName\n");
    free(got);
    /* The publisher is told why, in the status description. */
    assert_non_null(memmem(r.sent.data, r.sent.len, r.start_why, strlen(r.start_why)));
    /* No media got through, and nothing was started, so nothing stops. */
    assert_string_equal(calls(&r), "start live test\n");
    assert_null(llhls_rtmp_session_stream(s));
    /* Later bytes are refused the same way. */
    assert_int_equal(llhls_rtmp_session_feed(s, c.out.data, 1), -LLHLS_EBUSY);
    llhls_rtmp_session_free(s);
    assert_string_equal(calls(&r), "start live test\n");
    client_free(&c);
    recorder_free(&r);
}

static void test_session_refuses_a_bad_name_with_a_default_sentence(void **state)
{
    recorder_t r;
    llhls_rtmp_session_t *s = session(&r);
    r.start_rc = -LLHLS_EINVAL;
    client_t c;
    client_init(&c);
    uint8_t c1[LLHLS_RTMP_HANDSHAKE_SIZE];
    client_start_publish(&c, c1, "live", ".hidden");
    assert_int_equal(llhls_rtmp_session_feed(s, c.out.data, c.out.len), -LLHLS_EINVAL);
    char *got = replies(&r, HS_REPLY);
    assert_non_null(strstr(got, "onStatus 0 NetStream.Publish.BadName\n"));
    free(got);
    static const char sentence[] = "Stream live/.hidden cannot be published";
    assert_non_null(memmem(r.sent.data, r.sent.len, sentence, strlen(sentence)));
    llhls_rtmp_session_free(s);
    client_free(&c);
    recorder_free(&r);
}

static void test_session_refuses_garbage_handshake(void **state)
{
    recorder_t r;
    llhls_rtmp_session_t *s = session(&r);
    static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(llhls_rtmp_session_feed(s, (const uint8_t *)http, strlen(http)), -LLHLS_EPROTO);
    assert_non_null(strstr(llhls_rtmp_session_reason(s), "version"));
    assert_int_equal(r.sent.len, 0);
    assert_false(llhls_rtmp_session_handshake_done(s));
    llhls_rtmp_session_free(s);

    /* RTMPE asks for version 6: refused by name. */
    s = session(&r);
    uint8_t six = 6;
    assert_int_equal(llhls_rtmp_session_feed(s, &six, 1), -LLHLS_EPROTO);
    assert_non_null(strstr(llhls_rtmp_session_reason(s), "RTMPE"));
    llhls_rtmp_session_free(s);
    assert_string_equal(calls(&r), "");
    recorder_free(&r);
}

static void test_session_closes_on_media_before_publish(void **state)
{
    recorder_t r;
    llhls_rtmp_session_t *s = session(&r);
    client_t c;
    client_init(&c);
    uint8_t c1[LLHLS_RTMP_HANDSHAKE_SIZE];
    client_handshake(&c, c1);
    client_connect(&c, "live");
    static const uint8_t frame[] = {0x17, 0x01, 0, 0, 0};
    client_msg(&c, 6, LLHLS_RTMP_VIDEO, 1, 0, frame, sizeof frame);
    assert_int_equal(llhls_rtmp_session_feed(s, c.out.data, c.out.len), -LLHLS_EPROTO);
    assert_non_null(strstr(llhls_rtmp_session_reason(s), "before publish"));
    assert_string_equal(calls(&r), "");
    llhls_rtmp_session_free(s);
    client_free(&c);
    recorder_free(&r);
}

static void test_session_closes_on_commands_before_connect(void **state)
{
    recorder_t r;
    llhls_rtmp_session_t *s = session(&r);
    client_t c;
    client_init(&c);
    uint8_t c1[LLHLS_RTMP_HANDSHAKE_SIZE];
    client_handshake(&c, c1);
    client_publish(&c, "test");
    assert_int_equal(llhls_rtmp_session_feed(s, c.out.data, c.out.len), -LLHLS_EPROTO);
    assert_non_null(strstr(llhls_rtmp_session_reason(s), "before connect"));
    assert_string_equal(calls(&r), "");
    llhls_rtmp_session_free(s);
    client_free(&c);
    recorder_free(&r);
}

static void test_session_packager_error_closes_and_stops(void **state)
{
    recorder_t r;
    llhls_rtmp_session_t *s = session(&r);
    r.media_rc = -LLHLS_EUNSUPPORTED;
    client_t c;
    client_init(&c);
    uint8_t c1[LLHLS_RTMP_HANDSHAKE_SIZE];
    client_start_publish(&c, c1, "live", "test");
    static const uint8_t vp6[] = {0x14, 0, 0};
    client_msg(&c, 6, LLHLS_RTMP_VIDEO, 1, 0, vp6, sizeof vp6);
    client_msg(&c, 6, LLHLS_RTMP_VIDEO, 1, 40, vp6, sizeof vp6);
    assert_int_equal(llhls_rtmp_session_feed(s, c.out.data, c.out.len), -LLHLS_EUNSUPPORTED);
    assert_non_null(strstr(llhls_rtmp_session_reason(s), "live/test"));
    llhls_rtmp_session_free(s);
    assert_string_equal(calls(&r), "start live test\nvideo 0 3 14\nstop\n");
    client_free(&c);
    recorder_free(&r);
}

static void test_session_answers_ping_and_acknowledges_the_window(void **state)
{
    recorder_t r;
    llhls_rtmp_session_t *s = session(&r);
    client_t c;
    client_init(&c);
    uint8_t c1[LLHLS_RTMP_HANDSHAKE_SIZE];
    client_handshake(&c, c1);
    size_t hs_len = c.out.len;
    static const uint8_t window[4] = {0, 0, 0x03, 0xe8}; /* 1000 bytes */
    client_msg(&c, 2, LLHLS_RTMP_WINDOW_ACK_SIZE, 0, 0, window, 4);
    static const uint8_t ping[6] = {0, 6, 0x12, 0x34, 0x56, 0x78};
    client_msg(&c, 2, LLHLS_RTMP_USER_CONTROL, 0, 0, ping, 6);
    client_connect(&c, "live");
    uint8_t pad[1200] = {0};
    client_msg(&c, 9, 0x42, 0, 0, pad, sizeof pad); /* an unknown type, ignored */
    assert_int_equal(llhls_rtmp_session_feed(s, c.out.data, c.out.len), 0);
    char *got = replies(&r, HS_REPLY);
    char want[256];
    snprintf(want, sizeof want,
             "uc 7 305419896\n"
             "ctl 5 5000000\n"
             "ctl 6 5000000\n"
             "ctl 1 60000\n"
             "_result 1 NetConnection.Connect.Success\n"
             "ctl 3 %zu\n",
             c.out.len - hs_len);
    assert_string_equal(got, want);
    free(got);
    llhls_rtmp_session_free(s);
    client_free(&c);
    recorder_free(&r);
}

static void test_session_refuses_play_with_a_clear_status(void **state)
{
    recorder_t r;
    llhls_rtmp_session_t *s = session(&r);
    client_t c;
    client_init(&c);
    uint8_t c1[LLHLS_RTMP_HANDSHAKE_SIZE];
    client_handshake(&c, c1);
    client_connect(&c, "live");
    client_call(&c, "getStreamLength", 3, "test", 0);
    client_call(&c, "play", 4, "test", 1);
    assert_int_equal(llhls_rtmp_session_feed(s, c.out.data, c.out.len), -LLHLS_EUNSUPPORTED);
    char *got = replies(&r, HS_REPLY);
    assert_non_null(strstr(got, "_error 3 NetConnection.Call.Failed\nonStatus 0 NetStream.Play.Failed\n"));
    free(got);
    static const char sentence[] = "does not play RTMP";
    assert_non_null(memmem(r.sent.data, r.sent.len, sentence, strlen(sentence)));
    assert_string_equal(calls(&r), "");
    llhls_rtmp_session_free(s);
    client_free(&c);
    recorder_free(&r);
}

static void test_session_accepts_amf3_commands_with_a_zero_format_byte(void **state)
{
    recorder_t r;
    llhls_rtmp_session_t *s = session(&r);
    client_t c;
    client_init(&c);
    uint8_t c1[LLHLS_RTMP_HANDSHAKE_SIZE];
    client_handshake(&c, c1);
    llhls_buf_append(&c.amf, "", 1);
    llhls_amf0_put_cstring(&c.amf, "connect");
    llhls_amf0_put_number(&c.amf, 1);
    llhls_amf0_put_object_begin(&c.amf);
    llhls_amf0_put_key(&c.amf, "app");
    llhls_amf0_put_cstring(&c.amf, "live?token=1");
    llhls_amf0_put_object_end(&c.amf);
    client_amf(&c, 3, LLHLS_RTMP_COMMAND_AMF3, 0);
    assert_int_equal(llhls_rtmp_session_feed(s, c.out.data, c.out.len), 0);
    char *got = replies(&r, HS_REPLY);
    assert_non_null(strstr(got, "_result 1 NetConnection.Connect.Success\n"));
    free(got);
    size_t mark = c.out.len;
    client_publish(&c, "cam1");
    assert_int_equal(llhls_rtmp_session_feed(s, c.out.data + mark, c.out.len - mark), 0);
    assert_string_equal(calls(&r), "start live cam1\n");
    /* A second publish on the same connection is refused. */
    mark = c.out.len;
    client_publish(&c, "cam2");
    assert_int_equal(llhls_rtmp_session_feed(s, c.out.data + mark, c.out.len - mark), -LLHLS_EBUSY);
    assert_non_null(strstr(llhls_rtmp_session_reason(s), "already publishing"));
    llhls_rtmp_session_free(s);
    assert_string_equal(calls(&r), "start live cam1\nstop\n");
    client_free(&c);
    recorder_free(&r);
}

static void test_session_closes_when_the_peer_stops_reading(void **state)
{
    recorder_t r;
    llhls_rtmp_session_t *s = session(&r);
    r.send_rc = -LLHLS_ETOOBIG;
    client_t c;
    client_init(&c);
    uint8_t c1[LLHLS_RTMP_HANDSHAKE_SIZE];
    client_handshake(&c, c1);
    assert_int_equal(llhls_rtmp_session_feed(s, c.out.data, c.out.len), -LLHLS_ETOOBIG);
    assert_non_null(strstr(llhls_rtmp_session_reason(s), "does not read"));
    llhls_rtmp_session_free(s);
    client_free(&c);
    recorder_free(&r);
}

static void test_session_refuses_oversize_command(void **state)
{
    recorder_t r;
    llhls_rtmp_session_t *s = session(&r);
    client_t c;
    client_init(&c);
    uint8_t c1[LLHLS_RTMP_HANDSHAKE_SIZE];
    client_handshake(&c, c1);
    uint8_t *big = calloc(1, LLHLS_RTMP_MAX_COMMAND_SIZE + 1);
    client_msg(&c, 3, LLHLS_RTMP_COMMAND_AMF0, 0, 0, big, LLHLS_RTMP_MAX_COMMAND_SIZE + 1);
    free(big);
    assert_int_equal(llhls_rtmp_session_feed(s, c.out.data, c.out.len), -LLHLS_ETOOBIG);
    llhls_rtmp_session_free(s);
    client_free(&c);
    recorder_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session_full_publish_exchange_as_ffmpeg_sends_it),
        cmocka_unit_test(test_session_same_exchange_fed_byte_by_byte),
        cmocka_unit_test(test_session_refuses_a_name_already_published),
        cmocka_unit_test(test_session_refuses_a_bad_name_with_a_default_sentence),
        cmocka_unit_test(test_session_refuses_garbage_handshake),
        cmocka_unit_test(test_session_closes_on_media_before_publish),
        cmocka_unit_test(test_session_closes_on_commands_before_connect),
        cmocka_unit_test(test_session_packager_error_closes_and_stops),
        cmocka_unit_test(test_session_answers_ping_and_acknowledges_the_window),
        cmocka_unit_test(test_session_refuses_play_with_a_clear_status),
        cmocka_unit_test(test_session_accepts_amf3_commands_with_a_zero_format_byte),
        cmocka_unit_test(test_session_closes_when_the_peer_stops_reading),
        cmocka_unit_test(test_session_refuses_oversize_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
