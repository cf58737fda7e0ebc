/* Tests of the playlist renderer: the exact lines a player reads from media
 * and multivariant playlists. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "error.h"
#include "playlist.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PDT0 1795462594123ll /* 2026-11-23T19:36:34.123Z */
#define MAX_SEGS 64

typedef struct fixture {
    llhls_stream_info_t st;
    llhls_segment_t segs[MAX_SEGS];
    size_t n;
    llhls_rendition_report_t reports[2];
    size_t nreports;
    int track;
    int skip;
    char *text;
} fixture_t;

static fixture_t *fixture_new(void)
{
    fixture_t *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->st.name, sizeof(f->st.name), "live/test");
    f->st.state = LLHLS_STREAM_LIVE;
    f->st.segment_target_us = 2000000;
    f->st.part_target_us = 500000;
    f->st.window_ms = 60000;
    f->track = LLHLS_TRACK_VIDEO;
    return f;
}

static void fixture_free(fixture_t *f)
{
    free(f->text);
    free(f);
}

/* Appends segment msn of nparts parts of part_us each, the first one
 * independent, starting where the previous one ends. */
static llhls_segment_t *add_seg(fixture_t *f, uint64_t msn, uint32_t nparts, uint32_t part_us, int complete)
{
    assert_true(f->n < MAX_SEGS);
    llhls_segment_t *s = &f->segs[f->n];
    memset(s, 0, sizeof(*s));
    s->msn = msn;
    s->pdt_ms = f->n ? f->segs[f->n - 1].pdt_ms + f->segs[f->n - 1].duration_us / 1000 : PDT0;
    s->init_id = f->n ? f->segs[f->n - 1].init_id : 1;
    s->disc_seq = f->n ? f->segs[f->n - 1].disc_seq : 0;
    s->complete = (uint8_t)complete;
    s->nparts = (uint16_t)nparts;
    for (uint32_t i = 0; i < nparts; i++) {
        s->parts[i].duration_us = part_us;
        s->parts[i].size = 1000;
        s->parts[i].independent = i == 0;
        s->duration_us += part_us;
    }
    f->n++;
    return s;
}

/* count complete segments of 4 parts of 0.5 s from msn first, then an
 * in-progress one with open_parts parts (none if 0). */
static void add_run(fixture_t *f, uint64_t first, uint32_t count, uint32_t open_parts)
{
    for (uint32_t i = 0; i < count; i++)
        add_seg(f, first + i, 4, 500000, 1);
    if (open_parts)
        add_seg(f, first + count, open_parts, 500000, 0);
}

static const char *render(fixture_t *f)
{
    llhls_media_playlist_t pl = {.stream = &f->st,
                                 .track = f->track,
                                 .segs = f->segs,
                                 .nsegs = f->n,
                                 .reports = f->reports,
                                 .nreports = f->nreports,
                                 .skip = f->skip};
    llhls_buf_t b;
    llhls_buf_init(&b, 0);
    assert_int_equal(llhls_playlist_render_media(&b, &pl), 0);
    assert_int_equal(llhls_buf_append(&b, "", 1), 0);
    free(f->text);
    size_t len;
    f->text = (char *)llhls_buf_steal(&b, &len);
    return f->text;
}

/* Index of the line equal to want, or -1. */
static int find_line(const char *text, const char *want)
{
    size_t wl = strlen(want);
    int idx = 0;
    for (const char *p = text; *p; idx++) {
        const char *e = strchr(p, '\n');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == wl && memcmp(p, want, wl) == 0)
            return idx;
        if (e == NULL)
            break;
        p = e + 1;
    }
    return -1;
}

static int count_prefix(const char *text, const char *prefix)
{
    int n = 0;
    size_t pl = strlen(prefix);
    for (const char *p = text; *p;) {
        if (strncmp(p, prefix, pl) == 0)
            n++;
        const char *e = strchr(p, '\n');
        if (e == NULL)
            break;
        p = e + 1;
    }
    return n;
}

