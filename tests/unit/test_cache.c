/* Tests of the edge's object cache: one fill per key however many lookups,
 * bytes streamed to readers as they arrive from chunks that never move, the
 * complete and failed states, negative caching, expiry by max-age and Age,
 * eviction within the memory bound, watchers that unwatch from inside their
 * callback, and many threads reading one fill. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "cache.h"
#include "error.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint8_t pattern_byte(unsigned key, uint64_t offset)
{
    return (uint8_t)(key * 31u + offset * 7u + (offset >> 8));
}

static void fill_pattern(uint8_t *buf, size_t len, unsigned key, uint64_t offset)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = pattern_byte(key, offset + i);
}

static llhls_object_t *lookup(llhls_cache_t *c, const char *key, int64_t now_ms, int *must_fill)
{
    return llhls_cache_lookup(c, key, strlen(key), now_ms, must_fill);
}

static void set_head(llhls_object_t *o, int status, uint64_t content_length, int64_t max_age_ms, int64_t age_ms)
{
    llhls_object_head_t h;
    memset(&h, 0, sizeof(h));
    h.status = status;
    h.content_length = content_length;
    h.max_age_ms = max_age_ms;
    h.age_ms = age_ms;
    char name[] = "Content-Type", value[] = "video/mp4";
    h.names[0] = name;
    h.values[0] = value;
    h.nheaders = 1;
    llhls_object_set_head(o, &h);
}

/* Fills a new object for key with len pattern bytes and completes it. */
static void fill_complete(llhls_cache_t *c, const char *key, unsigned seed, size_t len, int64_t max_age_ms,
                          int64_t now_ms)
{
    int must_fill = 0;
    llhls_object_t *o = lookup(c, key, now_ms, &must_fill);
    assert_int_equal(must_fill, 1);
    set_head(o, 200, len, max_age_ms, 0);
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    fill_pattern(buf, len, seed, 0);
    assert_int_equal(llhls_object_append(o, buf, len), 0);
    free(buf);
    llhls_object_complete(o, now_ms);
    llhls_object_unref(o);
}

/* Asserts that o's body is len pattern bytes of seed. */
static void assert_body(llhls_object_t *o, unsigned seed, uint64_t len)
{
    assert_int_equal(llhls_object_size(o), len);
    uint64_t off = 0;
    while (off < len) {
        const uint8_t *p;
        size_t n = llhls_object_read(o, off, &p);
        assert_true(n > 0);
        for (size_t i = 0; i < n; i++)
            if (p[i] != pattern_byte(seed, off + i))
                fail_msg("byte %llu differs", (unsigned long long)(off + i));
        off += n;
    }
    const uint8_t *p;
    assert_int_equal(llhls_object_read(o, len, &p), 0);
}

typedef struct counter {
    llhls_object_watcher_t w;
    int calls;
    uint64_t last_size;
    llhls_object_state_t last_state;
} counter_t;

static void on_count(llhls_object_watcher_t *w, llhls_object_t *o)
{
    counter_t *c = w->ctx;
    c->calls++;
    c->last_size = llhls_object_size(o);
    c->last_state = llhls_object_state(o);
}

static void counter_init(counter_t *c)
{
    memset(c, 0, sizeof(*c));
    c->w.cb = on_count;
    c->w.ctx = c;
}

static void test_cache_lookups_collapse_onto_one_fill(void **state)
{
    (void)state;
    llhls_cache_t *c = llhls_cache_create(1 << 20);
    int must_fill = -1;
    llhls_object_t *first = lookup(c, "/a/v.m3u8?msn=3", 100, &must_fill);
    assert_int_equal(must_fill, 1);
    assert_int_equal(llhls_object_state(first), LLHLS_OBJECT_FILLING);
    assert_null(llhls_object_head(first));
    llhls_object_t *others[9];
    for (int i = 0; i < 9; i++) {
        others[i] = lookup(c, "/a/v.m3u8?msn=3", 100 + i, &must_fill);
        assert_int_equal(must_fill, 0);
        assert_ptr_equal(others[i], first);
    }
    /* Another key is another fill. */
    llhls_object_t *other = lookup(c, "/a/v.m3u8?msn=4", 100, &must_fill);
    assert_int_equal(must_fill, 1);
    assert_ptr_not_equal(other, first);
    llhls_cache_stats_t st;
    llhls_cache_stats(c, &st);
    assert_int_equal(st.misses, 2);
    assert_int_equal(st.collapsed, 9);
    assert_int_equal(st.hits, 0);
    assert_int_equal(st.objects, 2);
    for (int i = 0; i < 9; i++)
        llhls_object_unref(others[i]);
    llhls_object_fail(other, 100, 0);
    llhls_object_unref(other);
    llhls_object_unref(first);
    llhls_cache_destroy(c);
}

