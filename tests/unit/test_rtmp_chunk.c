/* The RTMP chunk stream: every header format, chunk stream ids of every
 * width, interleaving, extended timestamps, Set Chunk Size and Abort, input
 * split anywhere, and the limits that keep a hostile peer bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "error.h"
#include "rtmp_chunk.h"

#define MAX_MSGS 64

typedef struct got_msg {
    uint8_t type;
    uint32_t csid, stream_id, timestamp;
    uint8_t *payload;
    size_t len;
} got_msg_t;

typedef struct got {
    got_msg_t m[MAX_MSGS];
    size_t n;
} got_t;

static int collect(void *opaque, const llhls_rtmp_message_t *m)
{
    got_t *g = opaque;
    assert_true(g->n < MAX_MSGS);
    got_msg_t *d = &g->m[g->n++];
    d->type = m->type;
    d->csid = m->csid;
    d->stream_id = m->stream_id;
    d->timestamp = m->timestamp;
    d->len = m->len;
    d->payload = malloc(m->len ? m->len : 1);
    memcpy(d->payload, m->payload, m->len);
    return 0;
}

static void got_free(got_t *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->m[i].payload);
    g->n = 0;
}

static const llhls_rtmp_chunk_limits_t default_limits = {
    .max_chunk_size = 1u << 24, .max_message_size = 1u << 25, .max_chunk_streams = 64};

static llhls_rtmp_chunk_reader_t *reader(const llhls_rtmp_chunk_limits_t *l)
{
    llhls_rtmp_chunk_reader_t *r;
    assert_int_equal(llhls_rtmp_chunk_reader_new(l ? l : &default_limits, &r), 0);
    return r;
}

static void write_msg(llhls_buf_t *b, uint32_t chunk_size, uint8_t fmt, uint32_t csid, uint32_t ts, uint8_t type,
                      uint32_t sid, const uint8_t *p, size_t len)
{
    llhls_rtmp_chunk_header_t h = {.fmt = fmt, .csid = csid, .timestamp = ts, .type = type, .stream_id = sid};
    assert_int_equal(llhls_rtmp_chunk_write(b, chunk_size, &h, p, len), 0);
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + i * 7);
}

static void test_chunk_reads_a_type0_message_from_known_bytes(void **state)
{
    /* fmt 0, csid 3, ts 1000, length 5, type 20, stream id 1 (little endian). */
    static const uint8_t bytes[] = {0x03, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x05, 0x14, 0x01, 0x00,
                                    0x00, 0x00, 'h',  'e',  'l',  'l',  'o'};
    llhls_rtmp_chunk_reader_t *r = reader(NULL);
    got_t g = {0};
    assert_int_equal(llhls_rtmp_chunk_reader_feed(r, bytes, sizeof bytes, collect, &g), 0);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.m[0].type, 20);
    assert_int_equal(g.m[0].csid, 3);
    assert_int_equal(g.m[0].stream_id, 1);
    assert_int_equal(g.m[0].timestamp, 1000);
    assert_int_equal(g.m[0].len, 5);
    assert_memory_equal(g.m[0].payload, "hello", 5);
    got_free(&g);
    llhls_rtmp_chunk_reader_free(r);
}

static void test_chunk_applies_every_header_format(void **state)
{
    uint8_t p[10];
    fill(p, sizeof p, 1);
    llhls_buf_t b;
    llhls_buf_init(&b, 0);
    write_msg(&b, 128, 0, 6, 1000, 9, 1, p, 10); /* ts 1000 */
    write_msg(&b, 128, 1, 6, 40, 8, 0, p, 5);    /* delta 40, new length and type */
    write_msg(&b, 128, 2, 6, 33, 0, 0, p, 5);    /* delta 33, same length and type */
    write_msg(&b, 128, 3, 6, 33, 0, 0, p, 5);    /* all repeated: delta 33 again */
    llhls_rtmp_chunk_reader_t *r = reader(NULL);
    got_t g = {0};
    assert_int_equal(llhls_rtmp_chunk_reader_feed(r, b.data, b.len, collect, &g), 0);
    assert_int_equal(g.n, 4);
    uint32_t want_ts[4] = {1000, 1040, 1073, 1106};
    uint8_t want_type[4] = {9, 8, 8, 8};
    size_t want_len[4] = {10, 5, 5, 5};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(g.m[i].timestamp, want_ts[i]);
        assert_int_equal(g.m[i].type, want_type[i]);
        assert_int_equal(g.m[i].len, want_len[i]);
        assert_int_equal(g.m[i].stream_id, 1);
        assert_memory_equal(g.m[i].payload, p, want_len[i]);
    }
    got_free(&g);
    llhls_rtmp_chunk_reader_free(r);
    llhls_buf_free(&b);
}

