/* Tests of the LL-HLS delivery directives: query parsing, the blocking
 * decision for playlist requests and the decision for part requests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "directives.h"
#include "error.h"
#include "playlist.h"

#include <string.h>

static int parse(llhls_directives_t *d, const char *msn, const char *part, const char *skip, const char **why)
{
    *why = NULL;
    return llhls_directives_parse(d, msn, part, skip, why);
}

static void test_directives_parse_absent_is_empty(void **state)
{
    (void)state;
    llhls_directives_t d;
    const char *why;
    memset(&d, 0xff, sizeof(d));
    assert_int_equal(parse(&d, NULL, NULL, NULL, &why), 0);
    assert_int_equal(d.has_msn, 0);
    assert_int_equal(d.has_part, 0);
    assert_int_equal(d.skip, LLHLS_SKIP_NONE);
    assert_null(why);
}

static void test_directives_parse_msn_and_part(void **state)
{
    (void)state;
    llhls_directives_t d;
    const char *why;
    assert_int_equal(parse(&d, "273", "2", NULL, &why), 0);
    assert_int_equal(d.has_msn, 1);
    assert_int_equal(d.has_part, 1);
    assert_int_equal(d.msn, 273);
    assert_int_equal(d.part, 2);
    assert_int_equal(parse(&d, "0", "0", NULL, &why), 0);
    assert_int_equal(d.msn, 0);
    assert_int_equal(d.part, 0);
    assert_int_equal(d.has_part, 1);
    assert_int_equal(parse(&d, "41", NULL, NULL, &why), 0);
    assert_int_equal(d.has_msn, 1);
    assert_int_equal(d.has_part, 0);
    assert_int_equal(d.msn, 41);
}

static void test_directives_parse_accepts_eighteen_digits(void **state)
{
    (void)state;
    llhls_directives_t d;
    const char *why;
    assert_int_equal(parse(&d, "999999999999999999", NULL, NULL, &why), 0);
    assert_true(d.msn == 999999999999999999ull);
    assert_int_equal(parse(&d, "1", "4294967295", NULL, &why), 0);
    assert_true(d.part == 4294967295u);
}

static void test_directives_parse_rejects_nineteen_digits(void **state)
{
    (void)state;
    llhls_directives_t d;
    const char *why;
    assert_int_equal(parse(&d, "1000000000000000000", NULL, NULL, &why), -LLHLS_EINVAL);
    assert_string_equal(why, "_HLS_msn must be a decimal number of at most 18 digits");
    assert_int_equal(parse(&d, "1", "0000000000000000001", NULL, &why), -LLHLS_EINVAL);
    assert_string_equal(why, "_HLS_part must be a decimal number of at most 18 digits");
}

static void test_directives_parse_rejects_part_over_32_bits(void **state)
{
    (void)state;
    llhls_directives_t d;
    const char *why;
    assert_int_equal(parse(&d, "1", "4294967296", NULL, &why), -LLHLS_EINVAL);
    assert_string_equal(why, "_HLS_part is out of range");
}

static void test_directives_parse_rejects_negative_and_signs(void **state)
{
    (void)state;
    llhls_directives_t d;
    const char *why;
    assert_int_equal(parse(&d, "-1", NULL, NULL, &why), -LLHLS_EINVAL);
    assert_string_equal(why, "_HLS_msn must be a decimal number of at most 18 digits");
    assert_int_equal(parse(&d, "+5", NULL, NULL, &why), -LLHLS_EINVAL);
    assert_int_equal(parse(&d, "5", "-1", NULL, &why), -LLHLS_EINVAL);
    assert_string_equal(why, "_HLS_part must be a decimal number of at most 18 digits");
    assert_int_equal(parse(&d, "5", "+1", NULL, &why), -LLHLS_EINVAL);
}

static void test_directives_parse_rejects_non_numeric(void **state)
{
    (void)state;
    llhls_directives_t d;
    const char *why;
    const char *bad[] = {"", "abc", "12a", "0x10", "1.5", "1e3", "\xc2\xb3"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(parse(&d, bad[i], NULL, NULL, &why), -LLHLS_EINVAL);
        assert_int_equal(parse(&d, "3", bad[i], NULL, &why), -LLHLS_EINVAL);
    }
}

static void test_directives_parse_rejects_spaces(void **state)
{
    (void)state;
    llhls_directives_t d;
    const char *why;
    assert_int_equal(parse(&d, " 5", NULL, NULL, &why), -LLHLS_EINVAL);
    assert_int_equal(parse(&d, "5 ", NULL, NULL, &why), -LLHLS_EINVAL);
    assert_int_equal(parse(&d, "5", " 1", NULL, &why), -LLHLS_EINVAL);
    assert_int_equal(parse(&d, "5", "1\t", NULL, &why), -LLHLS_EINVAL);
}

static void test_directives_parse_rejects_part_without_msn(void **state)
{
    (void)state;
    llhls_directives_t d;
    const char *why;
    assert_int_equal(parse(&d, NULL, "2", NULL, &why), -LLHLS_EINVAL);
    assert_string_equal(why, "_HLS_part requires _HLS_msn");
    /* why may be left out by a caller that only wants the verdict. */
    assert_int_equal(llhls_directives_parse(&d, NULL, "2", NULL, NULL), -LLHLS_EINVAL);
}

