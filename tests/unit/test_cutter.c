/* Tests of the cut rules on simulated streams: video at the common frame
 * rates with millisecond timestamps as RTMP gives them, GOPs of 1, 2 and 4 s,
 * and AAC following the video's segment starts.  Every rule of
 * docs/fragmenter.md is checked on every part of a few minutes of media. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cutter.h"
#include "index.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PART_TARGET 333340u
#define SEGMENT_TARGET 2000000u
#define MAX_SEGS 4096
#define MAX_PARTS_TOTAL 200000

/* What a track would have stored: parts (duration computed from the
 * samples' durations in the track's timescale, as track.c does) grouped in
 * segments. */
typedef struct rec {
    llhls_cutter_t c;
    uint32_t timescale;
    int first_cut;
    int places;
    /* parts */
    int independent_exempt; /* a part starting with a sync sample is exempt from 0.85 */
    uint32_t npart;
    int64_t *part_us;
    int64_t *part_start_us;
    uint8_t *part_sync;  /* starts with a sync sample */
    uint32_t *part_seg;
    int64_t open_ticks;
    int64_t open_start_us;
    int open_samples;
    int open_sync;
    /* segments */
    uint32_t nseg;
    int64_t seg_start_us[MAX_SEGS];
    uint8_t seg_sync[MAX_SEGS];
    uint32_t seg_first_part[MAX_SEGS];
    uint32_t seg_nparts[MAX_SEGS];
    uint32_t seg_samples[MAX_SEGS];
    int64_t seg_us[MAX_SEGS];
} rec_t;

static rec_t *rec_new(uint32_t part_target, uint32_t seg_target, uint32_t timescale)
{
    rec_t *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    r->part_us = calloc(MAX_PARTS_TOTAL, sizeof(*r->part_us));
    r->part_sync = calloc(MAX_PARTS_TOTAL, 1);
    r->part_seg = calloc(MAX_PARTS_TOTAL, sizeof(*r->part_seg));
    r->part_start_us = calloc(MAX_PARTS_TOTAL, sizeof(*r->part_start_us));
    assert_non_null(r->part_start_us);
    assert_non_null(r->part_us);
    assert_non_null(r->part_sync);
    assert_non_null(r->part_seg);
    llhls_cutter_init(&r->c, part_target, seg_target);
    r->timescale = timescale;
    return r;
}

static void rec_free(rec_t *r)
{
    free(r->part_us);
    free(r->part_sync);
    free(r->part_seg);
    free(r->part_start_us);
    free(r);
}

static void close_part(rec_t *r)
{
    if (r->open_samples == 0)
        return;
    assert_true(r->npart < MAX_PARTS_TOTAL);
    assert_true(r->nseg > 0);
    int64_t us = r->open_ticks * 1000000 / r->timescale;
    r->part_us[r->npart] = us;
    r->part_start_us[r->npart] = r->open_start_us;
    r->part_sync[r->npart] = (uint8_t)r->open_sync;
    r->part_seg[r->npart] = r->nseg - 1;
    r->seg_nparts[r->nseg - 1]++;
    r->seg_us[r->nseg - 1] += us;
    r->npart++;
    r->open_ticks = 0;
    r->open_samples = 0;
}

/* Places one sample; hint_us is what the cutter is told, ticks what the
 * sample really lasts in the track's timescale. */
static llhls_cut_t rec_place(rec_t *r, int64_t t_us, uint32_t hint_us, int64_t ticks, int sync, int boundary)
{
    llhls_cut_t cut = llhls_cutter_place(&r->c, t_us, hint_us, sync, boundary);
    if (r->places++ == 0)
        r->first_cut = cut;
    if (cut != LLHLS_CUT_NONE)
        close_part(r);
    if (cut == LLHLS_CUT_SEGMENT) {
        assert_true(r->nseg < MAX_SEGS);
        r->seg_start_us[r->nseg] = t_us;
        r->seg_sync[r->nseg] = (uint8_t)sync;
        r->seg_first_part[r->nseg] = r->npart;
        r->nseg++;
    }
    if (r->open_samples == 0) {
        r->open_sync = sync;
        r->open_start_us = t_us;
    }
    r->open_samples++;
    r->open_ticks += ticks;
    r->seg_samples[r->nseg - 1]++;
    return cut;
}

/* Checks the part rules over every part; the last segment is still open,
 * so its parts are checked but it is not taken as complete. */
