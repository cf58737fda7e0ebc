/* Reads the publisher's input with libavformat, once, before anything is
 * sent: every packet of the chosen streams becomes an FLV tag body, cut into
 * chunks, so that sending (to many connections, over many loops) costs no
 * more than the writes.  Annex-B video and ADTS audio are converted here. */
#include "source.h"

#include "error.h"
#include "nal.h"

#include <libavformat/avformat.h>
#include <libavutil/avutil.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLV_CODEC_AVC 7
#define FLV_CODEC_HEVC 12
#define FLV_AAC 0xaf /* AAC, 44 kHz, 16-bit, stereo: fixed for AAC */
#define ERTMP_EX_HEADER 0x80
enum { ERTMP_SEQUENCE_START = 0, ERTMP_CODED_FRAMES = 1, ERTMP_CODED_FRAMES_X = 3 };

/* A packet as read, before the timeline is known. */
typedef struct pending {
    push_frame_t f;
    int64_t ms; /* decode time in ms, as in the file */
    int64_t dur_ms;
    size_t order; /* read order, to keep the sort stable */
} pending_t;

typedef struct loader {
    const push_source_opts_t *o;
    push_media_t *m;
    AVFormatContext *fmt;
    int vidx, aidx;
    int annexb;       /* video in start-code form */
    int nal_len_size; /* video NAL length size (1, 2 or 4) otherwise */
    int adts;         /* audio behind ADTS headers */
    push_params_t ps;
    llhls_buf_t config; /* avcC/hvcC, built or copied */
    uint8_t asc[64];
    size_t asc_len;
    llhls_buf_t body, nals;
    pending_t *items;
    size_t count, cap;
    int64_t last_ms[2];
    uint64_t untimed; /* video frames read without a timestamp */
    int seen_key;
    uint64_t video_bytes;
    char *err;
    size_t errlen;
} loader_t;

static int failf(loader_t *l, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int failf(loader_t *l, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->err, l->errlen, fmt, ap);
    va_end(ap);
    return rc;
}

static void wr24(uint8_t *p, int32_t v)
{
    p[0] = (uint8_t)(v >> 16);
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)v;
}

/* The FLV video tag header in front of data: legacy (AVC, HEVC as codec 12)
 * or the Enhanced RTMP ExVideoTagHeader with FourCC hvc1. */
static int video_header(loader_t *l, llhls_buf_t *b, int key, int sequence, int32_t cts)
{
    uint8_t h[9];
    size_t n;
    uint8_t frame_type = sequence || key ? 1 : 2;
    if (l->m->hevc && l->o->enhanced) {
        uint8_t pt = sequence ? ERTMP_SEQUENCE_START : cts ? ERTMP_CODED_FRAMES : ERTMP_CODED_FRAMES_X;
        h[0] = (uint8_t)(ERTMP_EX_HEADER | frame_type << 4 | pt);
        memcpy(h + 1, "hvc1", 4);
        n = 5;
        if (pt == ERTMP_CODED_FRAMES) {
            wr24(h + 5, cts);
            n = 8;
        }
    } else {
        h[0] = (uint8_t)(frame_type << 4 | (l->m->hevc ? FLV_CODEC_HEVC : FLV_CODEC_AVC));
        h[1] = sequence ? 0 : 1;
        wr24(h + 2, sequence ? 0 : cts);
        n = 5;
    }
    return llhls_buf_append(b, h, n);
}

