/* Tests of fresh parts: what readers see while a part is published and
 * after it is withdrawn, bytes that outlive the withdrawal while a reader
 * holds them, buffers handed back for the next part, and how a fresh
 * record is merged into the segments a read transaction found. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "error.h"
#include "fresh.h"

#include <stdlib.h>
#include <string.h>

static llhls_segment_t segment(uint64_t msn, uint16_t nparts, int complete)
{
    llhls_segment_t s;
    memset(&s, 0, sizeof(s));
    s.msn = msn;
    s.nparts = nparts;
    s.complete = (uint8_t)complete;
    for (uint16_t i = 0; i < nparts; i++)
        s.parts[i] = (llhls_part_meta_t){.duration_us = 250000, .size = 1000u + i};
    return s;
}

static void fill(llhls_buf_t *b, char c, size_t n)
{
    llhls_buf_reset(b);
    assert_int_equal(llhls_buf_reserve(b, n), 0);
    memset(b->data, c, n);
    b->len = n;
}

static void test_fresh_part_is_seen_until_withdrawn(void **state)
{
    (void)state;
    llhls_fresh_t *f;
    assert_int_equal(llhls_fresh_create(&f), 0);
    llhls_buf_t part;
    llhls_buf_init(&part, 0);
    fill(&part, 'a', 5000);
    llhls_segment_t seg = segment(7, 3, 0);
    const llhls_fresh_part_t *p = llhls_fresh_publish(f, "live/a", LLHLS_TRACK_VIDEO, &seg, 2, &part);
    assert_non_null(p);
    /* The bytes were taken, not copied: the track's buffer is empty. */
    assert_int_equal(part.len, 0);
    assert_null(llhls_fresh_get(f, "live/a", LLHLS_TRACK_AUDIO));
    assert_null(llhls_fresh_get(f, "live/b", LLHLS_TRACK_VIDEO));
    const llhls_fresh_part_t *r = llhls_fresh_get(f, "live/a", LLHLS_TRACK_VIDEO);
    assert_ptr_equal(r, p);
    assert_int_equal(r->seg.msn, 7);
    assert_int_equal(r->seg.nparts, 3);
    assert_int_equal(r->index, 2);
    assert_int_equal(r->len, 5000);
    assert_int_equal(r->bytes[0], 'a');
    assert_int_equal(r->bytes[4999], 'a');
    llhls_fresh_withdraw(f, p);
    assert_null(llhls_fresh_get(f, "live/a", LLHLS_TRACK_VIDEO));
    /* The reader's reference keeps the bytes. */
    assert_int_equal(r->bytes[4999], 'a');
    llhls_fresh_release(r);
    llhls_buf_free(&part);
    llhls_fresh_destroy(f);
}

static void test_fresh_buffers_come_back_for_the_next_part(void **state)
{
    (void)state;
    llhls_fresh_t *f;
    assert_int_equal(llhls_fresh_create(&f), 0);
    llhls_buf_t part;
    llhls_buf_init(&part, 0);
    fill(&part, 'a', 100000);
    uint8_t *first = part.data;
    llhls_segment_t seg = segment(1, 1, 0);
    const llhls_fresh_part_t *p = llhls_fresh_publish(f, "live/a", 0, &seg, 0, &part);
    assert_null(part.data);
    llhls_fresh_withdraw(f, p);
    /* Nobody held it: its buffer goes to the next part published. */
    fill(&part, 'b', 90000);
    seg = segment(1, 2, 0);
    p = llhls_fresh_publish(f, "live/a", 0, &seg, 1, &part);
    assert_ptr_equal(part.data, first);
    assert_int_equal(part.len, 0);
    assert_true(part.cap >= 100000);
    /* A reader holding the part keeps its buffer from the next one. */
    const llhls_fresh_part_t *r = llhls_fresh_get(f, "live/a", 0);
    uint8_t *second = (uint8_t *)p->bytes;
    llhls_fresh_withdraw(f, p);
    fill(&part, 'c', 1000);
    seg = segment(1, 3, 0);
    p = llhls_fresh_publish(f, "live/a", 0, &seg, 2, &part);
    assert_ptr_not_equal(part.data, second);
    assert_int_equal(r->bytes[89999], 'b');
    llhls_fresh_release(r);
    llhls_fresh_withdraw(f, p);
    llhls_buf_free(&part);
    llhls_fresh_destroy(f);
}