static void check_parts(const rec_t *r, uint32_t part_target)
{
    assert_int_equal(r->first_cut, LLHLS_CUT_SEGMENT);
    for (uint32_t s = 0; s < r->nseg; s++) {
        assert_true(r->seg_nparts[s] >= 1);
        assert_true(r->seg_nparts[s] <= LLHLS_MAX_PARTS);
        for (uint32_t k = 0; k < r->seg_nparts[s]; k++) {
            uint32_t i = r->seg_first_part[s] + k;
            int64_t us = r->part_us[i];
            if (us > (int64_t)part_target)
                fail_msg("part %u.%u lasts %lld us, over the target %u", s, k, (long long)us, part_target);
            int exempt = ((k == 0 || r->independent_exempt) && r->part_sync[i]) || k + 1 == r->seg_nparts[s];
            if (!exempt && us * 100 < (int64_t)part_target * 85)
                fail_msg("part %u.%u lasts %lld us, under 0.85 x %u", s, k, (long long)us, part_target);
        }
    }
}

typedef struct video_sim {
    int64_t *t_us;  /* RTMP timestamps, whole milliseconds */
    uint8_t *sync;
    uint32_t n;
    uint32_t keyint;
    int64_t max_frame_us;
} video_sim_t;

/* Frames at num/den fps for secs seconds, a keyframe every gop_s seconds
 * (rounded to whole frames, as encoders set keyint). */
static void video_make(video_sim_t *v, uint32_t num, uint32_t den, double gop_s, double secs)
{
    v->n = (uint32_t)(secs * num / den);
    v->t_us = calloc(v->n + 1, sizeof(*v->t_us));
    v->sync = calloc(v->n + 1, 1);
    assert_non_null(v->t_us);
    assert_non_null(v->sync);
    v->keyint = (uint32_t)(gop_s * num / den + 0.5);
    v->max_frame_us = 0;
    for (uint32_t i = 0; i <= v->n; i++) {
        /* Millisecond rounding: 29.97 fps gives steps of 33 and 34 ms. */
        int64_t ms = ((int64_t)i * 1000 * den + num / 2) / num;
        v->t_us[i] = ms * 1000;
        v->sync[i] = i % v->keyint == 0;
        if (i > 0 && v->t_us[i] - v->t_us[i - 1] > v->max_frame_us)
            v->max_frame_us = v->t_us[i] - v->t_us[i - 1];
    }
}

static void video_free(video_sim_t *v)
{
    free(v->t_us);
    free(v->sync);
}

/* Runs the video through a cutter.  estimate: tell the cutter the previous
 * frame's duration plus a millisecond, as ingest does when the next
 * timestamp is not known yet; otherwise the true duration. */
static rec_t *video_run(const video_sim_t *v, uint32_t part_target, uint32_t seg_target, int estimate)
{
    rec_t *r = rec_new(part_target, seg_target, 1000000);
    int64_t last = 0;
    for (uint32_t i = 0; i < v->n; i++) {
        int64_t dur = v->t_us[i + 1] - v->t_us[i];
        uint32_t hint = (uint32_t)dur;
        if (estimate)
            hint = (uint32_t)((i ? last : dur) + 1000);
        rec_place(r, v->t_us[i], hint, dur, v->sync[i], -1);
        last = dur;
    }
    close_part(r);
    return r;
}

static void check_video_segments(const rec_t *r, const video_sim_t *v, uint32_t seg_target)
{
    for (uint32_t s = 0; s < r->nseg; s++) {
        assert_true(r->seg_sync[s]);
        if (s + 1 == r->nseg)
            break; /* still open */
        /* Whole GOPs only, and no more of them than needed to reach the
         * target: the segment without its last GOP would be too short. */
        if (r->seg_samples[s] % v->keyint != 0)
            fail_msg("segment %u holds %u frames, not whole GOPs of %u", s, r->seg_samples[s], v->keyint);
        int64_t us = r->seg_us[s];
        int64_t one_gop = us / (r->seg_samples[s] / v->keyint);
        if (us < (int64_t)seg_target - v->max_frame_us)
            fail_msg("segment %u lasts %lld us, short of the target %u", s, (long long)us, seg_target);
        if (us - one_gop >= (int64_t)seg_target - v->max_frame_us / 2 + 2000)
            fail_msg("segment %u lasts %lld us: one GOP more than the target %u needs", s, (long long)us,
                     seg_target);
    }
}

