/* Tests of the edge's cache keys: canonical directives whatever their order,
 * unknown parameters dropped, malformed directives refused with a sentence,
 * parts past the end of a segment folded onto the next, and the query sent
 * upstream. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "cache_key.h"
#include "error.h"
#include "playlist.h"

#include <string.h>

static int make(llhls_cache_key_t *k, const char *path, const char *query, const llhls_playlist_shape_t *shape,
                const char **why)
{
    *why = NULL;
    return llhls_cache_key_make(k, path, strlen(path), query, query ? strlen(query) : 0, shape, why);
}

/* The key of path?query, which must be valid. */
static void key_of(llhls_cache_key_t *k, const char *path, const char *query, const llhls_playlist_shape_t *shape)
{
    const char *why;
    assert_int_equal(make(k, path, query, shape, &why), 0);
    assert_null(why);
    assert_int_equal(k->len, strlen(k->s));
}

/* Asserts that path?query is refused as malformed, with a sentence. */
static void assert_refused(const char *path, const char *query)
{
    llhls_cache_key_t k;
    const char *why;
    assert_int_equal(make(&k, path, query, NULL, &why), -LLHLS_EINVAL);
    assert_non_null(why);
    assert_true(strlen(why) > 10);
}

static void test_cache_key_plain_playlist_is_its_path(void **state)
{
    (void)state;
    llhls_cache_key_t k;
    key_of(&k, "/live/a/video.m3u8", NULL, NULL);
    assert_string_equal(k.s, "/live/a/video.m3u8");
    assert_int_equal(k.is_playlist, 1);
    assert_int_equal(k.d.has_msn, 0);
    key_of(&k, "/live/a/video.m3u8", "", NULL);
    assert_string_equal(k.s, "/live/a/video.m3u8");
}

static void test_cache_key_directives_in_canonical_form(void **state)
{
    (void)state;
    llhls_cache_key_t k;
    key_of(&k, "/live/a/video.m3u8", "_HLS_msn=12&_HLS_part=3&_HLS_skip=YES", NULL);
    assert_string_equal(k.s, "/live/a/video.m3u8?msn=12&part=3&skip=1");
    assert_int_equal(k.len, strlen("/live/a/video.m3u8?msn=12&part=3&skip=1"));
    assert_int_equal(k.d.has_msn, 1);
    assert_int_equal(k.d.msn, 12);
    assert_int_equal(k.d.has_part, 1);
    assert_int_equal(k.d.part, 3);
    assert_int_equal(k.d.skip, LLHLS_SKIP_YES);
    key_of(&k, "/live/a/video.m3u8", "_HLS_skip=v2", NULL);
    assert_string_equal(k.s, "/live/a/video.m3u8?skip=2");
    key_of(&k, "/live/a/video.m3u8", "_HLS_msn=7", NULL);
    assert_string_equal(k.s, "/live/a/video.m3u8?msn=7");
}

static void test_cache_key_order_does_not_matter(void **state)
{
    (void)state;
    static const char *const queries[] = {
        "_HLS_msn=12&_HLS_part=3&_HLS_skip=YES", "_HLS_skip=YES&_HLS_part=3&_HLS_msn=12",
        "_HLS_part=3&_HLS_msn=12&_HLS_skip=YES", "_HLS_part=3&_HLS_skip=YES&_HLS_msn=12",
    };
    llhls_cache_key_t first, k;
    key_of(&first, "/a/b.m3u8", queries[0], NULL);
    for (size_t i = 1; i < sizeof(queries) / sizeof(queries[0]); i++) {
        key_of(&k, "/a/b.m3u8", queries[i], NULL);
        assert_string_equal(k.s, first.s);
    }
}

static void test_cache_key_unknown_parameters_ignored(void **state)
{
    (void)state;
    llhls_cache_key_t k;
    /* Lower-case and longer names are someone else's, and their values,
     * even malformed ones, are never decoded. */
    key_of(&k, "/a/b.m3u8", "token=abc%ZZ&_HLS_msn=5&t=123&&=x&_hls_msn=9&_HLS_msnx=1&", NULL);
    assert_string_equal(k.s, "/a/b.m3u8?msn=5");
    key_of(&k, "/a/b.m3u8", "token=secret&cb=99", NULL);
    assert_string_equal(k.s, "/a/b.m3u8");
}

static void test_cache_key_percent_encoded_values_decoded(void **state)
{
    (void)state;
    llhls_cache_key_t k;
    key_of(&k, "/a/b.m3u8", "_HLS_msn=%31%32&_HLS_skip=%59ES", NULL);
    assert_string_equal(k.s, "/a/b.m3u8?msn=12&skip=1");
}

static void test_cache_key_rejects_duplicate_directive(void **state)
{
    (void)state;
    assert_refused("/a/b.m3u8", "_HLS_msn=1&_HLS_msn=1");
    assert_refused("/a/b.m3u8", "_HLS_msn=1&_HLS_part=2&_HLS_part=3");
    assert_refused("/a/b.m3u8", "_HLS_skip=YES&_HLS_skip=v2");
}