/* Rewrites NAL units with 1- or 2-byte lengths to 4-byte ones. */
static int widen_lengths(const uint8_t *p, size_t len, int size, llhls_buf_t *out)
{
    size_t pos = 0;
    while (pos + (size_t)size <= len) {
        size_t n = 0;
        for (int i = 0; i < size; i++)
            n = n << 8 | p[pos + i];
        pos += (size_t)size;
        if (n > len - pos)
            return -LLHLS_EINVAL;
        uint8_t h[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
        int rc = llhls_buf_append(out, h, 4);
        if (rc == 0)
            rc = llhls_buf_append(out, p + pos, n);
        if (rc < 0)
            return rc;
        pos += n;
    }
    return 0;
}

static int add_item(loader_t *l, uint8_t type, int key, int64_t ms, int64_t dur_ms, uint32_t csid)
{
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        pending_t *n = realloc(l->items, cap * sizeof *n);
        if (n == NULL)
            return failf(l, -LLHLS_ENOMEM, "out of memory holding the input");
        l->items = n;
        l->cap = cap;
    }
    pending_t *it = &l->items[l->count];
    memset(it, 0, sizeof *it);
    it->f.type = type;
    it->f.key = (uint8_t)key;
    it->ms = ms;
    it->dur_ms = dur_ms;
    it->order = l->count;
    int rc = push_frame_wire(&it->f, csid, l->o->chunk_size, l->body.data, l->body.len);
    if (rc < 0)
        return failf(l, rc, "a message of %zu bytes cannot be sent over RTMP", l->body.len);
    l->count++;
    l->m->bytes += l->body.len;
    return 0;
}

static int64_t to_ms(int64_t t, AVRational tb)
{
    return av_rescale_q_rnd(t, tb, (AVRational){1, 1000}, AV_ROUND_NEAR_INF | AV_ROUND_PASS_MINMAX);
}

static int on_video(loader_t *l, AVPacket *pkt, AVStream *st)
{
    int key = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
    if (!l->seen_key && !key)
        return 0;
    l->seen_key = 1;
    int64_t dts = pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts;
    int64_t pts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : dts;
    int64_t ms;
    int32_t cts = 0;
    if (dts == AV_NOPTS_VALUE) {
        /* Raw elementary streams have no times at all: frames follow each
         * other at the frame rate, in decode order (B-frames cannot be
         * reordered without timestamps, so they play as they come). */
        double fps = l->m->fps > 0 ? l->m->fps : 25;
        ms = (int64_t)(l->untimed++ * 1000.0 / fps + 0.5);
    } else {
        ms = to_ms(dts, st->time_base);
        int64_t d = to_ms(pts, st->time_base) - ms;
        cts = d < -0x800000 || d > 0x7fffff ? 0 : (int32_t)d;
    }
    l->last_ms[1] = ms;
    int rc;
    const uint8_t *data = pkt->data;
    size_t len = (size_t)pkt->size;
    llhls_buf_reset(&l->nals);
    if (l->annexb) {
        if ((rc = push_nal_annexb_to_lp(pkt->data, len, l->m->hevc, &l->nals, &l->ps)) < 0)
            return failf(l, rc, "cannot convert a video packet: %s", llhls_strerror(rc));
        data = l->nals.data;
        len = l->nals.len;
        if (l->config.len == 0) {
            const char *why = "";
            rc = l->m->hevc ? push_nal_build_hvcc(&l->ps, &l->config, &why)
                            : push_nal_build_avcc(&l->ps, &l->config, &why);
            if (rc < 0)
                return failf(l, rc, "%s: cannot build the decoder configuration: %s", l->o->path, why);
        }
    } else if (l->nal_len_size != 4) {
        if ((rc = widen_lengths(pkt->data, len, l->nal_len_size, &l->nals)) < 0)
            return failf(l, rc, "malformed video packet (NAL unit lengths overrun it)");
        data = l->nals.data;
        len = l->nals.len;
    }
    if (len == 0)
        return 0;
    llhls_buf_reset(&l->body);
    if ((rc = video_header(l, &l->body, key, 0, cts)) < 0 || (rc = llhls_buf_append(&l->body, data, len)) < 0)
        return failf(l, rc, "out of memory holding the input");
    l->video_bytes += len;
    return add_item(l, 9, key, ms, to_ms(pkt->duration, st->time_base), PUSH_CSID_VIDEO);
}

