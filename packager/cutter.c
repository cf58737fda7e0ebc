/* The cut rules of a track: given each sample's start and duration, decide
 * where LL-HLS parts and segments end.  Pure arithmetic on timestamps with
 * no allocation, so docs/fragmenter.md's rules can be tested on simulated
 * streams of any frame rate. */
#include "cutter.h"

#include "index.h"

void llhls_cutter_init(llhls_cutter_t *c, uint32_t part_target_us, uint32_t segment_target_us)
{
    c->part_target_us = part_target_us;
    c->segment_target_us = segment_target_us;
    c->started = 0;
    c->segment_start_us = 0;
    c->part_start_us = 0;
    c->end_us = 0;
    c->parts_closed = 0;
}

static llhls_cut_t open_segment(llhls_cutter_t *c, int64_t t_us, uint32_t dur_us)
{
    c->segment_start_us = t_us;
    c->part_start_us = t_us;
    c->parts_closed = 0;
    c->end_us = t_us + dur_us;
    return LLHLS_CUT_SEGMENT;
}

llhls_cut_t llhls_cutter_place(llhls_cutter_t *c, int64_t t_us, uint32_t dur_us, int sync, int boundary)
{
    if (!c->started) {
        c->started = 1;
        return open_segment(c, t_us, dur_us);
    }

    if (boundary == 1)
        return open_segment(c, t_us, dur_us);

    /* Half a frame of slack: with millisecond timestamps a GOP of exactly
     * the target may come out a little short, and should still end there
     * rather than run on to the next keyframe. */
    if (boundary < 0 && sync && (t_us - c->segment_start_us) + (int64_t)(dur_us / 2) >= c->segment_target_us)
        return open_segment(c, t_us, dur_us);

    /* The part ends before the first sample that would carry it past the
     * target, so every part is at least the target less one sample: that is
     * the 0.85 rule for any sample up to 0.15 of the target.  The caller
     * gives the sample's duration, or an upper bound of it when the next
     * timestamp is not known yet, so a part never ends up longer than the
     * target. */
    if ((t_us + (int64_t)dur_us) - c->part_start_us > (int64_t)c->part_target_us) {
        /* The index holds at most LLHLS_MAX_PARTS parts per segment: a GOP
         * too long for that is split into segments that do not start with a
         * sync sample rather than lose media. */
        if (c->parts_closed + 1 >= LLHLS_MAX_PARTS)
            return open_segment(c, t_us, dur_us);
        c->parts_closed++;
        c->part_start_us = t_us;
        c->end_us = t_us + dur_us;
        return LLHLS_CUT_PART;
    }

    if (t_us + (int64_t)dur_us > c->end_us)
        c->end_us = t_us + dur_us;
    return LLHLS_CUT_NONE;
}

int llhls_cutter_part_full(const llhls_cutter_t *c, int64_t end_us, uint32_t next_dur_us)
{
    if (!c->started)
        return 0;
    int64_t held = end_us - c->part_start_us;
    return held * 100 >= (int64_t)c->part_target_us * 85 &&
           held + (int64_t)next_dur_us > (int64_t)c->part_target_us && c->parts_closed + 1 < LLHLS_MAX_PARTS;
}

void llhls_cutter_close_part(llhls_cutter_t *c, int64_t end_us)
{
    c->parts_closed++;
    c->part_start_us = end_us;
    c->end_us = end_us;
}

int llhls_cutter_follows(const llhls_cutter_t *c, int64_t t_us, uint32_t dur_us, int64_t leader_us)
{
    if (!c->started || leader_us < 0)
        return 0;
    if (leader_us > t_us || leader_us <= t_us - (int64_t)dur_us)
        return 0; /* not the first sample at or after it */
    if (leader_us <= c->part_start_us)
        return 0; /* the open part started there */
    return (t_us - c->part_start_us) * 2 >= (int64_t)c->part_target_us;
}
