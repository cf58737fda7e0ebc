/* Tests of the part store: bytes in and out, segment order, eviction, the
 * sticky error, a full map, a restart and readers running beside the writer.
 * Each case works in a fresh directory of its own. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "error.h"
#include "store.h"

#include <lmdb.h>

#include "metrics.h"
#include "track.h"

#define _XOPEN_SOURCE_EXTENDED 1
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fixture {
    char dir[64];
    char path[96]; /* the store directory, created by the store itself */
    llhls_store_t *store;
} fixture_t;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/llhls-store-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/data", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    llhls_store_close(f->store);
    nftw(f->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static llhls_store_t *open_store(fixture_t *f, size_t map_size)
{
    assert_int_equal(llhls_store_open(&f->store, f->path, map_size), 0);
    return f->store;
}

/* Bytes that differ for every (msn, part, offset), so a mix-up shows. */
static void fill(unsigned char *p, size_t len, uint64_t msn, uint32_t part)
{
    uint32_t x = (uint32_t)(msn * 2654435761u) ^ (part * 40503u) ^ 0x5bd1e995u;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        p[i] = (unsigned char)x;
    }
}

static int check_bytes(const void *got, size_t got_len, size_t len, uint64_t msn, uint32_t part)
{
    if (got_len != len)
        return 0;
    unsigned char *want = malloc(len ? len : 1);
    fill(want, len, msn, part);
    int same = memcmp(got, want, len) == 0;
    free(want);
    return same;
}

static void make_segment(llhls_segment_t *seg, uint64_t msn, uint16_t nparts, uint32_t part_size, uint32_t init_id)
{
    memset(seg, 0, sizeof(*seg));
    seg->msn = msn;
    seg->pdt_ms = 1700000000000 + (int64_t)msn * 2000;
    seg->init_id = init_id;
    seg->disc_seq = (uint32_t)(msn / 10);
    seg->discontinuity = msn % 10 == 0;
    seg->nparts = nparts;
    for (uint16_t i = 0; i < nparts; i++) {
        seg->parts[i].duration_us = 333333 + i;
        seg->parts[i].size = part_size;
        seg->parts[i].independent = i == 0;
        seg->duration_us += seg->parts[i].duration_us;
    }
    seg->complete = nparts == 4;
}

/* ---- write callbacks ---- */

typedef struct part_job {
    const char *stream;
    int track;
    uint64_t msn;
    uint32_t index; /* the part written; the segment has index+1 parts */
    uint32_t size;
    uint32_t init_id;
} part_job_t;

static int write_part(llhls_wtxn_t *t, void *ctx)
{
    const part_job_t *j = ctx;
    llhls_segment_t *seg = malloc(sizeof(*seg));
    unsigned char *bytes = malloc(j->size);
    make_segment(seg, j->msn, (uint16_t)(j->index + 1), j->size, j->init_id);
    fill(bytes, j->size, j->msn, j->index);
    int rc = llhls_wtxn_put_part(t, j->stream, j->track, seg, j->index, bytes, j->size);
    free(bytes);
    free(seg);
    return rc;
}

static int put_part(llhls_store_t *s, const char *stream, int track, uint64_t msn, uint32_t index, uint32_t size,
                    uint32_t init_id)
{
    part_job_t j = {stream, track, msn, index, size, init_id};
    return llhls_store_write(s, write_part, &j);
}

/* A whole segment of four parts of 100 bytes, in one write each. */
static void put_segment4(llhls_store_t *s, const char *stream, int track, uint64_t msn, uint32_t init_id)
{
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(put_part(s, stream, track, msn, i, 100, init_id), 0);
}

typedef struct init_job {
    const char *stream;
    int track;
    uint32_t init_id;
    size_t size;
} init_job_t;

static int write_init(llhls_wtxn_t *t, void *ctx)
{
    const init_job_t *j = ctx;
    unsigned char *bytes = malloc(j->size);
    fill(bytes, j->size, 1000000 + j->init_id, (uint32_t)j->track);
    int rc = llhls_wtxn_put_init(t, j->stream, j->track, j->init_id, bytes, j->size);
    free(bytes);
    return rc;
}

static int put_init(llhls_store_t *s, const char *stream, int track, uint32_t init_id, size_t size)
{
    init_job_t j = {stream, track, init_id, size};
    return llhls_store_write(s, write_init, &j);
}

static int has_init(llhls_store_t *s, const char *stream, int track, uint32_t init_id)
{
    llhls_rtxn_t *r;
    const void *b;
    size_t len;
    assert_int_equal(llhls_store_read_begin(s, &r), 0);
    int rc = llhls_rtxn_get_init(r, stream, track, init_id, &b, &len);
    llhls_store_read_end(r);
    return rc == 0;
}

static int has_part(llhls_store_t *s, const char *stream, int track, uint64_t msn, uint32_t index)
{
    llhls_rtxn_t *r;
    const void *b;
    size_t len;
    assert_int_equal(llhls_store_read_begin(s, &r), 0);
    int rc = llhls_rtxn_get_part(r, stream, track, msn, index, &b, &len);
    llhls_store_read_end(r);
    assert_true(rc == 0 || rc == -LLHLS_ENOTFOUND);
    return rc == 0;
}

static void sample_info(llhls_stream_info_t *info, const char *name, uint32_t video_init)
{
    memset(info, 0, sizeof(*info));
    snprintf(info->name, sizeof(info->name), "%s", name);
    info->state = LLHLS_STREAM_LIVE;
    info->segment_target_us = 2000000;
    info->part_target_us = 333334;
    info->window_ms = 60000;
    info->started_ms = 1700000000123;
    info->updated_ms = -5;
    llhls_track_info_t *v = &info->tracks[LLHLS_TRACK_VIDEO];
    v->present = 1;
    strcpy(v->codec, "hvc1.2.4.L183.B0");
    v->width = 7680;
    v->height = 4320;
    v->frame_rate_milli = 119880;
    v->bandwidth_peak = 120000000;
    v->bandwidth_avg = 80000000;
    v->init_id = video_init;
    llhls_track_info_t *a = &info->tracks[LLHLS_TRACK_AUDIO];
    a->present = 1;
    strcpy(a->codec, "mp4a.40.2");
    a->sample_rate = 48000;
    a->channels = 2;
    a->bandwidth_peak = 128000;
    a->init_id = 3;
}