static void test_directives_parse_skip_values(void **state)
{
    (void)state;
    llhls_directives_t d;
    const char *why;
    assert_int_equal(parse(&d, NULL, NULL, "YES", &why), 0);
    assert_int_equal(d.skip, LLHLS_SKIP_YES);
    assert_int_equal(parse(&d, "10", "1", "v2", &why), 0);
    assert_int_equal(d.skip, LLHLS_SKIP_V2);
    assert_int_equal(d.msn, 10);
    const char *bad[] = {"", "yes", "NO", "V2", "v3", "YES ", "YESS"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(parse(&d, NULL, NULL, bad[i], &why), -LLHLS_EINVAL);
        assert_string_equal(why, "_HLS_skip must be YES or v2");
    }
}

static void test_directives_advance_part_limit(void **state)
{
    (void)state;
    assert_int_equal(llhls_advance_part_limit(1000000), 3);
    assert_int_equal(llhls_advance_part_limit(2000000), 3);
    assert_int_equal(llhls_advance_part_limit(500000), 6);
    assert_int_equal(llhls_advance_part_limit(200000), 15);
    /* 3 / 0.333334 s is 8.99998: rounded up, not down. */
    assert_int_equal(llhls_advance_part_limit(333334), 9);
    assert_int_equal(llhls_advance_part_limit(333333), 10);
    assert_int_equal(llhls_advance_part_limit(0), 3);
}

/* Segment 100 in progress with parts 0..3 published. */
static llhls_position_t live_pos(uint64_t msn, uint32_t part, int complete)
{
    llhls_position_t p = {
        .has_parts = 1, .last_complete = (uint8_t)complete, .ended = 0, .last_msn = msn, .last_part = part};
    return p;
}

static llhls_directives_t dir(int has_msn, uint64_t msn, int has_part, uint32_t part)
{
    llhls_directives_t d = {.has_msn = (uint8_t)has_msn, .has_part = (uint8_t)has_part, .msn = msn, .part = part};
    return d;
}

#define PT 500000 /* advance part limit 6 */

static llhls_block_t decide(llhls_directives_t d, llhls_position_t p, const char **why)
{
    *why = NULL;
    return llhls_block_decide(&d, &p, PT, why);
}

static void test_block_without_directive_is_ready(void **state)
{
    (void)state;
    const char *why;
    assert_int_equal(decide(dir(0, 0, 0, 0), live_pos(100, 3, 0), &why), LLHLS_BLOCK_READY);
    llhls_position_t none = {0};
    assert_int_equal(decide(dir(0, 0, 0, 0), none, &why), LLHLS_BLOCK_READY);
}