static void test_cache_streams_bytes_as_they_arrive(void **state)
{
    (void)state;
    llhls_cache_t *c = llhls_cache_create(64 << 20);
    int must_fill;
    llhls_object_t *o = lookup(c, "/a/part12.3.m4s", 0, &must_fill);
    counter_t w;
    counter_init(&w);
    llhls_object_watch(o, &w.w);
    set_head(o, 200, UINT64_MAX, 60000, 0);
    assert_int_equal(w.calls, 1);
    assert_int_equal(w.last_size, 0);
    assert_int_equal(llhls_object_head(o)->status, 200);
    assert_string_equal(llhls_object_head(o)->names[0], "Content-Type");
    assert_string_equal(llhls_object_head(o)->values[0], "video/mp4");
    assert_true(llhls_object_fetched_ms(o) > 0);

    uint8_t buf[1000];
    fill_pattern(buf, 10, 1, 0);
    assert_int_equal(llhls_object_append(o, buf, 10), 0);
    assert_int_equal(w.calls, 2);
    assert_int_equal(w.last_size, 10);
    const uint8_t *first = NULL;
    assert_int_equal(llhls_object_read(o, 0, &first), 10);
    assert_memory_equal(first, buf, 10);
    const uint8_t *p;
    assert_int_equal(llhls_object_read(o, 4, &p), 6);
    assert_ptr_equal(p, first + 4);
    assert_int_equal(llhls_object_read(o, 10, &p), 0);

    /* Many more appends, over many chunks: what was read never moves. */
    uint64_t off = 10;
    for (int i = 0; i < 3000; i++) {
        fill_pattern(buf, sizeof(buf), 1, off);
        assert_int_equal(llhls_object_append(o, buf, sizeof(buf)), 0);
        off += sizeof(buf);
    }
    assert_int_equal(w.calls, 2 + 3000);
    assert_int_equal(w.last_size, off);
    assert_int_equal(w.last_state, LLHLS_OBJECT_FILLING);
    assert_int_equal(llhls_object_read(o, 0, &p), llhls_object_read(o, 0, &p));
    assert_ptr_equal(p, first);
    fill_pattern(buf, 10, 1, 0);
    assert_memory_equal(first, buf, 10);
    assert_body(o, 1, off);
    /* A read in the middle starts at the right byte. */
    size_t n = llhls_object_read(o, 1234567, &p);
    assert_true(n > 0);
    assert_int_equal(p[0], pattern_byte(1, 1234567));

    llhls_object_complete(o, 50);
    assert_int_equal(w.calls, 3003);
    assert_int_equal(w.last_state, LLHLS_OBJECT_COMPLETE);
    assert_int_equal(llhls_object_completed_ms(o), 50);
    llhls_object_unwatch(o, &w.w);
    assert_int_equal(llhls_object_append(o, buf, 1), -LLHLS_EINVAL);
    assert_int_equal(w.calls, 3003);
    llhls_object_unref(o);
    llhls_cache_destroy(c);
}

static void test_cache_known_length_is_one_contiguous_chunk(void **state)
{
    (void)state;
    const size_t len = 2500 * 1000;
    llhls_cache_t *c = llhls_cache_create(16 << 20);
    int must_fill;
    llhls_object_t *o = lookup(c, "/a/part8k.m4s", 0, &must_fill);
    set_head(o, 200, len, 60000, 0);
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    fill_pattern(buf, len, 7, 0);
    for (size_t off = 0; off < len; off += 65536)
        assert_int_equal(llhls_object_append(o, buf + off, len - off < 65536 ? len - off : 65536), 0);
    llhls_object_complete(o, 0);
    const uint8_t *p;
    assert_int_equal(llhls_object_read(o, 0, &p), len);
    assert_memory_equal(p, buf, len);
    llhls_cache_stats_t st;
    llhls_cache_stats(c, &st);
    assert_int_equal(st.bytes, len);
    free(buf);
    llhls_object_unref(o);
    llhls_cache_destroy(c);
}

static void test_cache_complete_object_is_a_hit(void **state)
{
    (void)state;
    llhls_cache_t *c = llhls_cache_create(1 << 20);
    fill_complete(c, "/a/init.mp4", 3, 700, 60000, 1000);
    int must_fill = -1;
    llhls_object_t *o = lookup(c, "/a/init.mp4", 2000, &must_fill);
    assert_int_equal(must_fill, 0);
    assert_int_equal(llhls_object_state(o), LLHLS_OBJECT_COMPLETE);
    assert_int_equal(llhls_object_completed_ms(o), 1000);
    assert_body(o, 3, 700);
    llhls_cache_stats_t st;
    llhls_cache_stats(c, &st);
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.misses, 1);
    assert_int_equal(st.objects, 1);
    /* A second complete or a late head changes nothing. */
    llhls_object_complete(o, 9999);
    assert_int_equal(llhls_object_completed_ms(o), 1000);
    set_head(o, 404, 0, 1, 0);
    assert_int_equal(llhls_object_head(o)->status, 200);
    llhls_object_unref(o);
    llhls_cache_destroy(c);
}