static int write_stream(llhls_wtxn_t *t, void *ctx)
{
    return llhls_wtxn_put_stream(t, ctx);
}

/* ---- cases ---- */

static void test_store_round_trips_stream_info_init_and_parts(void **state)
{
    fixture_t *f = *state;
    llhls_store_t *s = open_store(f, 16 << 20);
    llhls_stream_info_t info, got;
    sample_info(&info, "live/8k", 7);
    assert_int_equal(llhls_store_write(s, write_stream, &info), 0);
    assert_int_equal(put_init(s, "live/8k", LLHLS_TRACK_VIDEO, 7, 1234), 0);
    assert_int_equal(put_part(s, "live/8k", LLHLS_TRACK_VIDEO, 5, 0, 70000, 7), 0);
    assert_int_equal(put_part(s, "live/8k", LLHLS_TRACK_VIDEO, 5, 1, 1, 7), 0);
    assert_int_equal(put_part(s, "live/8k", LLHLS_TRACK_AUDIO, 5, 0, 0, 3), 0);

    llhls_rtxn_t *r;
    assert_int_equal(llhls_store_read_begin(s, &r), 0);
    assert_int_equal(llhls_rtxn_get_stream(r, "live/8k", &got), 0);
    assert_memory_equal(&got, &info, sizeof(info)); /* both zeroed before filling */
    assert_int_equal(llhls_rtxn_get_stream(r, "live/8", &got), -LLHLS_ENOTFOUND);

    const void *b;
    size_t len;
    assert_int_equal(llhls_rtxn_get_init(r, "live/8k", LLHLS_TRACK_VIDEO, 7, &b, &len), 0);
    assert_true(check_bytes(b, len, 1234, 1000007, LLHLS_TRACK_VIDEO));
    assert_int_equal(llhls_rtxn_get_init(r, "live/8k", LLHLS_TRACK_AUDIO, 7, &b, &len), -LLHLS_ENOTFOUND);
    assert_int_equal(llhls_rtxn_get_part(r, "live/8k", LLHLS_TRACK_VIDEO, 5, 0, &b, &len), 0);
    assert_true(check_bytes(b, len, 70000, 5, 0));
    assert_int_equal(llhls_rtxn_get_part(r, "live/8k", LLHLS_TRACK_VIDEO, 5, 1, &b, &len), 0);
    assert_true(check_bytes(b, len, 1, 5, 1));
    assert_int_equal(llhls_rtxn_get_part(r, "live/8k", LLHLS_TRACK_AUDIO, 5, 0, &b, &len), 0);
    assert_int_equal(len, 0);
    assert_int_equal(llhls_rtxn_get_part(r, "live/8k", LLHLS_TRACK_VIDEO, 5, 2, &b, &len), -LLHLS_ENOTFOUND);
    assert_int_equal(llhls_rtxn_get_part(r, "live/8k", LLHLS_TRACK_VIDEO, 4, 0, &b, &len), -LLHLS_ENOTFOUND);

    /* The segment record holds exactly what the last put_part gave. */
    llhls_segment_t *want = malloc(sizeof(*want)), *seg = malloc(sizeof(*seg));
    make_segment(want, 5, 2, 1, 7);
    assert_int_equal(llhls_rtxn_get_segment(r, "live/8k", LLHLS_TRACK_VIDEO, 5, seg), 0);
    assert_memory_equal(seg, want, sizeof(*seg));
    assert_int_equal(seg->nparts, 2);
    assert_int_equal(seg->pdt_ms, 1700000010000);
    assert_int_equal(llhls_rtxn_get_segment(r, "live/8k", LLHLS_TRACK_VIDEO, 6, seg), -LLHLS_ENOTFOUND);
    free(want);
    free(seg);
    llhls_store_read_end(r);
}