static void test_chunk_reassembles_a_message_cut_into_chunks(void **state)
{
    uint8_t p[300];
    fill(p, sizeof p, 3);
    llhls_buf_t b;
    llhls_buf_init(&b, 0);
    write_msg(&b, 128, 0, 4, 0, 9, 1, p, 300);
    /* 12-byte header + 128, then 1 + 128, then 1 + 44. */
    assert_int_equal(b.len, 12 + 128 + 1 + 128 + 1 + 44);
    assert_int_equal(b.data[12 + 128], 0xc4);
    llhls_rtmp_chunk_reader_t *r = reader(NULL);
    got_t g = {0};
    assert_int_equal(llhls_rtmp_chunk_reader_feed(r, b.data, b.len, collect, &g), 0);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.m[0].len, 300);
    assert_memory_equal(g.m[0].payload, p, 300);
    got_free(&g);
    llhls_rtmp_chunk_reader_free(r);
    llhls_buf_free(&b);
}

static void test_chunk_keeps_interleaved_chunk_streams_apart(void **state)
{
    uint8_t v[300], a[200];
    fill(v, sizeof v, 10);
    fill(a, sizeof a, 99);
    llhls_buf_t vb, ab, b;
    llhls_buf_init(&vb, 0);
    llhls_buf_init(&ab, 0);
    llhls_buf_init(&b, 0);
    write_msg(&vb, 128, 0, 6, 500, 9, 1, v, sizeof v);
    write_msg(&ab, 128, 0, 4, 480, 8, 1, a, sizeof a);
    /* Video chunk 1, audio chunk 1, video chunk 2, audio chunk 2, video chunk 3. */
    size_t vcut[4] = {0, 12 + 128, 12 + 128 + 129, vb.len};
    size_t acut[3] = {0, 12 + 128, ab.len};
    llhls_buf_append(&b, vb.data + vcut[0], vcut[1] - vcut[0]);
    llhls_buf_append(&b, ab.data + acut[0], acut[1] - acut[0]);
    llhls_buf_append(&b, vb.data + vcut[1], vcut[2] - vcut[1]);
    llhls_buf_append(&b, ab.data + acut[1], acut[2] - acut[1]);
    llhls_buf_append(&b, vb.data + vcut[2], vcut[3] - vcut[2]);
    llhls_rtmp_chunk_reader_t *r = reader(NULL);
    got_t g = {0};
    assert_int_equal(llhls_rtmp_chunk_reader_feed(r, b.data, b.len, collect, &g), 0);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.m[0].type, 8);
    assert_int_equal(g.m[0].timestamp, 480);
    assert_int_equal(g.m[0].len, 200);
    assert_memory_equal(g.m[0].payload, a, 200);
    assert_int_equal(g.m[1].type, 9);
    assert_int_equal(g.m[1].timestamp, 500);
    assert_memory_equal(g.m[1].payload, v, 300);
    got_free(&g);
    llhls_rtmp_chunk_reader_free(r);
    llhls_buf_free(&vb);
    llhls_buf_free(&ab);
    llhls_buf_free(&b);
}

static void test_chunk_extended_timestamp_repeats_on_type3_chunks(void **state)
{
    uint8_t p[300];
    fill(p, sizeof p, 5);
    llhls_buf_t b;
    llhls_buf_init(&b, 0);
    write_msg(&b, 128, 0, 6, 0x01234567, 9, 1, p, 300);
    /* 0xffffff in the header, the real value after it, and again after each
     * type 3 basic header, the way ffmpeg and OBS write it. */
    static const uint8_t ext[4] = {0x01, 0x23, 0x45, 0x67};
    assert_memory_equal(b.data + 1, "\xff\xff\xff", 3);
    assert_memory_equal(b.data + 12, ext, 4);
    assert_int_equal(b.data[16 + 128], 0xc6);
    assert_memory_equal(b.data + 16 + 128 + 1, ext, 4);
    assert_int_equal(b.len, 16 + 128 + 5 + 128 + 5 + 44);
    /* A second message whose type 3 header reuses the extended delta. */
    write_msg(&b, 128, 3, 6, 0x01234567, 0, 0, p, 300);
    llhls_rtmp_chunk_reader_t *r = reader(NULL);
    got_t g = {0};
    assert_int_equal(llhls_rtmp_chunk_reader_feed(r, b.data, b.len, collect, &g), 0);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.m[0].timestamp, 0x01234567);
    assert_memory_equal(g.m[0].payload, p, 300);
    assert_int_equal(g.m[1].timestamp, 2u * 0x01234567);
    assert_memory_equal(g.m[1].payload, p, 300);
    got_free(&g);
    llhls_rtmp_chunk_reader_free(r);
    llhls_buf_free(&b);
}

