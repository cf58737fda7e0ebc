/* Tests of rendition groups: the NAME~LABEL convention and the members of
 * a group as read from a real store. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "group.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_group_name_strips_the_label(void **state)
{
    (void)state;
    char g[LLHLS_NAME_MAX];
    llhls_group_name("live/event~8k", g);
    assert_string_equal(g, "live/event");
    llhls_group_name("live/event", g);
    assert_string_equal(g, "live/event");
    assert_string_equal(llhls_group_label("live/event~1080p"), "1080p");
    assert_string_equal(llhls_group_label("live/event"), "");
    assert_string_equal(llhls_group_key("live/event~8k"), "event~8k");
}

static void test_group_mark_in_the_application_is_not_a_label(void **state)
{
    (void)state;
    char g[LLHLS_NAME_MAX];
    llhls_group_name("a~b/event", g);
    assert_string_equal(g, "a~b/event");
    assert_string_equal(llhls_group_label("a~b/event"), "");
}

typedef struct fixture {
    char dir[64];
    llhls_store_t *store;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/llhls-group-XXXXXX");
    if (mkdtemp(f->dir) == NULL || llhls_store_open(&f->store, f->dir, 1 << 20) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    llhls_store_close(f->store);
    char path[128];
    snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/lock.mdb", f->dir);
    unlink(path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static const char *const NAMES[] = {"live/ev", "live/ev-2", "live/ev~8k", "live/ev~1080p", "live/eva~x",
                                    "live/e", "other/ev~8k", "live/ev~720p"};

static int put_streams(llhls_wtxn_t *t, void *ctx)
{
    (void)ctx;
    for (size_t i = 0; i < sizeof(NAMES) / sizeof(NAMES[0]); i++) {
        llhls_stream_info_t info;
        memset(&info, 0, sizeof(info));
        snprintf(info.name, sizeof(info.name), "%s", NAMES[i]);
        info.state = strcmp(NAMES[i], "live/ev~720p") == 0 ? LLHLS_STREAM_ENDED : LLHLS_STREAM_LIVE;
        int r = llhls_wtxn_put_stream(t, &info);
        if (r != 0)
            return r;
    }
    return 0;
}

static void test_group_read_finds_the_stream_and_its_renditions_only(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(llhls_store_write(f->store, put_streams, NULL), 0);
    llhls_rtxn_t *r;
    assert_int_equal(llhls_store_read_begin(f->store, &r), 0);
    llhls_group_t *g = malloc(sizeof(*g));
    assert_int_equal(llhls_group_read(r, "live/ev", g), 0);
    assert_int_equal(g->n, 4);
    assert_string_equal(g->members[0].name, "live/ev");
    assert_string_equal(g->members[1].name, "live/ev~1080p");
    assert_string_equal(g->members[2].name, "live/ev~720p");
    assert_string_equal(g->members[3].name, "live/ev~8k");
    /* The ended rendition stays out while the others are live. */
    assert_true(llhls_group_member_active(g, 0));
    assert_false(llhls_group_member_active(g, 2));
    assert_int_equal(llhls_group_read(r, "live/nothing", g), 0);
    assert_int_equal(g->n, 0);
    assert_int_equal(llhls_group_read(r, "other/ev", g), 0);
    assert_int_equal(g->n, 1);
    assert_string_equal(g->members[0].name, "other/ev~8k");
    llhls_store_read_end(r);
    free(g);
}

static int put_aligned(llhls_wtxn_t *t, void *ctx)
{
    (void)ctx;
    const struct { const char *name; int state; uint64_t msn; int complete; } m[] = {
        {"live/al~a", LLHLS_STREAM_LIVE, 7, 1},
        {"live/al~b", LLHLS_STREAM_LIVE, 6, 1},
        {"live/al~old", LLHLS_STREAM_ENDED, 100, 1},
        {"live/al~self", LLHLS_STREAM_LIVE, 50, 0},
    };
    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
        llhls_stream_info_t info;
        memset(&info, 0, sizeof(info));
        snprintf(info.name, sizeof(info.name), "%s", m[i].name);
        info.state = (uint8_t)m[i].state;
        info.tracks[LLHLS_TRACK_VIDEO].present = 1;
        llhls_segment_t seg;
        memset(&seg, 0, sizeof(seg));
        seg.msn = m[i].msn;
        seg.pdt_ms = 1000000;
        seg.duration_us = m[i].complete ? 2000000 : 300000;
        seg.complete = (uint8_t)m[i].complete;
        seg.nparts = 1;
        seg.parts[0].duration_us = seg.duration_us;
        int r = llhls_wtxn_put_stream(t, &info);
        if (r == 0)
            r = llhls_wtxn_put_segment(t, info.name, LLHLS_TRACK_VIDEO, &seg);
        if (r != 0)
            return r;
    }
    return 0;
}

static void test_group_align_follows_the_rendition_furthest_on(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(llhls_store_write(f->store, put_aligned, NULL), 0);
    llhls_rtxn_t *r;
    assert_int_equal(llhls_store_read_begin(f->store, &r), 0);
    uint64_t msn = 0;
    /* a's segment 7 began at 1000000 and lasted 2 s: nearer its start,
     * a new rendition joins at 7; nearer its end, at 8.  The ended
     * rendition and the stream itself do not count. */
    assert_int_equal(llhls_group_align(r, "live/al~self", 1000900, 2000000, &msn), 1);
    assert_int_equal(msn, 7);
    assert_int_equal(llhls_group_align(r, "live/al~self", 1001100, 2000000, &msn), 1);
    assert_int_equal(msn, 8);
    assert_int_equal(llhls_group_align(r, "live/nobody~x", 1000000, 2000000, &msn), 0);
    llhls_store_read_end(r);
}

static void test_group_align_expects_an_open_segment_to_last_the_target(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(llhls_store_write(f->store, put_aligned, NULL), 0);
    llhls_rtxn_t *r;
    assert_int_equal(llhls_store_read_begin(f->store, &r), 0);
    uint64_t msn = 0;
    /* Seen from another rendition, al~self's segment 50 is open 0.3 s in:
     * it should run to the 2 s target, so 0.9 s after its start is still
     * nearer its start. */
    assert_int_equal(llhls_group_align(r, "live/al~a", 1000900, 2000000, &msn), 1);
    assert_int_equal(msn, 50);
    assert_int_equal(llhls_group_align(r, "live/al~a", 1001500, 2000000, &msn), 1);
    assert_int_equal(msn, 51);
    llhls_store_read_end(r);
}

static void test_group_of_ended_renditions_lists_them_all(void **state)
{
    (void)state;
    llhls_group_t *g = calloc(1, sizeof(*g));
    g->n = 2;
    g->members[0].state = LLHLS_STREAM_ENDED;
    g->members[1].state = LLHLS_STREAM_ENDED;
    /* A recording of every rendition is still one group. */
    assert_true(llhls_group_member_active(g, 0));
    assert_true(llhls_group_member_active(g, 1));
    g->members[1].state = LLHLS_STREAM_IDLE;
    assert_false(llhls_group_member_active(g, 0));
    assert_true(llhls_group_member_active(g, 1));
    free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_name_strips_the_label),
        cmocka_unit_test(test_group_mark_in_the_application_is_not_a_label),
        cmocka_unit_test_setup_teardown(test_group_read_finds_the_stream_and_its_renditions_only, setup, teardown),
        cmocka_unit_test(test_group_of_ended_renditions_lists_them_all),
        cmocka_unit_test_setup_teardown(test_group_align_follows_the_rendition_furthest_on, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_align_expects_an_open_segment_to_last_the_target, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