static void test_store_reads_segments_in_msn_order_from_a_given_msn(void **state)
{
    fixture_t *f = *state;
    llhls_store_t *s = open_store(f, 16 << 20);
    /* Out of order, and across byte boundaries, where a little-endian key
     * would sort 256 before 2. */
    uint64_t msns[] = {300, 2, 65536, 256, 1, 255};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(put_part(s, "app/a", LLHLS_TRACK_VIDEO, msns[i], 0, 10, 1), 0);
    /* Neighbours whose keys share bytes with "app/a" must never leak in. */
    assert_int_equal(put_part(s, "app/ab", LLHLS_TRACK_VIDEO, 3, 0, 10, 1), 0);
    assert_int_equal(put_part(s, "app/a", LLHLS_TRACK_AUDIO, 4, 0, 10, 1), 0);
    assert_int_equal(put_part(s, "app", LLHLS_TRACK_VIDEO, 5, 0, 10, 1), 0);

    llhls_rtxn_t *r;
    llhls_segment_t *segs;
    size_t n;
    assert_int_equal(llhls_store_read_begin(s, &r), 0);
    assert_int_equal(llhls_rtxn_get_segments(r, "app/a", LLHLS_TRACK_VIDEO, 0, &segs, &n), 0);
    uint64_t want[] = {1, 2, 255, 256, 300, 65536};
    assert_int_equal(n, 6);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(segs[i].msn, want[i]);
    free(segs);

    assert_int_equal(llhls_rtxn_get_segments(r, "app/a", LLHLS_TRACK_VIDEO, 256, &segs, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(segs[0].msn, 256);
    assert_int_equal(segs[2].msn, 65536);
    free(segs);

    assert_int_equal(llhls_rtxn_get_segments(r, "app/a", LLHLS_TRACK_VIDEO, 65537, &segs, &n), 0);
    assert_int_equal(n, 0);
    free(segs);
    assert_int_equal(llhls_rtxn_get_segments(r, "nobody", LLHLS_TRACK_VIDEO, 0, &segs, &n), 0);
    assert_int_equal(n, 0);
    free(segs);
    llhls_store_read_end(r);
}

static void test_store_last_segment_is_the_newest_of_that_track(void **state)
{
    fixture_t *f = *state;
    llhls_store_t *s = open_store(f, 16 << 20);
    llhls_rtxn_t *r;
    llhls_segment_t *seg = malloc(sizeof(*seg));

    assert_int_equal(llhls_store_read_begin(s, &r), 0);
    assert_int_equal(llhls_rtxn_get_last_segment(r, "app/a", LLHLS_TRACK_VIDEO, seg), -LLHLS_ENOTFOUND);
    llhls_store_read_end(r);

    put_segment4(s, "app/a", LLHLS_TRACK_VIDEO, 7, 1);
    assert_int_equal(put_part(s, "app/a", LLHLS_TRACK_VIDEO, 8, 0, 10, 1), 0);
    assert_int_equal(put_part(s, "app/a", LLHLS_TRACK_VIDEO, 8, 1, 10, 1), 0);
    assert_int_equal(put_part(s, "app/a", LLHLS_TRACK_AUDIO, 3, 0, 10, 1), 0);
    assert_int_equal(put_part(s, "app/b", LLHLS_TRACK_VIDEO, 99, 0, 10, 1), 0);

    assert_int_equal(llhls_store_read_begin(s, &r), 0);
    assert_int_equal(llhls_rtxn_get_last_segment(r, "app/a", LLHLS_TRACK_VIDEO, seg), 0);
    assert_int_equal(seg->msn, 8);
    assert_int_equal(seg->nparts, 2);
    assert_int_equal(seg->complete, 0);
    /* The audio track is the last key of the stream: found by MDB_LAST-free
     * paths as well as by stepping back from the next stream. */
    assert_int_equal(llhls_rtxn_get_last_segment(r, "app/a", LLHLS_TRACK_AUDIO, seg), 0);
    assert_int_equal(seg->msn, 3);
    assert_int_equal(llhls_rtxn_get_last_segment(r, "app/b", LLHLS_TRACK_VIDEO, seg), 0);
    assert_int_equal(seg->msn, 99);
    assert_int_equal(llhls_rtxn_get_last_segment(r, "app/b", LLHLS_TRACK_AUDIO, seg), -LLHLS_ENOTFOUND);
    assert_int_equal(llhls_rtxn_get_segment(r, "app/a", LLHLS_TRACK_VIDEO, 7, seg), 0);
    assert_int_equal(seg->complete, 1);
    assert_int_equal(seg->nparts, 4);
    assert_int_equal(seg->parts[3].duration_us, 333336);
    llhls_store_read_end(r);
    free(seg);
}

typedef struct evict_job {
    const char *stream;
    int track;
    uint64_t before;
} evict_job_t;

static int write_evict(llhls_wtxn_t *t, void *ctx)
{
    const evict_job_t *j = ctx;
    return llhls_wtxn_evict_before(t, j->stream, j->track, j->before);
}

static void test_store_evict_before_drops_old_segments_parts_and_stale_inits_only(void **state)
{
    fixture_t *f = *state;
    llhls_store_t *s = open_store(f, 16 << 20);
    for (uint32_t id = 1; id <= 3; id++) {
        assert_int_equal(put_init(s, "app/a", LLHLS_TRACK_VIDEO, id, 50), 0);
        assert_int_equal(put_init(s, "app/a", LLHLS_TRACK_AUDIO, id, 50), 0);
        assert_int_equal(put_init(s, "app/b", LLHLS_TRACK_VIDEO, id, 50), 0);
    }
    /* Segments 0-1 need init 1, 2-3 init 2, 4-5 init 3. */
    for (uint64_t msn = 0; msn < 6; msn++) {
        put_segment4(s, "app/a", LLHLS_TRACK_VIDEO, msn, (uint32_t)(msn / 2 + 1));
        put_segment4(s, "app/a", LLHLS_TRACK_AUDIO, msn, 1);
        put_segment4(s, "app/b", LLHLS_TRACK_VIDEO, msn, 1);
    }

    evict_job_t j = {"app/a", LLHLS_TRACK_VIDEO, 3};
    assert_int_equal(llhls_store_write(s, write_evict, &j), 0);

    for (uint64_t msn = 0; msn < 6; msn++)
        for (uint32_t i = 0; i < 4; i++) {
            assert_int_equal(has_part(s, "app/a", LLHLS_TRACK_VIDEO, msn, i), msn >= 3);
            assert_true(has_part(s, "app/a", LLHLS_TRACK_AUDIO, msn, i));
            assert_true(has_part(s, "app/b", LLHLS_TRACK_VIDEO, msn, i));
        }
    /* The oldest remaining segment, 3, needs init 2: init 1 is stale. */
    assert_false(has_init(s, "app/a", LLHLS_TRACK_VIDEO, 1));
    assert_true(has_init(s, "app/a", LLHLS_TRACK_VIDEO, 2));
    assert_true(has_init(s, "app/a", LLHLS_TRACK_VIDEO, 3));
    assert_true(has_init(s, "app/a", LLHLS_TRACK_AUDIO, 1));
    assert_true(has_init(s, "app/b", LLHLS_TRACK_VIDEO, 1));

    llhls_rtxn_t *r;
    llhls_segment_t *segs;
    size_t n;
    assert_int_equal(llhls_store_read_begin(s, &r), 0);
    assert_int_equal(llhls_rtxn_get_segments(r, "app/a", LLHLS_TRACK_VIDEO, 0, &segs, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(segs[0].msn, 3);
    free(segs);
    assert_int_equal(llhls_rtxn_get_segments(r, "app/a", LLHLS_TRACK_AUDIO, 0, &segs, &n), 0);
    assert_int_equal(n, 6);
    free(segs);
    llhls_store_read_end(r);

    /* Evicting everything keeps the init section the stream names as current
     * and drops the rest. */
    llhls_stream_info_t info;
    sample_info(&info, "app/a", 3);
    assert_int_equal(llhls_store_write(s, write_stream, &info), 0);
    j.before = 100;
    assert_int_equal(llhls_store_write(s, write_evict, &j), 0);
    assert_false(has_part(s, "app/a", LLHLS_TRACK_VIDEO, 5, 3));
    assert_false(has_init(s, "app/a", LLHLS_TRACK_VIDEO, 2));
    assert_true(has_init(s, "app/a", LLHLS_TRACK_VIDEO, 3));
}

static int write_ends_stream(llhls_wtxn_t *t, void *ctx)
{
    return llhls_wtxn_delete_stream(t, ctx);
}

static int collect_name(const llhls_stream_info_t *info, void *ctx)
{
    char *names = ctx;
    strcat(names, info->name);
    strcat(names, ";");
    return 0;
}

static int stop_at_first(const llhls_stream_info_t *info, void *ctx)
{
    (void)info;
    (*(int *)ctx)++;
    return 42;
}

static void test_store_lists_streams_in_name_order_and_deletes_one_whole(void **state)
{
    fixture_t *f = *state;
    llhls_store_t *s = open_store(f, 16 << 20);
    const char *names[] = {"live/b", "live/a", "app/z", "live/a2"};
    llhls_stream_info_t info;
    for (int i = 0; i < 4; i++) {
        sample_info(&info, names[i], 1);
        assert_int_equal(llhls_store_write(s, write_stream, &info), 0);
        put_segment4(s, names[i], LLHLS_TRACK_VIDEO, 1, 1);
        assert_int_equal(put_init(s, names[i], LLHLS_TRACK_AUDIO, 1, 10), 0);
    }
    assert_int_equal(llhls_store_write(s, write_ends_stream, "live/a"), 0);

    char listed[128] = "";
    int calls = 0;
    llhls_rtxn_t *r;
    assert_int_equal(llhls_store_read_begin(s, &r), 0);
    assert_int_equal(llhls_rtxn_each_stream(r, collect_name, listed), 0);
    assert_string_equal(listed, "app/z;live/a2;live/b;");
    assert_int_equal(llhls_rtxn_each_stream(r, stop_at_first, &calls), 42);
    assert_int_equal(calls, 1);
    assert_int_equal(llhls_rtxn_get_stream(r, "live/a", &info), -LLHLS_ENOTFOUND);
    llhls_store_read_end(r);
    assert_false(has_part(s, "live/a", LLHLS_TRACK_VIDEO, 1, 0));
    assert_false(has_init(s, "live/a", LLHLS_TRACK_AUDIO, 1));
    assert_true(has_part(s, "live/a2", LLHLS_TRACK_VIDEO, 1, 0));
    assert_true(has_init(s, "live/a2", LLHLS_TRACK_AUDIO, 1));
}

typedef struct sticky_job {
    int first, second;
} sticky_job_t;

static int write_after_failure(llhls_wtxn_t *t, void *ctx)
{
    sticky_job_t *j = ctx;
    static const unsigned char init[16];
    llhls_stream_info_t info;
    sample_info(&info, "app/s", 1);
    assert_int_equal(llhls_wtxn_put_init(t, "app/s", LLHLS_TRACK_VIDEO, 1, init, sizeof(init)), 0);
    j->first = llhls_wtxn_put_init(t, "app/s", 7, 2, init, sizeof(init)); /* no track 7 */
    j->second = llhls_wtxn_put_stream(t, &info);
    return 0; /* a careless callback: the store still refuses to commit */
}

static void test_store_sticky_error_fails_the_write_and_stores_nothing(void **state)
{
    fixture_t *f = *state;
    llhls_store_t *s = open_store(f, 16 << 20);
    sticky_job_t j = {0, 0};
    assert_int_equal(llhls_store_write(s, write_after_failure, &j), -LLHLS_EINVAL);
    assert_int_equal(j.first, -LLHLS_EINVAL);
    assert_int_equal(j.second, -LLHLS_EINVAL);
    assert_false(has_init(s, "app/s", LLHLS_TRACK_VIDEO, 1));
    llhls_rtxn_t *r;
    llhls_stream_info_t info;
    assert_int_equal(llhls_store_read_begin(s, &r), 0);
    assert_int_equal(llhls_rtxn_get_stream(r, "app/s", &info), -LLHLS_ENOTFOUND);
    llhls_store_read_end(r);
}

/* Part 128 of a full segment: one past the last index there can be. */
static int write_part_past_the_end(llhls_wtxn_t *t, void *ctx)
{
    (void)ctx;
    static const unsigned char bytes[4] = {1, 2, 3, 4};
    llhls_segment_t *seg = malloc(sizeof(*seg));
    make_segment(seg, 1, LLHLS_MAX_PARTS, 4, 1);
    int first = llhls_wtxn_put_part(t, "app/a", LLHLS_TRACK_VIDEO, seg, LLHLS_MAX_PARTS, bytes, 4);
    free(seg);
    return first;
}

static int write_too_many_parts(llhls_wtxn_t *t, void *ctx)
{
    (void)ctx;
    llhls_segment_t *seg = malloc(sizeof(*seg));
    make_segment(seg, 1, LLHLS_MAX_PARTS, 4, 1);
    seg->nparts = LLHLS_MAX_PARTS + 1;
    int rc = llhls_wtxn_put_segment(t, "app/a", LLHLS_TRACK_VIDEO, seg);
    free(seg);
    return rc;
}

static void test_store_rejects_malformed_arguments(void **state)
{
    fixture_t *f = *state;
    llhls_store_t *s = open_store(f, 16 << 20);
    assert_int_equal(put_part(s, "", LLHLS_TRACK_VIDEO, 1, 0, 10, 1), -LLHLS_EINVAL);
    assert_int_equal(put_part(s, "app/a", -1, 1, 0, 10, 1), -LLHLS_EINVAL);
    assert_int_equal(put_part(s, "app/a", LLHLS_TRACKS, 1, 0, 10, 1), -LLHLS_EINVAL);
    assert_int_equal(llhls_store_write(s, write_part_past_the_end, NULL), -LLHLS_EINVAL);
    assert_int_equal(llhls_store_write(s, write_too_many_parts, NULL), -LLHLS_EINVAL);
    char longname[LLHLS_NAME_MAX + 1];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[LLHLS_NAME_MAX] = 0;
    assert_int_equal(put_part(s, longname, LLHLS_TRACK_VIDEO, 1, 0, 10, 1), -LLHLS_EINVAL);
    longname[LLHLS_NAME_MAX - 1] = 0; /* the longest name that fits */
    assert_int_equal(put_part(s, longname, LLHLS_TRACK_VIDEO, 1, 0, 10, 1), 0);
    assert_true(has_part(s, longname, LLHLS_TRACK_VIDEO, 1, 0));
    assert_false(has_part(s, "app/a", LLHLS_TRACK_VIDEO, 1, 0));
}

/* Runs fn with stderr sent to a file, and returns what it logged. */
static char *capture_stderr(void (*fn)(void *), void *arg, const char *dir)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/stderr.txt", dir);
    fflush(stderr);
    int saved = dup(2), fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    fn(arg);
    dup2(saved, 2);
    close(saved);
    char *text = calloc(1, 65536);
    ssize_t n = pread(fd, text, 65535, 0);
    assert_true(n >= 0);
    close(fd);
    return text;
}

typedef struct fill_run {
    llhls_store_t *s;
    int failures;
    uint64_t segments;
} fill_run_t;

/* 16 KiB video parts, four to a segment, about six times what a 1 MiB map
 * holds, with small audio parts of another stream beside them. */
static void fill_map(void *arg)
{
    fill_run_t *run = arg;
    for (uint64_t msn = 0; msn < run->segments; msn++)
        for (uint32_t i = 0; i < 4; i++)
            if (put_part(run->s, "live/x", LLHLS_TRACK_VIDEO, msn, i, 16384, 1) != 0 ||
                put_part(run->s, "live/y", LLHLS_TRACK_AUDIO, msn, i, 700, 1) != 0)
                run->failures++;
}

static void test_store_evicts_oldest_segments_when_the_map_fills(void **state)
{
    fixture_t *f = *state;
    llhls_store_t *s = open_store(f, 1 << 20);
    assert_int_equal(put_init(s, "live/x", LLHLS_TRACK_VIDEO, 1, 900), 0);
    fill_run_t run = {s, 0, 100};
    char *log = capture_stderr(fill_map, &run, f->dir);
    assert_int_equal(run.failures, 0);
    if (getenv("STORE_TEST_VERBOSE"))
        fputs(log, stderr);
    assert_non_null(strstr(log, "warn store: store full: evicted"));
    free(log);

    /* What is left is a contiguous run ending with the newest segment, every
     * byte intact, and the init section all of them need. */
    llhls_rtxn_t *r;
    llhls_segment_t *segs;
    size_t n;
    assert_int_equal(llhls_store_read_begin(s, &r), 0);
    assert_int_equal(llhls_rtxn_get_segments(r, "live/x", LLHLS_TRACK_VIDEO, 0, &segs, &n), 0);
    /* A quarter at a time, not everything: several segments survive. */
    assert_true(n >= 4 && n < 20);
    assert_int_equal(segs[n - 1].msn, 99);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(segs[i].msn, 100 - n + i);
        for (uint32_t p = 0; p < segs[i].nparts; p++) {
            const void *b;
            size_t len;
            assert_int_equal(llhls_rtxn_get_part(r, "live/x", LLHLS_TRACK_VIDEO, segs[i].msn, p, &b, &len), 0);
            assert_true(check_bytes(b, len, 16384, segs[i].msn, p));
        }
    }
    free(segs);
    const void *b;
    size_t len;
    assert_int_equal(llhls_rtxn_get_part(r, "live/x", LLHLS_TRACK_VIDEO, 0, 0, &b, &len), -LLHLS_ENOTFOUND);
    assert_int_equal(llhls_rtxn_get_init(r, "live/x", LLHLS_TRACK_VIDEO, 1, &b, &len), 0);
    assert_true(check_bytes(b, len, 900, 1000001, LLHLS_TRACK_VIDEO));

    /* The other stream lost its oldest segments too, and kept its newest. */
    assert_int_equal(llhls_rtxn_get_segments(r, "live/y", LLHLS_TRACK_AUDIO, 0, &segs, &n), 0);
    assert_true(n >= 1 && n < 100);
    assert_int_equal(segs[n - 1].msn, 99);
    free(segs);
    assert_int_equal(llhls_rtxn_get_part(r, "live/y", LLHLS_TRACK_AUDIO, 0, 0, &b, &len), -LLHLS_ENOTFOUND);
    assert_int_equal(llhls_rtxn_get_part(r, "live/y", LLHLS_TRACK_AUDIO, 99, 3, &b, &len), 0);
    assert_true(check_bytes(b, len, 700, 99, 3));
    llhls_store_read_end(r);

    size_t used, size;
    llhls_store_usage(s, &used, &size);
    assert_true(size >= 1 << 20 && size < (1 << 20) + 65536);
    assert_true(used > 4 * 16384 && used <= size);
}

static void test_store_refuses_a_value_larger_than_the_map_and_keeps_working(void **state)
{
    fixture_t *f = *state;
    llhls_store_t *s = open_store(f, 1 << 20);
    put_segment4(s, "live/x", LLHLS_TRACK_VIDEO, 1, 1);
    assert_int_equal(put_part(s, "live/x", LLHLS_TRACK_VIDEO, 2, 0, 2 << 20, 1), -LLHLS_ETOOBIG);
    assert_int_equal(put_init(s, "live/x", LLHLS_TRACK_VIDEO, 2, 3 << 20), -LLHLS_ETOOBIG);
    /* Nothing was evicted for it, and the next write goes through. */
    for (uint32_t i = 0; i < 4; i++)
        assert_true(has_part(s, "live/x", LLHLS_TRACK_VIDEO, 1, i));
    assert_false(has_part(s, "live/x", LLHLS_TRACK_VIDEO, 2, 0));
    assert_int_equal(put_part(s, "live/x", LLHLS_TRACK_VIDEO, 2, 0, 30000, 1), 0);
    llhls_rtxn_t *r;
    const void *b;
    size_t len;
    assert_int_equal(llhls_store_read_begin(s, &r), 0);
    assert_int_equal(llhls_rtxn_get_part(r, "live/x", LLHLS_TRACK_VIDEO, 2, 0, &b, &len), 0);
    assert_true(check_bytes(b, len, 30000, 2, 0));
    llhls_store_read_end(r);
}

static void test_store_keeps_everything_committed_across_a_restart(void **state)
{
    fixture_t *f = *state;
    llhls_store_t *s = open_store(f, 16 << 20);
    llhls_stream_info_t info, got;
    sample_info(&info, "live/r", 2);
    info.state = LLHLS_STREAM_IDLE;
    assert_int_equal(llhls_store_write(s, write_stream, &info), 0);
    assert_int_equal(put_init(s, "live/r", LLHLS_TRACK_VIDEO, 2, 777), 0);
    for (uint64_t msn = 10; msn < 13; msn++)
        for (uint32_t i = 0; i < 3; i++)
            assert_int_equal(put_part(s, "live/r", LLHLS_TRACK_VIDEO, msn, i, 5000 + i, 2), 0);
    llhls_store_close(s);
    f->store = NULL;

    s = open_store(f, 16 << 20);
    llhls_rtxn_t *r;
    assert_int_equal(llhls_store_read_begin(s, &r), 0);
    assert_int_equal(llhls_rtxn_get_stream(r, "live/r", &got), 0);
    assert_memory_equal(&got, &info, sizeof(info));
    const void *b;
    size_t len;
    assert_int_equal(llhls_rtxn_get_init(r, "live/r", LLHLS_TRACK_VIDEO, 2, &b, &len), 0);
    assert_true(check_bytes(b, len, 777, 1000002, LLHLS_TRACK_VIDEO));
    for (uint64_t msn = 10; msn < 13; msn++)
        for (uint32_t i = 0; i < 3; i++) {
            assert_int_equal(llhls_rtxn_get_part(r, "live/r", LLHLS_TRACK_VIDEO, msn, i, &b, &len), 0);
            assert_true(check_bytes(b, len, 5000 + i, msn, i));
        }
    llhls_segment_t *seg = malloc(sizeof(*seg));
    assert_int_equal(llhls_rtxn_get_last_segment(r, "live/r", LLHLS_TRACK_VIDEO, seg), 0);
    assert_int_equal(seg->msn, 12);
    assert_int_equal(seg->nparts, 3);
    assert_int_equal(seg->parts[2].size, 5002);
    free(seg);
    llhls_store_read_end(r);
}

typedef struct race {
    llhls_store_t *s;
    volatile int done;
    int bad;
    long reads;
} race_t;

/* A reader sees every segment's listed parts in full: part bytes and the
 * record listing them are committed together. */
static void *reader(void *arg)
{
    race_t *rc = arg;
    llhls_segment_t *seg = malloc(sizeof(*seg));
    while (!__atomic_load_n(&rc->done, __ATOMIC_ACQUIRE)) {
        llhls_rtxn_t *r;
        if (llhls_store_read_begin(rc->s, &r) != 0) {
            __atomic_add_fetch(&rc->bad, 1, __ATOMIC_RELAXED);
            break;
        }
        if (llhls_rtxn_get_last_segment(r, "live/t", LLHLS_TRACK_VIDEO, seg) == 0) {
            for (uint32_t p = 0; p < seg->nparts; p++) {
                const void *b;
                size_t len;
                if (llhls_rtxn_get_part(r, "live/t", LLHLS_TRACK_VIDEO, seg->msn, p, &b, &len) != 0 ||
                    !check_bytes(b, len, seg->parts[p].size, seg->msn, p))
                    __atomic_add_fetch(&rc->bad, 1, __ATOMIC_RELAXED);
            }
            __atomic_add_fetch(&rc->reads, 1, __ATOMIC_RELAXED);
        }
        llhls_store_read_end(r);
    }
    free(seg);
    return NULL;
}

static void test_store_readers_see_whole_parts_while_one_thread_writes(void **state)
{
    fixture_t *f = *state;
    llhls_store_t *s = open_store(f, 64 << 20);
    race_t rc = {s, 0, 0, 0};
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, reader, &rc), 0);
    for (uint64_t msn = 0; msn < 40; msn++) {
        for (uint32_t i = 0; i < 4; i++)
            assert_int_equal(put_part(s, "live/t", LLHLS_TRACK_VIDEO, msn, i, 20000 + 1000 * (uint32_t)(msn % 5), 1),
                             0);
        evict_job_t j = {"live/t", LLHLS_TRACK_VIDEO, msn > 3 ? msn - 3 : 0};
        assert_int_equal(llhls_store_write(s, write_evict, &j), 0);
    }
    __atomic_store_n(&rc.done, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(rc.bad, 0);
    assert_true(rc.reads > 0);
}

static void test_store_keeps_a_day_long_window_and_the_record_flag(void **state)
{
    fixture_t *f = *state;
    llhls_store_t *s = open_store(f, 16 << 20);
    llhls_stream_info_t info, got;
    sample_info(&info, "live/day", 1);
    info.window_ms = 24u * 3600 * 1000; /* past what 32 bits of microseconds hold */
    info.record = 1;
    assert_int_equal(llhls_store_write(s, write_stream, &info), 0);
    llhls_rtxn_t *r;
    assert_int_equal(llhls_store_read_begin(s, &r), 0);
    assert_int_equal(llhls_rtxn_get_stream(r, "live/day", &got), 0);
    llhls_store_read_end(r);
    assert_int_equal(got.window_ms, 86400000);
    assert_int_equal(got.record, 1);
    assert_memory_equal(&got, &info, sizeof(info));
}

/* A stream record of version 1, as stores written before windows were kept
 * in milliseconds hold them: the window was in microseconds. */
static void test_store_reads_version_1_stream_record_window_in_microseconds(void **state)
{
    fixture_t *f = *state;
    open_store(f, 16 << 20);
    llhls_store_close(f->store);
    f->store = NULL;
    unsigned char rec[256], *p = rec;
    *p++ = 1; /* version */
    *p++ = LLHLS_STREAM_ENDED;
    *p++ = 6;
    memcpy(p, "live/o", 6), p += 6;
    const uint32_t u32[] = {2000000, 333334, 60000000};
    for (int i = 0; i < 3; i++)
        for (int b = 0; b < 4; b++)
            *p++ = (unsigned char)(u32[i] >> (8 * b));
    memset(p, 0, 16), p += 16; /* started, updated */
    for (int t = 0; t < LLHLS_TRACKS; t++) {
        *p++ = 0; /* absent */
        *p++ = 0; /* empty codec */
        memset(p, 0, 32), p += 32;
    }
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
    assert_int_equal(mdb_env_open(env, f->path, 0, 0644), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "streams", 0, &dbi), 0);
    MDB_val k = {6, "live/o"}, v = {(size_t)(p - rec), rec};
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    llhls_store_t *s = open_store(f, 16 << 20);
    llhls_stream_info_t got;
    llhls_rtxn_t *r;
    assert_int_equal(llhls_store_read_begin(s, &r), 0);
    assert_int_equal(llhls_rtxn_get_stream(r, "live/o", &got), 0);
    llhls_store_read_end(r);
    assert_int_equal(got.window_ms, 60000);
    assert_int_equal(got.record, 0);
    assert_int_equal(got.state, LLHLS_STREAM_ENDED);
    assert_int_equal(got.part_target_us, 333334);
}