static void test_cache_key_rejects_malformed_values(void **state)
{
    (void)state;
    assert_refused("/a/b.m3u8", "_HLS_msn=");
    assert_refused("/a/b.m3u8", "_HLS_msn");
    assert_refused("/a/b.m3u8", "_HLS_msn=-1");
    assert_refused("/a/b.m3u8", "_HLS_msn=1x");
    assert_refused("/a/b.m3u8", "_HLS_msn=+1");
    assert_refused("/a/b.m3u8", "_HLS_msn=1234567890123456789");
    assert_refused("/a/b.m3u8", "_HLS_part=1");
    assert_refused("/a/b.m3u8", "_HLS_msn=1&_HLS_part=4294967296");
    assert_refused("/a/b.m3u8", "_HLS_skip=yes");
    assert_refused("/a/b.m3u8", "_HLS_skip=");
    /* Percent-encoding: truncated, bad hex digits, a hidden NUL. */
    assert_refused("/a/b.m3u8", "_HLS_msn=1%3");
    assert_refused("/a/b.m3u8", "_HLS_msn=%");
    assert_refused("/a/b.m3u8", "_HLS_msn=%g1");
    assert_refused("/a/b.m3u8", "_HLS_msn=1%00");
    assert_refused("/a/b.m3u8", "_HLS_msn=000000000000000000000000000000000001");
}

static void test_cache_key_rejects_bad_paths(void **state)
{
    (void)state;
    llhls_cache_key_t k;
    const char *why;
    assert_int_equal(llhls_cache_key_make(&k, "/a/\0b.m3u8", 10, NULL, 0, NULL, &why), -LLHLS_EINVAL);
    assert_non_null(why);
    assert_refused("/a/../b.m3u8", NULL);
    assert_refused("/a/..", NULL);
    assert_refused("/a?b/c.m3u8", NULL);
    /* Dots inside a name are fine. */
    key_of(&k, "/a/..b/c..m4s", NULL, NULL);
    assert_string_equal(k.s, "/a/..b/c..m4s");

    char path[LLHLS_CACHE_KEY_MAX + 8];
    memset(path, 'a', sizeof(path) - 1);
    path[0] = '/';
    path[sizeof(path) - 1] = '\0';
    assert_int_equal(make(&k, path, NULL, NULL, &why), -LLHLS_ETOOBIG);
    /* A path that fits alone but not with its directives. */
    size_t n = LLHLS_CACHE_KEY_MAX - 8;
    memcpy(path + n - 5, ".m3u8", 6);
    assert_int_equal(make(&k, path, NULL, NULL, &why), 0);
    assert_int_equal(k.len, n);
    assert_int_equal(make(&k, path, "_HLS_msn=123", NULL, &why), -LLHLS_ETOOBIG);
}

static void test_cache_key_non_playlist_ignores_query(void **state)
{
    (void)state;
    llhls_cache_key_t k;
    key_of(&k, "/a/seg12.3.m4s", "_HLS_msn=12&_HLS_part=3&token=x", NULL);
    assert_string_equal(k.s, "/a/seg12.3.m4s");
    assert_int_equal(k.is_playlist, 0);
    assert_int_equal(k.d.has_msn, 0);
    /* Not even malformed directives matter there. */
    key_of(&k, "/a/init.mp4", "_HLS_msn=x&_HLS_msn=y", NULL);
    assert_string_equal(k.s, "/a/init.mp4");
    char q[64];
    assert_int_equal(llhls_cache_key_upstream_query(&k, q, sizeof(q)), 0);
    assert_string_equal(q, "");
}

static void test_cache_key_part_past_end_folds_onto_next_segment(void **state)
{
    (void)state;
    /* Segments 10 and 11 are complete with 4 parts each, 12 is under way. */
    static const uint16_t parts[] = {4, 4, 0};
    llhls_playlist_shape_t shape = {.first_msn = 10, .parts = parts, .n = 3};
    llhls_cache_key_t past, next;
    key_of(&past, "/a/v.m3u8", "_HLS_msn=11&_HLS_part=4", &shape);
    key_of(&next, "/a/v.m3u8", "_HLS_msn=12&_HLS_part=0", &shape);
    assert_string_equal(past.s, "/a/v.m3u8?msn=12&part=0");
    assert_string_equal(past.s, next.s);
    assert_int_equal(past.d.msn, 12);
    assert_int_equal(past.d.part, 0);
    /* The last part of a complete segment is itself. */
    key_of(&past, "/a/v.m3u8", "_HLS_msn=11&_HLS_part=3", &shape);
    assert_string_equal(past.s, "/a/v.m3u8?msn=11&part=3");
    /* Skip survives the fold. */
    key_of(&past, "/a/v.m3u8", "_HLS_skip=YES&_HLS_part=9&_HLS_msn=10", &shape);
    assert_string_equal(past.s, "/a/v.m3u8?msn=11&part=0&skip=1");
}