/* Copies line idx (0-based) into out. */
static const char *line_at(const char *text, int idx, char *out, size_t outsz)
{
    const char *p = text;
    for (int i = 0; i < idx && p; i++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    assert_non_null(p);
    const char *e = strchr(p, '\n');
    size_t l = e ? (size_t)(e - p) : strlen(p);
    assert_true(l < outsz);
    memcpy(out, p, l);
    out[l] = '\0';
    return out;
}

static const char *last_line(const char *text, char *out, size_t outsz)
{
    int n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    return line_at(text, n - 1, out, outsz);
}

static void test_playlist_live_media_full_text(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    add_run(f, 10, 2, 2);
    f->reports[0].uri = "audio.m3u8";
    f->reports[0].pos = (llhls_position_t){.has_parts = 1, .last_msn = 12, .last_part = 1};
    f->nreports = 1;
    const char *want = "#EXTM3U\n"
                       "#EXT-X-VERSION:9\n"
                       "#EXT-X-TARGETDURATION:2\n"
                       "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=12.0,CAN-SKIP-DATERANGES=YES,"
                       "PART-HOLD-BACK=1.500,HOLD-BACK=6.0\n"
                       "#EXT-X-PART-INF:PART-TARGET=0.50000\n"
                       "#EXT-X-MEDIA-SEQUENCE:10\n"
                       "#EXT-X-MAP:URI=\"video/init-1.mp4\"\n"
                       "#EXT-X-PROGRAM-DATE-TIME:2026-11-23T19:36:34.123Z\n"
                       "#EXT-X-PART:DURATION=0.50000,URI=\"video/10.0.m4s\",INDEPENDENT=YES\n"
                       "#EXT-X-PART:DURATION=0.50000,URI=\"video/10.1.m4s\"\n"
                       "#EXT-X-PART:DURATION=0.50000,URI=\"video/10.2.m4s\"\n"
                       "#EXT-X-PART:DURATION=0.50000,URI=\"video/10.3.m4s\"\n"
                       "#EXTINF:2.00000,\n"
                       "video/10.m4s\n"
                       "#EXT-X-PROGRAM-DATE-TIME:2026-11-23T19:36:36.123Z\n"
                       "#EXT-X-PART:DURATION=0.50000,URI=\"video/11.0.m4s\",INDEPENDENT=YES\n"
                       "#EXT-X-PART:DURATION=0.50000,URI=\"video/11.1.m4s\"\n"
                       "#EXT-X-PART:DURATION=0.50000,URI=\"video/11.2.m4s\"\n"
                       "#EXT-X-PART:DURATION=0.50000,URI=\"video/11.3.m4s\"\n"
                       "#EXTINF:2.00000,\n"
                       "video/11.m4s\n"
                       "#EXT-X-PROGRAM-DATE-TIME:2026-11-23T19:36:38.123Z\n"
                       "#EXT-X-PART:DURATION=0.50000,URI=\"video/12.0.m4s\",INDEPENDENT=YES\n"
                       "#EXT-X-PART:DURATION=0.50000,URI=\"video/12.1.m4s\"\n"
                       "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"video/12.2.m4s\"\n"
                       "#EXT-X-RENDITION-REPORT:URI=\"audio.m3u8\",LAST-MSN=12,LAST-PART=1\n";
    assert_string_equal(render(f), want);
    fixture_free(f);
}

static void test_playlist_video_has_no_independent_segments_audio_has(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    add_run(f, 0, 1, 1);
    assert_int_equal(find_line(render(f), "#EXT-X-INDEPENDENT-SEGMENTS"), -1);
    f->track = LLHLS_TRACK_AUDIO;
    const char *t = render(f);
    assert_int_equal(find_line(t, "#EXT-X-INDEPENDENT-SEGMENTS"), 2);
    assert_true(find_line(t, "#EXT-X-MAP:URI=\"audio/init-1.mp4\"") > 0);
    assert_true(find_line(t, "audio/0.m4s") > 0);
    assert_true(find_line(t, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"audio/1.1.m4s\"") > 0);
    fixture_free(f);
}

static void test_playlist_parts_only_in_last_three_target_durations(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    /* Segments 0..9 complete (2 s each), 10 in progress with 0.5 s: the
     * playlist ends at 20.5 s, so parts are listed for segments starting at
     * 14.5 s or later: 8, 9 and 10. */
    add_run(f, 0, 10, 1);
    const char *t = render(f);
    assert_int_equal(find_line(t, "#EXT-X-PART:DURATION=0.50000,URI=\"video/7.0.m4s\",INDEPENDENT=YES"), -1);
    assert_int_equal(find_line(t, "#EXT-X-PART:DURATION=0.50000,URI=\"video/7.3.m4s\""), -1);
    assert_true(find_line(t, "#EXT-X-PART:DURATION=0.50000,URI=\"video/8.0.m4s\",INDEPENDENT=YES") > 0);
    assert_true(find_line(t, "#EXT-X-PART:DURATION=0.50000,URI=\"video/9.3.m4s\"") > 0);
    assert_true(find_line(t, "#EXT-X-PART:DURATION=0.50000,URI=\"video/10.0.m4s\",INDEPENDENT=YES") > 0);
    assert_int_equal(count_prefix(t, "#EXT-X-PART:"), 9);
    /* Every segment is still listed whole. */
    assert_int_equal(count_prefix(t, "#EXTINF:"), 10);
    assert_true(find_line(t, "video/0.m4s") > 0);
    fixture_free(f);
}

static void test_playlist_long_open_segment_still_lists_its_parts(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    /* A stalled GOP: the open segment is already longer than 3 TD. */
    add_run(f, 0, 2, 0);
    add_seg(f, 2, 14, 500000, 0);
    const char *t = render(f);
    assert_int_equal(count_prefix(t, "#EXT-X-PART:"), 14);
    assert_true(find_line(t, "#EXT-X-PART:DURATION=0.50000,URI=\"video/2.13.m4s\"") > 0);
    fixture_free(f);
}

static void test_playlist_element_order_of_a_segment(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    add_run(f, 5, 1, 0);
    llhls_segment_t *s = add_seg(f, 6, 4, 500000, 1);
    s->discontinuity = 1;
    s->disc_seq = 1;
    s->init_id = 2;
    const char *t = render(f);
    int d = find_line(t, "#EXT-X-DISCONTINUITY");
    assert_true(d > 0);
    assert_int_equal(find_line(t, "#EXT-X-MAP:URI=\"video/init-2.mp4\""), d + 1);
    assert_int_equal(find_line(t, "#EXT-X-PROGRAM-DATE-TIME:2026-11-23T19:36:36.123Z"), d + 2);
    assert_int_equal(find_line(t, "#EXT-X-PART:DURATION=0.50000,URI=\"video/6.0.m4s\",INDEPENDENT=YES"), d + 3);
    assert_int_equal(find_line(t, "#EXT-X-PART:DURATION=0.50000,URI=\"video/6.3.m4s\""), d + 6);
    char line[128];
    assert_string_equal(line_at(t, d + 7, line, sizeof(line)), "#EXTINF:2.00000,");
    assert_string_equal(line_at(t, d + 8, line, sizeof(line)), "video/6.m4s");
    fixture_free(f);
}

static void test_playlist_discontinuity_and_sequence(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    llhls_segment_t *s = add_seg(f, 20, 4, 500000, 1);
    s->disc_seq = 2;
    add_seg(f, 21, 4, 500000, 1);
    s = add_seg(f, 22, 4, 500000, 1);
    s->discontinuity = 1;
    s->disc_seq = 3;
    add_seg(f, 23, 1, 500000, 0);
    const char *t = render(f);
    assert_true(find_line(t, "#EXT-X-DISCONTINUITY-SEQUENCE:2") > 0);
    /* Same init section: DISCONTINUITY, then PDT, then the first part. */
    assert_int_equal(find_line(t, "#EXT-X-DISCONTINUITY") + 2,
                     find_line(t, "#EXT-X-PART:DURATION=0.50000,URI=\"video/22.0.m4s\",INDEPENDENT=YES"));
    int discs = 0;
    for (const char *p = t; (p = strstr(p, "#EXT-X-DISCONTINUITY\n")) != NULL; p++)
        discs++;
    assert_int_equal(discs, 1);
    fixture_free(f);
}

static void test_playlist_no_discontinuity_sequence_when_zero(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    add_run(f, 0, 3, 1);
    assert_int_equal(count_prefix(render(f), "#EXT-X-DISCONTINUITY"), 0);
    fixture_free(f);
}

static void test_playlist_first_listed_discontinuity_is_in_the_sequence(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    f->st.window_ms = 4000;
    add_run(f, 30, 2, 0);
    llhls_segment_t *s = add_seg(f, 32, 4, 500000, 1);
    s->discontinuity = 1;
    s->disc_seq = 5;
    s = add_seg(f, 33, 4, 500000, 1);
    /* Window of 4 s: 32 and 33 listed; 32's discontinuity is carried by the
     * sequence number, so segment 32 is numbered 5 either way. */
    const char *t = render(f);
    assert_true(find_line(t, "#EXT-X-MEDIA-SEQUENCE:32") > 0);
    assert_true(find_line(t, "#EXT-X-DISCONTINUITY-SEQUENCE:5") > 0);
    assert_int_equal(find_line(t, "#EXT-X-DISCONTINUITY"), -1);
    fixture_free(f);
}

static void test_playlist_map_repeated_only_when_init_changes(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    add_run(f, 0, 3, 0);
    const char *t = render(f);
    assert_int_equal(count_prefix(t, "#EXT-X-MAP:"), 1);
    assert_int_equal(find_line(t, "#EXT-X-MAP:URI=\"video/init-1.mp4\""), 6);

    /* A new init section without a discontinuity (same codec, new
     * parameters) still gets its own MAP. */
    llhls_segment_t *s = add_seg(f, 3, 4, 500000, 1);
    s->init_id = 7;
    add_seg(f, 4, 4, 500000, 1);
    t = render(f);
    assert_int_equal(count_prefix(t, "#EXT-X-MAP:"), 2);
    int m = find_line(t, "#EXT-X-MAP:URI=\"video/init-7.mp4\"");
    char line[128];
    assert_string_equal(line_at(t, m - 1, line, sizeof(line)), "video/2.m4s");
    assert_string_equal(line_at(t, m + 1, line, sizeof(line)), "#EXT-X-PROGRAM-DATE-TIME:2026-11-23T19:36:40.123Z");
    fixture_free(f);
}

static void test_playlist_program_date_time_format(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    add_run(f, 0, 3, 0);
    f->segs[0].pdt_ms = 0;
    f->segs[1].pdt_ms = 951782400007ll; /* leap day */
    f->segs[2].pdt_ms = -1;
    const char *t = render(f);
    assert_true(find_line(t, "#EXT-X-PROGRAM-DATE-TIME:1970-01-01T00:00:00.000Z") > 0);
    assert_true(find_line(t, "#EXT-X-PROGRAM-DATE-TIME:2000-02-29T00:00:00.007Z") > 0);
    assert_true(find_line(t, "#EXT-X-PROGRAM-DATE-TIME:1969-12-31T23:59:59.999Z") > 0);
    assert_int_equal(count_prefix(t, "#EXT-X-PROGRAM-DATE-TIME:"), 3);
    fixture_free(f);
}

static void test_playlist_preload_hint_in_open_segment(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    add_run(f, 40, 2, 3);
    const char *t = render(f);
    char line[128];
    assert_string_equal(last_line(t, line, sizeof(line)), "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"video/42.3.m4s\"");
    assert_int_equal(count_prefix(t, "#EXT-X-PRELOAD-HINT:"), 1);
    fixture_free(f);
}

static void test_playlist_preload_hint_after_complete_segment(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    add_run(f, 40, 3, 0);
    const char *t = render(f);
    char line[128];
    assert_string_equal(last_line(t, line, sizeof(line)), "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"video/43.0.m4s\"");
    fixture_free(f);
}

static void test_playlist_rendition_reports(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    add_run(f, 0, 2, 1);
    f->reports[0].uri = "audio.m3u8";
    f->reports[0].pos = (llhls_position_t){.has_parts = 1, .last_complete = 1, .last_msn = 1, .last_part = 7};
    f->reports[1].uri = "other.m3u8";
    f->reports[1].pos = (llhls_position_t){0};
    f->nreports = 2;
    const char *t = render(f);
    int h = find_line(t, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"video/2.1.m4s\"");
    assert_true(h > 0);
    assert_int_equal(find_line(t, "#EXT-X-RENDITION-REPORT:URI=\"audio.m3u8\",LAST-MSN=1,LAST-PART=7"), h + 1);
    /* A rendition with nothing published yet has no position to report. */
    assert_int_equal(count_prefix(t, "#EXT-X-RENDITION-REPORT:"), 1);
    fixture_free(f);
}

static void test_playlist_ended_has_endlist_and_no_hint(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    add_run(f, 0, 3, 0);
    f->st.state = LLHLS_STREAM_ENDED;
    f->reports[0].uri = "audio.m3u8";
    f->reports[0].pos = (llhls_position_t){.has_parts = 1, .last_complete = 1, .ended = 1, .last_msn = 2};
    f->nreports = 1;
    const char *t = render(f);
    char line[128];
    assert_string_equal(last_line(t, line, sizeof(line)), "#EXT-X-ENDLIST");
    assert_string_equal(line_at(t, find_line(t, "#EXT-X-ENDLIST") - 1, line, sizeof(line)), "video/2.m4s");
    assert_int_equal(count_prefix(t, "#EXT-X-PRELOAD-HINT"), 0);
    assert_int_equal(count_prefix(t, "#EXT-X-RENDITION-REPORT"), 0);
    assert_int_equal(count_prefix(t, "#EXT-X-ENDLIST"), 1);
    fixture_free(f);
}

static void test_playlist_live_has_no_endlist(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    add_run(f, 0, 3, 0);
    f->st.state = LLHLS_STREAM_IDLE;
    assert_int_equal(count_prefix(render(f), "#EXT-X-ENDLIST"), 0);
    fixture_free(f);
}

static void test_playlist_window_keeps_newest_segments(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    f->st.window_ms = 12000;
    /* 0.5 s open + five 2 s segments fit in 12 s; a sixth would not. */
    add_run(f, 100, 20, 1);
    const char *t = render(f);
    assert_true(find_line(t, "#EXT-X-MEDIA-SEQUENCE:115") > 0);
    assert_int_equal(find_line(t, "video/114.m4s"), -1);
    assert_true(find_line(t, "video/115.m4s") > 0);
    assert_int_equal(count_prefix(t, "#EXTINF:"), 5);
    assert_int_equal(count_prefix(t, "#EXT-X-MAP:"), 1);
    assert_true(find_line(t, "#EXT-X-PROGRAM-DATE-TIME:2026-11-23T19:37:04.123Z") > 0);
    fixture_free(f);
}

static void test_playlist_window_lists_at_least_one_segment(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    f->st.window_ms = 1000;
    add_run(f, 7, 3, 0);
    const char *t = render(f);
    assert_true(find_line(t, "#EXT-X-MEDIA-SEQUENCE:9") > 0);
    assert_int_equal(count_prefix(t, "#EXTINF:"), 1);
    assert_true(find_line(t, "video/9.m4s") > 0);
    fixture_free(f);
}

static void test_playlist_skip_yes(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    /* 20 complete segments and 0.5 s open: the playlist ends at 40.5 s and
     * CAN-SKIP-UNTIL is 12 s, so segments starting before 28.5 s (100..114)
     * are skipped. */
    add_run(f, 100, 20, 1);
    f->skip = LLHLS_SKIP_YES;
    const char *t = render(f);
    char line[128];
    assert_string_equal(line_at(t, 1, line, sizeof(line)), "#EXT-X-VERSION:9");
    assert_true(find_line(t, "#EXT-X-MEDIA-SEQUENCE:100") > 0);
    int s = find_line(t, "#EXT-X-SKIP:SKIPPED-SEGMENTS=15");
    assert_true(s > 0);
    assert_int_equal(count_prefix(t, "#EXT-X-SKIP"), 1);
    assert_int_equal(find_line(t, "#EXT-X-MAP:URI=\"video/init-1.mp4\""), s + 1);
    assert_int_equal(find_line(t, "#EXT-X-PROGRAM-DATE-TIME:2026-11-23T19:37:04.123Z"), s + 2);
    assert_int_equal(find_line(t, "video/114.m4s"), -1);
    assert_true(find_line(t, "video/115.m4s") > s);
    assert_int_equal(count_prefix(t, "#EXTINF:"), 5);
    fixture_free(f);
}

static void test_playlist_skip_v2(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    add_run(f, 100, 20, 1);
    f->skip = LLHLS_SKIP_V2;
    const char *t = render(f);
    char line[128];
    assert_string_equal(line_at(t, 1, line, sizeof(line)), "#EXT-X-VERSION:10");
    assert_true(find_line(t, "#EXT-X-SKIP:SKIPPED-SEGMENTS=15,RECENTLY-REMOVED-DATERANGES=\"\"") > 0);
    assert_int_equal(count_prefix(t, "#EXT-X-SKIP"), 1);
    fixture_free(f);
}

static void test_playlist_skip_nothing_old_enough(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    add_run(f, 0, 3, 2);
    f->skip = LLHLS_SKIP_YES;
    const char *t = render(f);
    int s = find_line(t, "#EXT-X-SKIP:SKIPPED-SEGMENTS=0");
    assert_true(s > 0);
    assert_int_equal(find_line(t, "#EXT-X-MAP:URI=\"video/init-1.mp4\""), s + 1);
    assert_int_equal(count_prefix(t, "#EXTINF:"), 3);
    fixture_free(f);
}

static void test_playlist_skip_keeps_discontinuity_of_first_shown(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    add_run(f, 0, 15, 0);
    llhls_segment_t *s = add_seg(f, 15, 4, 500000, 1);
    s->discontinuity = 1;
    s->disc_seq = 1;
    s->init_id = 2;
    add_seg(f, 16, 4, 500000, 1);
    add_seg(f, 17, 4, 500000, 1);
    add_seg(f, 18, 4, 500000, 1);
    add_seg(f, 19, 4, 500000, 1);
    add_seg(f, 20, 1, 500000, 0);
    f->skip = LLHLS_SKIP_YES;
    const char *t = render(f);
    int k = find_line(t, "#EXT-X-SKIP:SKIPPED-SEGMENTS=15");
    assert_true(k > 0);
    assert_int_equal(find_line(t, "#EXT-X-DISCONTINUITY"), k + 1);
    assert_int_equal(find_line(t, "#EXT-X-MAP:URI=\"video/init-2.mp4\""), k + 2);
    assert_int_equal(count_prefix(t, "#EXT-X-DISCONTINUITY-SEQUENCE"), 0);
    fixture_free(f);
}

/* Five-decimal seconds as 10 us steps. */
static uint64_t tens(const char *s)
{
    char *end;
    unsigned long long whole = strtoull(s, &end, 10);
    assert_true(*end == '.');
    unsigned long long frac = strtoull(end + 1, &end, 10);
    return (uint64_t)whole * 100000 + frac;
}

/* Every printed part is within PART-TARGET, and is one of the two real
 * part lengths truncated to five decimals. */
static void check_parts_within_target(const char *t, uint32_t lo, uint32_t hi)
{
    const char *pt = strstr(t, "PART-TARGET=");
    assert_non_null(pt);
    uint64_t target = tens(pt + strlen("PART-TARGET="));
    assert_int_equal(target, (hi + 9) / 10);
    int n = 0;
    for (const char *p = t; (p = strstr(p, "#EXT-X-PART:DURATION=")) != NULL; p++, n++) {
        uint64_t d = tens(p + strlen("#EXT-X-PART:DURATION="));
        assert_true(d <= target);
        assert_true(d == lo / 10 || d == hi / 10);
    }
    assert_int_equal(n, 4 * 6);
}

static void test_playlist_part_durations_never_exceed_part_target(void **state)
{
    (void)state;
    /* Frames per part at 23.976, 29.97, 59.94 and 120 fps: the exact part
     * length is not a whole number of microseconds, and the packager's parts
     * come out one microsecond either side of it. */
    const struct {
        uint32_t fps_num, fps_den, frames;
    } rates[] = {{24000, 1001, 12}, {24000, 1001, 8},  {30000, 1001, 10}, {30000, 1001, 15},
                 {60000, 1001, 20}, {60000, 1001, 19}, {120, 1, 40},      {120, 1, 25}};
    for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
        uint64_t num = (uint64_t)rates[r].frames * rates[r].fps_den * 1000000;
        uint32_t lo = (uint32_t)(num / rates[r].fps_num);
        uint32_t hi = (uint32_t)((num + rates[r].fps_num - 1) / rates[r].fps_num);
        fixture_t *f = fixture_new();
        f->st.part_target_us = hi;
        f->st.segment_target_us = 10000000; /* every part within 3 TD */
        for (uint64_t m = 0; m < 4; m++) {
            llhls_segment_t *s = add_seg(f, m, 6, lo, m < 3);
            s->parts[1].duration_us = hi;
            s->parts[3].duration_us = hi;
            s->duration_us += 2 * (hi - lo);
        }
        check_parts_within_target(render(f), lo, hi);
        fixture_free(f);
    }
}

