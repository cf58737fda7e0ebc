/* One track's way into the store (see track.h).  Every part is committed
 * with the segment record that lists it, in one LMDB transaction, so a
 * reader never sees a part the index does not know of, or the reverse.
 * With fresh parts the record and the bytes are published in memory first
 * and the update callback runs before the commit: a blocked request gets
 * the part without waiting for the disk (fresh.h). */
#include "track.h"

#include "error.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

void llhls_track_init(llhls_track_out_t *t, const llhls_track_env_t *env, llhls_stream_info_t *info, int track,
                      uint64_t next_msn, uint32_t disc_seq, uint32_t next_init_id)
{
    memset(t, 0, sizeof(*t));
    t->env = env;
    t->info = info;
    t->track = track;
    t->next_msn = next_msn;
    t->disc_seq = disc_seq;
    t->next_init_id = next_init_id;
    llhls_buf_init(&t->part, 0);
    llhls_cutter_init(&t->cutter, env->part_target_us, env->segment_target_us);
}

void llhls_track_free(llhls_track_out_t *t)
{
    if (t->frag)
        llhls_fragmenter_destroy(t->frag);
    t->frag = NULL;
    llhls_buf_free(&t->part);
}

void llhls_track_remember(llhls_track_out_t *t, uint64_t msn, int64_t pdt_ms)
{
    (void)pdt_ms;
    if (msn < t->evict_from)
        t->evict_from = msn;
}

/* The MSN before which segments have been out of the playlist for three
 * target durations, or 0 when nothing is due.  The store is asked rather than
 * a list kept here, so that a window of any length (hours of one-second
 * segments) is trimmed; each call costs a seek or two, since only the
 * segments that fell out since the last call are walked.  A recording keeps
 * everything. */
static uint64_t evict_point(llhls_track_out_t *t, int64_t newest_pdt_ms)
{
    if (t->info->record)
        return 0;
    int64_t limit = newest_pdt_ms - (int64_t)t->env->retain_ms;
    llhls_rtxn_t *r;
    if (llhls_store_read_begin(t->env->store, &r) != 0)
        return 0;
    uint64_t before = 0;
    llhls_segment_t *cur = malloc(2 * sizeof(*cur));
    if (cur == NULL) {
        llhls_store_read_end(r);
        return 0;
    }
    llhls_segment_t *next = cur + 1;
    int have = llhls_rtxn_get_next_segment(r, t->info->name, t->track, t->evict_from, cur) == 0;
    while (have && cur->pdt_ms < limit) {
        /* The segment is older than the limit only if the next one also
         * started before it, i.e. it ended before the limit. */
        if (llhls_rtxn_get_next_segment(r, t->info->name, t->track, cur->msn + 1, next) != 0 || next->pdt_ms > limit)
            break;
        before = next->msn;
        llhls_segment_t *tmp = cur;
        cur = next;
        next = tmp;
    }
    free(cur < next ? cur : next);
    llhls_store_read_end(r);
    if (before)
        t->evict_from = before;
    return before;
}

typedef struct commit {
    llhls_track_out_t *t;
    const uint8_t *part;        /* NULL: no part, only the segment record */
    size_t part_len;
    uint32_t part_index;
    uint64_t evict_before;
    int write_info;
    const uint8_t *init;
    size_t init_len;
    uint32_t init_id;
} commit_t;

static int do_commit(llhls_wtxn_t *w, void *ctx)
{
    commit_t *c = ctx;
    llhls_track_out_t *t = c->t;
    const char *name = t->info->name;
    int r = 0;
    if (c->init)
        r = llhls_wtxn_put_init(w, name, t->track, c->init_id, c->init, c->init_len);
    if (r == 0 && c->write_info)
        r = llhls_wtxn_put_stream(w, t->info);
    if (r == 0 && t->seg.nparts > 0) {
        if (c->part)
            r = llhls_wtxn_put_part(w, name, t->track, &t->seg, c->part_index, c->part, c->part_len);
        else
            r = llhls_wtxn_put_segment(w, name, t->track, &t->seg);
    }
    if (r == 0 && c->evict_before)
        r = llhls_wtxn_evict_before(w, name, t->track, c->evict_before);
    return r;
}

static void notify(llhls_track_out_t *t)
{
    llhls_position_t pos;
    llhls_position_from_segment(&pos, t->seg.nparts ? &t->seg : NULL, t->info->state == LLHLS_STREAM_ENDED);
    if (t->env->on_update)
        t->env->on_update(t->env->update_ctx, t->info->name, t->track, &pos);
}

static void update_bandwidth(llhls_track_out_t *t)
{
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < t->seg.nparts; i++)
        bytes += t->seg.parts[i].size;
    if (t->seg.duration_us == 0)
        return;
    uint64_t bps = bytes * 8 * 1000000 / t->seg.duration_us;
    llhls_track_info_t *ti = &t->info->tracks[t->track];
    if (bps > ti->bandwidth_peak)
        ti->bandwidth_peak = bps > UINT32_MAX ? UINT32_MAX : (uint32_t)bps;
    t->bytes_total += bytes;
    t->us_total += t->seg.duration_us;
    uint64_t avg = t->bytes_total * 8 * 1000000 / t->us_total;
    ti->bandwidth_avg = avg > UINT32_MAX ? UINT32_MAX : (uint32_t)avg;
}

/* Flushes the open part (if it holds samples) and, when complete is set,
 * closes the segment too; all in one commit. */