static int on_audio(loader_t *l, AVPacket *pkt, AVStream *st)
{
    if (!l->seen_key)
        return 0;
    const uint8_t *data = pkt->data;
    size_t len = (size_t)pkt->size;
    if (l->adts) {
        size_t hlen, flen;
        uint8_t asc[2];
        if (push_adts_parse(data, len, &hlen, &flen, asc) < 0)
            return 0; /* a damaged frame: skipped rather than sent */
        if (l->asc_len == 0) {
            memcpy(l->asc, asc, 2);
            l->asc_len = 2;
        }
        data += hlen;
        len = flen - hlen;
    }
    int64_t dts = pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts;
    if (dts == AV_NOPTS_VALUE || len == 0)
        return 0;
    llhls_buf_reset(&l->body);
    uint8_t h[2] = {FLV_AAC, 1};
    int rc = llhls_buf_append(&l->body, h, 2);
    if (rc == 0)
        rc = llhls_buf_append(&l->body, data, len);
    if (rc < 0)
        return failf(l, rc, "out of memory holding the input");
    return add_item(l, 8, 0, to_ms(dts, st->time_base), to_ms(pkt->duration, st->time_base), PUSH_CSID_AUDIO);
}

static int pick_streams(loader_t *l)
{
    AVFormatContext *fmt = l->fmt;
    l->vidx = l->aidx = -1;
    for (unsigned i = 0; i < fmt->nb_streams; i++) {
        AVCodecParameters *cp = fmt->streams[i]->codecpar;
        if (cp->codec_type == AVMEDIA_TYPE_VIDEO && l->vidx < 0 &&
            !(fmt->streams[i]->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
            if (cp->codec_id != AV_CODEC_ID_H264 && cp->codec_id != AV_CODEC_ID_HEVC)
                return failf(l, -LLHLS_EUNSUPPORTED, "%s: the video codec is %s; only H.264 and HEVC can be sent",
                             l->o->path, avcodec_get_name(cp->codec_id));
            l->vidx = (int)i;
        } else if (cp->codec_type == AVMEDIA_TYPE_AUDIO && l->aidx < 0) {
            if (cp->codec_id != AV_CODEC_ID_AAC) {
                fprintf(stderr, "llhls-push: warning: skipping the %s audio stream of %s (only AAC is sent)\n",
                        avcodec_get_name(cp->codec_id), l->o->path);
                l->aidx = INT32_MAX; /* the first audio stream decides */
            } else {
                l->aidx = (int)i;
            }
        }
    }
    if (l->aidx == INT32_MAX)
        l->aidx = -1;
    if (l->vidx < 0)
        return failf(l, -LLHLS_ENOTFOUND, "%s: no video stream", l->o->path);
    return 0;
}

/* Decides how video packets are framed from the extradata. */
static int video_setup(loader_t *l)
{
    AVCodecParameters *cp = l->fmt->streams[l->vidx]->codecpar;
    push_media_t *m = l->m;
    m->hevc = cp->codec_id == AV_CODEC_ID_HEVC;
    m->width = (uint32_t)cp->width;
    m->height = (uint32_t)cp->height;
    AVRational fr = av_guess_frame_rate(l->fmt, l->fmt->streams[l->vidx], NULL);
    m->fps = fr.num > 0 && fr.den > 0 ? av_q2d(fr) : 0;
    const uint8_t *x = cp->extradata;
    size_t n = (size_t)cp->extradata_size;
    if (n >= 7 && x[0] == 1) {
        /* avcC / hvcC: the lengthSizeMinusOne field sits in byte 4 and 21. */
        size_t at = m->hevc ? 21 : 4;
        if (n <= at)
            return failf(l, -LLHLS_EINVAL, "%s: truncated video decoder configuration", l->o->path);
        l->nal_len_size = (x[at] & 3) + 1;
        if (l->nal_len_size == 3)
            return failf(l, -LLHLS_EUNSUPPORTED, "%s: 3-byte NAL unit lengths are not supported", l->o->path);
        if (llhls_buf_append(&l->config, x, n) < 0)
            return failf(l, -LLHLS_ENOMEM, "out of memory");
        l->config.data[at] |= 3; /* every packet is rewritten with 4-byte lengths */
        return 0;
    }
    l->annexb = 1;
    if (n > 0 && push_nal_is_annexb(x, n)) {
        llhls_buf_t scratch;
        llhls_buf_init(&scratch, 0);
        push_nal_annexb_to_lp(x, n, m->hevc, &scratch, &l->ps);
        llhls_buf_free(&scratch);
    }
    return 0;
}

static void audio_setup(loader_t *l)
{
    if (l->aidx < 0)
        return;
    AVCodecParameters *cp = l->fmt->streams[l->aidx]->codecpar;
    l->m->audio_rate = (uint32_t)cp->sample_rate;
    l->m->audio_channels = (uint32_t)cp->ch_layout.nb_channels;
    if (cp->extradata_size >= 2 && (size_t)cp->extradata_size <= sizeof l->asc) {
        memcpy(l->asc, cp->extradata, (size_t)cp->extradata_size);
        l->asc_len = (size_t)cp->extradata_size;
    } else {
        l->adts = 1;
    }
}

static int cmp_pending(const void *a, const void *b)
{
    const pending_t *x = a, *y = b;
    if (x->ms != y->ms)
        return x->ms < y->ms ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int read_all(loader_t *l)
{
    AVPacket *pkt = av_packet_alloc();
    if (pkt == NULL)
        return failf(l, -LLHLS_ENOMEM, "out of memory");
    int rc = 0, r;
    int64_t first = INT64_MIN;
    while ((r = av_read_frame(l->fmt, pkt)) >= 0) {
        AVStream *st = l->fmt->streams[pkt->stream_index];
        if (pkt->stream_index == l->vidx)
            rc = on_video(l, pkt, st);
        else if (pkt->stream_index == l->aidx)
            rc = on_audio(l, pkt, st);
        av_packet_unref(pkt);
        if (rc < 0)
            break;
        if (l->count > 0 && first == INT64_MIN)
            first = l->items[0].ms;
        /* With a duration, what lies beyond it (and a margin for
         * reordering) is never sent, so it is not held. */
        if (l->o->max_ms && l->count > 0 && l->items[l->count - 1].ms - first > (int64_t)l->o->max_ms + 2000)
            break;
    }
    av_packet_free(&pkt);
    if (rc == 0 && r < 0 && r != AVERROR_EOF && l->count == 0)
        rc = failf(l, -LLHLS_EIO, "%s: read error: %s", l->o->path, av_err2str(r));
    return rc;
}

/* Orders the messages, makes every stream's timestamps non-decreasing from 0
 * and works out how long one pass lasts. */
static int build_timeline(loader_t *l)
{
    push_media_t *m = l->m;
    if (l->count == 0)
        return failf(l, -LLHLS_EINVAL, "%s: no video keyframe in the input", l->o->path);
    qsort(l->items, l->count, sizeof *l->items, cmp_pending);
    size_t first_video = 0;
    while (first_video < l->count && l->items[first_video].f.type != 9)
        first_video++;
    int64_t base = l->items[first_video].ms;
    for (size_t i = 0; i < l->count; i++)
        if (l->items[i].ms < base)
            base = l->items[i].ms;
    int64_t last[2] = {0, 0}, step[2] = {0, 0}, end = 0;
    m->frames = calloc(l->count, sizeof *m->frames);
    if (m->frames == NULL)
        return failf(l, -LLHLS_ENOMEM, "out of memory");
    for (size_t i = 0; i < l->count; i++) {
        pending_t *it = &l->items[i];
        int s = it->f.type == 9;
        int64_t t = it->ms - base;
        if (t < last[s])
            t = last[s];
        if (t > last[s])
            step[s] = t - last[s];
        last[s] = t;
        int64_t stop = t + (it->dur_ms > 0 ? it->dur_ms : step[s]);
        if (stop > end)
            end = stop;
        if (t > 0xffffffffLL)
            return failf(l, -LLHLS_ETOOBIG, "%s: the input is too long", l->o->path);
        it->f.ts = (uint32_t)t;
        m->frames[m->count++] = it->f;
        memset(&it->f, 0, sizeof it->f);
    }
    m->loop_ms = (uint32_t)(end > 0 ? end : 1);
    m->video_kbps = l->video_bytes * 8.0 / m->loop_ms;
    return 0;
}

static int build_configs(loader_t *l)
{
    push_media_t *m = l->m;
    if (l->config.len == 0) {
        const char *why = "";
        int rc =
            m->hevc ? push_nal_build_hvcc(&l->ps, &l->config, &why) : push_nal_build_avcc(&l->ps, &l->config, &why);
        if (rc < 0)
            return failf(l, rc, "%s: cannot build the decoder configuration: %s", l->o->path, why);
    }
    llhls_buf_reset(&l->body);
    int rc = video_header(l, &l->body, 1, 1, 0);
    if (rc == 0)
        rc = llhls_buf_append(&l->body, l->config.data, l->config.len);
    if (rc == 0)
        rc = push_frame_wire(&m->video_config, PUSH_CSID_VIDEO, l->o->chunk_size, l->body.data, l->body.len);
    if (rc < 0)
        return failf(l, rc, "out of memory");
    m->video_config.type = 9;
    m->video_config.key = 1;
    if (l->aidx >= 0 && l->asc_len > 0) {
        llhls_buf_reset(&l->body);
        uint8_t h[2] = {FLV_AAC, 0};
        if ((rc = llhls_buf_append(&l->body, h, 2)) == 0 && (rc = llhls_buf_append(&l->body, l->asc, l->asc_len)) == 0)
            rc = push_frame_wire(&m->audio_config, PUSH_CSID_AUDIO, l->o->chunk_size, l->body.data, l->body.len);
        if (rc < 0)
            return failf(l, rc, "out of memory");
        m->audio_config.type = 8;
        m->has_audio = 1;
    }
    return 0;
}

int push_source_load(const push_source_opts_t *o, push_media_t *m, char *err, size_t errlen)
{
    loader_t l;
    memset(&l, 0, sizeof l);
    memset(m, 0, sizeof *m);
    l.o = o;
    l.m = m;
    l.err = err;
    l.errlen = errlen;
    l.last_ms[0] = l.last_ms[1] = INT64_MIN;
    m->enhanced = o->enhanced;
    push_params_init(&l.ps);
    llhls_buf_init(&l.config, 1 << 20);
    llhls_buf_init(&l.body, 0);
    llhls_buf_init(&l.nals, 0);
    int rc, r = avformat_open_input(&l.fmt, o->path, NULL, NULL);
    if (r < 0) {
        rc = failf(&l, -LLHLS_EIO, "cannot open %s: %s", o->path, av_err2str(r));
        goto out;
    }
    if ((r = avformat_find_stream_info(l.fmt, NULL)) < 0) {
        rc = failf(&l, -LLHLS_EIO, "cannot read %s: %s", o->path, av_err2str(r));
        goto out;
    }
    if ((rc = pick_streams(&l)) < 0 || (rc = video_setup(&l)) < 0)
        goto out;
    audio_setup(&l);
    if ((rc = read_all(&l)) < 0 || (rc = build_timeline(&l)) < 0 || (rc = build_configs(&l)) < 0)
        goto out;
    if (l.aidx >= 0 && !m->has_audio)
        fprintf(stderr, "llhls-push: warning: no AAC configuration found in %s; audio is skipped\n", o->path);
out:
    for (size_t i = 0; i < l.count; i++)
        push_frame_free(&l.items[i].f);
    free(l.items);
    if (!m->has_audio) {
        /* Without a configuration the audio frames cannot be decoded. */
        size_t k = 0;
        for (size_t i = 0; i < m->count; i++) {
            if (m->frames[i].type == 8) {
                m->bytes -= m->frames[i].len;
                push_frame_free(&m->frames[i]);
            } else {
                m->frames[k++] = m->frames[i];
            }
        }
        m->count = k;
    }
    push_params_free(&l.ps);
    llhls_buf_free(&l.config);
    llhls_buf_free(&l.body);
    llhls_buf_free(&l.nals);
    avformat_close_input(&l.fmt);
    if (rc < 0)
        push_media_free(m);
    return rc;
}

void push_media_free(push_media_t *m)
{
    for (size_t i = 0; i < m->count; i++)
        push_frame_free(&m->frames[i]);
    free(m->frames);
    push_frame_free(&m->video_config);
    push_frame_free(&m->audio_config);
    memset(m, 0, sizeof *m);
}