typedef struct rate {
    uint32_t num, den;
} rate_t;

static const rate_t rates[] = {
    {24000, 1001}, {24, 1}, {25, 1}, {30000, 1001}, {30, 1}, {50, 1}, {60000, 1001}, {60, 1}, {120, 1},
};
static const double gops[] = {1.0, 2.0, 4.0};

static void run_video_matrix(int estimate)
{
    for (size_t ri = 0; ri < sizeof(rates) / sizeof(rates[0]); ri++) {
        for (size_t gi = 0; gi < sizeof(gops) / sizeof(gops[0]); gi++) {
            video_sim_t v;
            video_make(&v, rates[ri].num, rates[ri].den, gops[gi], 180.0);
            rec_t *r = video_run(&v, PART_TARGET, SEGMENT_TARGET, estimate);
            check_parts(r, PART_TARGET);
            check_video_segments(r, &v, SEGMENT_TARGET);
            /* Three minutes at a 2 s target (4 s GOPs: 4 s segments). */
            uint32_t expect = gops[gi] > 2.0 ? 45 : 90;
            assert_in_range(r->nseg, expect - 1, expect + 1);
            rec_free(r);
            video_free(&v);
        }
    }
}

static void test_cutter_video_rules_hold_at_every_frame_rate_and_gop(void **state)
{
    (void)state;
    run_video_matrix(0);
}

static void test_cutter_video_rules_hold_with_estimated_durations(void **state)
{
    (void)state;
    run_video_matrix(1);
}

/* Runs the video as ingest does with early commits: each frame is placed
 * with the estimated duration; when the part is full once the frame ends
 * at its nominal duration, the frame goes in with that duration and the
 * part is closed at once.  The next frame must never start before the
 * early one ends, or decode times would overlap.  Returns how many parts were closed early. */
static uint32_t video_run_early(const video_sim_t *v, uint32_t num, uint32_t den, rec_t *r)
{
    /* Whole milliseconds, rounded down, as ingest.c gives the frame. */
    uint32_t nominal = (uint32_t)((uint64_t)den * 1000000 / num) / 1000 * 1000;
    int64_t last = 0;
    uint32_t early = 0;
    for (uint32_t i = 0; i < v->n; i++) {
        int64_t dur = v->t_us[i + 1] - v->t_us[i];
        uint32_t hint = (uint32_t)((i ? last : nominal) + 1000);
        last = dur;
        if (dur < nominal)
            fail_msg("frame %u lasts %lld us, less than the %u us an early commit gives it", i, (long long)dur,
                     nominal);
        llhls_cut_t cut = llhls_cutter_place(&r->c, v->t_us[i], hint, v->sync[i], -1);
        if (cut != LLHLS_CUT_NONE)
            close_part(r);
        if (cut == LLHLS_CUT_SEGMENT) {
            r->seg_start_us[r->nseg] = v->t_us[i];
            r->seg_sync[r->nseg] = v->sync[i];
            r->seg_first_part[r->nseg] = r->npart;
            r->nseg++;
        }
        if (r->places++ == 0)
            r->first_cut = cut;
        if (r->open_samples == 0)
            r->open_sync = v->sync[i];
        r->open_samples++;
        r->seg_samples[r->nseg - 1]++;
        if (llhls_cutter_part_full(&r->c, v->t_us[i] + nominal, nominal + 2000)) {
            r->open_ticks += nominal;
            close_part(r);
            llhls_cutter_close_part(&r->c, v->t_us[i] + nominal);
            early++;
        } else {
            r->open_ticks += dur;
        }
    }
    close_part(r);
    return early;
}

static void test_cutter_early_commits_keep_every_rule(void **state)
{
    (void)state;
    for (size_t ri = 0; ri < sizeof(rates) / sizeof(rates[0]); ri++) {
        for (size_t gi = 0; gi < sizeof(gops) / sizeof(gops[0]); gi++) {
            video_sim_t v;
            video_make(&v, rates[ri].num, rates[ri].den, gops[gi], 180.0);
            rec_t *r = rec_new(PART_TARGET, SEGMENT_TARGET, 1000000);
            uint32_t early = video_run_early(&v, rates[ri].num, rates[ri].den, r);
            check_parts(r, PART_TARGET);
            check_video_segments(r, &v, SEGMENT_TARGET);
            /* Every part that is not the last of its segment is full, so
             * nearly all go out early (a millisecond of rounding may
             * keep one back now and then). */
            uint32_t not_last = r->npart - r->nseg;
            if (early * 100 < not_last * 90)
                fail_msg("%u/%u fps, %.0f s GOP: %u of %u parts committed early", rates[ri].num, rates[ri].den,
                         gops[gi], early, not_last);
            rec_free(r);
            video_free(&v);
        }
    }
}