static void test_store_next_segment_seeks_past_gaps(void **state)
{
    fixture_t *f = *state;
    llhls_store_t *s = open_store(f, 16 << 20);
    put_segment4(s, "live/a", LLHLS_TRACK_AUDIO, 3, 1);
    put_segment4(s, "live/a", LLHLS_TRACK_AUDIO, 7, 1);
    put_segment4(s, "live/a", LLHLS_TRACK_VIDEO, 1, 1);
    put_segment4(s, "live/ab", LLHLS_TRACK_AUDIO, 9, 1);
    llhls_rtxn_t *r;
    llhls_segment_t *seg = malloc(sizeof(*seg));
    assert_int_equal(llhls_store_read_begin(s, &r), 0);
    assert_int_equal(llhls_rtxn_get_next_segment(r, "live/a", LLHLS_TRACK_AUDIO, 0, seg), 0);
    assert_int_equal(seg->msn, 3);
    assert_int_equal(llhls_rtxn_get_next_segment(r, "live/a", LLHLS_TRACK_AUDIO, 4, seg), 0);
    assert_int_equal(seg->msn, 7);
    assert_int_equal(seg->nparts, 4);
    /* Neither the next track nor a stream whose name extends this one. */
    assert_int_equal(llhls_rtxn_get_next_segment(r, "live/a", LLHLS_TRACK_AUDIO, 8, seg), -LLHLS_ENOTFOUND);
    assert_int_equal(llhls_rtxn_get_next_segment(r, "live/a", LLHLS_TRACK_VIDEO, 2, seg), -LLHLS_ENOTFOUND);
    assert_int_equal(llhls_rtxn_get_next_segment(r, "live/none", LLHLS_TRACK_VIDEO, 0, seg), -LLHLS_ENOTFOUND);
    llhls_store_read_end(r);
    free(seg);
}