static int close_part(llhls_track_out_t *t, int complete)
{
    commit_t c = {.t = t};
    int r;
    if (!t->seg_open)
        return 0;
    if (t->part_samples > 0) {
        if (t->seg.nparts >= LLHLS_MAX_PARTS) {
            LLHLS_ERROR("packager", "%s: %s segment %llu has too many parts", t->info->name,
                        llhls_track_name(t->track), (unsigned long long)t->seg.msn);
            return -LLHLS_ETOOBIG;
        }
        llhls_buf_reset(&t->part);
        r = llhls_fragmenter_flush(t->frag, &t->part);
        if (r != 0)
            return r;
        llhls_part_meta_t *pm = &t->seg.parts[t->seg.nparts];
        pm->duration_us = (uint32_t)(t->part_ticks * 1000000 / t->timescale);
        pm->size = (uint32_t)t->part.len;
        pm->independent = (uint8_t)t->part_independent;
        t->seg.duration_us += pm->duration_us;
        c.part = t->part.data;
        c.part_len = t->part.len;
        c.part_index = t->seg.nparts;
        t->seg.nparts++;
        t->part_ticks = 0;
        t->part_samples = 0;
    } else if (!complete || t->seg.nparts == 0) {
        return 0;
    }
    if (complete) {
        t->seg.complete = 1;
        update_bandwidth(t);
        c.write_info = 1;
        c.evict_before = evict_point(t, t->seg.pdt_ms);
    }
    const llhls_fresh_part_t *fp = NULL;
    if (t->env->fresh) {
        fp = llhls_fresh_publish(t->env->fresh, t->info->name, t->track, &t->seg, c.part_index,
                                 c.part ? &t->part : NULL);
        if (fp) {
            c.part = fp->bytes;
            notify(t);
        }
    }
    r = llhls_store_write(t->env->store, do_commit, &c);
    if (fp)
        llhls_fresh_withdraw(t->env->fresh, fp);
    if (r != 0) {
        LLHLS_ERROR("packager", "%s: storing %s part %llu.%u failed: %s", t->info->name, llhls_track_name(t->track),
                    (unsigned long long)t->seg.msn, c.part_index, llhls_strerror(r));
        return r;
    }
    if (c.part) {
        atomic_fetch_add_explicit(&t->env->metrics->parts_written, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&t->env->metrics->part_bytes_written, c.part_len, memory_order_relaxed);
    }
    if (complete) {
        atomic_fetch_add_explicit(&t->env->metrics->segments_written, 1, memory_order_relaxed);
        t->seg_open = 0;
    }
    if (fp == NULL)
        notify(t);
    return 0;
}

int llhls_track_close_part(llhls_track_out_t *t, int64_t end_us)
{
    int r = close_part(t, 0);
    if (r == 0)
        llhls_cutter_close_part(&t->cutter, end_us);
    return r;
}

int llhls_track_finish(llhls_track_out_t *t)
{
    return close_part(t, 1);
}

int llhls_track_configure(llhls_track_out_t *t, const llhls_fragmenter_params_t *p, int discontinuity)
{
    int r = llhls_track_finish(t);
    if (r != 0)
        return r;
    llhls_buf_t init;
    llhls_buf_init(&init, 0);
    llhls_fragmenter_t *f = NULL;
    r = llhls_fragmenter_create(&f, p, &init);
    if (r != 0) {
        llhls_buf_free(&init);
        return r;
    }
    if (t->frag)
        llhls_fragmenter_destroy(t->frag);
    t->frag = f;
    t->timescale = p->timescale;
    uint32_t id = t->next_init_id++;
    t->info->tracks[t->track].init_id = id;
    t->info->tracks[t->track].present = 1;
    commit_t c = {.t = t, .init = init.data, .init_len = init.len, .init_id = id, .write_info = 1};
    r = llhls_store_write(t->env->store, do_commit, &c);
    llhls_buf_free(&init);
    if (r != 0) {
        LLHLS_ERROR("packager", "%s: storing the %s init section failed: %s", t->info->name,
                    llhls_track_name(t->track), llhls_strerror(r));
        return r;
    }
    if (discontinuity)
        t->pending_disc = 1;
    /* A new init section restarts the cut rules: the next sample opens a
     * segment. */
    llhls_cutter_init(&t->cutter, t->env->part_target_us, t->env->segment_target_us);
    return 0;
}

int llhls_track_cut(llhls_track_out_t *t, int64_t t_us, uint32_t dur_us, int sync, int boundary, int64_t msn,
                    int64_t pdt_ms)
{
    llhls_cut_t cut = llhls_cutter_place(&t->cutter, t_us, dur_us, sync, boundary);
    if (cut == LLHLS_CUT_NONE)
        return cut;
    int r = close_part(t, cut == LLHLS_CUT_SEGMENT);
    if (r != 0)
        return r;
    if (cut == LLHLS_CUT_SEGMENT) {
        memset(&t->seg, 0, sizeof(t->seg));
        if (msn >= 0 && (uint64_t)msn >= t->next_msn)
            t->next_msn = (uint64_t)msn;
        t->seg.msn = t->next_msn++;
        t->seg.pdt_ms = pdt_ms;
        t->seg.init_id = t->info->tracks[t->track].init_id;
        if (t->pending_disc) {
            t->seg.discontinuity = 1;
            t->disc_seq++;
            t->pending_disc = 0;
        }
        t->seg.disc_seq = t->disc_seq;
        t->seg_open = 1;
    }
    t->part_independent = sync;
    return cut;
}

int llhls_track_add(llhls_track_out_t *t, const uint8_t *data, size_t len, int64_t dts, int64_t pts, uint32_t dur,
                    int sync)
{
    if (!t->seg_open)
        return -LLHLS_EINVAL;
    int r = llhls_fragmenter_add(t->frag, data, len, dts, pts, dur, sync);
    if (r != 0)
        return r;
    if (t->part_samples == 0)
        t->part_independent = sync;
    t->part_samples++;
    t->part_ticks += dur;
    return 0;
}