static void test_playlist_part_target_rounds_up_part_duration_down(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    f->st.part_target_us = 333667; /* ten frames at 29.97 fps */
    add_seg(f, 0, 3, 333667, 0);
    const char *t = render(f);
    assert_true(find_line(t, "#EXT-X-PART-INF:PART-TARGET=0.33367") > 0);
    assert_true(find_line(t, "#EXT-X-PART:DURATION=0.33366,URI=\"video/0.0.m4s\",INDEPENDENT=YES") > 0);
    /* Three printed part targets are 1.00101 s: rounded up to the ms. */
    assert_non_null(strstr(t, ",PART-HOLD-BACK=1.002,"));
    fixture_free(f);
}

static void test_playlist_part_hold_back_is_three_part_targets(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    f->st.part_target_us = 333334;
    add_seg(f, 0, 1, 333334, 0);
    const char *t = render(f);
    assert_true(find_line(t, "#EXT-X-PART-INF:PART-TARGET=0.33334") > 0);
    assert_non_null(strstr(t, ",PART-HOLD-BACK=1.001,"));
    f->st.part_target_us = 1000000;
    t = render(f);
    assert_true(find_line(t, "#EXT-X-PART-INF:PART-TARGET=1.00000") > 0);
    assert_non_null(strstr(t, ",PART-HOLD-BACK=3.000,"));
    fixture_free(f);
}

