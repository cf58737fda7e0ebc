/* Playlist rendering: turns the stream index (stream info plus the stored
 * segments of a track) into the text of an LL-HLS media playlist or of the
 * multivariant playlist, following RFC 8216bis and Apple's low-latency
 * profile.  Everything is computed from the arguments: no clock, no store. */
#include "playlist.h"

#include "error.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#define US_PER_S 1000000u

/* Parts are listed for the segments that start within this many target
 * durations of the playlist's end; delta updates skip what starts more than
 * SKIP_TDS target durations before it. */
#define PART_TDS 3u
#define SKIP_TDS 6u
#define HOLD_BACK_TDS 3u
#define PART_HOLD_BACK_PARTS 3u

/* BANDWIDTH when the packager has not measured a track yet: a player needs
 * some figure to rank variants, and an honest guess beats zero. */
#define VIDEO_BANDWIDTH_FLOOR 2000000u
#define AUDIO_BANDWIDTH_FLOOR 128000u

/* The segments of segs that the playlist lists: the newest ones whose total
 * duration fits the window, the in-progress one included; or, for a
 * recording that ended, every segment stored. */
typedef struct window {
    size_t first;
    size_t n;
    uint64_t total_us;
} window_t;

/* A recorded stream that ended is served as video on demand: the whole
 * recording, no low-latency tags. */
static int is_vod(const llhls_stream_info_t *st)
{
    return st->record && st->state == LLHLS_STREAM_ENDED;
}

static void find_window(const llhls_stream_info_t *st, const llhls_segment_t *segs, size_t nsegs, window_t *w)
{
    uint64_t window_us = is_vod(st) ? UINT64_MAX : (uint64_t)st->window_ms * 1000;
    w->first = nsegs;
    w->n = 0;
    w->total_us = 0;
    for (size_t i = nsegs; i > 0; i--) {
        uint64_t d = segs[i - 1].duration_us;
        if (w->n > 0 && w->total_us + d > window_us)
            break;
        w->total_us += d;
        w->first = i - 1;
        w->n++;
    }
}

static uint32_t target_duration_of(const llhls_stream_info_t *st, const llhls_segment_t *segs, size_t n)
{
    uint64_t td = ((uint64_t)st->segment_target_us + US_PER_S - 1) / US_PER_S;
    for (size_t i = 0; i < n; i++) {
        if (!segs[i].complete)
            continue;
        /* RFC 8216bis 4.4.3.1: EXTINF rounded to the nearest integer must not
         * exceed TARGETDURATION. */
        uint64_t s = ((uint64_t)segs[i].duration_us + US_PER_S / 2) / US_PER_S;
        if (s > td)
            td = s;
    }
    return td ? (uint32_t)td : 1;
}

uint32_t llhls_playlist_target_duration(const llhls_stream_info_t *st, const llhls_segment_t *segs, size_t nsegs)
{
    window_t w;
    find_window(st, segs, nsegs, &w);
    return target_duration_of(st, segs + w.first, w.n);
}

/* Microseconds in steps of 10 us, the resolution of five decimals.  Part
 * durations round down and PART-TARGET rounds up, so that a part no longer
 * than the target never prints longer than it. */
enum { ROUND_DOWN = 0, ROUND_NEAREST = 5, ROUND_UP = 9 };

static uint64_t tens_of_us(uint64_t us, int rounding)
{
    return (us + (uint64_t)rounding) / 10;
}

#define SECS5_FMT "%" PRIu64 ".%05" PRIu64
#define SECS5_ARGS(t) (t) / 100000, (t) % 100000

static int put_pdt(llhls_buf_t *out, int64_t ms)
{
    int64_t secs = ms / 1000, rem = ms % 1000;
    if (rem < 0) {
        rem += 1000;
        secs--;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL)
        return -LLHLS_EINVAL;
    return llhls_buf_printf(out, "#EXT-X-PROGRAM-DATE-TIME:%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\n", tm.tm_year + 1900,
                            tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)rem);
}