static void test_cache_failure_leaves_at_once(void **state)
{
    (void)state;
    llhls_cache_t *c = llhls_cache_create(1 << 20);
    int must_fill;
    llhls_object_t *o = lookup(c, "/a/seg1.m4s", 0, &must_fill);
    llhls_object_t *reader = lookup(c, "/a/seg1.m4s", 0, &must_fill);
    counter_t w;
    counter_init(&w);
    llhls_object_watch(reader, &w.w);
    llhls_object_fail(o, 10, 0);
    assert_int_equal(w.calls, 1);
    assert_int_equal(w.last_state, LLHLS_OBJECT_FAILED);
    assert_null(llhls_object_head(reader));
    /* A failure is final. */
    llhls_object_complete(o, 20);
    assert_int_equal(llhls_object_state(o), LLHLS_OBJECT_FAILED);
    assert_int_equal(w.calls, 1);
    llhls_object_t *again = lookup(c, "/a/seg1.m4s", 11, &must_fill);
    assert_int_equal(must_fill, 1);
    assert_ptr_not_equal(again, o);
    llhls_object_unwatch(reader, &w.w);
    llhls_object_unref(reader);
    llhls_object_unref(o);
    llhls_object_fail(again, 12, 0);
    llhls_object_unref(again);
    llhls_cache_destroy(c);
}

static void test_cache_complete_without_head_is_a_failure(void **state)
{
    (void)state;
    llhls_cache_t *c = llhls_cache_create(1 << 20);
    int must_fill;
    llhls_object_t *o = lookup(c, "/a/x.m4s", 0, &must_fill);
    llhls_object_complete(o, 5);
    assert_int_equal(llhls_object_state(o), LLHLS_OBJECT_FAILED);
    llhls_object_unref(o);
    o = lookup(c, "/a/x.m4s", 6, &must_fill);
    assert_int_equal(must_fill, 1);
    llhls_object_unref(o);
    llhls_cache_destroy(c);
}

static void test_cache_negative_ttl_answers_failure_briefly(void **state)
{
    (void)state;
    llhls_cache_t *c = llhls_cache_create(1 << 20);
    int must_fill;
    llhls_object_t *o = lookup(c, "/a/gone.m4s", 100, &must_fill);
    llhls_object_fail(o, 100, 1000);
    llhls_object_unref(o);
    o = lookup(c, "/a/gone.m4s", 1099, &must_fill);
    assert_int_equal(must_fill, 0);
    assert_int_equal(llhls_object_state(o), LLHLS_OBJECT_FAILED);
    llhls_object_unref(o);
    llhls_cache_stats_t st;
    llhls_cache_stats(c, &st);
    assert_int_equal(st.hits, 1);
    o = lookup(c, "/a/gone.m4s", 1100, &must_fill);
    assert_int_equal(must_fill, 1);
    assert_int_equal(llhls_object_state(o), LLHLS_OBJECT_FILLING);
    llhls_cache_stats(c, &st);
    assert_int_equal(st.expirations, 1);
    assert_int_equal(st.misses, 2);
    llhls_object_fail(o, 1100, 0);
    llhls_object_unref(o);
    llhls_cache_destroy(c);
}

static void test_cache_expiry_counts_max_age_minus_upstream_age(void **state)
{
    (void)state;
    llhls_cache_t *c = llhls_cache_create(1 << 20);
    int must_fill;
    llhls_object_t *o = lookup(c, "/a/v.m3u8", 1000, &must_fill);
    set_head(o, 200, 5, 6000, 2000);
    assert_int_equal(llhls_object_append(o, "#EXTM", 5), 0);
    llhls_object_complete(o, 1000);
    /* Kept by this holder through the expiry. */
    llhls_object_t *held = o;
    o = lookup(c, "/a/v.m3u8", 4999, &must_fill);
    assert_int_equal(must_fill, 0);
    assert_ptr_equal(o, held);
    llhls_object_unref(o);
    o = lookup(c, "/a/v.m3u8", 5000, &must_fill);
    assert_int_equal(must_fill, 1);
    assert_ptr_not_equal(o, held);
    assert_int_equal(llhls_object_state(o), LLHLS_OBJECT_FILLING);
    const uint8_t *p;
    assert_int_equal(llhls_object_read(held, 0, &p), 5);
    assert_memory_equal(p, "#EXTM", 5);
    llhls_cache_stats_t st;
    llhls_cache_stats(c, &st);
    assert_int_equal(st.expirations, 1);
    assert_int_equal(st.objects, 1);
    llhls_object_unref(held);
    llhls_object_fail(o, 5000, 0);
    llhls_object_unref(o);
    llhls_cache_destroy(c);
}

