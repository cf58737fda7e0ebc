/* The packager: streams, their publishes and the way FLV tags become
 * samples.  Video samples are held back by one frame, because a sample's
 * duration is only known when the next one arrives; audio is held until the
 * video has passed it, so that audio segments start where video segments
 * do and both playlists advance together.  A publisher that leaves starts
 * a grace period; one that comes back continues the same playlist after an
 * EXT-X-DISCONTINUITY. */
#include "packager.h"

#include "clock.h"
#include "codec.h"
#include "error.h"
#include "flv.h"
#include "group.h"
#include "hevc.h"
#include "log.h"
#include "track.h"

#include <stdlib.h>
#include <string.h>

#define AUDIO_QUEUE_MAX 512         /* ~10 s of AAC frames at 48 kHz */
#define AUDIO_LEAD_US 1000000       /* audio this far past the video is released anyway */
#define FRAMES_BEFORE_CONFIG_MAX 600 /* media without a sequence header: give up after this many */
#define VIDEO_STARTS 64             /* video segment starts remembered for the audio */
#define VIDEO_PARTS 64              /* video part starts remembered for the audio */

typedef struct stream stream_t;

/* What the packager needs of a video configuration, whichever codec. */
typedef struct video_format {
    int codec;                  /* LLHLS_CODEC_H264 or LLHLS_CODEC_HEVC */
    uint8_t nal_length_size;
    uint32_t width, height;
    uint32_t frame_rate_milli;  /* 0 when the SPS does not say */
    char name[LLHLS_CODEC_MAX]; /* codec string */
} video_format_t;

typedef struct audio_frame {
    uint8_t *data;
    size_t len;
    int64_t dts;                /* in samples */
    int64_t t_us;
} audio_frame_t;

struct llhls_publish {
    llhls_ingest_t *ing;
    stream_t *st;
    char peer[64];
    double meta_framerate;
    /* timestamps: RTMP's 32-bit milliseconds extended to 64 bits */
    int have_ts;
    uint32_t last_ts;
    int64_t ext_ms;
    int64_t base_us;            /* stream time of this publish's first message */
    int64_t wall_base_ms;       /* wall clock at that moment */
    int64_t end_us;             /* end of the latest sample, for the next publish */
    /* video */
    uint8_t *vconf;             /* avcC or hvcC as received */
    size_t vconf_len;
    video_format_t vf;
    int video_seen_keyframe;
    unsigned frames_unconfigured;
    unsigned frames_dropped;
    llhls_buf_t pend;
    int have_pend;
    int committed_early;        /* the last frame went out with its part, before the next came */
    int64_t pend_dts_us, pend_pts_us;
    int pend_key;
    uint32_t last_dur_us;
    int64_t video_latest_us;
    int video_active;
    uint64_t vstart_msn[VIDEO_STARTS];
    int64_t vstart_us[VIDEO_STARTS];
    unsigned vstarts;
    int64_t vpart_us[VIDEO_PARTS];
    unsigned vparts;
    /* audio */
    uint8_t *asc;
    size_t asc_len;
    llhls_aac_config_t aac;
    int64_t audio_t0_us;        /* time of the sample count's origin */
    int64_t audio_samples;
    int audio_synced;
    unsigned audio_dropping;    /* frames dropped while the input's clock catches up */
    int64_t audio_first_us;
    int audio_only;
    audio_frame_t aq[AUDIO_QUEUE_MAX];
    unsigned aq_head, aq_len;
};

struct stream {
    stream_t *next;
    llhls_ingest_t *ing;
    llhls_stream_info_t info;
    llhls_publish_t *pub;
    uv_timer_t grace;
    int grace_armed;
    llhls_track_out_t tracks[LLHLS_TRACKS];
    int64_t media_end_us;       /* where the next publish's timeline starts */
};

struct llhls_ingest {
    uv_loop_t *loop;
    llhls_packager_params_t p;
    llhls_track_env_t env;
    stream_t *streams;
};

/* ---- streams ---- */

static void write_info(stream_t *st);

static int put_info(llhls_wtxn_t *w, void *ctx)
{
    return llhls_wtxn_put_stream(w, ctx);
}

static void write_info(stream_t *st)
{
    st->info.updated_ms = llhls_wall_ms();
    int r = llhls_store_write(st->ing->p.store, put_info, &st->info);
    if (r != 0)
        LLHLS_ERROR("packager", "%s: storing the stream record failed: %s", st->info.name, llhls_strerror(r));
}

static void notify_all(stream_t *st)
{
    for (int i = 0; i < LLHLS_TRACKS; i++) {
        llhls_track_out_t *t = &st->tracks[i];
        llhls_position_t pos;
        llhls_segment_t last;
        llhls_rtxn_t *r;
        int have = 0;
        if (llhls_store_read_begin(st->ing->p.store, &r) == 0) {
            have = llhls_rtxn_get_last_segment(r, st->info.name, i, &last) == 0;
            llhls_store_read_end(r);
        }
        llhls_position_from_segment(&pos, have ? &last : NULL, st->info.state == LLHLS_STREAM_ENDED);
        if (st->ing->p.on_update)
            st->ing->p.on_update(st->ing->p.update_ctx, st->info.name, t->track, &pos);
    }
}

