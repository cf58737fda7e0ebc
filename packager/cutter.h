/* The cut rules: where a track's parts and segments end.  Pure logic over
 * sample timestamps, so the rules of docs/fragmenter.md can be tested alone.
 *
 * Video: a segment ends before a sync sample once it lasts at least the
 * segment target (less half a frame); a part ends before a sample that would
 * take it past the part target.  Audio: the same part rule, and parts end
 * where the video's do (llhls_cutter_follows); segments end where the
 * caller says (at the video's segment boundaries), or at the segment target
 * when there is no video. */
#ifndef LLHLS_CUTTER_H
#define LLHLS_CUTTER_H

#include <stdint.h>

typedef enum { LLHLS_CUT_NONE = 0, LLHLS_CUT_PART = 1, LLHLS_CUT_SEGMENT = 2 } llhls_cut_t;

typedef struct llhls_cutter {
    uint32_t part_target_us;
    uint32_t segment_target_us;
    int started;
    int64_t segment_start_us;   /* start of the open segment */
    int64_t part_start_us;      /* start of the open part */
    int64_t end_us;             /* end of the last placed sample */
    uint32_t parts_closed;      /* parts closed in the open segment */
} llhls_cutter_t;

void llhls_cutter_init(llhls_cutter_t *c, uint32_t part_target_us, uint32_t segment_target_us);

/* Places the next sample, starting at t_us and lasting dur_us.  sync: it
 * may start a segment (video IDR; every audio frame).  boundary: the caller
 * requires a new segment here (-1: no opinion, the cutter decides alone by
 * the segment target and sync; 0: never a segment here; 1: a segment starts
 * here).  Returns what must be closed before the sample goes in: nothing,
 * the open part, or the open part and segment.  The first sample returns
 * LLHLS_CUT_SEGMENT (it opens the first segment). */
llhls_cut_t llhls_cutter_place(llhls_cutter_t *c, int64_t t_us, uint32_t dur_us, int sync, int boundary);

/* Whether the open part is done once the sample placed last ends, at
 * end_us: a next sample starting then and lasting next_dur_us would carry
 * the part past the target, and the part already holds at least 0.85 of
 * the target (so that closing it early can never break the 0.85 rule,
 * whatever the next sample turns out to be). */
int llhls_cutter_part_full(const llhls_cutter_t *c, int64_t end_us, uint32_t next_dur_us);
/* The open part was closed early, ending at end_us: the next sample starts
 * a new part. */
void llhls_cutter_close_part(llhls_cutter_t *c, int64_t end_us);

/* Whether the open part should end before the sample at t_us (lasting
 * dur_us) because a leading track, the video, started a part at leader_us:
 * audio parts then end where the video's do, and a segment's last audio
 * part is as long as the video's rather than a sliver of a few frames.  Yes
 * when this is the first sample starting at or after leader_us (the sample
 * a segment boundary there would start with), the open part did not
 * already start there, and it holds at least half the part target. */
int llhls_cutter_follows(const llhls_cutter_t *c, int64_t t_us, uint32_t dur_us, int64_t leader_us);

#endif