static void test_cutter_part_full_needs_085_of_the_target(void **state)
{
    (void)state;
    llhls_cutter_t c;
    llhls_cutter_init(&c, 1000000, SEGMENT_TARGET);
    assert_false(llhls_cutter_part_full(&c, 100000, 100000)); /* nothing placed yet */
    assert_int_equal(llhls_cutter_place(&c, 0, 100000, 1, -1), LLHLS_CUT_SEGMENT);
    /* A 0.84 s part that a 0.2 s sample would overflow is not closed early:
     * the next sample might be shorter and fit. */
    assert_false(llhls_cutter_part_full(&c, 840000, 200000));
    assert_true(llhls_cutter_part_full(&c, 850000, 200000));
    assert_false(llhls_cutter_part_full(&c, 850000, 150000));
    llhls_cutter_close_part(&c, 900000);
    /* The next sample starts the new part. */
    assert_int_equal(llhls_cutter_place(&c, 900000, 100000, 0, -1), LLHLS_CUT_NONE);
    assert_false(llhls_cutter_part_full(&c, 1000000, 100000));
}

static void test_cutter_first_sample_opens_a_segment(void **state)
{
    (void)state;
    llhls_cutter_t c;
    llhls_cutter_init(&c, PART_TARGET, SEGMENT_TARGET);
    /* Even a non-sync first sample, and even when the caller says no. */
    assert_int_equal(llhls_cutter_place(&c, 5000000, 33000, 0, 0), LLHLS_CUT_SEGMENT);
    assert_int_equal(llhls_cutter_place(&c, 5033000, 33000, 0, -1), LLHLS_CUT_NONE);
    llhls_cutter_init(&c, PART_TARGET, SEGMENT_TARGET);
    assert_int_equal(llhls_cutter_place(&c, 0, 33000, 1, -1), LLHLS_CUT_SEGMENT);
}

static void test_cutter_part_ends_before_the_sample_that_would_pass_the_target(void **state)
{
    (void)state;
    llhls_cutter_t c;
    llhls_cutter_init(&c, 100000, 1000000);
    assert_int_equal(llhls_cutter_place(&c, 0, 40000, 1, -1), LLHLS_CUT_SEGMENT);
    assert_int_equal(llhls_cutter_place(&c, 40000, 40000, 0, -1), LLHLS_CUT_NONE);
    /* 80 ms + 40 ms would be 120 ms: the part closes at 80 ms. */
    assert_int_equal(llhls_cutter_place(&c, 80000, 40000, 0, -1), LLHLS_CUT_PART);
    assert_int_equal(c.part_start_us, 80000);
    assert_int_equal(c.parts_closed, 1);
    /* Exactly reaching the target is allowed. */
    assert_int_equal(llhls_cutter_place(&c, 120000, 60000, 0, -1), LLHLS_CUT_NONE);
    assert_int_equal(llhls_cutter_place(&c, 180000, 1, 0, -1), LLHLS_CUT_PART);
}

static void test_cutter_sync_before_segment_target_only_cuts_a_part(void **state)
{
    (void)state;
    llhls_cutter_t c;
    llhls_cutter_init(&c, 100000, 1000000);
    assert_int_equal(llhls_cutter_place(&c, 0, 50000, 1, -1), LLHLS_CUT_SEGMENT);
    assert_int_equal(llhls_cutter_place(&c, 50000, 50000, 0, -1), LLHLS_CUT_NONE);
    assert_int_equal(llhls_cutter_place(&c, 100000, 50000, 1, -1), LLHLS_CUT_PART);
    /* At 975 ms a sync sample of 50 ms is within half a frame of 1 s. */
    for (int64_t t = 150000; t < 950000; t += 50000)
        assert_int_not_equal(llhls_cutter_place(&c, t, 50000, 0, -1), LLHLS_CUT_SEGMENT);
    /* 950 ms: short of the target even with half of its 25 ms. */
    assert_int_equal(llhls_cutter_place(&c, 950000, 25000, 1, -1), LLHLS_CUT_NONE);
    assert_int_equal(llhls_cutter_place(&c, 975000, 50000, 1, -1), LLHLS_CUT_SEGMENT);
    assert_int_equal(c.segment_start_us, 975000);
    assert_int_equal(c.part_start_us, 975000);
    assert_int_equal(c.parts_closed, 0);
}