static void test_cache_uncacheable_still_reaches_fill_readers(void **state)
{
    (void)state;
    llhls_cache_t *c = llhls_cache_create(1 << 20);
    int must_fill;
    llhls_object_t *o = lookup(c, "/a/v.m3u8?msn=9", 0, &must_fill);
    llhls_object_t *reader = lookup(c, "/a/v.m3u8?msn=9", 0, &must_fill);
    assert_int_equal(must_fill, 0);
    set_head(o, 200, UINT64_MAX, -1, 0);
    uint8_t buf[3000];
    fill_pattern(buf, sizeof(buf), 4, 0);
    assert_int_equal(llhls_object_append(o, buf, sizeof(buf)), 0);
    llhls_object_complete(o, 10);
    llhls_object_unref(o);
    assert_int_equal(llhls_object_state(reader), LLHLS_OBJECT_COMPLETE);
    assert_body(reader, 4, sizeof(buf));
    o = lookup(c, "/a/v.m3u8?msn=9", 10, &must_fill);
    assert_int_equal(must_fill, 1);
    llhls_object_fail(o, 10, 0);
    llhls_object_unref(o);
    llhls_object_unref(reader);
    /* Max-age 0 is no cache either. */
    fill_complete(c, "/a/zero", 1, 10, 0, 20);
    o = lookup(c, "/a/zero", 20, &must_fill);
    assert_int_equal(must_fill, 1);
    llhls_object_fail(o, 20, 0);
    llhls_object_unref(o);
    llhls_cache_destroy(c);
}

static void test_cache_evicts_least_recently_used(void **state)
{
    (void)state;
    const size_t sz = 30000;
    llhls_cache_t *c = llhls_cache_create(100000);
    fill_complete(c, "/a", 1, sz, 60000, 0);
    fill_complete(c, "/b", 2, sz, 60000, 1);
    fill_complete(c, "/c", 3, sz, 60000, 2);
    fill_complete(c, "/d", 4, sz, 60000, 3); /* 120000 > 100000: /a goes */
    llhls_cache_stats_t st;
    llhls_cache_stats(c, &st);
    assert_int_equal(st.evictions, 1);
    assert_int_equal(st.bytes, 3 * sz);
    assert_int_equal(st.objects, 3);
    int must_fill;
    /* A reader holds /c; /b and /d are used after it, so /c is the least
     * recently used. */
    llhls_object_t *held = lookup(c, "/c", 10, &must_fill);
    assert_int_equal(must_fill, 0);
    static const char *const touched[] = {"/b", "/d"};
    for (int i = 0; i < 2; i++) {
        llhls_object_t *o = lookup(c, touched[i], 11 + i, &must_fill);
        assert_int_equal(must_fill, 0);
        llhls_object_unref(o);
    }
    fill_complete(c, "/e", 5, sz, 60000, 13); /* /c leaves the table */
    llhls_cache_stats(c, &st);
    assert_int_equal(st.evictions, 2);
    assert_int_equal(st.objects, 3);
    /* The bound counts what the table holds; /c lives on for its reader. */
    assert_int_equal(st.bytes, 3 * sz);
    assert_body(held, 3, sz);
    llhls_object_unref(held);
    llhls_cache_stats(c, &st);
    assert_int_equal(st.bytes, 3 * sz);
    /* What stayed and what went. */
    static const char *const stayed[] = {"/b", "/d", "/e"};
    for (int i = 0; i < 3; i++) {
        llhls_object_t *o = lookup(c, stayed[i], 20, &must_fill);
        assert_int_equal(must_fill, 0);
        llhls_object_unref(o);
    }
    static const char *const gone[] = {"/a", "/c"};
    for (int i = 0; i < 2; i++) {
        llhls_object_t *o = lookup(c, gone[i], 20, &must_fill);
        assert_int_equal(must_fill, 1);
        llhls_object_fail(o, 20, 0);
        llhls_object_unref(o);
    }
    llhls_cache_destroy(c);
}

static void test_cache_resize_smaller_evicts_at_once(void **state)
{
    (void)state;
    const size_t sz = 30000;
    llhls_cache_t *c = llhls_cache_create(100000);
    fill_complete(c, "/a", 1, sz, 60000, 0);
    fill_complete(c, "/b", 2, sz, 60000, 1);
    fill_complete(c, "/c", 3, sz, 60000, 2);
    llhls_cache_resize(c, 2 * sz);
    llhls_cache_stats_t st;
    llhls_cache_stats(c, &st);
    assert_int_equal(st.evictions, 1);
    assert_int_equal(st.bytes, 2 * sz);
    int must_fill;
    llhls_object_t *o = lookup(c, "/a", 3, &must_fill); /* the oldest went */
    assert_int_equal(must_fill, 1);
    llhls_object_fail(o, 3, 0);
    llhls_object_unref(o);
    /* Larger again: nothing more goes, and more fits. */
    llhls_cache_resize(c, 4 * sz);
    fill_complete(c, "/d", 4, sz, 60000, 4);
    fill_complete(c, "/e", 5, sz, 60000, 5);
    llhls_cache_stats(c, &st);
    assert_int_equal(st.evictions, 1);
    assert_int_equal(st.objects, 4);
    llhls_cache_destroy(c);
}