static void test_chunk_extended_delta_on_type1_header_adds_up(void **state)
{
    uint8_t p[4] = {1, 2, 3, 4};
    llhls_buf_t b;
    llhls_buf_init(&b, 0);
    write_msg(&b, 128, 0, 4, 0xfffff0, 8, 1, p, 4);
    write_msg(&b, 128, 1, 4, 0x01000000, 8, 0, p, 4);
    write_msg(&b, 128, 2, 4, 20, 0, 0, p, 4);
    llhls_rtmp_chunk_reader_t *r = reader(NULL);
    got_t g = {0};
    assert_int_equal(llhls_rtmp_chunk_reader_feed(r, b.data, b.len, collect, &g), 0);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.m[0].timestamp, 0xfffff0);
    assert_int_equal(g.m[1].timestamp, 0xfffff0 + 0x01000000);
    assert_int_equal(g.m[2].timestamp, 0xfffff0 + 0x01000000 + 20);
    got_free(&g);
    llhls_rtmp_chunk_reader_free(r);
    llhls_buf_free(&b);
}

static void test_chunk_basic_headers_of_one_two_and_three_bytes(void **state)
{
    static const uint32_t ids[] = {2, 63, 64, 319, 320, 65599};
    static const size_t widths[] = {1, 1, 2, 2, 3, 3};
    uint8_t p[3] = {7, 8, 9};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        llhls_buf_t b;
        llhls_buf_init(&b, 0);
        write_msg(&b, 128, 0, ids[i], 0, 9, 1, p, 3);
        assert_int_equal(b.len, widths[i] + 11 + 3);
        llhls_rtmp_chunk_reader_t *r = reader(NULL);
        got_t g = {0};
        assert_int_equal(llhls_rtmp_chunk_reader_feed(r, b.data, b.len, collect, &g), 0);
        assert_int_equal(g.n, 1);
        assert_int_equal(g.m[0].csid, ids[i]);
        got_free(&g);
        llhls_rtmp_chunk_reader_free(r);
        llhls_buf_free(&b);
    }
    /* csid 320 is 0x01 then (320-64) little endian: 0x00 0x01. */
    llhls_buf_t b;
    llhls_buf_init(&b, 0);
    write_msg(&b, 128, 0, 320, 0, 9, 1, p, 3);
    assert_memory_equal(b.data, "\x01\x00\x01", 3);
    llhls_buf_free(&b);
}

static void set_chunk_size_msg(llhls_buf_t *b, uint32_t size)
{
    uint8_t p[4] = {(uint8_t)(size >> 24), (uint8_t)(size >> 16), (uint8_t)(size >> 8), (uint8_t)size};
    write_msg(b, 128, 0, 2, 0, LLHLS_RTMP_SET_CHUNK_SIZE, 0, p, 4);
}

static void test_chunk_set_chunk_size_applies_to_the_next_chunk(void **state)
{
    uint8_t p[3000];
    fill(p, sizeof p, 77);
    llhls_buf_t b;
    llhls_buf_init(&b, 0);
    set_chunk_size_msg(&b, 4096);
    write_msg(&b, 4096, 0, 6, 0, 9, 1, p, sizeof p);
    assert_int_equal(b.len, 16 + 12 + 3000); /* one chunk for the whole message */
    llhls_rtmp_chunk_reader_t *r = reader(NULL);
    got_t g = {0};
    assert_int_equal(llhls_rtmp_chunk_reader_feed(r, b.data, b.len, collect, &g), 0);
    assert_int_equal(llhls_rtmp_chunk_reader_chunk_size(r), 4096);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.m[0].type, LLHLS_RTMP_SET_CHUNK_SIZE);
    assert_int_equal(g.m[1].len, 3000);
    assert_memory_equal(g.m[1].payload, p, 3000);
    got_free(&g);
    llhls_rtmp_chunk_reader_free(r);
    llhls_buf_free(&b);
}