static void end_stream(stream_t *st)
{
    st->info.state = LLHLS_STREAM_ENDED;
    write_info(st);
    LLHLS_INFO("packager", "%s: ended", st->info.name);
    notify_all(st);
}

static void on_grace_closed(uv_handle_t *h)
{
    stream_t *st = h->data;
    for (int i = 0; i < LLHLS_TRACKS; i++)
        llhls_track_free(&st->tracks[i]);
    free(st);
}

static void stream_unlink(stream_t *st)
{
    llhls_ingest_t *ing = st->ing;
    for (stream_t **pp = &ing->streams; *pp; pp = &(*pp)->next) {
        if (*pp == st) {
            *pp = st->next;
            break;
        }
    }
    uv_close((uv_handle_t *)&st->grace, on_grace_closed);
}

static void on_grace(uv_timer_t *timer)
{
    stream_t *st = timer->data;
    st->grace_armed = 0;
    if (st->pub)
        return;
    LLHLS_INFO("packager", "%s: no publisher came back within the grace period", st->info.name);
    end_stream(st);
    stream_unlink(st);
}

static stream_t *stream_find(llhls_ingest_t *ing, const char *name)
{
    for (stream_t *st = ing->streams; st; st = st->next)
        if (strcmp(st->info.name, name) == 0)
            return st;
    return NULL;
}

/* Makes the in-memory stream for name, continuing what the store holds of
 * it (MSN, discontinuity sequence, init ids) when it exists. */
static stream_t *stream_new(llhls_ingest_t *ing, const char *name)
{
    stream_t *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return NULL;
    st->ing = ing;
    uint64_t next_msn[LLHLS_TRACKS] = {0, 0};
    uint32_t disc[LLHLS_TRACKS] = {0, 0}, next_init[LLHLS_TRACKS] = {0, 0};
    llhls_rtxn_t *r;
    int found = 0;
    llhls_segment_t *segs[LLHLS_TRACKS] = {NULL, NULL};
    size_t nsegs[LLHLS_TRACKS] = {0, 0};
    if (llhls_store_read_begin(ing->p.store, &r) == 0) {
        found = llhls_rtxn_get_stream(r, name, &st->info) == 0;
        for (int i = 0; found && i < LLHLS_TRACKS; i++) {
            if (llhls_rtxn_get_segments(r, name, i, 0, &segs[i], &nsegs[i]) != 0)
                nsegs[i] = 0;
        }
        llhls_store_read_end(r);
    }
    if (!found) {
        memset(&st->info, 0, sizeof(st->info));
        snprintf(st->info.name, sizeof(st->info.name), "%s", name);
        st->info.started_ms = llhls_wall_ms();
    }
    st->info.segment_target_us = ing->p.segment_target_us;
    st->info.part_target_us = ing->p.part_target_us;
    st->info.window_ms = ing->p.window_ms;
    st->info.record = ing->p.record ? 1 : 0;
    /* Both tracks continue from the highest MSN either reached, so that
     * their segments keep one numbering. */
    uint64_t msn = 0;
    for (int i = 0; i < LLHLS_TRACKS; i++) {
        if (nsegs[i] > 0) {
            llhls_segment_t *last = &segs[i][nsegs[i] - 1];
            if (last->msn + 1 > msn)
                msn = last->msn + 1;
            disc[i] = last->disc_seq;
        }
        if (found && st->info.tracks[i].present)
            next_init[i] = st->info.tracks[i].init_id + 1;
    }
    for (int i = 0; i < LLHLS_TRACKS; i++) {
        next_msn[i] = msn;
        llhls_track_init(&st->tracks[i], &ing->env, &st->info, i, next_msn[i], disc[i], next_init[i]);
        for (size_t k = 0; k < nsegs[i]; k++)
            llhls_track_remember(&st->tracks[i], segs[i][k].msn, segs[i][k].pdt_ms);
        if (nsegs[i] > 0 && !segs[i][nsegs[i] - 1].complete && segs[i][nsegs[i] - 1].nparts > 0) {
            /* Cut short by a crash: what it holds is all it will ever hold. */
            st->tracks[i].seg = segs[i][nsegs[i] - 1];
            st->tracks[i].seg_open = 1;
            st->tracks[i].frag = NULL;
            st->tracks[i].seg.complete = 1;
            llhls_track_finish(&st->tracks[i]);
            st->tracks[i].seg_open = 0;
        }
        free(segs[i]);
        if (found)
            st->tracks[i].pending_disc = 1;
    }
    uv_timer_init(ing->loop, &st->grace);
    st->grace.data = st;
    st->next = ing->streams;
    ing->streams = st;
    return st;
}

/* ---- publish ---- */

static void drop_audio_queue(llhls_publish_t *p)
{
    while (p->aq_len) {
        free(p->aq[p->aq_head].data);
        p->aq_head = (p->aq_head + 1) % AUDIO_QUEUE_MAX;
        p->aq_len--;
    }
}

/* A rendition that starts or comes back takes its group's numbering, so
 * that a segment number covers the same time in every rendition (see
 * src/group.h).  Its own numbering never goes back. */