static void test_playlist_extinf_rounds_to_nearest(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    add_seg(f, 0, 1, 2002002, 1);
    add_seg(f, 1, 1, 1999996, 1);
    add_seg(f, 2, 1, 1999994, 1);
    const char *t = render(f);
    assert_true(find_line(t, "#EXTINF:2.00200,") > 0);
    assert_true(find_line(t, "#EXTINF:2.00000,") > 0);
    assert_true(find_line(t, "#EXTINF:1.99999,") > 0);
    fixture_free(f);
}

static void test_playlist_target_duration_with_long_gop(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    /* A 4 s GOP on a 2 s segment target: segments last 4.004 s. */
    for (uint64_t m = 0; m < 3; m++)
        add_seg(f, m, 8, 500500, 1);
    add_seg(f, 3, 2, 500500, 0);
    assert_int_equal(llhls_playlist_target_duration(&f->st, f->segs, f->n), 4);
    const char *t = render(f);
    assert_true(find_line(t, "#EXT-X-TARGETDURATION:4") > 0);
    assert_true(find_line(t, "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=24.0,CAN-SKIP-DATERANGES=YES,"
                             "PART-HOLD-BACK=1.500,HOLD-BACK=12.0") > 0);
    assert_true(find_line(t, "#EXTINF:4.00400,") > 0);
    fixture_free(f);
}