static void test_block_part_without_msn_is_bad(void **state)
{
    (void)state;
    const char *why;
    assert_int_equal(decide(dir(0, 0, 1, 2), live_pos(100, 3, 0), &why), LLHLS_BLOCK_BAD);
    assert_string_equal(why, "_HLS_part requires _HLS_msn");
}

static void test_block_ended_ignores_directives(void **state)
{
    (void)state;
    const char *why;
    llhls_position_t p = live_pos(100, 3, 1);
    p.ended = 1;
    assert_int_equal(decide(dir(1, 101, 0, 0), p, &why), LLHLS_BLOCK_READY);
    /* Even what would be refused on a live stream. */
    assert_int_equal(decide(dir(1, 500, 1, 0), p, &why), LLHLS_BLOCK_READY);
    assert_int_equal(decide(dir(1, 100, 1, 60), p, &why), LLHLS_BLOCK_READY);
}

static void test_block_msn_more_than_two_ahead_is_bad(void **state)
{
    (void)state;
    const char *why;
    assert_int_equal(decide(dir(1, 103, 0, 0), live_pos(100, 3, 0), &why), LLHLS_BLOCK_BAD);
    assert_string_equal(why, "_HLS_msn is more than two segments past the end of the playlist");
    assert_int_equal(decide(dir(1, 103, 1, 0), live_pos(100, 3, 1), &why), LLHLS_BLOCK_BAD);
    assert_int_equal(decide(dir(1, 102, 0, 0), live_pos(100, 3, 0), &why), LLHLS_BLOCK_WAIT);
}

static void test_block_old_msn_is_ready(void **state)
{
    (void)state;
    const char *why;
    assert_int_equal(decide(dir(1, 99, 0, 0), live_pos(100, 3, 0), &why), LLHLS_BLOCK_READY);
    assert_int_equal(decide(dir(1, 2, 1, 7), live_pos(100, 3, 0), &why), LLHLS_BLOCK_READY);
    /* Part numbers of an older segment do not matter, however large. */
    assert_int_equal(decide(dir(1, 99, 1, 4000000000u), live_pos(100, 3, 0), &why), LLHLS_BLOCK_READY);
}

static void test_block_msn_alone_waits_for_complete_segment(void **state)
{
    (void)state;
    const char *why;
    assert_int_equal(decide(dir(1, 100, 0, 0), live_pos(100, 3, 0), &why), LLHLS_BLOCK_WAIT);
    assert_int_equal(decide(dir(1, 100, 0, 0), live_pos(100, 3, 1), &why), LLHLS_BLOCK_READY);
    assert_int_equal(decide(dir(1, 101, 0, 0), live_pos(100, 3, 1), &why), LLHLS_BLOCK_WAIT);
}

static void test_block_part_present_is_ready(void **state)
{
    (void)state;
    const char *why;
    assert_int_equal(decide(dir(1, 100, 1, 3), live_pos(100, 3, 0), &why), LLHLS_BLOCK_READY);
    assert_int_equal(decide(dir(1, 100, 1, 0), live_pos(100, 3, 0), &why), LLHLS_BLOCK_READY);
}

static void test_block_next_parts_wait(void **state)
{
    (void)state;
    const char *why;
    /* The hinted part, in the same segment and in the next one. */
    assert_int_equal(decide(dir(1, 100, 1, 4), live_pos(100, 3, 0), &why), LLHLS_BLOCK_WAIT);
    assert_int_equal(decide(dir(1, 101, 1, 0), live_pos(100, 3, 1), &why), LLHLS_BLOCK_WAIT);
    /* Past the end of a complete segment: satisfied by part 0 of the next,
     * so it waits (and becomes ready once segment 101 starts). */
    assert_int_equal(decide(dir(1, 100, 1, 5), live_pos(100, 3, 1), &why), LLHLS_BLOCK_WAIT);
    assert_int_equal(decide(dir(1, 100, 1, 5), live_pos(101, 0, 0), &why), LLHLS_BLOCK_READY);
}

