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
        cmocka_unit_test(test_viewers_table_grows_and_stays_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
