/* Tests of the stream history: one-second buckets over five minutes,
 * parts counted once, jitter of part arrivals, the ring wrapping and the
 * bound on streams followed.  The clock is passed in. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "error.h"
#include "history.h"
#include "index.h"

#include <stdio.h>
#include <stdlib.h>

#define T0 1700000000000ll  /* a whole second, in ms */

static llhls_history_series_t *read_series(llhls_history_t *h, const char *name, int64_t now_ms)
{
    llhls_history_series_t *s = malloc(sizeof(*s));
    assert_non_null(s);
    assert_int_equal(llhls_history_read(h, name, now_ms, s), 0);
    return s;
}

static void test_history_buckets_bytes_and_parts_per_second(void **state)
{
    (void)state;
    llhls_history_t *h;
    assert_int_equal(llhls_history_create(&h), 0);
    llhls_history_note(h, "live/a", LLHLS_TRACK_VIDEO, 1, 0, 1000, 500000, T0 + 100);
    llhls_history_note(h, "live/a", LLHLS_TRACK_VIDEO, 1, 1, 3000, 500000, T0 + 600);
    llhls_history_note(h, "live/a", LLHLS_TRACK_AUDIO, 1, 0, 200, 500000, T0 + 700);
    llhls_history_note(h, "live/a", LLHLS_TRACK_VIDEO, 1, 2, 5000, 500000, T0 + 1100);
    /* Read during the third second: the two whole seconds before it are
     * the newest samples. */
    llhls_history_series_t *s = read_series(h, "live/a", T0 + 2500);
    assert_int_equal(s->start_ms, T0 + 2000 - LLHLS_HISTORY_SECONDS * 1000);
    assert_int_equal(s->bytes[LLHLS_HISTORY_SECONDS - 2], 4200);
    assert_int_equal(s->parts[LLHLS_HISTORY_SECONDS - 2], 3);
    assert_int_equal(s->bytes[LLHLS_HISTORY_SECONDS - 1], 5000);
    assert_int_equal(s->bytes[LLHLS_HISTORY_SECONDS - 3], 0);
    free(s);
    assert_int_equal(llhls_history_read(h, "live/none", T0, &(llhls_history_series_t){0}), -LLHLS_ENOTFOUND);
    llhls_history_destroy(h);
}

static void test_history_counts_a_part_told_twice_once(void **state)
{
    (void)state;
    llhls_history_t *h;
    assert_int_equal(llhls_history_create(&h), 0);
    /* The packager reports a track again when its segment completes. */
    llhls_history_note(h, "live/a", LLHLS_TRACK_VIDEO, 7, 3, 1000, 333000, T0 + 10);
    llhls_history_note(h, "live/a", LLHLS_TRACK_VIDEO, 7, 3, 1000, 333000, T0 + 20);
    llhls_history_series_t *s = read_series(h, "live/a", T0 + 1000);
    assert_int_equal(s->parts[LLHLS_HISTORY_SECONDS - 1], 1);
    assert_int_equal(s->bytes[LLHLS_HISTORY_SECONDS - 1], 1000);
    free(s);
    llhls_history_destroy(h);
}

static void test_history_jitter_is_the_worst_arrival_deviation_of_video(void **state)
{
    (void)state;
    llhls_history_t *h;
    assert_int_equal(llhls_history_create(&h), 0);
    /* Parts of 0.5 s arriving 0.5 s, 0.53 s and 0.48 s apart; audio parts
     * in between do not count once there is video. */
    llhls_history_note(h, "live/a", LLHLS_TRACK_VIDEO, 1, 0, 10, 500000, T0 + 0);
    llhls_history_note(h, "live/a", LLHLS_TRACK_AUDIO, 1, 0, 10, 500000, T0 + 100);
    llhls_history_note(h, "live/a", LLHLS_TRACK_VIDEO, 1, 1, 10, 500000, T0 + 500);
    llhls_history_note(h, "live/a", LLHLS_TRACK_VIDEO, 1, 2, 10, 500000, T0 + 1030);
    llhls_history_note(h, "live/a", LLHLS_TRACK_VIDEO, 1, 3, 10, 500000, T0 + 1510);
    llhls_history_series_t *s = read_series(h, "live/a", T0 + 2000);
    assert_int_equal(s->jitter_us[LLHLS_HISTORY_SECONDS - 2], 0);
    assert_int_equal(s->jitter_us[LLHLS_HISTORY_SECONDS - 1], 30000);
    free(s);
    llhls_history_destroy(h);
}