static void test_playlist_target_duration_rounding(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    /* 2.4 s rounds to 2: within a 2 s target. */
    add_seg(f, 0, 1, 2400000, 1);
    assert_int_equal(llhls_playlist_target_duration(&f->st, f->segs, f->n), 2);
    /* 2.5 s rounds to 3. */
    add_seg(f, 1, 1, 2500000, 1);
    assert_int_equal(llhls_playlist_target_duration(&f->st, f->segs, f->n), 3);
    /* An open segment does not count until it is complete. */
    add_seg(f, 2, 1, 9000000, 0);
    assert_int_equal(llhls_playlist_target_duration(&f->st, f->segs, f->n), 3);
    f->segs[2].complete = 1;
    assert_int_equal(llhls_playlist_target_duration(&f->st, f->segs, f->n), 9);
    /* A configured target of 1.5 s is 2 whole seconds; never below 1. */
    f->st.segment_target_us = 1500000;
    assert_int_equal(llhls_playlist_target_duration(&f->st, f->segs, 0), 2);
    f->st.segment_target_us = 0;
    assert_int_equal(llhls_playlist_target_duration(&f->st, f->segs, 0), 1);
    fixture_free(f);
}

static void test_playlist_target_duration_ignores_segments_out_of_window(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    f->st.window_ms = 6000;
    add_seg(f, 0, 1, 7000000, 1);
    add_run(f, 1, 3, 0);
    assert_int_equal(llhls_playlist_target_duration(&f->st, f->segs, f->n), 2);
    assert_true(find_line(render(f), "#EXT-X-TARGETDURATION:2") > 0);
    fixture_free(f);
}

static void test_playlist_no_segments_yet(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    const char *t = render(f);
    assert_true(find_line(t, "#EXT-X-MEDIA-SEQUENCE:0") > 0);
    assert_true(find_line(t, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"video/0.0.m4s\"") > 0);
    assert_int_equal(count_prefix(t, "#EXTINF"), 0);
    fixture_free(f);
}

static void test_playlist_render_fails_past_buffer_cap(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    add_run(f, 0, 10, 2);
    llhls_media_playlist_t pl = {.stream = &f->st, .track = f->track, .segs = f->segs, .nsegs = f->n};
    llhls_buf_t b;
    llhls_buf_init(&b, 300);
    assert_int_equal(llhls_playlist_render_media(&b, &pl), -LLHLS_ETOOBIG);
    assert_true(b.len <= 300);
    llhls_buf_free(&b);
    fixture_free(f);
}

/* ---- long windows and recordings ---- */

/* A 2-hour window of 2 s segments cut into six parts of 0.33334 s, as the
 * default configuration makes them.  Measured here (video track, one
 * rendition report):
 *   full playlist         296332 bytes, 3600 segments
 *   _HLS_skip=YES delta      1658 bytes, 3594 segments skipped (v2: 1690)
 * so a player that reloads every part target fetches 0.56 % of the text. */
#define LONG_SEGS 3600

static void fill_two_hours(llhls_stream_info_t *st, llhls_segment_t *segs)
{
    memset(st, 0, sizeof(*st));
    snprintf(st->name, sizeof(st->name), "live/long");
    st->state = LLHLS_STREAM_LIVE;
    st->segment_target_us = 2000000;
    st->part_target_us = 333340;
    st->window_ms = 2 * 3600 * 1000;
    int64_t pdt = PDT0;
    for (size_t i = 0; i < LONG_SEGS + 1; i++) {
        llhls_segment_t *s = &segs[i];
        memset(s, 0, sizeof(*s));
        s->msn = 5000 + i;
        s->pdt_ms = pdt;
        s->init_id = 1;
        /* The newest one is open: two parts so far. */
        s->complete = i < LONG_SEGS;
        s->nparts = s->complete ? 6 : 2;
        for (uint32_t k = 0; k < s->nparts; k++) {
            s->parts[k].duration_us = k == 5 ? 333330 : 333334;
            s->parts[k].size = 60000;
            s->parts[k].independent = k == 0;
            s->duration_us += s->parts[k].duration_us;
        }
        pdt += s->duration_us / 1000;
    }
}

static char *render_long(llhls_stream_info_t *st, llhls_segment_t *segs, int skip, size_t *len)
{
    llhls_rendition_report_t rep = {.uri = "audio.m3u8", .pos = {.has_parts = 1, .last_msn = 8600, .last_part = 1}};
    llhls_media_playlist_t pl = {.stream = st, .track = LLHLS_TRACK_VIDEO, .segs = segs, .nsegs = LONG_SEGS + 1,
                                 .reports = &rep, .nreports = 1, .skip = skip};
    llhls_buf_t b;
    llhls_buf_init(&b, 0);
    assert_int_equal(llhls_playlist_render_media(&b, &pl), 0);
    *len = b.len;
    assert_int_equal(llhls_buf_append(&b, "", 1), 0);
    size_t n;
    return (char *)llhls_buf_steal(&b, &n);
}

static void test_playlist_two_hour_window_delta_is_small(void **state)
{
    (void)state;
    llhls_stream_info_t st;
    llhls_segment_t *segs = calloc(LONG_SEGS + 1, sizeof(*segs));
    assert_non_null(segs);
    fill_two_hours(&st, segs);
    size_t full_len, delta_len, v2_len;
    char *full = render_long(&st, segs, LLHLS_SKIP_NONE, &full_len);
    char *delta = render_long(&st, segs, LLHLS_SKIP_YES, &delta_len);
    char *v2 = render_long(&st, segs, LLHLS_SKIP_V2, &v2_len);
    print_message("2-hour window: full playlist %zu bytes, _HLS_skip=YES delta %zu bytes, v2 delta %zu bytes\n",
                  full_len, delta_len, v2_len);

    /* The window is 7200 s: the open segment's 0.67 s pushes the oldest
     * complete one out, so 3599 complete segments and the open one. */
    assert_true(find_line(full, "#EXT-X-MEDIA-SEQUENCE:5001") > 0);
    assert_int_equal(count_prefix(full, "#EXTINF:"), LONG_SEGS - 1);
    assert_int_equal(count_prefix(full, "#EXT-X-PROGRAM-DATE-TIME:"), LONG_SEGS);
    /* Parts only within the last three target durations (6 s of a playlist
     * that ends 0.67 s into the open segment): the segments starting after
     * 7194.67 s from its start, i.e. the last two complete ones and the
     * open one. */
    assert_int_equal(count_prefix(full, "#EXT-X-PART:"), 2 * 6 + 2);
    assert_true(find_line(full, "#EXT-X-PART:DURATION=0.33333,URI=\"video/8598.0.m4s\",INDEPENDENT=YES") > 0);
    assert_int_equal(find_line(full, "#EXT-X-PART:DURATION=0.33333,URI=\"video/8597.0.m4s\",INDEPENDENT=YES"), -1);
    assert_true(find_line(full, "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=12.0,"
                                "CAN-SKIP-DATERANGES=YES,PART-HOLD-BACK=1.001,HOLD-BACK=6.0") > 0);

    /* The delta keeps what starts within CAN-SKIP-UNTIL (12 s) of the end:
     * the open segment and the five complete ones before it. */
    assert_int_equal(count_prefix(delta, "#EXT-X-SKIP:"), 1);
    assert_true(find_line(delta, "#EXT-X-SKIP:SKIPPED-SEGMENTS=3594") > 0);
    assert_true(find_line(delta, "#EXT-X-MEDIA-SEQUENCE:5001") > 0);
    assert_int_equal(count_prefix(delta, "#EXTINF:"), LONG_SEGS - 1 - 3594);
    assert_int_equal(find_line(delta, "video/8594.m4s"), -1);
    assert_true(find_line(delta, "video/8595.m4s") > 0);
    assert_int_equal(count_prefix(delta, "#EXT-X-PART:"), 2 * 6 + 2);
    assert_true(find_line(delta, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"video/8600.2.m4s\"") > 0);
    assert_true(find_line(v2, "#EXT-X-SKIP:SKIPPED-SEGMENTS=3594,RECENTLY-REMOVED-DATERANGES=\"\"") > 0);

    /* The numbers in the comment above. */
    assert_int_equal(full_len, 296332);
    assert_int_equal(delta_len, 1658);
    assert_true(delta_len * 100 < full_len);
    free(full);
    free(delta);
    free(v2);
    free(segs);
}