static void test_cutter_caller_boundary_overrides_the_target(void **state)
{
    (void)state;
    llhls_cutter_t c;
    llhls_cutter_init(&c, 100000, 1000000);
    assert_int_equal(llhls_cutter_place(&c, 0, 20000, 1, 0), LLHLS_CUT_SEGMENT);
    /* boundary 0: no segment even long after the target, at sync samples. */
    int segments = 0;
    for (int64_t t = 20000; t < 3000000; t += 20000)
        segments += llhls_cutter_place(&c, t, 20000, 1, 0) == LLHLS_CUT_SEGMENT;
    assert_int_equal(segments, 0);
    /* boundary 1: a segment at once, mid-part. */
    assert_int_equal(llhls_cutter_place(&c, 3000000, 20000, 1, 1), LLHLS_CUT_SEGMENT);
    assert_int_equal(c.segment_start_us, 3000000);
}

static void test_cutter_forces_a_segment_rather_than_pass_max_parts(void **state)
{
    (void)state;
    /* A 60 s GOP at 30 fps: 180 parts of 1/3 s would be needed. */
    video_sim_t v;
    video_make(&v, 30, 1, 60.0, 180.0);
    rec_t *r = video_run(&v, PART_TARGET, SEGMENT_TARGET, 0);
    check_parts(r, PART_TARGET);
    uint32_t unsynced = 0;
    for (uint32_t s = 0; s < r->nseg; s++) {
        assert_true(r->seg_nparts[s] <= LLHLS_MAX_PARTS);
        if (!r->seg_sync[s]) {
            unsynced++;
            /* Forced only when the previous segment is full. */
            assert_int_equal(r->seg_nparts[s - 1], LLHLS_MAX_PARTS);
        }
    }
    assert_true(unsynced >= 3);
    /* Keyframes still start segments. */
    for (uint32_t i = 0, s = 0; i < v.n; i += v.keyint) {
        while (s + 1 < r->nseg && r->seg_start_us[s + 1] <= v.t_us[i])
            s++;
        assert_int_equal(r->seg_start_us[s], v.t_us[i]);
    }
    rec_free(r);
    video_free(&v);
}

static void test_cutter_boundary_zero_still_respects_max_parts(void **state)
{
    (void)state;
    llhls_cutter_t c;
    llhls_cutter_init(&c, 100000, 1000000);
    uint32_t parts = 1;
    int64_t t = 0;
    assert_int_equal(llhls_cutter_place(&c, t, 50000, 1, 0), LLHLS_CUT_SEGMENT);
    for (;;) {
        t += 50000;
        llhls_cut_t cut = llhls_cutter_place(&c, t, 50000, 1, 0);
        if (cut == LLHLS_CUT_SEGMENT)
            break;
        parts += cut == LLHLS_CUT_PART;
        assert_true(parts <= LLHLS_MAX_PARTS);
    }
    assert_int_equal(parts, LLHLS_MAX_PARTS);
}

static void test_cutter_sample_longer_than_target_gets_a_part_of_its_own(void **state)
{
    (void)state;
    llhls_cutter_t c;
    llhls_cutter_init(&c, 100000, 1000000);
    assert_int_equal(llhls_cutter_place(&c, 0, 250000, 0, -1), LLHLS_CUT_SEGMENT);
    assert_int_equal(llhls_cutter_place(&c, 250000, 250000, 0, -1), LLHLS_CUT_PART);
    assert_int_equal(llhls_cutter_place(&c, 500000, 250000, 0, -1), LLHLS_CUT_PART);
    assert_int_equal(llhls_cutter_place(&c, 750000, 250000, 1, -1), LLHLS_CUT_PART);
    assert_int_equal(llhls_cutter_place(&c, 1000000, 250000, 1, -1), LLHLS_CUT_SEGMENT);
}

/* Audio that followed the video's parts: aligned with them wherever the
 * video leaves room, and never a sliver. */