static void align_with_group(stream_t *st)
{
    llhls_rtxn_t *r;
    uint64_t msn;
    if (llhls_store_read_begin(st->ing->p.store, &r) != 0)
        return;
    int found = llhls_group_align(r, st->info.name, llhls_wall_ms(), st->ing->p.segment_target_us, &msn);
    llhls_store_read_end(r);
    if (found != 1)
        return;
    for (int i = 0; i < LLHLS_TRACKS; i++) {
        if (!st->tracks[i].seg_open && st->tracks[i].next_msn < msn) {
            LLHLS_DEBUG("packager", "%s: %s continues at MSN %llu with its group", st->info.name,
                        llhls_track_name(i), (unsigned long long)msn);
            st->tracks[i].next_msn = msn;
        }
    }
}

int llhls_publish_start(llhls_ingest_t *ing, const char *app, const char *name, const char *peer,
                        llhls_publish_t **out, const char **why)
{
    int r = llhls_publish_name_check(app, name, why);
    if (r != 0) {
        LLHLS_WARN("packager", "publish of %s/%s from %s refused: %s", app, name, peer, *why);
        atomic_fetch_add_explicit(&ing->p.metrics->publishes_refused, 1, memory_order_relaxed);
        return r;
    }
    char full[LLHLS_NAME_MAX];
    snprintf(full, sizeof(full), "%s/%s", app, name);
    stream_t *st = stream_find(ing, full);
    if (st && st->pub) {
        *why = "a publisher is already live on this stream name";
        LLHLS_WARN("packager", "publish of %s from %s refused: %s (%s)", full, peer, *why, st->pub->peer);
        atomic_fetch_add_explicit(&ing->p.metrics->publishes_refused, 1, memory_order_relaxed);
        return -LLHLS_EBUSY;
    }
    if (st == NULL && (st = stream_new(ing, full)) == NULL)
        return -LLHLS_ENOMEM;
    llhls_publish_t *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return -LLHLS_ENOMEM;
    p->ing = ing;
    p->st = st;
    snprintf(p->peer, sizeof(p->peer), "%s", peer);
    llhls_buf_init(&p->pend, 0);
    if (st->grace_armed) {
        uv_timer_stop(&st->grace);
        st->grace_armed = 0;
        LLHLS_INFO("packager", "%s: publisher back from %s, continuing after a discontinuity", full, peer);
    } else {
        LLHLS_INFO("packager", "%s: publish from %s", full, peer);
    }
    align_with_group(st);
    st->pub = p;
    st->info.state = LLHLS_STREAM_LIVE;
    snprintf(st->info.publisher, sizeof(st->info.publisher), "%s", peer);
    st->info.published_ms = llhls_wall_ms();
    write_info(st);
    atomic_fetch_add_explicit(&ing->p.metrics->streams_live, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&ing->p.metrics->publishes, 1, memory_order_relaxed);
    *out = p;
    return 0;
}

void llhls_publish_metadata(llhls_publish_t *p, double framerate)
{
    if (framerate > 0 && framerate <= 1000)
        p->meta_framerate = framerate;
}

/* Stream time, in microseconds, of an RTMP timestamp. */
static int64_t stream_time(llhls_publish_t *p, uint32_t ts)
{
    if (!p->have_ts) {
        p->have_ts = 1;
        p->last_ts = ts;
        p->ext_ms = 0;
        /* A second of headroom: messages slightly older than the first one
         * (audio and video interleave loosely) must not get negative
         * decode times. */
        p->base_us = p->st->media_end_us + 1000000;
        p->wall_base_ms = llhls_wall_ms();
    } else {
        /* Signed difference: audio and video interleave slightly out of
         * order, and the 32-bit clock wraps after 49 days. */
        p->ext_ms += (int32_t)(ts - p->last_ts);
        p->last_ts = ts;
    }
    return p->base_us + p->ext_ms * 1000;
}

static int64_t pdt_of(llhls_publish_t *p, int64_t t_us)
{
    return p->wall_base_ms + (t_us - p->base_us) / 1000;
}

static void remember_video_start(llhls_publish_t *p, uint64_t msn, int64_t t_us)
{
    unsigned i = p->vstarts % VIDEO_STARTS;
    p->vstart_msn[i] = msn;
    p->vstart_us[i] = t_us;
    p->vstarts++;
}

static void remember_video_part(llhls_publish_t *p, int64_t t_us)
{
    p->vpart_us[p->vparts % VIDEO_PARTS] = t_us;
    p->vparts++;
}

/* The start of the last video part begun by t_us, or -1. */
static int64_t video_part_at(llhls_publish_t *p, int64_t t_us)
{
    unsigned n = p->vparts < VIDEO_PARTS ? p->vparts : VIDEO_PARTS;
    for (unsigned k = 0; k < n; k++) {
        int64_t v = p->vpart_us[(p->vparts - 1 - k) % VIDEO_PARTS];
        if (v <= t_us)
            return v;
    }
    return -1;
}

/* The video segment holding time t_us, or -1 if none started by then. */
static int64_t video_msn_at(llhls_publish_t *p, int64_t t_us)
{
    unsigned n = p->vstarts < VIDEO_STARTS ? p->vstarts : VIDEO_STARTS;
    for (unsigned k = 0; k < n; k++) {
        unsigned i = (p->vstarts - 1 - k) % VIDEO_STARTS;
        if (p->vstart_us[i] <= t_us)
            return (int64_t)p->vstart_msn[i];
    }
    return n ? (int64_t)p->vstart_msn[(p->vstarts - n) % VIDEO_STARTS] : -1;
}

