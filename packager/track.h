/* One track of one stream on its way into the store: it asks the cutter
 * where parts and segments end, drives the fragmenter, and commits each part
 * (with the segment record it belongs to) in one store transaction, then
 * reports the track's new position.  Used by ingest.c only. */
#ifndef LLHLS_TRACK_H
#define LLHLS_TRACK_H

#include "cutter.h"
#include "fresh.h"
#include "fragmenter.h"
#include "packager.h"

typedef struct llhls_track_env {
    llhls_store_t *store;
    llhls_fresh_t *fresh;       /* parts shown before their commit; NULL: after it */
    llhls_metrics_t *metrics;
    llhls_update_cb on_update;
    void *update_ctx;
    uint32_t part_target_us;
    uint32_t segment_target_us;
    uint32_t retain_ms;         /* window plus three target durations */
} llhls_track_env_t;

typedef struct llhls_track_out {
    const llhls_track_env_t *env;
    llhls_stream_info_t *info;  /* the stream's record, written with each completed segment */
    int track;
    llhls_cutter_t cutter;
    llhls_fragmenter_t *frag;
    uint32_t timescale;
    llhls_buf_t part;           /* bytes of the part being flushed */
    llhls_segment_t seg;        /* the open segment (valid when seg_open) */
    int seg_open;
    uint64_t next_msn;
    uint32_t disc_seq;
    uint32_t next_init_id;
    int pending_disc;           /* the next segment starts with EXT-X-DISCONTINUITY */
    int64_t part_ticks;         /* duration of the samples in the open part */
    uint32_t part_samples;
    int part_independent;
    /* Every segment below this MSN has been evicted: where the search for
     * what to evict next starts in the store. */
    uint64_t evict_from;
    uint64_t bytes_total;       /* for the average bandwidth */
    uint64_t us_total;
} llhls_track_out_t;

/* Sets up an unconfigured track continuing after next_msn/disc_seq/init_id
 * (all 0 for a new stream). */
void llhls_track_init(llhls_track_out_t *t, const llhls_track_env_t *env, llhls_stream_info_t *info, int track,
                      uint64_t next_msn, uint32_t disc_seq, uint32_t next_init_id);
void llhls_track_free(llhls_track_out_t *t);

/* (Re)creates the fragmenter for new codec parameters and stores a new init
 * section.  A segment still open is finished first; discontinuity marks the
 * next segment.  Returns 0 or a negative error. */
int llhls_track_configure(llhls_track_out_t *t, const llhls_fragmenter_params_t *p, int discontinuity);
static inline int llhls_track_configured(const llhls_track_out_t *t) { return t->frag != NULL; }

/* Decides, for a sample starting at t_us and lasting about dur_us, whether
 * the open part (and segment) end before it, and commits them if so.  When
 * a segment opens, msn (or the next one when msn < 0) and pdt_ms become its
 * number and date.  Returns the cut (>= 0) or a negative error. */
int llhls_track_cut(llhls_track_out_t *t, int64_t t_us, uint32_t dur_us, int sync, int boundary, int64_t msn,
                    int64_t pdt_ms);

/* Adds a sample to the open part (after llhls_track_cut). */
int llhls_track_add(llhls_track_out_t *t, const uint8_t *data, size_t len, int64_t dts, int64_t pts, uint32_t dur,
                    int sync);

/* Commits the open part now, ending at end_us, when the cutter says it is
 * full (llhls_cutter_part_full): the next sample will start a new part.
 * Returns 0 or a negative error. */
int llhls_track_close_part(llhls_track_out_t *t, int64_t end_us);

/* Commits the open part and completes the open segment (publisher gone or
 * codec change).  Returns 0 or a negative error. */
int llhls_track_finish(llhls_track_out_t *t);

/* The MSN of the open segment, or -1. */
static inline int64_t llhls_track_msn(const llhls_track_out_t *t) { return t->seg_open ? (int64_t)t->seg.msn : -1; }

/* Records a segment already in the store (after a restart), so that eviction
 * looks for segments from the oldest one on. */
void llhls_track_remember(llhls_track_out_t *t, uint64_t msn, int64_t pdt_ms);

#endif