static void check_audio_follows(const rec_t *ar, const rec_t *vr, uint32_t sr, const rate_t *rate, double gop,
                                uint32_t dur_us)
{
    /* Audio parts that start within one AAC frame of a video part. */
    uint32_t aligned = 0, j = 0;
    for (uint32_t i = 0; i < ar->npart; i++) {
        int64_t a = ar->part_start_us[i];
        while (j + 1 < vr->npart && vr->part_start_us[j + 1] <= a + dur_us)
            j++;
        int64_t d = a - vr->part_start_us[j];
        if (d >= -(int64_t)dur_us && d <= (int64_t)dur_us)
            aligned++;
    }
    /* Where the video's parts leave an audio part room to reach them (at
     * most the target less a frame), every audio part does. */
    int room = 1;
    for (uint32_t i = 0; i < vr->npart; i++)
        if (vr->part_us[i] > (int64_t)PART_TARGET - dur_us)
            room = 0;
    if (room && aligned != ar->npart)
        fail_msg("%u Hz at %u/%u fps, %.0f s GOP: %u of %u audio parts start at a video part", sr, rate->num,
                 rate->den, gop, aligned, ar->npart);

    /* No slivers: a part under half the target is only ever a segment's
     * last, and then no shorter than the video's last part less a frame. */
    for (uint32_t s = 0; s + 1 < ar->nseg; s++) {
        for (uint32_t k = 0; k < ar->seg_nparts[s]; k++) {
            int64_t us = ar->part_us[ar->seg_first_part[s] + k];
            if (us * 2 >= (int64_t)PART_TARGET)
                continue;
            int64_t vlast = vr->part_us[vr->seg_first_part[s] + vr->seg_nparts[s] - 1];
            if (k + 1 != ar->seg_nparts[s] || us + dur_us < vlast)
                fail_msg("%u Hz at %u/%u fps, %.0f s GOP: audio part %u.%u lasts %lld us (video's last part %lld us)",
                         sr, rate->num, rate->den, gop, s, k, (long long)us, (long long)vlast);
        }
    }
}

/* Audio timed as ingest does: by counting samples, microsecond timestamps,
 * the nominal duration as the hint.  follow: each frame is also told where
 * the video's last part began by then (llhls_cutter_follows), as ingest
 * does, so audio parts end where the video's do. */
static void run_audio_with_video(uint32_t sr, const rate_t *rate, double gop, int follow)
{
    video_sim_t v;
    video_make(&v, rate->num, rate->den, gop, 180.0);
    rec_t *vr = video_run(&v, PART_TARGET, SEGMENT_TARGET, follow);
    rec_t *ar = rec_new(PART_TARGET, SEGMENT_TARGET, sr);
    /* Every AAC frame is a sync sample: audio parts are INDEPENDENT, which
     * exempts them from 0.85, and following the video takes them under it. */
    ar->independent_exempt = follow;
    uint32_t dur_us = (uint32_t)(1024ull * 1000000 / sr);
    int64_t aseg = -1;
    uint32_t vseg = 0, vpart = 0;
    for (int64_t dts = 0;; dts += 1024) {
        int64_t t_us = dts * 1000000 / sr;
        if (t_us + dur_us > v.t_us[v.n])
            break;
        while (vseg + 1 < vr->nseg && vr->seg_start_us[vseg + 1] <= t_us)
            vseg++;
        while (vpart + 1 < vr->npart && vr->part_start_us[vpart + 1] <= t_us)
            vpart++;
        int boundary = (int64_t)vseg != aseg ? 1 : 0;
        if (follow && !boundary && llhls_cutter_follows(&ar->c, t_us, dur_us, vr->part_start_us[vpart])) {
            llhls_cutter_close_part(&ar->c, t_us);
            close_part(ar);
        }
        llhls_cut_t cut = rec_place(ar, t_us, dur_us, 1024, 1, boundary);
        if (boundary)
            assert_int_equal(cut, LLHLS_CUT_SEGMENT);
        else
            assert_int_not_equal(cut, LLHLS_CUT_SEGMENT);
        aseg = vseg;
    }
    close_part(ar);
    check_parts(ar, PART_TARGET);
    /* One audio segment per video segment, starting within one AAC frame of
     * it. */
    assert_int_equal(ar->nseg, vr->nseg);
    for (uint32_t s = 0; s < ar->nseg; s++) {
        int64_t d = ar->seg_start_us[s] - vr->seg_start_us[s];
        assert_in_range(d, 0, dur_us + 1);
    }
    if (follow)
        check_audio_follows(ar, vr, sr, rate, gop, dur_us);
    rec_free(ar);
    rec_free(vr);
    video_free(&v);
}