static int release_audio(llhls_publish_t *p, int all)
{
    llhls_track_out_t *t = &p->st->tracks[LLHLS_TRACK_AUDIO];
    while (p->aq_len) {
        audio_frame_t *f = &p->aq[p->aq_head];
        int video = p->video_active && !p->audio_only;
        if (!all && video && f->t_us >= p->video_latest_us && f->t_us - p->video_latest_us < AUDIO_LEAD_US)
            break;
        if (!all && !video && !p->audio_only) {
            /* No video yet: wait a moment for it, then go on without. */
            if (f->t_us - p->audio_first_us < AUDIO_LEAD_US)
                break;
            LLHLS_INFO("packager", "%s: no video after 1 s of audio: audio-only", p->st->info.name);
            p->audio_only = 1;
        }
        uint32_t dur_ticks = p->aac.frame_length;
        uint32_t dur_us = (uint32_t)((uint64_t)dur_ticks * 1000000 / p->aac.sample_rate);
        int boundary = -1;
        int64_t msn = -1;
        if (video) {
            msn = video_msn_at(p, f->t_us);
            if (msn < 0) {
                /* Audio before the first video segment: it joins that one. */
                msn = p->vstarts ? (int64_t)p->vstart_msn[0] : -1;
            }
            boundary = msn >= 0 && msn != llhls_track_msn(t) ? 1 : 0;
            if (msn < 0) {
                free(f->data);
                p->aq_head = (p->aq_head + 1) % AUDIO_QUEUE_MAX;
                p->aq_len--;
                continue;
            }
        }
        int r = 0;
        if (boundary == 0 && llhls_cutter_follows(&t->cutter, f->t_us, dur_us, video_part_at(p, f->t_us)))
            r = llhls_track_close_part(t, f->t_us);
        if (r >= 0)
            r = llhls_track_cut(t, f->t_us, dur_us, 1, boundary, msn, pdt_of(p, f->t_us));
        if (r >= 0)
            r = llhls_track_add(t, f->data, f->len, f->dts, f->dts, dur_ticks, 1);
        free(f->data);
        p->aq_head = (p->aq_head + 1) % AUDIO_QUEUE_MAX;
        p->aq_len--;
        if (r < 0) {
            LLHLS_WARN("packager", "%s: packaging audio failed: %s", p->st->info.name, llhls_strerror(r));
            return r;
        }
        if (f->t_us + dur_us > p->end_us)
            p->end_us = f->t_us + dur_us;
    }
    return 0;
}

/* Gives the held video sample its duration and adds it. */
static int flush_pending_video(llhls_publish_t *p, uint32_t dur_us)
{
    llhls_track_out_t *t = &p->st->tracks[LLHLS_TRACK_VIDEO];
    if (!p->have_pend)
        return 0;
    p->have_pend = 0;
    int64_t dts = p->pend_dts_us * 9 / 100, pts = p->pend_pts_us * 9 / 100;
    uint32_t dur = dur_us * 9 / 100;
    if (dur == 0)
        dur = 1;
    if (p->pend_dts_us + dur_us > p->end_us)
        p->end_us = p->pend_dts_us + dur_us;
    return llhls_track_add(t, p->pend.data, p->pend.len, dts, pts, dur, p->pend_key);
}

static uint32_t nominal_frame_us(llhls_publish_t *p)
{
    if (p->vf.frame_rate_milli)
        return (uint32_t)(1000000000ull / p->vf.frame_rate_milli);
    if (p->meta_framerate > 0)
        return (uint32_t)(1000000 / p->meta_framerate);
    return 33333;
}

/* A sequence header is stored as received, so that the many encoders that
 * repeat it unchanged at every keyframe cost a comparison.  Returns 1 when
 * data is what *stored already holds, 0 when it was copied in its place
 * (the old copy freed), or -LLHLS_ENOMEM. */
static int keep_config(uint8_t **stored, size_t *stored_len, const uint8_t *data, size_t len)
{
    if (*stored && *stored_len == len && memcmp(*stored, data, len) == 0)
        return 1;
    uint8_t *copy = malloc(len);
    if (copy == NULL)
        return -LLHLS_ENOMEM;
    memcpy(copy, data, len);
    free(*stored);
    *stored = copy;
    *stored_len = len;
    return 0;
}

/* New codec parameters for a track: a new fragmenter and init section,
 * after a discontinuity when they replace others or a publisher came back. */
static int configure_track(stream_t *st, int track, const llhls_fragmenter_params_t *fp, int reconfig)
{
    llhls_track_out_t *t = &st->tracks[track];
    int disc = reconfig || t->pending_disc;
    t->pending_disc = 0;
    return llhls_track_configure(t, fp, disc);
}