/* A stream with every feature, for the split tests. */
static void build_mixed_stream(llhls_buf_t *b)
{
    static uint8_t big[5000], small[77];
    fill(big, sizeof big, 1);
    fill(small, sizeof small, 2);
    uint8_t empty = 0;
    write_msg(b, 128, 0, 3, 0, 20, 0, small, sizeof small);
    set_chunk_size_msg(b, 1000);
    write_msg(b, 1000, 0, 6, 0x01000000, 9, 1, big, sizeof big);
    write_msg(b, 1000, 0, 4, 10, 8, 1, small, sizeof small);
    write_msg(b, 1000, 1, 4, 23, 8, 0, &empty, 0);
    write_msg(b, 1000, 2, 4, 23, 0, 0, &empty, 0);
    write_msg(b, 1000, 0, 400, 5, 18, 1, big, 1500);
    write_msg(b, 1000, 3, 400, 5, 0, 0, big, 1500);
}

static void assert_same(const got_t *a, const got_t *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_int_equal(a->m[i].type, b->m[i].type);
        assert_int_equal(a->m[i].csid, b->m[i].csid);
        assert_int_equal(a->m[i].stream_id, b->m[i].stream_id);
        assert_int_equal(a->m[i].timestamp, b->m[i].timestamp);
        assert_int_equal(a->m[i].len, b->m[i].len);
        assert_memory_equal(a->m[i].payload, b->m[i].payload, a->m[i].len);
    }
}

static void test_chunk_split_at_every_offset_gives_identical_messages(void **state)
{
    llhls_buf_t b;
    llhls_buf_init(&b, 0);
    build_mixed_stream(&b);
    llhls_rtmp_chunk_reader_t *r = reader(NULL);
    got_t ref = {0};
    assert_int_equal(llhls_rtmp_chunk_reader_feed(r, b.data, b.len, collect, &ref), 0);
    llhls_rtmp_chunk_reader_free(r);
    assert_int_equal(ref.n, 8);
    assert_int_equal(ref.m[2].timestamp, 0x01000000);
    assert_int_equal(ref.m[4].len, 0);
    assert_int_equal(ref.m[5].timestamp, 10 + 23 + 23);
    assert_int_equal(ref.m[7].timestamp, 10);

    for (size_t cut = 0; cut <= b.len; cut++) {
        got_t g = {0};
        r = reader(NULL);
        assert_int_equal(llhls_rtmp_chunk_reader_feed(r, b.data, cut, collect, &g), 0);
        assert_int_equal(llhls_rtmp_chunk_reader_feed(r, b.data + cut, b.len - cut, collect, &g), 0);
        assert_same(&ref, &g);
        got_free(&g);
        llhls_rtmp_chunk_reader_free(r);
    }
    got_t g = {0};
    r = reader(NULL);
    for (size_t i = 0; i < b.len; i++)
        assert_int_equal(llhls_rtmp_chunk_reader_feed(r, b.data + i, 1, collect, &g), 0);
    assert_same(&ref, &g);
    got_free(&g);
    got_free(&ref);
    llhls_rtmp_chunk_reader_free(r);
    llhls_buf_free(&b);
}

static void test_chunk_refuses_chunk_size_over_the_limit_zero_or_negative(void **state)
{
    llhls_rtmp_chunk_limits_t l = default_limits;
    l.max_chunk_size = 65536;
    static const uint32_t bad[] = {65537, 0, 0x80000000u};
    static const int err[] = {-LLHLS_ETOOBIG, -LLHLS_EPROTO, -LLHLS_EPROTO};
    for (int i = 0; i < 3; i++) {
        llhls_buf_t b;
        llhls_buf_init(&b, 0);
        set_chunk_size_msg(&b, bad[i]);
        llhls_rtmp_chunk_reader_t *r = reader(&l);
        got_t g = {0};
        assert_int_equal(llhls_rtmp_chunk_reader_feed(r, b.data, b.len, collect, &g), err[i]);
        assert_int_equal(g.n, 0);
        assert_non_null(strstr(llhls_rtmp_chunk_reader_error(r), "Set Chunk Size"));
        llhls_rtmp_chunk_reader_free(r);
        llhls_buf_free(&b);
    }
    llhls_buf_t b;
    llhls_buf_init(&b, 0);
    set_chunk_size_msg(&b, 65536);
    llhls_rtmp_chunk_reader_t *r = reader(&l);
    assert_int_equal(llhls_rtmp_chunk_reader_feed(r, b.data, b.len, NULL, NULL), 0);
    assert_int_equal(llhls_rtmp_chunk_reader_chunk_size(r), 65536);
    llhls_rtmp_chunk_reader_free(r);
    llhls_buf_free(&b);
}

