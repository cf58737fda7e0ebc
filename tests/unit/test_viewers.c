/* Tests of viewers per stream at the edge: distinct connections counted
 * once per stream, forgotten after the window, paths without a stream
 * ignored, and the table's bounds.  The clock is passed in. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "viewers.h"

#include <stdio.h>
#include <string.h>

#define T0 1000000ll

typedef struct tally {
    char names[8][64];
    uint32_t counts[8];
    int n;
} tally_t;

static void collect(const char *stream, uint32_t n, void *ctx)
{
    tally_t *t = ctx;
    if (t->n < 8) {
        snprintf(t->names[t->n], sizeof(t->names[0]), "%s", stream);
        t->counts[t->n++] = n;
    }
}

static uint32_t count_of(const tally_t *t, const char *stream)
{
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->names[i], stream) == 0)
            return t->counts[i];
    return 0;
}

static void seen(llhls_viewers_t *v, const char *path, uint64_t conn, int64_t now)
{
    llhls_viewers_seen(v, path, strlen(path), conn, now);
}

static void test_viewers_counts_each_connection_once_per_stream(void **state)
{
    (void)state;
    llhls_viewers_t *v = llhls_viewers_create();
    assert_non_null(v);
    /* Connection 1 plays live/a (playlist and parts); 2 and 3 too; 3 also
     * watches live/b. */
    seen(v, "/live/a/video.m3u8", 1, T0);
    seen(v, "/live/a/video/4.1.m4s", 1, T0 + 10);
    seen(v, "/live/a/index.m3u8", 2, T0 + 20);
    seen(v, "/live/a/audio.m3u8", 3, T0 + 30);
    seen(v, "/live/b~8k/video.m3u8", 3, T0 + 40);
    tally_t t = {0};
    assert_int_equal(llhls_viewers_each(v, T0 + 100, collect, &t), 4);
    assert_int_equal(t.n, 2);
    assert_int_equal(count_of(&t, "live/a"), 3);
    assert_int_equal(count_of(&t, "live/b~8k"), 1);
    llhls_viewers_destroy(v);
}

static void test_viewers_forgets_connections_after_the_window(void **state)
{
    (void)state;
    llhls_viewers_t *v = llhls_viewers_create();
    seen(v, "/live/a/video.m3u8", 1, T0);
    seen(v, "/live/a/video.m3u8", 2, T0 + 5000);
    tally_t t = {0};
    assert_int_equal(llhls_viewers_each(v, T0 + LLHLS_VIEWER_WINDOW_MS, collect, &t), 2);
    t = (tally_t){0};
    assert_int_equal(llhls_viewers_each(v, T0 + LLHLS_VIEWER_WINDOW_MS + 1, collect, &t), 1);
    /* A request again makes it a viewer again. */
    seen(v, "/live/a/video/9.0.m4s", 1, T0 + LLHLS_VIEWER_WINDOW_MS + 2);
    assert_int_equal(llhls_viewers_each(v, T0 + LLHLS_VIEWER_WINDOW_MS + 3, NULL, NULL), 2);
    t = (tally_t){0};
    assert_int_equal(llhls_viewers_each(v, T0 + 60000, collect, &t), 0);
    assert_int_equal(t.n, 0);
    llhls_viewers_destroy(v);
}

static void test_viewers_ignore_paths_without_a_stream(void **state)
{
    (void)state;
    llhls_viewers_t *v = llhls_viewers_create();
    seen(v, "/metrics", 1, T0);
    seen(v, "/healthz", 2, T0);
    seen(v, "/live/a", 3, T0);
    seen(v, "/live/a/", 4, T0);
    seen(v, "//a/video.m3u8", 5, T0);
    seen(v, "/live//video.m3u8", 6, T0);
    seen(v, "/live/a/video.m3u8", 0, T0);
    assert_int_equal(llhls_viewers_each(v, T0, NULL, NULL), 0);
    llhls_viewers_destroy(v);
}