static int parse_video_format(int flv_codec, const uint8_t *data, size_t len, video_format_t *vf, const char **why)
{
    memset(vf, 0, sizeof(*vf));
    if (flv_codec == LLHLS_FLV_CODEC_HEVC) {
        llhls_hevc_config_t hevc;
        int r = llhls_hevc_parse_config(data, len, &hevc, why);
        if (r != 0)
            return r;
        vf->codec = LLHLS_CODEC_HEVC;
        vf->nal_length_size = hevc.nal_length_size;
        vf->width = hevc.width;
        vf->height = hevc.height;
        vf->frame_rate_milli = hevc.frame_rate_milli;
        snprintf(vf->name, sizeof(vf->name), "%s", hevc.codec);
        return 0;
    }
    llhls_avc_config_t avc;
    int r = llhls_avc_parse_config(data, len, &avc, why);
    if (r != 0)
        return r;
    vf->codec = LLHLS_CODEC_H264;
    vf->nal_length_size = avc.nal_length_size;
    vf->width = avc.width;
    vf->height = avc.height;
    vf->frame_rate_milli = avc.frame_rate_milli;
    snprintf(vf->name, sizeof(vf->name), "%s", avc.codec);
    return 0;
}

static const char *flv_codec_name(int flv_codec)
{
    return flv_codec == LLHLS_FLV_CODEC_HEVC ? "HEVC" : "AVC";
}

static int video_config(llhls_publish_t *p, int flv_codec, const uint8_t *data, size_t len)
{
    stream_t *st = p->st;
    const char *why = "";
    video_format_t vf;
    int r = parse_video_format(flv_codec, data, len, &vf, &why);
    if (r != 0) {
        LLHLS_WARN("packager", "%s: bad %s sequence header from %s: %s", st->info.name, flv_codec_name(flv_codec),
                   p->peer, why);
        return r;
    }
    /* An hvcC never equals an avcC, but a codec change must not hinge on it. */
    int reconfig = p->vconf != NULL;
    if (reconfig && vf.codec == p->vf.codec && p->vconf_len == len && memcmp(p->vconf, data, len) == 0)
        return 0; /* repeated unchanged, as some encoders do at every keyframe */
    if (reconfig) {
        r = flush_pending_video(p, p->last_dur_us ? p->last_dur_us : nominal_frame_us(p));
        if (r != 0)
            return r;
    }
    if ((r = keep_config(&p->vconf, &p->vconf_len, data, len)) < 0)
        return r;
    p->vf = vf;
    llhls_fragmenter_params_t fp = {.codec = vf.codec, .extradata = data, .extradata_len = len,
                                    .width = vf.width, .height = vf.height, .timescale = 90000};
    if ((r = configure_track(st, LLHLS_TRACK_VIDEO, &fp, reconfig)) != 0)
        return r;
    llhls_track_info_t *ti = &st->info.tracks[LLHLS_TRACK_VIDEO];
    snprintf(ti->codec, sizeof(ti->codec), "%s", vf.name);
    ti->width = vf.width;
    ti->height = vf.height;
    ti->frame_rate_milli = vf.frame_rate_milli ? vf.frame_rate_milli
                                               : (uint32_t)(p->meta_framerate * 1000 + 0.5);
    write_info(st);
    p->video_seen_keyframe = 0;
    LLHLS_INFO("packager", "%s: video %s %ux%u at %.3f fps", st->info.name, vf.name, vf.width, vf.height,
               ti->frame_rate_milli / 1000.0);
    return 0;
}