static int put_header(llhls_buf_t *out, const llhls_media_playlist_t *pl, uint32_t td, const llhls_segment_t *first)
{
    const llhls_stream_info_t *st = pl->stream;
    uint64_t pt = tens_of_us(st->part_target_us, ROUND_UP);
    /* From the printed PART-TARGET, rounded up to the millisecond, so that
     * PART-HOLD-BACK is never below three of what the player reads. */
    uint64_t phb_ms = (PART_HOLD_BACK_PARTS * pt + 99) / 100;
    int r = llhls_buf_printf(out, "#EXTM3U\n#EXT-X-VERSION:%d\n", pl->skip == LLHLS_SKIP_V2 ? 10 : 9);
    /* Audio frames all decode on their own; a video segment depends on its
     * opening IDR, which the multivariant playlist already promises. */
    if (r == 0 && pl->track == LLHLS_TRACK_AUDIO)
        r = llhls_buf_printf(out, "#EXT-X-INDEPENDENT-SEGMENTS\n");
    if (r == 0)
        r = llhls_buf_printf(out,
                             "#EXT-X-TARGETDURATION:%" PRIu32 "\n"
                             "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=%" PRIu64
                             ".0,CAN-SKIP-DATERANGES=YES,PART-HOLD-BACK=%" PRIu64 ".%03" PRIu64 ",HOLD-BACK=%" PRIu64
                             ".0\n"
                             "#EXT-X-PART-INF:PART-TARGET=" SECS5_FMT "\n"
                             "#EXT-X-MEDIA-SEQUENCE:%" PRIu64 "\n",
                             td, (uint64_t)SKIP_TDS * td, phb_ms / 1000, phb_ms % 1000, (uint64_t)HOLD_BACK_TDS * td,
                             SECS5_ARGS(pt), first ? first->msn : 0);
    /* The first listed segment's own discontinuity is carried by the
     * sequence number rather than by a tag, so the number is its disc_seq. */
    if (r == 0 && first != NULL && first->disc_seq != 0)
        r = llhls_buf_printf(out, "#EXT-X-DISCONTINUITY-SEQUENCE:%" PRIu32 "\n", first->disc_seq);
    return r;
}

static int put_segment(llhls_buf_t *out, const char *track, const llhls_segment_t *seg, int first_shown,
                       int first_listed, const llhls_segment_t *prev, int with_parts)
{
    int r = 0;
    if (seg->discontinuity && !first_listed)
        r = llhls_buf_printf(out, "#EXT-X-DISCONTINUITY\n");
    if (r == 0 && (first_shown || prev == NULL || prev->init_id != seg->init_id))
        r = llhls_buf_printf(out, "#EXT-X-MAP:URI=\"%s/init-%" PRIu32 ".mp4\"\n", track, seg->init_id);
    if (r == 0)
        r = put_pdt(out, seg->pdt_ms);
    uint32_t nparts = seg->nparts < LLHLS_MAX_PARTS ? seg->nparts : LLHLS_MAX_PARTS;
    for (uint32_t i = 0; with_parts && r == 0 && i < nparts; i++) {
        const llhls_part_meta_t *p = &seg->parts[i];
        uint64_t d = tens_of_us(p->duration_us, ROUND_DOWN);
        r = llhls_buf_printf(out, "#EXT-X-PART:DURATION=" SECS5_FMT ",URI=\"%s/%" PRIu64 ".%" PRIu32 ".m4s\"%s\n",
                             SECS5_ARGS(d), track, seg->msn, i, p->independent ? ",INDEPENDENT=YES" : "");
    }
    if (r == 0 && seg->complete) {
        uint64_t d = tens_of_us(seg->duration_us, ROUND_NEAREST);
        r = llhls_buf_printf(out, "#EXTINF:" SECS5_FMT ",\n%s/%" PRIu64 ".m4s\n", SECS5_ARGS(d), track, seg->msn);
    }
    return r;
}

/* A recording that ended: a plain VOD playlist any HLS player reads.  Parts,
 * hints, reports and server control only make sense while the playlist
 * grows; each segment is served whole from the same URI as when live. */
static int render_vod(llhls_buf_t *out, const llhls_media_playlist_t *pl, const llhls_segment_t *segs, size_t n,
                      uint32_t td)
{
    const char *track = llhls_track_name(pl->track);
    size_t first = 0;
    while (first < n && !segs[first].complete)
        first++;
    int r = llhls_buf_printf(out, "#EXTM3U\n#EXT-X-VERSION:6\n");
    if (r == 0 && pl->track == LLHLS_TRACK_AUDIO)
        r = llhls_buf_printf(out, "#EXT-X-INDEPENDENT-SEGMENTS\n");
    if (r == 0)
        r = llhls_buf_printf(out,
                             "#EXT-X-TARGETDURATION:%" PRIu32 "\n#EXT-X-PLAYLIST-TYPE:VOD\n"
                             "#EXT-X-MEDIA-SEQUENCE:%" PRIu64 "\n",
                             td, first < n ? segs[first].msn : 0);
    if (r == 0 && first < n && segs[first].disc_seq != 0)
        r = llhls_buf_printf(out, "#EXT-X-DISCONTINUITY-SEQUENCE:%" PRIu32 "\n", segs[first].disc_seq);
    const llhls_segment_t *prev = NULL;
    for (size_t i = first; r == 0 && i < n; i++) {
        /* A segment a crash cut short before its last part has no EXTINF;
         * its parts are all there is of it, and a VOD playlist lists none. */
        if (!segs[i].complete)
            continue;
        r = put_segment(out, track, &segs[i], prev == NULL, prev == NULL, prev, 0);
        prev = &segs[i];
    }
    if (r == 0)
        r = llhls_buf_printf(out, "#EXT-X-ENDLIST\n");
    return r;
}