static void test_cache_filling_objects_are_not_evicted(void **state)
{
    (void)state;
    llhls_cache_t *c = llhls_cache_create(50000);
    int must_fill;
    llhls_object_t *a = lookup(c, "/a", 0, &must_fill);
    llhls_object_t *b = lookup(c, "/b", 0, &must_fill);
    set_head(a, 200, 40000, 60000, 0);
    set_head(b, 200, 40000, 60000, 0);
    uint8_t buf[40000];
    fill_pattern(buf, sizeof(buf), 1, 0);
    assert_int_equal(llhls_object_append(a, buf, sizeof(buf)), 0);
    fill_pattern(buf, sizeof(buf), 2, 0);
    assert_int_equal(llhls_object_append(b, buf, sizeof(buf)), 0);
    /* Over the bound with nothing complete: both fills go on. */
    llhls_cache_stats_t st;
    llhls_cache_stats(c, &st);
    assert_int_equal(st.evictions, 0);
    assert_int_equal(st.bytes, 80000);
    llhls_object_complete(a, 1); /* a joins the LRU and is over the bound */
    llhls_object_complete(b, 2);
    llhls_cache_stats(c, &st);
    assert_int_equal(st.evictions, 1);
    assert_body(a, 1, 40000);
    assert_body(b, 2, 40000);
    llhls_object_unref(a);
    llhls_object_unref(b);
    llhls_cache_stats(c, &st);
    assert_int_equal(st.bytes, 40000);
    llhls_cache_destroy(c);
}

static void test_cache_object_over_bound_fails_too_big(void **state)
{
    (void)state;
    llhls_cache_t *c = llhls_cache_create(65536);
    int must_fill;
    llhls_object_t *o = lookup(c, "/a/huge.m4s", 0, &must_fill);
    counter_t w;
    counter_init(&w);
    llhls_object_watch(o, &w.w);
    set_head(o, 200, UINT64_MAX, 60000, 0);
    uint8_t buf[40000];
    memset(buf, 0xab, sizeof(buf));
    assert_int_equal(llhls_object_append(o, buf, sizeof(buf)), 0);
    assert_int_equal(llhls_object_append(o, buf, sizeof(buf)), -LLHLS_ETOOBIG);
    assert_int_equal(llhls_object_state(o), LLHLS_OBJECT_FAILED);
    assert_int_equal(w.last_state, LLHLS_OBJECT_FAILED);
    assert_int_equal(w.calls, 3);
    /* Nothing of the refused append was taken. */
    assert_int_equal(llhls_object_size(o), sizeof(buf));
    assert_int_equal(llhls_object_append(o, buf, 1), -LLHLS_EINVAL);
    llhls_object_t *again = lookup(c, "/a/huge.m4s", 1, &must_fill);
    assert_int_equal(must_fill, 1);
    llhls_object_unwatch(o, &w.w);
    llhls_object_unref(o);
    /* Announced too big: the same, with no chunk of that size made. */
    set_head(again, 200, 1 << 30, 60000, 0);
    assert_int_equal(llhls_object_append(again, buf, 10), 0);
    llhls_cache_stats_t st;
    llhls_cache_stats(c, &st);
    assert_true(st.bytes <= 65536);
    llhls_object_fail(again, 1, 0);
    llhls_object_unref(again);
    llhls_cache_destroy(c);
}

/* A watcher whose callback unwatches itself and another. */
typedef struct unwatcher {
    llhls_object_watcher_t w;
    int calls;
    llhls_object_watcher_t *also;
} unwatcher_t;

static void on_unwatch(llhls_object_watcher_t *w, llhls_object_t *o)
{
    unwatcher_t *u = w->ctx;
    u->calls++;
    llhls_object_unwatch(o, w);
    if (u->also != NULL)
        llhls_object_unwatch(o, u->also);
}

/* Frees itself from inside its callback, as a finished response does. */
static void on_unwatch_and_free(llhls_object_watcher_t *w, llhls_object_t *o)
{
    int *calls = w->ctx;
    (*calls)++;
    llhls_object_unwatch(o, w);
    free(w);
}

static void test_cache_watcher_unwatches_itself_and_another_in_callback(void **state)
{
    (void)state;
    llhls_cache_t *c = llhls_cache_create(1 << 20);
    int must_fill;
    llhls_object_t *o = lookup(c, "/a/x", 0, &must_fill);
    counter_t before, next, after;
    counter_init(&before);
    counter_init(&next);
    counter_init(&after);
    unwatcher_t u = {.w = {.cb = on_unwatch, .ctx = &u}, .also = &next.w};
    int freed_calls = 0;
    llhls_object_watcher_t *selfish = calloc(1, sizeof(*selfish));
    assert_non_null(selfish);
    selfish->cb = on_unwatch_and_free;
    selfish->ctx = &freed_calls;
    /* Watched in this order: before, u, next (removed by u before its
     * turn), selfish, after. */
    llhls_object_watch(o, &before.w);
    llhls_object_watch(o, &u.w);
    llhls_object_watch(o, &next.w);
    llhls_object_watch(o, selfish);
    llhls_object_watch(o, &after.w);
    set_head(o, 200, UINT64_MAX, 1000, 0);
    assert_int_equal(before.calls, 1);
    assert_int_equal(u.calls, 1);
    assert_int_equal(next.calls, 0);
    assert_int_equal(freed_calls, 1);
    assert_int_equal(after.calls, 1);
    assert_int_equal(llhls_object_append(o, "x", 1), 0);
    assert_int_equal(before.calls, 2);
    assert_int_equal(u.calls, 1);
    assert_int_equal(next.calls, 0);
    assert_int_equal(freed_calls, 1);
    assert_int_equal(after.calls, 2);
    /* Unwatching twice is harmless, and so is watching again. */
    llhls_object_unwatch(o, &u.w);
    llhls_object_watch(o, &next.w);
    llhls_object_complete(o, 1);
    assert_int_equal(next.calls, 1);
    assert_int_equal(next.last_state, LLHLS_OBJECT_COMPLETE);
    llhls_object_unwatch(o, &before.w);
    llhls_object_unwatch(o, &next.w);
    llhls_object_unwatch(o, &after.w);
    llhls_object_unref(o);
    llhls_cache_destroy(c);
}