static void test_store_opens_read_only_beside_the_writer(void **state)
{
    fixture_t *f = *state;
    llhls_store_t *ro;
    /* Nothing there: no store is created. */
    assert_int_equal(llhls_store_open_readonly(&ro, f->path), -LLHLS_ENOTFOUND);
    assert_int_equal(access(f->path, F_OK), -1);

    llhls_store_t *s = open_store(f, 16 << 20);
    llhls_stream_info_t info, got;
    sample_info(&info, "live/r", 1);
    assert_int_equal(llhls_store_write(s, write_stream, &info), 0);
    assert_int_equal(put_part(s, "live/r", LLHLS_TRACK_VIDEO, 2, 0, 5000, 1), 0);
    assert_int_equal(llhls_store_open_readonly(&ro, f->path), 0);
    /* The writer goes on while the reader is open, and the reader sees it. */
    assert_int_equal(put_part(s, "live/r", LLHLS_TRACK_VIDEO, 3, 0, 6000, 1), 0);
    llhls_rtxn_t *r;
    assert_int_equal(llhls_store_read_begin(ro, &r), 0);
    assert_int_equal(llhls_rtxn_get_stream(r, "live/r", &got), 0);
    assert_memory_equal(&got, &info, sizeof(info));
    const void *b;
    size_t len;
    assert_int_equal(llhls_rtxn_get_part(r, "live/r", LLHLS_TRACK_VIDEO, 3, 0, &b, &len), 0);
    assert_true(check_bytes(b, len, 6000, 3, 0));
    llhls_store_read_end(r);
    llhls_store_close(ro);
}