int llhls_playlist_render_media(llhls_buf_t *out, const llhls_media_playlist_t *pl)
{
    const llhls_stream_info_t *st = pl->stream;
    const char *track = llhls_track_name(pl->track);
    int ended = st->state == LLHLS_STREAM_ENDED;
    window_t w;
    find_window(st, pl->segs, pl->nsegs, &w);
    const llhls_segment_t *segs = pl->segs + w.first;
    uint32_t td = target_duration_of(st, segs, w.n);
    if (is_vod(st))
        return render_vod(out, pl, segs, w.n, td);

    int r = put_header(out, pl, td, w.n ? &segs[0] : NULL);

    /* Offsets from the start of the first listed segment; the playlist ends
     * at w.total_us. */
    size_t skipped = 0;
    uint64_t start = 0;
    /* With EXT-X-ENDLIST every delivery directive is ignored: the whole
     * playlist, since a client may be seeing it for the last time. */
    if (pl->skip != LLHLS_SKIP_NONE && !ended) {
        uint64_t until = (uint64_t)SKIP_TDS * td * US_PER_S;
        for (size_t i = 0; i + 1 < w.n && w.total_us - start > until; i++) {
            start += segs[i].duration_us;
            skipped++;
        }
        if (r == 0)
            r = llhls_buf_printf(out, "#EXT-X-SKIP:SKIPPED-SEGMENTS=%zu%s\n", skipped,
                                 pl->skip == LLHLS_SKIP_V2 ? ",RECENTLY-REMOVED-DATERANGES=\"\"" : "");
    }
    uint64_t parts_from = (uint64_t)PART_TDS * td * US_PER_S;
    for (size_t i = skipped; r == 0 && i < w.n; i++) {
        const llhls_segment_t *seg = &segs[i];
        /* A segment whose first part is still being written has nothing to
         * list yet; the preload hint points at that part. */
        if (!seg->complete && seg->nparts == 0)
            break;
        /* The newest segment always shows its parts: an in-progress segment
         * has no other URI. */
        int with_parts = i + 1 == w.n || w.total_us - start <= parts_from;
        r = put_segment(out, track, seg, i == skipped, i == 0, i ? &segs[i - 1] : NULL, with_parts);
        start += seg->duration_us;
    }
    if (r != 0)
        return r;

    if (ended)
        return llhls_buf_printf(out, "#EXT-X-ENDLIST\n");

    uint64_t hint_msn = 0;
    uint32_t hint_part = 0;
    if (pl->nsegs > 0) {
        const llhls_segment_t *last = &pl->segs[pl->nsegs - 1];
        if (last->complete || last->nparts >= LLHLS_MAX_PARTS) {
            hint_msn = last->msn + 1;
        } else {
            hint_msn = last->msn;
            hint_part = last->nparts;
        }
    }
    r = llhls_buf_printf(out, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"%s/%" PRIu64 ".%" PRIu32 ".m4s\"\n", track, hint_msn,
                         hint_part);
    for (size_t i = 0; r == 0 && i < pl->nreports; i++) {
        const llhls_rendition_report_t *rep = &pl->reports[i];
        if (!rep->pos.has_parts)
            continue;
        r = llhls_buf_printf(out, "#EXT-X-RENDITION-REPORT:URI=\"%s\",LAST-MSN=%" PRIu64 ",LAST-PART=%" PRIu32 "\n",
                             rep->uri, rep->pos.last_msn, rep->pos.last_part);
    }
    return r;
}

/* Codec strings come from the media itself; only RFC 6381 characters may go
 * between the quotes of CODECS. */
static int codec_usable(const char *c)
{
    const char *end = memchr(c, '\0', LLHLS_CODEC_MAX);
    if (end == NULL || end == c)
        return 0;
    for (const char *p = c; p < end; p++) {
        char ch = *p;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.'))
            return 0;
    }
    return 1;
}