/* A callback that drops the last reference it knows of. */
static void on_release(llhls_object_watcher_t *w, llhls_object_t *o)
{
    llhls_object_unwatch(o, w);
    llhls_object_unref(o);
    *(int *)w->ctx += 1;
}

static void test_cache_callback_may_drop_last_reference(void **state)
{
    (void)state;
    llhls_cache_t *c = llhls_cache_create(1 << 20);
    int must_fill, calls = 0;
    llhls_object_t *o = lookup(c, "/a/y", 0, &must_fill);
    llhls_object_watcher_t w = {.cb = on_release, .ctx = &calls};
    llhls_object_ref(o);
    llhls_object_watch(o, &w);
    llhls_cache_drop(c, "/a/y", 4);
    llhls_object_unref(o); /* the watcher's reference is now the only one */
    llhls_object_fail(o, 0, 0);
    assert_int_equal(calls, 1);
    llhls_cache_stats_t st;
    llhls_cache_stats(c, &st);
    assert_int_equal(st.objects, 0);
    llhls_cache_destroy(c);
}

static void test_cache_drop_makes_next_lookup_fill(void **state)
{
    (void)state;
    llhls_cache_t *c = llhls_cache_create(1 << 20);
    fill_complete(c, "/k", 1, 100, 60000, 0);
    llhls_cache_drop(c, "/k", 2);
    llhls_cache_drop(c, "/none", 5);
    int must_fill;
    llhls_object_t *o = lookup(c, "/k", 1, &must_fill);
    assert_int_equal(must_fill, 1);
    llhls_object_fail(o, 1, 0);
    llhls_object_unref(o);
    llhls_cache_destroy(c);
}

static void test_cache_table_grows_and_finds_every_key(void **state)
{
    (void)state;
    llhls_cache_t *c = llhls_cache_create(64 << 20);
    char key[32];
    for (int i = 0; i < 3000; i++) {
        snprintf(key, sizeof(key), "/s/part%d.m4s", i);
        fill_complete(c, key, (unsigned)i, 16, 60000, 0);
    }
    for (int i = 0; i < 3000; i++) {
        int must_fill;
        snprintf(key, sizeof(key), "/s/part%d.m4s", i);
        llhls_object_t *o = lookup(c, key, 1, &must_fill);
        assert_int_equal(must_fill, 0);
        assert_body(o, (unsigned)i, 16);
        llhls_object_unref(o);
    }
    llhls_cache_stats_t st;
    llhls_cache_stats(c, &st);
    assert_int_equal(st.objects, 3000);
    assert_int_equal(st.hits, 3000);
    llhls_cache_destroy(c);
}

static void test_cache_objects_outlive_destroy(void **state)
{
    (void)state;
    llhls_cache_t *c = llhls_cache_create(1 << 20);
    int must_fill;
    llhls_object_t *o = lookup(c, "/late", 0, &must_fill);
    llhls_cache_destroy(c);
    set_head(o, 200, 3, 1000, 0);
    assert_int_equal(llhls_object_append(o, "abc", 3), 0);
    llhls_object_complete(o, 1);
    const uint8_t *p;
    assert_int_equal(llhls_object_read(o, 0, &p), 3);
    assert_memory_equal(p, "abc", 3);
    llhls_object_unref(o);
}

/* ---- threads ---- */

#define MT_THREADS 8
#define MT_KEYS 6
#define MT_PIECES 200
#define MT_PIECE 3001

typedef struct mt_shared {
    llhls_cache_t *cache;
    int fills[MT_KEYS];
    pthread_mutex_t lock;
    pthread_barrier_t start;
} mt_shared_t;

typedef struct mt_thread {
    mt_shared_t *shared;
    unsigned index;
    uint64_t bytes_checked;
    int mismatches;
} mt_thread_t;

typedef struct mt_waiter {
    llhls_object_watcher_t w;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    uint64_t seq;
} mt_waiter_t;

static void on_mt_change(llhls_object_watcher_t *w, llhls_object_t *o)
{
    (void)o;
    mt_waiter_t *m = w->ctx;
    pthread_mutex_lock(&m->lock);
    m->seq++;
    pthread_cond_signal(&m->cond);
    pthread_mutex_unlock(&m->lock);
}