/* The packager's trim, through the store: a window of 4500 one-second
 * segments is more than any fixed list of 4096 start times could follow, and
 * the oldest must still go once they fall 3 target durations behind it. */
static void test_store_track_trims_a_window_longer_than_4096_segments(void **state)
{
    fixture_t *f = *state;
    llhls_store_t *s = open_store(f, 64 << 20);
    llhls_metrics_t metrics;
    memset(&metrics, 0, sizeof(metrics));
    llhls_track_env_t env = {.store = s, .metrics = &metrics, .part_target_us = 250000,
                             .segment_target_us = 1000000, .retain_ms = 4500 * 1000 + 3000};
    llhls_stream_info_t info;
    sample_info(&info, "live/long", 1);
    info.window_ms = 4500 * 1000;
    llhls_track_out_t *t = malloc(sizeof(*t));
    llhls_track_init(t, &env, &info, LLHLS_TRACK_VIDEO, 0, 0, 1);
    const uint64_t total = 6000;
    for (uint64_t msn = 0; msn < total; msn++) {
        make_segment(&t->seg, msn, 1, 100, 1);
        t->seg.pdt_ms = 1700000000000 + (int64_t)msn * 1000;
        t->seg.parts[0].duration_us = 1000000;
        t->seg.duration_us = 1000000;
        assert_int_equal(put_part(s, "live/long", LLHLS_TRACK_VIDEO, msn, 0, 100, 1), 0);
        t->seg_open = 1;
        assert_int_equal(llhls_track_finish(t), 0);
    }
    llhls_track_free(t);
    free(t);
    llhls_rtxn_t *r;
    llhls_segment_t *seg = malloc(sizeof(*seg));
    assert_int_equal(llhls_store_read_begin(s, &r), 0);
    assert_int_equal(llhls_rtxn_get_next_segment(r, "live/long", LLHLS_TRACK_VIDEO, 0, seg), 0);
    /* The newest starts at 5999 s; the limit is 5999 - 4503 = 1496 s, and a
     * segment goes once it ended by then: 0..1495 are gone.  A fixed list
     * of the newest 4096 start times would reach back to 1904 s only, and
     * nothing would ever be trimmed. */
    assert_int_equal(seg->msn, 1496);
    llhls_store_read_end(r);
    free(seg);
}