static void run_audio_matrix(int follow)
{
    static const uint32_t srs[] = {44100, 48000};
    for (size_t si = 0; si < 2; si++)
        for (size_t ri = 0; ri < sizeof(rates) / sizeof(rates[0]); ri++)
            for (size_t gi = 0; gi < sizeof(gops) / sizeof(gops[0]); gi++)
                run_audio_with_video(srs[si], &rates[ri], gops[gi], follow);
}

static void test_cutter_audio_follows_video_segments(void **state)
{
    (void)state;
    run_audio_matrix(0);
}

static void test_cutter_audio_parts_end_where_the_video_parts_do(void **state)
{
    (void)state;
    run_audio_matrix(1);
}

static void test_cutter_follows_at_the_first_sample_after_and_never_for_a_sliver(void **state)
{
    (void)state;
    llhls_cutter_t c;
    llhls_cutter_init(&c, PART_TARGET, SEGMENT_TARGET);
    const uint32_t d = 21333;
    assert_false(llhls_cutter_follows(&c, 0, d, 0)); /* nothing placed yet */
    assert_int_equal(llhls_cutter_place(&c, 0, d, 1, 1), LLHLS_CUT_SEGMENT);
    /* The video began a part at 300 ms: the frame at 320 ms is the first
     * at or after it, as a segment boundary there would be. */
    assert_false(llhls_cutter_follows(&c, 298666, d, 300000));
    assert_true(llhls_cutter_follows(&c, 320000, d, 300000));
    assert_false(llhls_cutter_follows(&c, 341333, d, 300000)); /* passed it */
    assert_false(llhls_cutter_follows(&c, 320000, d, -1));     /* no video part yet */
    /* The open part began there already. */
    llhls_cutter_close_part(&c, 320000);
    assert_false(llhls_cutter_follows(&c, 320000, d, 300000));
    /* A video part 60 ms after the audio's: too short a part to close. */
    assert_false(llhls_cutter_follows(&c, 384000, d, 380000));
}

static void test_cutter_audio_only_segments_last_about_the_target(void **state)
{
    (void)state;
    static const uint32_t srs[] = {44100, 48000};
    for (size_t si = 0; si < 2; si++) {
        uint32_t sr = srs[si];
        rec_t *r = rec_new(PART_TARGET, SEGMENT_TARGET, sr);
        uint32_t dur_us = (uint32_t)(1024ull * 1000000 / sr);
        for (int64_t dts = 0; dts < (int64_t)sr * 180; dts += 1024)
            rec_place(r, dts * 1000000 / sr, dur_us, 1024, 1, -1);
        close_part(r);
        check_parts(r, PART_TARGET);
        assert_in_range(r->nseg, 89, 91);
        for (uint32_t s = 0; s + 1 < r->nseg; s++)
            assert_in_range(r->seg_us[s], SEGMENT_TARGET - dur_us, SEGMENT_TARGET + dur_us);
        rec_free(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cutter_first_sample_opens_a_segment),
        cmocka_unit_test(test_cutter_part_ends_before_the_sample_that_would_pass_the_target),
        cmocka_unit_test(test_cutter_sync_before_segment_target_only_cuts_a_part),
        cmocka_unit_test(test_cutter_caller_boundary_overrides_the_target),
        cmocka_unit_test(test_cutter_boundary_zero_still_respects_max_parts),
        cmocka_unit_test(test_cutter_sample_longer_than_target_gets_a_part_of_its_own),
        cmocka_unit_test(test_cutter_video_rules_hold_at_every_frame_rate_and_gop),
        cmocka_unit_test(test_cutter_video_rules_hold_with_estimated_durations),
        cmocka_unit_test(test_cutter_early_commits_keep_every_rule),
        cmocka_unit_test(test_cutter_part_full_needs_085_of_the_target),
        cmocka_unit_test(test_cutter_forces_a_segment_rather_than_pass_max_parts),
        cmocka_unit_test(test_cutter_audio_follows_video_segments),
        cmocka_unit_test(test_cutter_audio_only_segments_last_about_the_target),
        cmocka_unit_test(test_cutter_audio_parts_end_where_the_video_parts_do),
        cmocka_unit_test(test_cutter_follows_at_the_first_sample_after_and_never_for_a_sliver),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