static void test_playlist_recording_live_lists_only_the_window(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    f->st.record = 1;
    f->st.window_ms = 6000;
    add_run(f, 0, 10, 1);
    const char *t = render(f);
    assert_true(find_line(t, "#EXT-X-MEDIA-SEQUENCE:8") > 0);
    assert_int_equal(count_prefix(t, "#EXTINF:"), 2);
    assert_int_equal(count_prefix(t, "#EXT-X-PLAYLIST-TYPE"), 0);
    assert_int_equal(count_prefix(t, "#EXT-X-PRELOAD-HINT:"), 1);
    fixture_free(f);
}

static void test_playlist_recording_ended_is_vod_of_every_segment(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    f->st.record = 1;
    f->st.state = LLHLS_STREAM_ENDED;
    f->st.window_ms = 6000;
    add_run(f, 0, 2, 0);
    llhls_segment_t *s = add_seg(f, 2, 2, 500000, 1);
    s->discontinuity = 1;
    s->disc_seq = 1;
    s->init_id = 2;
    f->skip = LLHLS_SKIP_YES; /* ignored: there is an ENDLIST */
    const char *want = "#EXTM3U\n"
                       "#EXT-X-VERSION:6\n"
                       "#EXT-X-TARGETDURATION:2\n"
                       "#EXT-X-PLAYLIST-TYPE:VOD\n"
                       "#EXT-X-MEDIA-SEQUENCE:0\n"
                       "#EXT-X-MAP:URI=\"video/init-1.mp4\"\n"
                       "#EXT-X-PROGRAM-DATE-TIME:2026-11-23T19:36:34.123Z\n"
                       "#EXTINF:2.00000,\n"
                       "video/0.m4s\n"
                       "#EXT-X-PROGRAM-DATE-TIME:2026-11-23T19:36:36.123Z\n"
                       "#EXTINF:2.00000,\n"
                       "video/1.m4s\n"
                       "#EXT-X-DISCONTINUITY\n"
                       "#EXT-X-MAP:URI=\"video/init-2.mp4\"\n"
                       "#EXT-X-PROGRAM-DATE-TIME:2026-11-23T19:36:38.123Z\n"
                       "#EXTINF:1.00000,\n"
                       "video/2.m4s\n"
                       "#EXT-X-ENDLIST\n";
    assert_string_equal(render(f), want);
    fixture_free(f);
}

static void test_playlist_recording_ended_lists_hours_past_the_window(void **state)
{
    (void)state;
    llhls_stream_info_t st;
    llhls_segment_t *segs = calloc(LONG_SEGS + 1, sizeof(*segs));
    assert_non_null(segs);
    fill_two_hours(&st, segs);
    segs[LONG_SEGS].complete = 1; /* finished when the publisher left */
    st.window_ms = 60000;
    st.record = 1;
    st.state = LLHLS_STREAM_ENDED;
    size_t len;
    char *t = render_long(&st, segs, LLHLS_SKIP_NONE, &len);
    assert_true(find_line(t, "#EXT-X-MEDIA-SEQUENCE:5000") > 0);
    assert_int_equal(count_prefix(t, "#EXTINF:"), LONG_SEGS + 1);
    assert_int_equal(count_prefix(t, "#EXT-X-MAP:"), 1);
    assert_int_equal(count_prefix(t, "#EXT-X-PART"), 0);
    assert_int_equal(count_prefix(t, "#EXT-X-PRELOAD-HINT"), 0);
    assert_int_equal(count_prefix(t, "#EXT-X-SERVER-CONTROL"), 0);
    assert_int_equal(count_prefix(t, "#EXT-X-RENDITION-REPORT"), 0);
    char line[64];
    assert_string_equal(last_line(t, line, sizeof(line)), "#EXT-X-ENDLIST");
    assert_int_equal(llhls_playlist_target_duration(&st, segs, LONG_SEGS + 1), 2);
    free(t);
    free(segs);
}

static void test_playlist_recording_ended_skips_segment_cut_short(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    f->st.record = 1;
    f->st.state = LLHLS_STREAM_ENDED;
    add_run(f, 0, 2, 2); /* the last one never completed */
    const char *t = render(f);
    assert_int_equal(count_prefix(t, "#EXTINF:"), 2);
    assert_int_equal(find_line(t, "video/2.m4s"), -1);
    assert_int_equal(count_prefix(t, "#EXT-X-PART"), 0);
    fixture_free(f);
}

static void test_playlist_ended_ignores_skip(void **state)
{
    (void)state;
    fixture_t *f = fixture_new();
    f->st.state = LLHLS_STREAM_ENDED;
    add_run(f, 100, 20, 0);
    f->skip = LLHLS_SKIP_YES;
    const char *t = render(f);
    assert_int_equal(count_prefix(t, "#EXT-X-SKIP"), 0);
    assert_int_equal(count_prefix(t, "#EXTINF:"), 20);
    fixture_free(f);
}

/* Multivariant playlists. */

static void av_stream(llhls_stream_info_t *st)
{
    memset(st, 0, sizeof(*st));
    llhls_track_info_t *v = &st->tracks[LLHLS_TRACK_VIDEO], *a = &st->tracks[LLHLS_TRACK_AUDIO];
    v->present = 1;
    snprintf(v->codec, sizeof(v->codec), "hvc1.2.4.L183.B0");
    v->width = 7680;
    v->height = 4320;
    v->frame_rate_milli = 59940;
    v->bandwidth_peak = 96000000;
    v->bandwidth_avg = 80000000;
    a->present = 1;
    snprintf(a->codec, sizeof(a->codec), "mp4a.40.2");
    a->sample_rate = 48000;
    a->channels = 2;
    a->bandwidth_peak = 192000;
    a->bandwidth_avg = 160000;
}