static void test_chunk_refuses_message_over_the_size_limit_from_its_header(void **state)
{
    llhls_rtmp_chunk_limits_t l = default_limits;
    l.max_message_size = 1000;
    /* Only the header: the refusal must not wait for (or buffer) a payload. */
    static const uint8_t hdr[] = {0x06, 0, 0, 0, 0x00, 0x03, 0xe9, 0x09, 1, 0, 0, 0};
    llhls_rtmp_chunk_reader_t *r = reader(&l);
    got_t g = {0};
    assert_int_equal(llhls_rtmp_chunk_reader_feed(r, hdr, sizeof hdr, collect, &g), -LLHLS_ETOOBIG);
    assert_non_null(strstr(llhls_rtmp_chunk_reader_error(r), "1001"));
    /* Sticky. */
    assert_int_equal(llhls_rtmp_chunk_reader_feed(r, hdr, 1, collect, &g), -LLHLS_ETOOBIG);
    llhls_rtmp_chunk_reader_free(r);

    uint8_t p[1000] = {0};
    llhls_buf_t b;
    llhls_buf_init(&b, 0);
    write_msg(&b, 128, 0, 6, 0, 9, 1, p, 1000);
    r = reader(&l);
    assert_int_equal(llhls_rtmp_chunk_reader_feed(r, b.data, b.len, collect, &g), 0);
    assert_int_equal(g.n, 1);
    got_free(&g);
    llhls_rtmp_chunk_reader_free(r);
    llhls_buf_free(&b);
}

static void test_chunk_refuses_too_many_chunk_streams(void **state)
{
    llhls_rtmp_chunk_limits_t l = default_limits;
    l.max_chunk_streams = 4;
    uint8_t p[1] = {0};
    llhls_buf_t b;
    llhls_buf_init(&b, 0);
    for (uint32_t csid = 3; csid < 3 + 5; csid++)
        write_msg(&b, 128, 0, csid, 0, 9, 1, p, 1);
    llhls_rtmp_chunk_reader_t *r = reader(&l);
    got_t g = {0};
    assert_int_equal(llhls_rtmp_chunk_reader_feed(r, b.data, b.len, collect, &g), -LLHLS_ETOOBIG);
    assert_int_equal(g.n, 4);
    assert_non_null(strstr(llhls_rtmp_chunk_reader_error(r), "chunk streams"));
    got_free(&g);
    llhls_rtmp_chunk_reader_free(r);
    llhls_buf_free(&b);
}

static void test_chunk_refuses_a_new_chunk_stream_without_a_type0_header(void **state)
{
    static const uint8_t bytes[] = {0x45, 0, 0, 0, 0, 0, 1, 9, 'x'}; /* fmt 1 on csid 5 */
    llhls_rtmp_chunk_reader_t *r = reader(NULL);
    assert_int_equal(llhls_rtmp_chunk_reader_feed(r, bytes, sizeof bytes, NULL, NULL), -LLHLS_EPROTO);
    llhls_rtmp_chunk_reader_free(r);
}

static void test_chunk_refuses_a_new_header_in_the_middle_of_a_message(void **state)
{
    uint8_t p[300] = {0};
    llhls_buf_t b;
    llhls_buf_init(&b, 0);
    write_msg(&b, 128, 0, 6, 0, 9, 1, p, 300);
    b.len = 12 + 128;
    write_msg(&b, 128, 0, 6, 0, 9, 1, p, 10);
    llhls_rtmp_chunk_reader_t *r = reader(NULL);
    assert_int_equal(llhls_rtmp_chunk_reader_feed(r, b.data, b.len, NULL, NULL), -LLHLS_EPROTO);
    llhls_rtmp_chunk_reader_free(r);
    llhls_buf_free(&b);
}