static void test_viewers_ignore_names_a_publisher_cannot_have(void **state)
{
    (void)state;
    llhls_viewers_t *v = llhls_viewers_create();
    /* What h2o hands over is percent-decoded: quotes, newlines and spaces
     * would break a /metrics label. */
    seen(v, "/live/a\"} 9\nx/video.m3u8", 1, T0);
    seen(v, "/live/a b/video.m3u8", 2, T0);
    seen(v, "/live/.hidden/video.m3u8", 3, T0);
    seen(v, "/li\\ve/a/video.m3u8", 4, T0);
    char longer[200];
    snprintf(longer, sizeof(longer), "/live/%065d/video.m3u8", 7);
    seen(v, longer, 5, T0);
    assert_int_equal(llhls_viewers_each(v, T0, NULL, NULL), 0);
    /* The longest names allowed, and a rendition mark, are streams. */
    char longest[200];
    snprintf(longest, sizeof(longest), "/%064d/%064d/video.m3u8", 1, 2);
    seen(v, longest, 6, T0);
    seen(v, "/live/event~8k/video.m3u8", 7, T0);
    seen(v, "/Live_1/a.b-c/video/3.2.m4s", 8, T0);
    tally_t t = {0};
    assert_int_equal(llhls_viewers_each(v, T0, collect, &t), 3);
    assert_int_equal(count_of(&t, "live/event~8k"), 1);
    assert_int_equal(count_of(&t, "Live_1/a.b-c"), 1);
    assert_int_equal(strlen(longest + 1) - strlen("/video.m3u8"), 129);
    llhls_viewers_destroy(v);
}

static void find_late(const char *stream, uint32_t n, void *ctx)
{
    if (strcmp(stream, "live/late") == 0 || strcmp(stream, "live/s0") == 0)
        collect(stream, n, ctx);
}

static void test_viewers_count_a_bounded_number_of_streams(void **state)
{
    (void)state;
    llhls_viewers_t *v = llhls_viewers_create();
    char path[64];
    for (int i = 0; i < LLHLS_VIEWER_STREAMS; i++) {
        snprintf(path, sizeof(path), "/live/s%d/video.m3u8", i);
        seen(v, path, (uint64_t)i + 1, T0);
    }
    /* One stream more while all are watched: not counted, and the others
     * keep their counts. */
    seen(v, "/live/late/video.m3u8", 5000, T0 + 1);
    tally_t t = {0};
    assert_int_equal(llhls_viewers_each(v, T0 + 1, NULL, NULL), LLHLS_VIEWER_STREAMS);
    /* Once one stream has had no request for the window, a new stream
     * takes its place and starts from its own viewers only. */
    for (int i = 1; i < LLHLS_VIEWER_STREAMS; i++) {
        snprintf(path, sizeof(path), "/live/s%d/video.m3u8", i);
        seen(v, path, (uint64_t)i + 1, T0 + 6000);
    }
    seen(v, "/live/late/video.m3u8", 5000, T0 + LLHLS_VIEWER_WINDOW_MS + 1);
    seen(v, "/live/late/video.m3u8", 1, T0 + LLHLS_VIEWER_WINDOW_MS + 2);
    assert_int_equal(llhls_viewers_each(v, T0 + LLHLS_VIEWER_WINDOW_MS + 2, find_late, &t), LLHLS_VIEWER_STREAMS + 1);
    assert_int_equal(t.n, 1);
    assert_int_equal(count_of(&t, "live/late"), 2);
    llhls_viewers_destroy(v);
}

static void test_viewers_table_grows_and_stays_bounded(void **state)
{
    (void)state;
    llhls_viewers_t *v = llhls_viewers_create();
    /* More connections than the table's first size, then more than its
     * bound: the first are all counted, the excess is not. */
    for (uint64_t c = 1; c <= 5000; c++)
        seen(v, "/live/a/video.m3u8", c, T0);
    assert_int_equal(llhls_viewers_each(v, T0, NULL, NULL), 5000);
    for (uint64_t c = 1; c <= LLHLS_VIEWER_ENTRIES; c++)
        seen(v, "/live/b/video.m3u8", c, T0 + 1);
    uint64_t total = llhls_viewers_each(v, T0 + 1, NULL, NULL);
    assert_true(total <= (uint64_t)LLHLS_VIEWER_ENTRIES * 3 / 4);
    assert_true(total > (uint64_t)LLHLS_VIEWER_ENTRIES / 2);
    /* Once the window has passed, stale pairs make room again. */
    seen(v, "/live/c/video.m3u8", 1, T0 + LLHLS_VIEWER_WINDOW_MS + 10);
    tally_t t = {0};
    assert_int_equal(llhls_viewers_each(v, T0 + LLHLS_VIEWER_WINDOW_MS + 10, collect, &t), 1);
    assert_int_equal(count_of(&t, "live/c"), 1);
    llhls_viewers_destroy(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_viewers_counts_each_connection_once_per_stream),
        cmocka_unit_test(test_viewers_forgets_connections_after_the_window),
        cmocka_unit_test(test_viewers_ignore_paths_without_a_stream),
        cmocka_unit_test(test_viewers_ignore_names_a_publisher_cannot_have),
        cmocka_unit_test(test_viewers_count_a_bounded_number_of_streams),
        cmocka_unit_test(test_viewers_table_grows_and_stays_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