static char *render_mv(const llhls_stream_info_t *st)
{
    llhls_buf_t b;
    llhls_buf_init(&b, 0);
    assert_int_equal(llhls_playlist_render_multivariant(&b, st), 0);
    assert_int_equal(llhls_buf_append(&b, "", 1), 0);
    size_t len;
    return (char *)llhls_buf_steal(&b, &len);
}

static void test_multivariant_video_and_audio(void **state)
{
    (void)state;
    llhls_stream_info_t st;
    av_stream(&st);
    char *t = render_mv(&st);
    assert_string_equal(t, "#EXTM3U\n"
                           "#EXT-X-VERSION:6\n"
                           "#EXT-X-INDEPENDENT-SEGMENTS\n"
                           "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"audio\",DEFAULT=YES,AUTOSELECT=YES,"
                           "CHANNELS=\"2\",URI=\"audio.m3u8\"\n"
                           "#EXT-X-STREAM-INF:BANDWIDTH=96192000,AVERAGE-BANDWIDTH=80160000,"
                           "CODECS=\"hvc1.2.4.L183.B0,mp4a.40.2\",RESOLUTION=7680x4320,FRAME-RATE=59.940,"
                           "AUDIO=\"audio\"\n"
                           "video.m3u8\n");
    free(t);
}

static void test_multivariant_audio_only(void **state)
{
    (void)state;
    llhls_stream_info_t st;
    av_stream(&st);
    st.tracks[LLHLS_TRACK_VIDEO].present = 0;
    char *t = render_mv(&st);
    assert_string_equal(t, "#EXTM3U\n"
                           "#EXT-X-VERSION:6\n"
                           "#EXT-X-INDEPENDENT-SEGMENTS\n"
                           "#EXT-X-STREAM-INF:BANDWIDTH=192000,AVERAGE-BANDWIDTH=160000,CODECS=\"mp4a.40.2\"\n"
                           "audio.m3u8\n");
    free(t);
}

static void test_multivariant_video_only(void **state)
{
    (void)state;
    llhls_stream_info_t st;
    av_stream(&st);
    st.tracks[LLHLS_TRACK_AUDIO].present = 0;
    st.tracks[LLHLS_TRACK_VIDEO].frame_rate_milli = 120000;
    char *t = render_mv(&st);
    assert_null(strstr(t, "#EXT-X-MEDIA:"));
    assert_null(strstr(t, "AUDIO="));
    assert_non_null(strstr(t, "#EXT-X-STREAM-INF:BANDWIDTH=96000000,AVERAGE-BANDWIDTH=80000000,"
                              "CODECS=\"hvc1.2.4.L183.B0\",RESOLUTION=7680x4320,FRAME-RATE=120.000\nvideo.m3u8\n"));
    free(t);
}

static char *render_variants(const llhls_variant_t *v, size_t n)
{
    llhls_buf_t b;
    llhls_buf_init(&b, 0);
    assert_int_equal(llhls_playlist_render_variants(&b, v, n), 0);
    assert_int_equal(llhls_buf_append(&b, "", 1), 0);
    size_t len;
    return (char *)llhls_buf_steal(&b, &len);
}

static void test_variants_share_the_first_renditions_audio(void **state)
{
    (void)state;
    llhls_stream_info_t hi, lo;
    av_stream(&hi);
    av_stream(&lo);
    llhls_track_info_t *v = &lo.tracks[LLHLS_TRACK_VIDEO];
    snprintf(v->codec, sizeof(v->codec), "avc1.64002a");
    v->width = 1920;
    v->height = 1080;
    v->frame_rate_milli = 60000;
    v->bandwidth_peak = 8000000;
    v->bandwidth_avg = 6000000;
    /* The second rendition's own audio is not listed: one group serves all. */
    snprintf(lo.tracks[LLHLS_TRACK_AUDIO].codec, LLHLS_CODEC_MAX, "mp4a.40.5");
    llhls_variant_t vars[] = {{&hi, "../ev~8k/"}, {&lo, "../ev~1080p/"}};
    char *t = render_variants(vars, 2);
    assert_string_equal(t, "#EXTM3U\n"
                           "#EXT-X-VERSION:6\n"
                           "#EXT-X-INDEPENDENT-SEGMENTS\n"
                           "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"audio\",DEFAULT=YES,AUTOSELECT=YES,"
                           "CHANNELS=\"2\",URI=\"../ev~8k/audio.m3u8\"\n"
                           "#EXT-X-STREAM-INF:BANDWIDTH=96192000,AVERAGE-BANDWIDTH=80160000,"
                           "CODECS=\"hvc1.2.4.L183.B0,mp4a.40.2\",RESOLUTION=7680x4320,FRAME-RATE=59.940,"
                           "AUDIO=\"audio\"\n"
                           "../ev~8k/video.m3u8\n"
                           "#EXT-X-STREAM-INF:BANDWIDTH=8192000,AVERAGE-BANDWIDTH=6160000,"
                           "CODECS=\"avc1.64002a,mp4a.40.2\",RESOLUTION=1920x1080,FRAME-RATE=60.000,"
                           "AUDIO=\"audio\"\n"
                           "../ev~1080p/video.m3u8\n");
    free(t);
}

static void test_variants_take_audio_from_a_later_rendition(void **state)
{
    (void)state;
    llhls_stream_info_t silent, sound;
    av_stream(&silent);
    av_stream(&sound);
    silent.tracks[LLHLS_TRACK_AUDIO].present = 0;
    llhls_variant_t vars[] = {{&silent, ""}, {&sound, "../ev~b/"}};
    char *t = render_variants(vars, 2);
    assert_non_null(strstr(t, "URI=\"../ev~b/audio.m3u8\"\n"));
    /* Both variants play with the shared audio, and count it. */
    const char *first = strstr(t, "#EXT-X-STREAM-INF:BANDWIDTH=96192000,");
    assert_non_null(first);
    assert_non_null(strstr(first + 1, "#EXT-X-STREAM-INF:BANDWIDTH=96192000,"));
    assert_non_null(strstr(t, "AUDIO=\"audio\"\nvideo.m3u8\n"));
    assert_non_null(strstr(t, "AUDIO=\"audio\"\n../ev~b/video.m3u8\n"));
    free(t);
}