int llhls_publish_video(llhls_publish_t *p, uint32_t ts_ms, const uint8_t *body, size_t len)
{
    stream_t *st = p->st;
    if (st == NULL)
        return -LLHLS_ECANCELED; /* disconnected by an operator */
    llhls_flv_video_t v;
    const char *why = "";
    int64_t t_us = stream_time(p, ts_ms);
    atomic_fetch_add_explicit(&p->ing->p.metrics->rtmp_bytes_in, len, memory_order_relaxed);
    int r = llhls_flv_parse_video(body, len, &v, &why);
    if (r != 0) {
        LLHLS_WARN("packager", "%s: refusing video from %s: %s", st->info.name, p->peer, why);
        return r;
    }
    if (v.command || v.packet_type == LLHLS_FLV_PACKET_END_OF_SEQUENCE || v.packet_type == LLHLS_FLV_PACKET_METADATA)
        return 0;
    if (v.packet_type == LLHLS_FLV_PACKET_SEQUENCE_HEADER)
        return video_config(p, v.codec_id, v.data, v.len);
    llhls_track_out_t *t = &st->tracks[LLHLS_TRACK_VIDEO];
    if (!llhls_track_configured(t) || p->vconf == NULL) {
        if (p->frames_unconfigured++ == 0)
            LLHLS_WARN("packager", "%s: video frame before the %s sequence header from %s; dropped",
                       st->info.name, flv_codec_name(v.codec_id), p->peer);
        if (p->frames_unconfigured > FRAMES_BEFORE_CONFIG_MAX) {
            LLHLS_WARN("packager", "%s: no %s sequence header after %u frames from %s; closing", st->info.name,
                       flv_codec_name(v.codec_id), FRAMES_BEFORE_CONFIG_MAX, p->peer);
            return -LLHLS_EPROTO;
        }
        return 0;
    }
    int want = p->vf.codec == LLHLS_CODEC_HEVC ? LLHLS_FLV_CODEC_HEVC : LLHLS_FLV_CODEC_AVC;
    if (v.codec_id != want) {
        /* Frames of another codec than the sequence header announced could
         * only make the parts undecodable. */
        if (p->frames_dropped++ % 100 == 0)
            LLHLS_WARN("packager", "%s: %s frame from %s after an %s sequence header dropped (%u so far)",
                       st->info.name, flv_codec_name(v.codec_id), p->peer, flv_codec_name(want), p->frames_dropped);
        return 0;
    }
    int random_access = 0;
    if (p->vf.codec == LLHLS_CODEC_HEVC)
        r = llhls_hevc_check_frame(v.data, v.len, p->vf.nal_length_size, &random_access, &why);
    else
        r = llhls_avc_check_frame(v.data, v.len, p->vf.nal_length_size, &random_access, &why);
    if (r != 0) {
        if (p->frames_dropped++ % 100 == 0)
            LLHLS_WARN("packager", "%s: corrupt video frame from %s dropped (%u so far): %s", st->info.name,
                       p->peer, p->frames_dropped, why);
        return 0;
    }
    /* H.264 keeps to the FLV frame type, as it always has.  For HEVC the
     * NAL units decide: a segment may start at any IRAP picture (IDR, CRA,
     * BLA), and an encoder's frame type is not always set on CRAs. */
    int key = p->vf.codec == LLHLS_CODEC_HEVC ? random_access : v.keyframe;
    if (!p->video_seen_keyframe) {
        if (!key)
            return 0; /* a segment can only start at a keyframe */
        p->video_seen_keyframe = 1;
    }
    p->video_active = 1;
    if (p->have_pend || p->committed_early) {
        if (t_us <= p->pend_dts_us) {
            LLHLS_DEBUG("packager", "%s: video timestamp went back; nudged", st->info.name);
            t_us = p->pend_dts_us + 1000;
        }
        uint32_t dur = (uint32_t)(t_us - p->pend_dts_us);
        p->last_dur_us = dur;
        p->committed_early = 0;
        if (p->have_pend && (r = flush_pending_video(p, dur)) != 0) {
            LLHLS_WARN("packager", "%s: packaging video failed: %s", st->info.name, llhls_strerror(r));
            return r;
        }
    }
    /* The sample's own duration is not known yet: the cut decision takes the
     * last one plus a millisecond, so that RTMP's rounding can never carry a
     * part past its target. */
    uint32_t est = (p->last_dur_us ? p->last_dur_us : nominal_frame_us(p)) + 1000;
    int64_t before = llhls_track_msn(t);
    r = llhls_track_cut(t, t_us, est, key, -1, -1, pdt_of(p, t_us));
    if (r < 0) {
        LLHLS_WARN("packager", "%s: packaging video failed: %s", st->info.name, llhls_strerror(r));
        return r;
    }
    if (llhls_track_msn(t) != before)
        remember_video_start(p, (uint64_t)llhls_track_msn(t), t_us);
    if (r != LLHLS_CUT_NONE)
        remember_video_part(p, t_us);
    llhls_buf_reset(&p->pend);
    if ((r = llhls_buf_append(&p->pend, v.data, v.len)) != 0)
        return r;
    p->have_pend = 1;
    p->pend_dts_us = t_us;
    p->pend_pts_us = t_us + (int64_t)v.cts_ms * 1000;
    p->pend_key = key;
    p->video_latest_us = t_us;
    /* When the part is full once this frame ends, it goes out now instead
     * of when the next frame tells how long this one really was: a player
     * waiting for the part gets it a frame interval sooner.  The frame is
     * given its nominal duration in whole milliseconds, rounded down: RTMP
     * timestamps are whole milliseconds, so the next frame never starts
     * before this one ends (at most a millisecond of gap, which players
     * pass over), and the next part's decode time is that frame's own.
     * Without a known frame rate there is no nominal duration: no early
     * commit. */
    uint32_t frame_us = nominal_frame_us(p) / 1000 * 1000;
    int known_rate = p->vf.frame_rate_milli || p->meta_framerate > 0;
    if (known_rate && frame_us > 0 && llhls_cutter_part_full(&t->cutter, t_us + frame_us, frame_us + 2000)) {
        if ((r = flush_pending_video(p, frame_us)) != 0 || (r = llhls_track_close_part(t, t_us + frame_us)) != 0) {
            LLHLS_WARN("packager", "%s: packaging video failed: %s", st->info.name, llhls_strerror(r));
            return r;
        }
        p->committed_early = 1;
        remember_video_part(p, t_us + frame_us);
    }
    return release_audio(p, 0);
}

static int audio_config(llhls_publish_t *p, const uint8_t *data, size_t len)
{
    stream_t *st = p->st;
    const char *why = "";
    llhls_aac_config_t aac;
    int r = llhls_aac_parse_config(data, len, &aac, &why);
    if (r != 0) {
        LLHLS_WARN("packager", "%s: bad AAC sequence header from %s: %s", st->info.name, p->peer, why);
        return r;
    }
    if (p->asc && p->asc_len == len && memcmp(p->asc, data, len) == 0)
        return 0;
    int reconfig = p->asc != NULL;
    if (reconfig && (r = release_audio(p, 1)) != 0)
        return r;
    if ((r = keep_config(&p->asc, &p->asc_len, data, len)) < 0)
        return r;
    p->aac = aac;
    p->audio_synced = 0;
    llhls_fragmenter_params_t fp = {.codec = LLHLS_CODEC_AAC, .extradata = data, .extradata_len = len,
                                    .sample_rate = aac.sample_rate, .channels = aac.channels,
                                    .timescale = aac.sample_rate};
    if ((r = configure_track(st, LLHLS_TRACK_AUDIO, &fp, reconfig)) != 0)
        return r;
    llhls_track_info_t *ti = &st->info.tracks[LLHLS_TRACK_AUDIO];
    snprintf(ti->codec, sizeof(ti->codec), "%s", aac.codec);
    ti->sample_rate = aac.sample_rate;
    ti->channels = aac.channels;
    write_info(st);
    LLHLS_INFO("packager", "%s: audio %s %u Hz, %u channels", st->info.name, aac.codec, aac.sample_rate,
               aac.channels);
    return 0;
}