static void test_fresh_record_without_bytes(void **state)
{
    (void)state;
    llhls_fresh_t *f;
    assert_int_equal(llhls_fresh_create(&f), 0);
    llhls_segment_t seg = segment(4, 4, 1);
    const llhls_fresh_part_t *p = llhls_fresh_publish(f, "live/a", 0, &seg, 0, NULL);
    assert_non_null(p);
    assert_null(p->bytes);
    assert_int_equal(p->len, 0);
    assert_true(p->seg.complete);
    llhls_fresh_withdraw(f, p);
    llhls_fresh_destroy(f);
}

static void test_fresh_merge_replaces_appends_or_leaves(void **state)
{
    (void)state;
    llhls_fresh_t *f;
    assert_int_equal(llhls_fresh_create(&f), 0);
    llhls_segment_t *segs = malloc(2 * sizeof(*segs));
    segs[0] = segment(10, 4, 1);
    segs[1] = segment(11, 2, 0);
    size_t n = 2;

    /* The store lacks part 2 of segment 11: the fresh record replaces its. */
    llhls_segment_t seg = segment(11, 3, 0);
    const llhls_fresh_part_t *p = llhls_fresh_publish(f, "s/a", 0, &seg, 2, NULL);
    assert_int_equal(llhls_fresh_merge(p, &segs, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(segs[1].nparts, 3);
    /* Merged twice, or into a transaction that already has it: no change. */
    assert_int_equal(llhls_fresh_merge(p, &segs, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(segs[1].nparts, 3);
    llhls_fresh_withdraw(f, p);

    /* Completing segment 11 with no new part. */
    seg = segment(11, 3, 1);
    p = llhls_fresh_publish(f, "s/a", 0, &seg, 0, NULL);
    assert_int_equal(llhls_fresh_merge(p, &segs, &n), 0);
    assert_int_equal(n, 2);
    assert_true(segs[1].complete);
    llhls_fresh_withdraw(f, p);

    /* The first part of segment 12 follows the store's last segment. */
    seg = segment(12, 1, 0);
    p = llhls_fresh_publish(f, "s/a", 0, &seg, 0, NULL);
    assert_int_equal(llhls_fresh_merge(p, &segs, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(segs[2].msn, 12);
    assert_int_equal(segs[2].nparts, 1);

    /* A transaction that already moved past the fresh part keeps its own. */
    segs[2] = segment(12, 2, 0);
    assert_int_equal(llhls_fresh_merge(p, &segs, &n), 0);
    assert_int_equal(segs[2].nparts, 2);
    segs[2] = segment(13, 1, 0);
    assert_int_equal(llhls_fresh_merge(p, &segs, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(segs[2].msn, 13);

    /* A track with nothing stored yet. */
    llhls_segment_t *none = NULL;
    size_t zero = 0;
    assert_int_equal(llhls_fresh_merge(p, &none, &zero), 0);
    assert_int_equal(zero, 1);
    assert_int_equal(none[0].msn, 12);
    free(none);
    /* No fresh part: nothing to do. */
    assert_int_equal(llhls_fresh_merge(NULL, &segs, &n), 0);
    assert_int_equal(n, 3);
    llhls_fresh_withdraw(f, p);
    free(segs);
    llhls_fresh_destroy(f);
}

static void test_fresh_newer_than_the_stores_last_segment(void **state)
{
    (void)state;
    llhls_fresh_t *f;
    assert_int_equal(llhls_fresh_create(&f), 0);
    llhls_segment_t seg = segment(5, 2, 0);
    const llhls_fresh_part_t *p = llhls_fresh_publish(f, "s/a", 0, &seg, 1, NULL);
    llhls_segment_t last = segment(5, 1, 0);
    assert_true(llhls_fresh_newer(p, &last, 1));
    assert_int_equal(last.nparts, 2);
    last = segment(5, 2, 0);
    assert_false(llhls_fresh_newer(p, &last, 1));
    last = segment(6, 1, 0);
    assert_false(llhls_fresh_newer(p, &last, 1));
    assert_int_equal(last.msn, 6);
    last = segment(4, 9, 1);
    assert_true(llhls_fresh_newer(p, &last, 1));
    assert_int_equal(last.msn, 5);
    assert_true(llhls_fresh_newer(p, &last, 0));
    assert_false(llhls_fresh_newer(NULL, &last, 1));
    llhls_fresh_withdraw(f, p);
    llhls_fresh_destroy(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh_part_is_seen_until_withdrawn),
        cmocka_unit_test(test_fresh_buffers_come_back_for_the_next_part),
        cmocka_unit_test(test_fresh_record_without_bytes),
        cmocka_unit_test(test_fresh_merge_replaces_appends_or_leaves),
        cmocka_unit_test(test_fresh_newer_than_the_stores_last_segment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