static void test_variants_without_video_list_the_audio_alone(void **state)
{
    (void)state;
    llhls_stream_info_t a, b;
    av_stream(&a);
    av_stream(&b);
    a.tracks[LLHLS_TRACK_VIDEO].present = 0;
    b.tracks[LLHLS_TRACK_VIDEO].present = 0;
    llhls_variant_t vars[] = {{&a, "../ev~a/"}, {&b, "../ev~b/"}};
    char *t = render_variants(vars, 2);
    assert_string_equal(t, "#EXTM3U\n"
                           "#EXT-X-VERSION:6\n"
                           "#EXT-X-INDEPENDENT-SEGMENTS\n"
                           "#EXT-X-STREAM-INF:BANDWIDTH=192000,AVERAGE-BANDWIDTH=160000,CODECS=\"mp4a.40.2\"\n"
                           "../ev~a/audio.m3u8\n");
    free(t);
}

static void test_multivariant_unmeasured_bandwidth_has_floor(void **state)
{
    (void)state;
    llhls_stream_info_t st;
    av_stream(&st);
    st.tracks[LLHLS_TRACK_VIDEO].bandwidth_peak = 0;
    st.tracks[LLHLS_TRACK_VIDEO].bandwidth_avg = 0;
    st.tracks[LLHLS_TRACK_AUDIO].bandwidth_peak = 0;
    st.tracks[LLHLS_TRACK_AUDIO].bandwidth_avg = 0;
    char *t = render_mv(&st);
    assert_non_null(strstr(t, "#EXT-X-STREAM-INF:BANDWIDTH=2128000,AVERAGE-BANDWIDTH=2128000,"));
    free(t);
    /* An average above the peak (a short window) never makes BANDWIDTH
     * smaller than AVERAGE-BANDWIDTH. */
    av_stream(&st);
    st.tracks[LLHLS_TRACK_VIDEO].bandwidth_peak = 1000;
    t = render_mv(&st);
    assert_non_null(strstr(t, "#EXT-X-STREAM-INF:BANDWIDTH=80192000,AVERAGE-BANDWIDTH=80160000,"));
    free(t);
}

static void test_multivariant_drops_unsafe_codec_string(void **state)
{
    (void)state;
    llhls_stream_info_t st;
    av_stream(&st);
    snprintf(st.tracks[LLHLS_TRACK_VIDEO].codec, LLHLS_CODEC_MAX, "avc1\",X=\"1");
    char *t = render_mv(&st);
    assert_non_null(strstr(t, ",CODECS=\"mp4a.40.2\","));
    assert_null(strstr(t, "X="));
    free(t);
    /* Not NUL-terminated within its field: ignored, never read past. */
    av_stream(&st);
    memset(st.tracks[LLHLS_TRACK_AUDIO].codec, 'a', LLHLS_CODEC_MAX);
    t = render_mv(&st);
    assert_non_null(strstr(t, ",CODECS=\"hvc1.2.4.L183.B0\","));
    free(t);
}

static void test_multivariant_omits_unknown_video_attributes(void **state)
{
    (void)state;
    llhls_stream_info_t st;
    av_stream(&st);
    st.tracks[LLHLS_TRACK_VIDEO].width = 0;
    st.tracks[LLHLS_TRACK_VIDEO].frame_rate_milli = 0;
    st.tracks[LLHLS_TRACK_AUDIO].channels = 0;
    char *t = render_mv(&st);
    assert_null(strstr(t, "RESOLUTION="));
    assert_null(strstr(t, "FRAME-RATE="));
    assert_null(strstr(t, "CHANNELS="));
    assert_non_null(strstr(t, "AUTOSELECT=YES,URI=\"audio.m3u8\"\n"));
    free(t);
}

static void test_multivariant_no_tracks(void **state)
{
    (void)state;
    llhls_stream_info_t st;
    memset(&st, 0, sizeof(st));
    char *t = render_mv(&st);
    assert_string_equal(t, "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_playlist_live_media_full_text),
        cmocka_unit_test(test_playlist_video_has_no_independent_segments_audio_has),
        cmocka_unit_test(test_playlist_parts_only_in_last_three_target_durations),
        cmocka_unit_test(test_playlist_long_open_segment_still_lists_its_parts),
        cmocka_unit_test(test_playlist_element_order_of_a_segment),
        cmocka_unit_test(test_playlist_discontinuity_and_sequence),
        cmocka_unit_test(test_playlist_no_discontinuity_sequence_when_zero),
        cmocka_unit_test(test_playlist_first_listed_discontinuity_is_in_the_sequence),
        cmocka_unit_test(test_playlist_map_repeated_only_when_init_changes),
        cmocka_unit_test(test_playlist_program_date_time_format),
        cmocka_unit_test(test_playlist_preload_hint_in_open_segment),
        cmocka_unit_test(test_playlist_preload_hint_after_complete_segment),
        cmocka_unit_test(test_playlist_rendition_reports),
        cmocka_unit_test(test_playlist_ended_has_endlist_and_no_hint),
        cmocka_unit_test(test_playlist_live_has_no_endlist),
        cmocka_unit_test(test_playlist_window_keeps_newest_segments),
        cmocka_unit_test(test_playlist_window_lists_at_least_one_segment),
        cmocka_unit_test(test_playlist_skip_yes),
        cmocka_unit_test(test_playlist_skip_v2),
        cmocka_unit_test(test_playlist_skip_nothing_old_enough),
        cmocka_unit_test(test_playlist_skip_keeps_discontinuity_of_first_shown),
        cmocka_unit_test(test_playlist_part_durations_never_exceed_part_target),
        cmocka_unit_test(test_playlist_part_target_rounds_up_part_duration_down),
        cmocka_unit_test(test_playlist_part_hold_back_is_three_part_targets),
        cmocka_unit_test(test_playlist_extinf_rounds_to_nearest),
        cmocka_unit_test(test_playlist_target_duration_with_long_gop),
        cmocka_unit_test(test_playlist_target_duration_rounding),
        cmocka_unit_test(test_playlist_target_duration_ignores_segments_out_of_window),
        cmocka_unit_test(test_playlist_no_segments_yet),
        cmocka_unit_test(test_playlist_render_fails_past_buffer_cap),
        cmocka_unit_test(test_playlist_two_hour_window_delta_is_small),
        cmocka_unit_test(test_playlist_recording_live_lists_only_the_window),
        cmocka_unit_test(test_playlist_recording_ended_is_vod_of_every_segment),
        cmocka_unit_test(test_playlist_recording_ended_lists_hours_past_the_window),
        cmocka_unit_test(test_playlist_recording_ended_skips_segment_cut_short),
        cmocka_unit_test(test_playlist_ended_ignores_skip),
        cmocka_unit_test(test_multivariant_video_and_audio),
        cmocka_unit_test(test_variants_share_the_first_renditions_audio),
        cmocka_unit_test(test_variants_take_audio_from_a_later_rendition),
        cmocka_unit_test(test_variants_without_video_list_the_audio_alone),
        cmocka_unit_test(test_multivariant_audio_only),
        cmocka_unit_test(test_multivariant_video_only),
        cmocka_unit_test(test_multivariant_unmeasured_bandwidth_has_floor),
        cmocka_unit_test(test_multivariant_drops_unsafe_codec_string),
        cmocka_unit_test(test_multivariant_omits_unknown_video_attributes),
        cmocka_unit_test(test_multivariant_no_tracks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