/* A recording stream keeps everything, whatever the window. */
static void test_store_track_keeps_every_segment_of_a_recording(void **state)
{
    fixture_t *f = *state;
    llhls_store_t *s = open_store(f, 16 << 20);
    llhls_metrics_t metrics;
    memset(&metrics, 0, sizeof(metrics));
    llhls_track_env_t env = {.store = s, .metrics = &metrics, .part_target_us = 250000,
                             .segment_target_us = 1000000, .retain_ms = 3000 + 3000};
    llhls_stream_info_t info;
    sample_info(&info, "live/rec", 1);
    info.window_ms = 3000;
    info.record = 1;
    llhls_track_out_t *t = malloc(sizeof(*t));
    llhls_track_init(t, &env, &info, LLHLS_TRACK_AUDIO, 0, 0, 1);
    for (uint64_t msn = 0; msn < 50; msn++) {
        make_segment(&t->seg, msn, 1, 100, 1);
        t->seg.pdt_ms = 1700000000000 + (int64_t)msn * 1000;
        t->seg.duration_us = 1000000;
        assert_int_equal(put_part(s, "live/rec", LLHLS_TRACK_AUDIO, msn, 0, 100, 1), 0);
        t->seg_open = 1;
        assert_int_equal(llhls_track_finish(t), 0);
    }
    llhls_track_free(t);
    free(t);
    llhls_rtxn_t *r;
    llhls_segment_t *seg = malloc(sizeof(*seg));
    assert_int_equal(llhls_store_read_begin(s, &r), 0);
    assert_int_equal(llhls_rtxn_get_next_segment(r, "live/rec", LLHLS_TRACK_AUDIO, 0, seg), 0);
    assert_int_equal(seg->msn, 0);
    llhls_store_read_end(r);
    free(seg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_store_round_trips_stream_info_init_and_parts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_reads_segments_in_msn_order_from_a_given_msn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_last_segment_is_the_newest_of_that_track, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_evict_before_drops_old_segments_parts_and_stale_inits_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_lists_streams_in_name_order_and_deletes_one_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_sticky_error_fails_the_write_and_stores_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_rejects_malformed_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_evicts_oldest_segments_when_the_map_fills, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_refuses_a_value_larger_than_the_map_and_keeps_working, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_keeps_everything_committed_across_a_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_readers_see_whole_parts_while_one_thread_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_keeps_a_day_long_window_and_the_record_flag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_reads_version_1_stream_record_window_in_microseconds, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_store_next_segment_seeks_past_gaps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_opens_read_only_beside_the_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_track_trims_a_window_longer_than_4096_segments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_track_keeps_every_segment_of_a_recording, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