static void test_history_ring_forgets_after_five_minutes(void **state)
{
    (void)state;
    llhls_history_t *h;
    assert_int_equal(llhls_history_create(&h), 0);
    llhls_history_note(h, "live/a", LLHLS_TRACK_VIDEO, 1, 0, 111, 500000, T0);
    llhls_history_series_t *s = read_series(h, "live/a", T0 + 1000);
    assert_int_equal(s->bytes[LLHLS_HISTORY_SECONDS - 1], 111);
    free(s);
    /* Five minutes on, the same slot of the ring holds a new second. */
    int64_t later = T0 + LLHLS_HISTORY_SECONDS * 1000;
    llhls_history_note(h, "live/a", LLHLS_TRACK_VIDEO, 2, 0, 222, 500000, later);
    s = read_series(h, "live/a", later + 1000);
    assert_int_equal(s->bytes[LLHLS_HISTORY_SECONDS - 1], 222);
    for (int i = 0; i < LLHLS_HISTORY_SECONDS - 1; i++)
        assert_int_equal(s->bytes[i], 0);
    free(s);
    llhls_history_destroy(h);
}

static void test_history_bitrate_over_a_window(void **state)
{
    (void)state;
    llhls_history_t *h;
    assert_int_equal(llhls_history_create(&h), 0);
    for (int i = 0; i < 10; i++)
        llhls_history_note(h, "live/a", LLHLS_TRACK_VIDEO, 1, (uint32_t)i, 125000, 1000000, T0 + i * 1000);
    /* 125 kB a second is 1 Mbit/s, whole seconds only at a second's start. */
    assert_int_equal(llhls_history_bitrate(h, "live/a", T0 + 10000, 5000), 1000000);
    assert_int_equal(llhls_history_bitrate(h, "live/none", T0 + 10000, 5000), 0);
    llhls_history_destroy(h);
}

static void test_history_follows_a_bounded_number_of_streams(void **state)
{
    (void)state;
    llhls_history_t *h;
    assert_int_equal(llhls_history_create(&h), 0);
    char name[32];
    for (int i = 0; i <= LLHLS_HISTORY_STREAMS; i++) {
        snprintf(name, sizeof(name), "live/s%d", i);
        llhls_history_note(h, name, LLHLS_TRACK_VIDEO, 1, 0, 1, 1000, T0 + i);
    }
    /* The stream silent longest made room for the newest. */
    llhls_history_series_t s;
    assert_int_equal(llhls_history_read(h, "live/s0", T0 + 5000, &s), -LLHLS_ENOTFOUND);
    assert_int_equal(llhls_history_read(h, "live/s1", T0 + 5000, &s), 0);
    snprintf(name, sizeof(name), "live/s%d", LLHLS_HISTORY_STREAMS);
    assert_int_equal(llhls_history_read(h, name, T0 + 5000, &s), 0);
    llhls_history_forget(h, name);
    assert_int_equal(llhls_history_read(h, name, T0 + 5000, &s), -LLHLS_ENOTFOUND);
    llhls_history_destroy(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_history_buckets_bytes_and_parts_per_second),
        cmocka_unit_test(test_history_counts_a_part_told_twice_once),
        cmocka_unit_test(test_history_jitter_is_the_worst_arrival_deviation_of_video),
        cmocka_unit_test(test_history_ring_forgets_after_five_minutes),
        cmocka_unit_test(test_history_bitrate_over_a_window),
        cmocka_unit_test(test_history_follows_a_bounded_number_of_streams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