static void test_block_part_at_advance_limit_waits(void **state)
{
    (void)state;
    const char *why;
    /* Limit 6 at a 0.5 s part target: part 3 + 6 is the last one held. */
    assert_int_equal(decide(dir(1, 100, 1, 9), live_pos(100, 3, 0), &why), LLHLS_BLOCK_WAIT);
    assert_int_equal(decide(dir(1, 101, 1, 5), live_pos(100, 3, 0), &why), LLHLS_BLOCK_WAIT);
    assert_int_equal(decide(dir(1, 102, 1, 4), live_pos(100, 3, 0), &why), LLHLS_BLOCK_WAIT);
}

static void test_block_part_beyond_advance_limit_is_bad(void **state)
{
    (void)state;
    const char *why;
    assert_int_equal(decide(dir(1, 100, 1, 10), live_pos(100, 3, 0), &why), LLHLS_BLOCK_BAD);
    assert_string_equal(why, "_HLS_part is beyond the advance part limit");
    assert_int_equal(decide(dir(1, 101, 1, 6), live_pos(100, 3, 0), &why), LLHLS_BLOCK_BAD);
    assert_int_equal(decide(dir(1, 102, 1, 5), live_pos(100, 3, 0), &why), LLHLS_BLOCK_BAD);
    assert_int_equal(decide(dir(1, 100, 1, 4000000000u), live_pos(100, 3, 0), &why), LLHLS_BLOCK_BAD);
    /* A one-second part target allows three parts only. */
    llhls_directives_t d = dir(1, 100, 1, 7);
    llhls_position_t p = live_pos(100, 3, 0);
    assert_int_equal(llhls_block_decide(&d, &p, 1000000, &why), LLHLS_BLOCK_BAD);
    d.part = 6;
    assert_int_equal(llhls_block_decide(&d, &p, 1000000, &why), LLHLS_BLOCK_WAIT);
}

static void test_block_before_first_part(void **state)
{
    (void)state;
    const char *why;
    llhls_position_t none = {0};
    assert_int_equal(decide(dir(1, 0, 0, 0), none, &why), LLHLS_BLOCK_WAIT);
    assert_int_equal(decide(dir(1, 0, 1, 0), none, &why), LLHLS_BLOCK_WAIT);
    assert_int_equal(decide(dir(1, 2, 0, 0), none, &why), LLHLS_BLOCK_WAIT);
    assert_int_equal(decide(dir(1, 3, 0, 0), none, &why), LLHLS_BLOCK_BAD);
    assert_string_equal(why, "_HLS_msn is more than two segments past the end of the playlist");
    assert_int_equal(decide(dir(1, 0, 1, 6), none, &why), LLHLS_BLOCK_BAD);
    assert_string_equal(why, "_HLS_part is beyond the advance part limit");
}

static llhls_part_state_t part(uint64_t msn, uint32_t n, int present, llhls_position_t p)
{
    return llhls_part_decide(msn, n, present, &p);
}

static void test_part_present_is_served(void **state)
{
    (void)state;
    assert_int_equal(part(100, 2, 1, live_pos(100, 3, 0)), LLHLS_PART_PRESENT);
    assert_int_equal(part(90, 0, 1, live_pos(100, 3, 0)), LLHLS_PART_PRESENT);
    llhls_position_t p = live_pos(100, 3, 1);
    p.ended = 1;
    assert_int_equal(part(100, 3, 1, p), LLHLS_PART_PRESENT);
}

static void test_part_hinted_is_pending(void **state)
{
    (void)state;
    assert_int_equal(part(100, 4, 0, live_pos(100, 3, 0)), LLHLS_PART_PENDING);
    assert_int_equal(part(101, 0, 0, live_pos(100, 3, 1)), LLHLS_PART_PENDING);
    /* Part 0 of the next segment while the current one is still open. */
    assert_int_equal(part(101, 0, 0, live_pos(100, 3, 0)), LLHLS_PART_PENDING);
    llhls_position_t none = {0};
    assert_int_equal(part(0, 0, 0, none), LLHLS_PART_PENDING);
}