static void test_cache_key_fold_lands_on_part_zero_across_short_segments(void **state)
{
    (void)state;
    /* Short segments of 2 and 1 parts: a part far past the end of the first
     * is part 0 of the next, not a position counted on into later ones. */
    static const uint16_t parts[] = {2, 1, 1, 0};
    llhls_playlist_shape_t shape = {.first_msn = 100, .parts = parts, .n = 4};
    llhls_cache_key_t k;
    key_of(&k, "/a/v.m3u8", "_HLS_msn=100&_HLS_part=7", &shape);
    assert_string_equal(k.s, "/a/v.m3u8?msn=101&part=0");
    /* Each step folds only past its own segment's end. */
    key_of(&k, "/a/v.m3u8", "_HLS_msn=101&_HLS_part=1", &shape);
    assert_string_equal(k.s, "/a/v.m3u8?msn=102&part=0");
    key_of(&k, "/a/v.m3u8", "_HLS_msn=102&_HLS_part=5", &shape);
    assert_string_equal(k.s, "/a/v.m3u8?msn=103&part=0");
    key_of(&k, "/a/v.m3u8", "_HLS_msn=101&_HLS_part=0", &shape);
    assert_string_equal(k.s, "/a/v.m3u8?msn=101&part=0");
}

static void test_cache_key_no_fold_without_shape_or_complete_segment(void **state)
{
    (void)state;
    static const uint16_t parts[] = {4, 0};
    llhls_playlist_shape_t shape = {.first_msn = 10, .parts = parts, .n = 2};
    llhls_cache_key_t k;
    key_of(&k, "/a/v.m3u8", "_HLS_msn=10&_HLS_part=4", NULL);
    assert_string_equal(k.s, "/a/v.m3u8?msn=10&part=4");
    /* Segment 11 is not complete: its length is unknown. */
    key_of(&k, "/a/v.m3u8", "_HLS_msn=11&_HLS_part=9", &shape);
    assert_string_equal(k.s, "/a/v.m3u8?msn=11&part=9");
    /* Outside what the shape knows, on both sides. */
    key_of(&k, "/a/v.m3u8", "_HLS_msn=9&_HLS_part=9", &shape);
    assert_string_equal(k.s, "/a/v.m3u8?msn=9&part=9");
    key_of(&k, "/a/v.m3u8", "_HLS_msn=12&_HLS_part=9", &shape);
    assert_string_equal(k.s, "/a/v.m3u8?msn=12&part=9");
    /* _HLS_msn alone waits for the whole segment: nothing to fold. */
    key_of(&k, "/a/v.m3u8", "_HLS_msn=10", &shape);
    assert_string_equal(k.s, "/a/v.m3u8?msn=10");
}

static void test_cache_key_upstream_query_in_origin_syntax(void **state)
{
    (void)state;
    static const uint16_t parts[] = {4};
    llhls_playlist_shape_t shape = {.first_msn = 11, .parts = parts, .n = 1};
    llhls_cache_key_t k;
    char q[160];
    key_of(&k, "/a/v.m3u8", "_HLS_skip=YES&x=1&_HLS_part=3&_HLS_msn=12", NULL);
    assert_int_equal(llhls_cache_key_upstream_query(&k, q, sizeof(q)), strlen("_HLS_msn=12&_HLS_part=3&_HLS_skip=YES"));
    assert_string_equal(q, "_HLS_msn=12&_HLS_part=3&_HLS_skip=YES");
    key_of(&k, "/a/v.m3u8", "_HLS_skip=v2", NULL);
    llhls_cache_key_upstream_query(&k, q, sizeof(q));
    assert_string_equal(q, "_HLS_skip=v2");
    key_of(&k, "/a/v.m3u8", "_HLS_msn=11&_HLS_part=4", &shape);
    llhls_cache_key_upstream_query(&k, q, sizeof(q));
    assert_string_equal(q, "_HLS_msn=12&_HLS_part=0");
    key_of(&k, "/a/v.m3u8", "token=1", NULL);
    assert_int_equal(llhls_cache_key_upstream_query(&k, q, sizeof(q)), 0);
    assert_string_equal(q, "");
    /* Too small a buffer: nothing rather than half a directive. */
    key_of(&k, "/a/v.m3u8", "_HLS_msn=12345", NULL);
    char small[8];
    assert_int_equal(llhls_cache_key_upstream_query(&k, small, sizeof(small)), 0);
    assert_string_equal(small, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache_key_plain_playlist_is_its_path),
        cmocka_unit_test(test_cache_key_directives_in_canonical_form),
        cmocka_unit_test(test_cache_key_order_does_not_matter),
        cmocka_unit_test(test_cache_key_unknown_parameters_ignored),
        cmocka_unit_test(test_cache_key_percent_encoded_values_decoded),
        cmocka_unit_test(test_cache_key_rejects_duplicate_directive),
        cmocka_unit_test(test_cache_key_rejects_malformed_values),
        cmocka_unit_test(test_cache_key_rejects_bad_paths),
        cmocka_unit_test(test_cache_key_non_playlist_ignores_query),
        cmocka_unit_test(test_cache_key_part_past_end_folds_onto_next_segment),
        cmocka_unit_test(test_cache_key_fold_lands_on_part_zero_across_short_segments),
        cmocka_unit_test(test_cache_key_no_fold_without_shape_or_complete_segment),
        cmocka_unit_test(test_cache_key_upstream_query_in_origin_syntax),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