static void track_bandwidth(const llhls_track_info_t *t, uint32_t floor, uint64_t *peak, uint64_t *avg)
{
    uint64_t p = t->bandwidth_peak, a = t->bandwidth_avg;
    if (p < a)
        p = a;
    if (p == 0)
        p = floor;
    *peak += p;
    *avg += a ? a : p;
}

int llhls_playlist_render_multivariant(llhls_buf_t *out, const llhls_stream_info_t *st)
{
    llhls_variant_t v = {.stream = st, .dir = ""};
    return llhls_playlist_render_variants(out, &v, 1);
}

static int print_variant(llhls_buf_t *out, const llhls_variant_t *var, const llhls_track_info_t *audio)
{
    const llhls_track_info_t *v = &var->stream->tracks[LLHLS_TRACK_VIDEO];
    uint64_t peak = 0, avg = 0;
    track_bandwidth(v, VIDEO_BANDWIDTH_FLOOR, &peak, &avg);
    if (audio)
        track_bandwidth(audio, AUDIO_BANDWIDTH_FLOOR, &peak, &avg);
    int r = llhls_buf_printf(out, "#EXT-X-STREAM-INF:BANDWIDTH=%" PRIu64 ",AVERAGE-BANDWIDTH=%" PRIu64, peak, avg);
    int vc = codec_usable(v->codec), ac = audio && codec_usable(audio->codec);
    if (r == 0 && (vc || ac))
        r = llhls_buf_printf(out, ",CODECS=\"%s%s%s\"", vc ? v->codec : "", vc && ac ? "," : "",
                             ac ? audio->codec : "");
    if (r == 0 && v->width && v->height)
        r = llhls_buf_printf(out, ",RESOLUTION=%" PRIu32 "x%" PRIu32, v->width, v->height);
    if (r == 0 && v->frame_rate_milli)
        r = llhls_buf_printf(out, ",FRAME-RATE=%" PRIu32 ".%03" PRIu32, v->frame_rate_milli / 1000,
                             v->frame_rate_milli % 1000);
    if (r == 0 && audio)
        r = llhls_buf_printf(out, ",AUDIO=\"audio\"");
    if (r == 0)
        r = llhls_buf_printf(out, "\n%svideo.m3u8\n", var->dir);
    return r;
}

int llhls_playlist_render_variants(llhls_buf_t *out, const llhls_variant_t *vars, size_t n)
{
    /* Version 6: nothing here needs more, and each media playlist states its
     * own version (9 or 10) for the low-latency tags it carries. */
    int r = llhls_buf_printf(out, "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    /* One audio rendition serves every variant: the first one's that has
     * audio, since renditions of one event carry the same sound. */
    const llhls_variant_t *asrc = NULL;
    size_t nvideo = 0;
    for (size_t i = 0; i < n; i++) {
        if (asrc == NULL && vars[i].stream->tracks[LLHLS_TRACK_AUDIO].present)
            asrc = &vars[i];
        nvideo += vars[i].stream->tracks[LLHLS_TRACK_VIDEO].present;
    }
    if (r != 0 || (asrc == NULL && nvideo == 0))
        return r;
    const llhls_track_info_t *a = asrc ? &asrc->stream->tracks[LLHLS_TRACK_AUDIO] : NULL;
    if (nvideo == 0) {
        /* Sound alone: its playlist is the only variant. */
        uint64_t peak = 0, avg = 0;
        track_bandwidth(a, AUDIO_BANDWIDTH_FLOOR, &peak, &avg);
        r = llhls_buf_printf(out, "#EXT-X-STREAM-INF:BANDWIDTH=%" PRIu64 ",AVERAGE-BANDWIDTH=%" PRIu64, peak, avg);
        if (r == 0 && codec_usable(a->codec))
            r = llhls_buf_printf(out, ",CODECS=\"%s\"", a->codec);
        return r ? r : llhls_buf_printf(out, "\n%saudio.m3u8\n", asrc->dir);
    }
    if (a) {
        r = llhls_buf_printf(out,
                             "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"audio\",DEFAULT=YES,AUTOSELECT=YES");
        if (r == 0 && a->channels)
            r = llhls_buf_printf(out, ",CHANNELS=\"%" PRIu32 "\"", a->channels);
        if (r == 0)
            r = llhls_buf_printf(out, ",URI=\"%saudio.m3u8\"\n", asrc->dir);
    }
    for (size_t i = 0; i < n && r == 0; i++)
        if (vars[i].stream->tracks[LLHLS_TRACK_VIDEO].present)
            r = print_variant(out, &vars[i], a);
    return r;
}