static void test_chunk_abort_discards_a_partial_message(void **state)
{
    uint8_t p[300];
    fill(p, sizeof p, 9);
    llhls_buf_t b;
    llhls_buf_init(&b, 0);
    write_msg(&b, 128, 0, 6, 0, 9, 1, p, 300);
    b.len = 12 + 128; /* first chunk only */
    uint8_t abort_payload[4] = {0, 0, 0, 6};
    write_msg(&b, 128, 0, 2, 0, LLHLS_RTMP_ABORT, 0, abort_payload, 4);
    write_msg(&b, 128, 0, 6, 7, 9, 1, p + 1, 20);
    llhls_rtmp_chunk_reader_t *r = reader(NULL);
    got_t g = {0};
    assert_int_equal(llhls_rtmp_chunk_reader_feed(r, b.data, b.len, collect, &g), 0);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.m[0].type, LLHLS_RTMP_ABORT);
    assert_int_equal(g.m[1].len, 20);
    assert_int_equal(g.m[1].timestamp, 7);
    assert_memory_equal(g.m[1].payload, p + 1, 20);
    got_free(&g);
    llhls_rtmp_chunk_reader_free(r);
    llhls_buf_free(&b);
}

static int stop_at_first(void *opaque, const llhls_rtmp_message_t *m)
{
    (*(int *)opaque)++;
    return -LLHLS_EUNSUPPORTED;
}

static void test_chunk_callback_error_stops_the_reader(void **state)
{
    uint8_t p[2] = {1, 2};
    llhls_buf_t b;
    llhls_buf_init(&b, 0);
    write_msg(&b, 128, 0, 6, 0, 9, 1, p, 2);
    write_msg(&b, 128, 0, 6, 0, 9, 1, p, 2);
    llhls_rtmp_chunk_reader_t *r = reader(NULL);
    int calls = 0;
    assert_int_equal(llhls_rtmp_chunk_reader_feed(r, b.data, b.len, stop_at_first, &calls), -LLHLS_EUNSUPPORTED);
    assert_int_equal(calls, 1);
    llhls_rtmp_chunk_reader_free(r);
    llhls_buf_free(&b);
}

static void test_chunk_writer_refuses_bad_csid_and_chunk_size(void **state)
{
    llhls_buf_t b;
    llhls_buf_init(&b, 0);
    llhls_rtmp_chunk_header_t h = {.fmt = 0, .csid = 1, .type = 9};
    assert_int_equal(llhls_rtmp_chunk_write(&b, 128, &h, (const uint8_t *)"x", 1), -LLHLS_EINVAL);
    h.csid = 65600;
    assert_int_equal(llhls_rtmp_chunk_write(&b, 128, &h, (const uint8_t *)"x", 1), -LLHLS_EINVAL);
    h.csid = 3;
    assert_int_equal(llhls_rtmp_chunk_write(&b, 0, &h, (const uint8_t *)"x", 1), -LLHLS_EINVAL);
    assert_int_equal(b.len, 0);
    llhls_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunk_reads_a_type0_message_from_known_bytes),
        cmocka_unit_test(test_chunk_applies_every_header_format),
        cmocka_unit_test(test_chunk_reassembles_a_message_cut_into_chunks),
        cmocka_unit_test(test_chunk_keeps_interleaved_chunk_streams_apart),
        cmocka_unit_test(test_chunk_extended_timestamp_repeats_on_type3_chunks),
        cmocka_unit_test(test_chunk_extended_delta_on_type1_header_adds_up),
        cmocka_unit_test(test_chunk_basic_headers_of_one_two_and_three_bytes),
        cmocka_unit_test(test_chunk_set_chunk_size_applies_to_the_next_chunk),
        cmocka_unit_test(test_chunk_split_at_every_offset_gives_identical_messages),
        cmocka_unit_test(test_chunk_refuses_chunk_size_over_the_limit_zero_or_negative),
        cmocka_unit_test(test_chunk_refuses_message_over_the_size_limit_from_its_header),
        cmocka_unit_test(test_chunk_refuses_too_many_chunk_streams),
        cmocka_unit_test(test_chunk_refuses_a_new_chunk_stream_without_a_type0_header),
        cmocka_unit_test(test_chunk_refuses_a_new_header_in_the_middle_of_a_message),
        cmocka_unit_test(test_chunk_abort_discards_a_partial_message),
        cmocka_unit_test(test_chunk_callback_error_stops_the_reader),
        cmocka_unit_test(test_chunk_writer_refuses_bad_csid_and_chunk_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
