/* Playlist shapes: part counts read from media playlists, and the cache key
 * folding they allow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "shapes.h"

static const char playlist[] = "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:40\n"
                               "#EXT-X-MAP:URI=\"video/init-0.mp4\"\n"
                               "#EXT-X-PROGRAM-DATE-TIME:2026-11-23T20:00:00.000Z\n#EXTINF:2.00000,\nvideo/40.m4s\n"
                               "#EXT-X-PROGRAM-DATE-TIME:2026-11-23T20:00:02.000Z\n"
                               "#EXT-X-PART:DURATION=0.30000,URI=\"video/41.0.m4s\",INDEPENDENT=YES\n"
                               "#EXT-X-PART:DURATION=0.30000,URI=\"video/41.1.m4s\"\n"
                               "#EXT-X-PART:DURATION=0.30000,URI=\"video/41.2.m4s\"\n"
                               "#EXTINF:0.90000,\nvideo/41.m4s\n"
                               "#EXT-X-PROGRAM-DATE-TIME:2026-11-23T20:00:02.900Z\n"
                               "#EXT-X-PART:DURATION=0.30000,URI=\"video/42.0.m4s\",INDEPENDENT=YES\n"
                               "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"video/42.1.m4s\"\n";

static void test_shape_counts_the_parts_of_complete_segments(void **state)
{
    llhls_shape_t s;
    assert_int_equal(llhls_shape_parse(playlist, strlen(playlist), &s), 0);
    assert_int_equal(s.first_msn, 40);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.parts[0], 0); /* its parts left the playlist: unknown */
    assert_int_equal(s.parts[1], 3);
}

static void test_shape_knows_where_the_playlist_ends(void **state)
{
    llhls_shape_t s;
    assert_int_equal(llhls_shape_parse(playlist, strlen(playlist), &s), 0);
    assert_true(s.tip.has_parts);
    assert_int_equal(s.tip.last_msn, 42);
    assert_int_equal(s.tip.last_part, 0);
    assert_false(s.tip.last_complete);
    assert_false(s.tip.ended);
    assert_int_equal(s.target_duration_s, 2);
    assert_int_equal(s.part_target_us, 0); /* no PART-INF in this one */

    const char *ended = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-PART-INF:PART-TARGET=0.33334\n"
                        "#EXT-X-MEDIA-SEQUENCE:7\n#EXT-X-PART:DURATION=0.3,URI=\"7.0.m4s\"\n"
                        "#EXT-X-PART:DURATION=0.3,URI=\"7.1.m4s\"\n#EXTINF:0.6,\n7.m4s\n#EXT-X-ENDLIST\n";
    assert_int_equal(llhls_shape_parse(ended, strlen(ended), &s), 0);
    assert_int_equal(s.tip.last_msn, 7);
    assert_int_equal(s.tip.last_part, 1);
    assert_true(s.tip.last_complete);
    assert_true(s.tip.ended);
    assert_int_equal(s.target_duration_s, 4);
    assert_int_equal(s.part_target_us, 333340);
}

static void test_shape_of_a_first_segment_still_open(void **state)
{
    const char *text = "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PART:DURATION=0.3,URI=\"0.0.m4s\"\n"
                       "#EXT-X-PART:DURATION=0.3,URI=\"0.1.m4s\"\n";
    llhls_shape_t s;
    assert_int_equal(llhls_shape_parse(text, strlen(text), &s), 0);
    assert_int_equal(s.n, 0);
    assert_int_equal(s.tip.last_msn, 0);
    assert_int_equal(s.tip.last_part, 1);
    assert_false(s.tip.last_complete);
}

static void test_shape_counts_across_a_skip(void **state)
{
    const char *delta = "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:10\n#EXT-X-SKIP:SKIPPED-SEGMENTS=5\n"
                        "#EXT-X-PART:DURATION=0.3,URI=\"a/15.0.m4s\"\n#EXTINF:0.3,\na/15.m4s\n";
    llhls_shape_t s;
    assert_int_equal(llhls_shape_parse(delta, strlen(delta), &s), 0);
    assert_int_equal(s.first_msn, 15);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.parts[0], 1);
    assert_int_equal(s.tip.last_msn, 15);
    assert_true(s.tip.last_complete);
}

static void test_shape_refuses_text_without_segments(void **state)
{
    llhls_shape_t s;
    assert_int_equal(llhls_shape_parse("#EXTM3U\n", 8, &s), -1);
    assert_int_equal(llhls_shape_parse("garbage", 7, &s), -1);
}

static void test_shapes_fold_part_past_the_end_onto_the_next_segment(void **state)
{
    llhls_shapes_t *s = llhls_shapes_create();
    const char *path = "/live/a/video.m3u8";
    llhls_shape_copy_t copy;
    assert_int_equal(llhls_shapes_get(s, path, strlen(path), &copy), -1);
    llhls_shapes_learn(s, path, strlen(path), playlist, strlen(playlist), 1000);
    assert_int_equal(llhls_shapes_get(s, path, strlen(path), &copy), 0);
    assert_int_equal(copy.current_ms, 1000);
    const llhls_playlist_shape_t *shape = &copy.folding;
    llhls_cache_key_t past, next;
    const char *why;
    const char *q1 = "_HLS_msn=41&_HLS_part=3", *q2 = "_HLS_part=0&_HLS_msn=42&token=abc";
    assert_int_equal(llhls_cache_key_make(&past, path, strlen(path), q1, strlen(q1), shape, &why), 0);
    assert_int_equal(llhls_cache_key_make(&next, path, strlen(path), q2, strlen(q2), shape, &why), 0);
    assert_string_equal(past.s, next.s);
    /* Another playlist learned nothing: no folding there. */
    assert_int_equal(llhls_shapes_get(s, "/live/a/audio.m3u8", 18, &copy), -1);
    llhls_shapes_destroy(s);
}

static void test_shapes_keep_the_newest_view(void **state)
{
    llhls_shapes_t *s = llhls_shapes_create();
    const char *path = "/p.m3u8";
    const char *newer = "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:50\n#EXT-X-PART:DURATION=1,URI=\"x\"\n#EXTINF:1,\n50.m4s\n";
    llhls_shapes_learn(s, path, strlen(path), newer, strlen(newer), 2000);
    llhls_shapes_learn(s, path, strlen(path), playlist, strlen(playlist), 3000); /* an old cached answer */
    llhls_shape_copy_t copy;
    assert_int_equal(llhls_shapes_get(s, path, strlen(path), &copy), 0);
    assert_int_equal(copy.folding.first_msn, 50);
    assert_int_equal(copy.shape.tip.last_msn, 50);
    assert_int_equal(copy.current_ms, 2000);
    /* The same view seen later is still the newest, and current later. */
    llhls_shapes_learn(s, path, strlen(path), newer, strlen(newer), 4000);
    assert_int_equal(llhls_shapes_get(s, path, strlen(path), &copy), 0);
    assert_int_equal(copy.current_ms, 4000);
    llhls_shapes_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape_counts_the_parts_of_complete_segments),
        cmocka_unit_test(test_shape_knows_where_the_playlist_ends),
        cmocka_unit_test(test_shape_of_a_first_segment_still_open),
        cmocka_unit_test(test_shape_counts_across_a_skip),
        cmocka_unit_test(test_shape_refuses_text_without_segments),
        cmocka_unit_test(test_shapes_fold_part_past_the_end_onto_the_next_segment),
        cmocka_unit_test(test_shapes_keep_the_newest_view),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