int llhls_publish_audio(llhls_publish_t *p, uint32_t ts_ms, const uint8_t *body, size_t len)
{
    stream_t *st = p->st;
    if (st == NULL)
        return -LLHLS_ECANCELED;
    llhls_flv_audio_t a;
    const char *why = "";
    int64_t t_us = stream_time(p, ts_ms);
    atomic_fetch_add_explicit(&p->ing->p.metrics->rtmp_bytes_in, len, memory_order_relaxed);
    int r = llhls_flv_parse_audio(body, len, &a, &why);
    if (r != 0) {
        LLHLS_WARN("packager", "%s: refusing audio from %s: %s", st->info.name, p->peer, why);
        return r;
    }
    if (a.packet_type == LLHLS_FLV_AAC_SEQUENCE_HEADER)
        return audio_config(p, a.data, a.len);
    if (p->asc == NULL) {
        if (p->frames_unconfigured++ == 0)
            LLHLS_WARN("packager", "%s: audio frame before the AAC sequence header from %s; dropped",
                       st->info.name, p->peer);
        if (p->frames_unconfigured > FRAMES_BEFORE_CONFIG_MAX) {
            LLHLS_WARN("packager", "%s: no AAC sequence header after %u frames from %s; closing", st->info.name,
                       FRAMES_BEFORE_CONFIG_MAX, p->peer);
            return -LLHLS_EPROTO;
        }
        return 0;
    }
    if (a.len == 0)
        return 0;
    /* Audio is timed by counting samples, which is exact, and resynchronised
     * to RTMP's clock only when they drift apart (a gap in the input). */
    int64_t sr = p->aac.sample_rate;
    int64_t expect_us = p->audio_t0_us + p->audio_samples * 1000000 / sr;
    if (p->audio_synced && expect_us - t_us > 100000) {
        /* The input's clock fell behind the samples already placed (a
         * looped file, an encoder catching up): audio cannot go back in
         * time, so frames are dropped until the clocks meet again. */
        if (p->audio_dropping++ == 0)
            LLHLS_INFO("packager", "%s: audio %lld ms behind its own timeline; dropping until it catches up",
                       st->info.name, (long long)(expect_us - t_us) / 1000);
        return 0;
    }
    p->audio_dropping = 0;
    if (!p->audio_synced) {
        p->audio_synced = 1;
        p->audio_first_us = p->audio_t0_us = t_us;
        p->audio_samples = 0;
    } else if (t_us - expect_us > 100000) {
        /* A gap in the input: jump ahead by whole samples, so that decode
         * times only ever grow. */
        LLHLS_INFO("packager", "%s: audio gap of %lld ms; timeline moved on", st->info.name,
                   (long long)(t_us - expect_us) / 1000);
        p->audio_samples = (t_us - p->audio_t0_us) * sr / 1000000;
    }
    int64_t t0_ticks = p->audio_t0_us * sr / 1000000;
    int64_t dts = t0_ticks + p->audio_samples;
    int64_t at_us = dts * 1000000 / sr;
    p->audio_samples += p->aac.frame_length;
    if (p->aq_len == AUDIO_QUEUE_MAX && (r = release_audio(p, 1)) != 0)
        return r;
    uint8_t *copy = malloc(a.len);
    if (copy == NULL)
        return -LLHLS_ENOMEM;
    memcpy(copy, a.data, a.len);
    audio_frame_t *f = &p->aq[(p->aq_head + p->aq_len) % AUDIO_QUEUE_MAX];
    f->data = copy;
    f->len = a.len;
    f->dts = dts;
    f->t_us = at_us;
    p->aq_len++;
    return release_audio(p, 0);
}

/* The publish lets go of its stream, which waits for its publisher for
 * the grace period.  p stays allocated until the RTMP side stops it. */
static void publish_detach(llhls_publish_t *p)
{
    stream_t *st = p->st;
    llhls_ingest_t *ing = p->ing;
    flush_pending_video(p, p->last_dur_us ? p->last_dur_us : nominal_frame_us(p));
    if (p->asc)
        release_audio(p, 1);
    drop_audio_queue(p);
    for (int i = 0; i < LLHLS_TRACKS; i++) {
        llhls_track_finish(&st->tracks[i]);
        if (st->tracks[i].frag) {
            llhls_fragmenter_destroy(st->tracks[i].frag);
            st->tracks[i].frag = NULL;
        }
        /* Whoever publishes next starts after a discontinuity. */
        st->tracks[i].pending_disc = 1;
    }
    if (p->end_us > st->media_end_us)
        st->media_end_us = p->end_us;
    LLHLS_INFO("packager", "%s: publisher %s left; waiting %u ms for it", st->info.name, p->peer, ing->p.grace_ms);
    st->pub = NULL;
    p->st = NULL;
    atomic_fetch_sub_explicit(&ing->p.metrics->streams_live, 1, memory_order_relaxed);
    st->info.state = LLHLS_STREAM_IDLE;
    st->info.publisher[0] = 0;
    st->info.published_ms = 0;
    write_info(st);
    uv_timer_start(&st->grace, on_grace, ing->p.grace_ms, 0);
    st->grace_armed = 1;
}