static void test_part_hinted_on_ended_stream_is_gone(void **state)
{
    (void)state;
    llhls_position_t p = live_pos(100, 3, 1);
    p.ended = 1;
    assert_int_equal(part(101, 0, 0, p), LLHLS_PART_GONE);
    p.last_complete = 0;
    assert_int_equal(part(100, 4, 0, p), LLHLS_PART_GONE);
}

static void test_part_slightly_ahead_is_pending(void **state)
{
    (void)state;
    assert_int_equal(part(100, 6, 0, live_pos(100, 3, 0)), LLHLS_PART_PENDING);
    assert_int_equal(part(101, 2, 0, live_pos(100, 3, 1)), LLHLS_PART_PENDING);
}

static void test_part_far_ahead_is_gone(void **state)
{
    (void)state;
    assert_int_equal(part(100, 7, 0, live_pos(100, 3, 0)), LLHLS_PART_GONE);
    assert_int_equal(part(101, 3, 0, live_pos(100, 3, 1)), LLHLS_PART_GONE);
    assert_int_equal(part(102, 0, 0, live_pos(100, 3, 1)), LLHLS_PART_GONE);
    assert_int_equal(part(100, 4000000000u, 0, live_pos(100, 3, 0)), LLHLS_PART_GONE);
}

static void test_part_past_end_of_complete_segment_is_gone(void **state)
{
    (void)state;
    assert_int_equal(part(100, 4, 0, live_pos(100, 3, 1)), LLHLS_PART_GONE);
}

static void test_part_old_and_missing_is_gone(void **state)
{
    (void)state;
    assert_int_equal(part(99, 0, 0, live_pos(100, 3, 0)), LLHLS_PART_GONE);
    assert_int_equal(part(100, 1, 0, live_pos(100, 3, 0)), LLHLS_PART_GONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_directives_parse_absent_is_empty),
        cmocka_unit_test(test_directives_parse_msn_and_part),
        cmocka_unit_test(test_directives_parse_accepts_eighteen_digits),
        cmocka_unit_test(test_directives_parse_rejects_nineteen_digits),
        cmocka_unit_test(test_directives_parse_rejects_part_over_32_bits),
        cmocka_unit_test(test_directives_parse_rejects_negative_and_signs),
        cmocka_unit_test(test_directives_parse_rejects_non_numeric),
        cmocka_unit_test(test_directives_parse_rejects_spaces),
        cmocka_unit_test(test_directives_parse_rejects_part_without_msn),
        cmocka_unit_test(test_directives_parse_skip_values),
        cmocka_unit_test(test_directives_advance_part_limit),
        cmocka_unit_test(test_block_without_directive_is_ready),
        cmocka_unit_test(test_block_part_without_msn_is_bad),
        cmocka_unit_test(test_block_ended_ignores_directives),
        cmocka_unit_test(test_block_msn_more_than_two_ahead_is_bad),
        cmocka_unit_test(test_block_old_msn_is_ready),
        cmocka_unit_test(test_block_msn_alone_waits_for_complete_segment),
        cmocka_unit_test(test_block_part_present_is_ready),
        cmocka_unit_test(test_block_next_parts_wait),
        cmocka_unit_test(test_block_part_at_advance_limit_waits),
        cmocka_unit_test(test_block_part_beyond_advance_limit_is_bad),
        cmocka_unit_test(test_block_before_first_part),
        cmocka_unit_test(test_part_present_is_served),
        cmocka_unit_test(test_part_hinted_is_pending),
        cmocka_unit_test(test_part_hinted_on_ended_stream_is_gone),
        cmocka_unit_test(test_part_slightly_ahead_is_pending),
        cmocka_unit_test(test_part_far_ahead_is_gone),
        cmocka_unit_test(test_part_past_end_of_complete_segment_is_gone),
        cmocka_unit_test(test_part_old_and_missing_is_gone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