static void mt_fill(llhls_object_t *o, unsigned key)
{
    set_head(o, 200, UINT64_MAX, 600000, 0);
    uint8_t buf[MT_PIECE];
    for (uint64_t i = 0; i < MT_PIECES; i++) {
        fill_pattern(buf, sizeof(buf), key, i * MT_PIECE);
        if (llhls_object_append(o, buf, sizeof(buf)) != 0)
            abort();
        /* Slow enough that readers arrive while the bytes still come. */
        if (i % 8 == 0) {
            struct timespec ts = {0, 200 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    llhls_object_complete(o, 1);
}

static void mt_read(mt_thread_t *t, llhls_object_t *o, unsigned key)
{
    mt_waiter_t m;
    memset(&m, 0, sizeof(m));
    pthread_mutex_init(&m.lock, NULL);
    pthread_cond_init(&m.cond, NULL);
    m.w.cb = on_mt_change;
    m.w.ctx = &m;
    llhls_object_watch(o, &m.w);
    uint64_t off = 0;
    for (;;) {
        pthread_mutex_lock(&m.lock);
        uint64_t seen = m.seq;
        pthread_mutex_unlock(&m.lock);
        llhls_object_state_t st = llhls_object_state(o);
        const uint8_t *p;
        size_t n;
        while ((n = llhls_object_read(o, off, &p)) > 0) {
            for (size_t i = 0; i < n; i++)
                if (p[i] != pattern_byte(key, off + i))
                    t->mismatches++;
            off += n;
        }
        if (st != LLHLS_OBJECT_FILLING && off == llhls_object_size(o))
            break;
        pthread_mutex_lock(&m.lock);
        while (m.seq == seen)
            pthread_cond_wait(&m.cond, &m.lock);
        pthread_mutex_unlock(&m.lock);
    }
    llhls_object_unwatch(o, &m.w);
    if (llhls_object_state(o) != LLHLS_OBJECT_COMPLETE)
        t->mismatches++;
    t->bytes_checked += off;
    pthread_cond_destroy(&m.cond);
    pthread_mutex_destroy(&m.lock);
}

/* Every thread looks every key up at once, then fills what fell to it and
 * reads the rest while the other fills stream in: each key must have had
 * exactly one filler and every reader the filler's bytes. */
static void *mt_main(void *arg)
{
    mt_thread_t *t = arg;
    llhls_object_t *objs[MT_KEYS];
    int fills[MT_KEYS];
    char key[32];
    pthread_barrier_wait(&t->shared->start);
    for (unsigned j = 0; j < MT_KEYS; j++) {
        unsigned k = (j + t->index) % MT_KEYS;
        snprintf(key, sizeof(key), "/mt/%u.m4s", k);
        objs[k] = llhls_cache_lookup(t->shared->cache, key, strlen(key), 1, &fills[k]);
        if (fills[k]) {
            pthread_mutex_lock(&t->shared->lock);
            t->shared->fills[k]++;
            pthread_mutex_unlock(&t->shared->lock);
        }
    }
    pthread_barrier_wait(&t->shared->start);
    for (unsigned k = 0; k < MT_KEYS; k++)
        if (fills[k])
            mt_fill(objs[k], k);
    for (unsigned k = 0; k < MT_KEYS; k++) {
        if (!fills[k])
            mt_read(t, objs[k], k);
        llhls_object_unref(objs[k]);
    }
    return NULL;
}

static void test_cache_threads_share_one_fill_per_key(void **state)
{
    (void)state;
    mt_shared_t shared;
    memset(&shared, 0, sizeof(shared));
    shared.cache = llhls_cache_create(64 << 20);
    pthread_mutex_init(&shared.lock, NULL);
    pthread_barrier_init(&shared.start, NULL, MT_THREADS);
    pthread_t threads[MT_THREADS];
    mt_thread_t ts[MT_THREADS];
    for (unsigned i = 0; i < MT_THREADS; i++) {
        ts[i] = (mt_thread_t){.shared = &shared, .index = i};
        assert_int_equal(pthread_create(&threads[i], NULL, mt_main, &ts[i]), 0);
    }
    uint64_t total = 0;
    for (unsigned i = 0; i < MT_THREADS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(ts[i].mismatches, 0);
        total += ts[i].bytes_checked;
    }
    for (unsigned k = 0; k < MT_KEYS; k++)
        assert_int_equal(shared.fills[k], 1);
    /* Every thread that did not fill a key read all of it. */
    assert_int_equal(total, (uint64_t)(MT_THREADS * MT_KEYS - MT_KEYS) * MT_PIECES * MT_PIECE);
    llhls_cache_stats_t st;
    llhls_cache_stats(shared.cache, &st);
    assert_int_equal(st.misses, MT_KEYS);
    assert_int_equal(st.collapsed, MT_THREADS * MT_KEYS - MT_KEYS);
    assert_int_equal(st.hits, 0);
    pthread_barrier_destroy(&shared.start);
    pthread_mutex_destroy(&shared.lock);
    llhls_cache_destroy(shared.cache);
}

typedef struct slow_watcher {
    llhls_object_watcher_t w;
    atomic_int in_callback;
    atomic_int calls;
} slow_watcher_t;

static void on_slow(llhls_object_watcher_t *w, llhls_object_t *o)
{
    (void)o;
    slow_watcher_t *s = w->ctx;
    atomic_store(&s->in_callback, 1);
    atomic_fetch_add(&s->calls, 1);
    struct timespec ts = {0, 30 * 1000 * 1000};
    nanosleep(&ts, NULL);
    atomic_store(&s->in_callback, 0);
}

static void *append_one(void *arg)
{
    llhls_object_append(arg, "z", 1);
    return NULL;
}

static void test_cache_unwatch_waits_for_running_callback(void **state)
{
    (void)state;
    llhls_cache_t *c = llhls_cache_create(1 << 20);
    int must_fill;
    llhls_object_t *o = lookup(c, "/slow", 0, &must_fill);
    set_head(o, 200, UINT64_MAX, 1000, 0);
    slow_watcher_t *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    s->w.cb = on_slow;
    s->w.ctx = s;
    llhls_object_watch(o, &s->w);
    pthread_t filler;
    assert_int_equal(pthread_create(&filler, NULL, append_one, o), 0);
    while (atomic_load(&s->calls) == 0)
        sched_yield();
    /* The callback runs on the filler's thread; once unwatch returns it has
     * finished and w may be freed. */
    llhls_object_unwatch(o, &s->w);
    assert_int_equal(atomic_load(&s->in_callback), 0);
    free(s);
    pthread_join(filler, NULL);
    llhls_object_complete(o, 1);
    llhls_object_unref(o);
    llhls_cache_destroy(c);
}

static void test_cache_keeps_the_expired_answer_for_stale_if_error(void **state)
{
    llhls_cache_t *c = llhls_cache_create(1 << 20);
    fill_complete(c, "/p.m3u8", 7, 300, 1000, 0);
    int must_fill = 0;
    /* Expired: a new fill starts, and the old answer comes along with it. */
    llhls_object_t *o = lookup(c, "/p.m3u8", 2000, &must_fill);
    assert_int_equal(must_fill, 1);
    llhls_object_t *stale = llhls_object_stale(o);
    assert_non_null(stale);
    assert_body(stale, 7, 300);
    assert_int_equal(llhls_object_head(stale)->status, 200);
    /* Only one deep: the next generation keeps this one, not the old. */
    set_head(o, 200, 10, 1000, 0);
    uint8_t b[10];
    fill_pattern(b, 10, 8, 0);
    llhls_object_append(o, b, 10);
    llhls_object_complete(o, 2000);
    llhls_object_unref(o);
    o = lookup(c, "/p.m3u8", 4000, &must_fill);
    assert_non_null(llhls_object_stale(o));
    assert_body(llhls_object_stale(o), 8, 10);
    assert_null(llhls_object_stale(llhls_object_stale(o)));
    llhls_object_fail(o, 4000, 0);
    llhls_object_unref(o);
    /* A failed or non-200 answer is never kept as a stand-in. */
    o = lookup(c, "/p.m3u8", 4001, &must_fill);
    assert_int_equal(must_fill, 1);
    assert_null(llhls_object_stale(o));
    llhls_object_fail(o, 4001, 0);
    llhls_object_unref(o);
    llhls_cache_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache_lookups_collapse_onto_one_fill),
        cmocka_unit_test(test_cache_keeps_the_expired_answer_for_stale_if_error),
        cmocka_unit_test(test_cache_streams_bytes_as_they_arrive),
        cmocka_unit_test(test_cache_known_length_is_one_contiguous_chunk),
        cmocka_unit_test(test_cache_complete_object_is_a_hit),
        cmocka_unit_test(test_cache_failure_leaves_at_once),
        cmocka_unit_test(test_cache_complete_without_head_is_a_failure),
        cmocka_unit_test(test_cache_negative_ttl_answers_failure_briefly),
        cmocka_unit_test(test_cache_expiry_counts_max_age_minus_upstream_age),
        cmocka_unit_test(test_cache_uncacheable_still_reaches_fill_readers),
        cmocka_unit_test(test_cache_evicts_least_recently_used),
        cmocka_unit_test(test_cache_resize_smaller_evicts_at_once),
        cmocka_unit_test(test_cache_filling_objects_are_not_evicted),
        cmocka_unit_test(test_cache_object_over_bound_fails_too_big),
        cmocka_unit_test(test_cache_watcher_unwatches_itself_and_another_in_callback),
        cmocka_unit_test(test_cache_callback_may_drop_last_reference),
        cmocka_unit_test(test_cache_drop_makes_next_lookup_fill),
        cmocka_unit_test(test_cache_table_grows_and_finds_every_key),
        cmocka_unit_test(test_cache_objects_outlive_destroy),
        cmocka_unit_test(test_cache_threads_share_one_fill_per_key),
        cmocka_unit_test(test_cache_unwatch_waits_for_running_callback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