void llhls_publish_stop(llhls_publish_t *p)
{
    if (p->st)
        publish_detach(p);
    free(p->vconf);
    free(p->asc);
    llhls_buf_free(&p->pend);
    free(p);
}

/* ---- the packager ---- */

static int restore_one(const llhls_stream_info_t *info, void *ctx)
{
    llhls_ingest_t *ing = ctx;
    if (info->state == LLHLS_STREAM_ENDED)
        return 0;
    char name[LLHLS_NAME_MAX];
    snprintf(name, sizeof(name), "%s", info->name);
    /* The store cannot be written inside this read; remember the name. */
    stream_t *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return -LLHLS_ENOMEM;
    snprintf(st->info.name, sizeof(st->info.name), "%s", name);
    st->next = ing->streams;
    ing->streams = st;
    return 0;
}

int llhls_packager_create(uv_loop_t *loop, const llhls_packager_params_t *p, llhls_ingest_t **out)
{
    llhls_ingest_t *ing = calloc(1, sizeof(*ing));
    if (ing == NULL)
        return -LLHLS_ENOMEM;
    ing->loop = loop;
    ing->p = *p;
    ing->env.store = p->store;
    ing->env.fresh = p->fresh;
    ing->env.metrics = p->metrics;
    ing->env.on_update = p->on_update;
    ing->env.update_ctx = p->update_ctx;
    ing->env.part_target_us = p->part_target_us;
    ing->env.segment_target_us = p->segment_target_us;
    ing->env.retain_ms = p->window_ms + 3 * ((p->segment_target_us + 999999) / 1000000) * 1000;
    /* Streams that were live when the process stopped get a grace period,
     * as if their publishers had just left. */
    llhls_rtxn_t *r;
    if (llhls_store_read_begin(p->store, &r) == 0) {
        llhls_rtxn_each_stream(r, restore_one, ing);
        llhls_store_read_end(r);
    }
    stream_t *names = ing->streams;
    ing->streams = NULL;
    while (names) {
        stream_t *n = names;
        names = n->next;
        stream_t *st = stream_new(ing, n->info.name);
        free(n);
        if (st == NULL)
            continue;
        LLHLS_INFO("packager", "%s: restored; waiting %u ms for its publisher", st->info.name, p->grace_ms);
        st->info.state = LLHLS_STREAM_IDLE;
        write_info(st);
        uv_timer_start(&st->grace, on_grace, p->grace_ms, 0);
        st->grace_armed = 1;
    }
    *out = ing;
    return 0;
}

int llhls_packager_end_stream(llhls_ingest_t *ing, const char *stream)
{
    stream_t *st = stream_find(ing, stream);
    if (st == NULL)
        return -LLHLS_ENOTFOUND;
    if (st->pub) {
        LLHLS_INFO("packager", "%s: publisher %s disconnected: the stream is ended", stream, st->pub->peer);
        publish_detach(st->pub);
    }
    if (st->grace_armed)
        uv_timer_stop(&st->grace);
    st->grace_armed = 0;
    end_stream(st);
    stream_unlink(st);
    return 0;
}

int llhls_packager_kick(llhls_ingest_t *ing, const char *stream)
{
    stream_t *st = stream_find(ing, stream);
    if (st == NULL || st->pub == NULL)
        return -LLHLS_ENOTFOUND;
    LLHLS_INFO("packager", "%s: publisher %s disconnected by an operator", stream, st->pub->peer);
    publish_detach(st->pub);
    return 0;
}

static int delete_one(llhls_wtxn_t *w, void *ctx)
{
    return llhls_wtxn_delete_stream(w, ctx);
}

int llhls_packager_delete_stream(llhls_ingest_t *ing, const char *stream)
{
    if (stream_find(ing, stream))
        return -LLHLS_EBUSY;
    llhls_rtxn_t *r;
    llhls_stream_info_t info;
    int rc = llhls_store_read_begin(ing->p.store, &r);
    if (rc != 0)
        return rc;
    rc = llhls_rtxn_get_stream(r, stream, &info);
    llhls_store_read_end(r);
    if (rc != 0)
        return rc;
    if ((rc = llhls_store_write(ing->p.store, delete_one, (void *)stream)) != 0)
        return rc;
    LLHLS_INFO("packager", "%s: deleted with everything stored of it", stream);
    return 0;
}

void llhls_packager_destroy(llhls_ingest_t *ing)
{
    while (ing->streams) {
        stream_t *st = ing->streams;
        if (st->pub)
            llhls_publish_stop(st->pub);
        if (st->grace_armed)
            uv_timer_stop(&st->grace);
        st->grace_armed = 0;
        stream_unlink(st);
    }
    free(ing);
}
