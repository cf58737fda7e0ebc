/* Tests of the CMAF fragmenter with real media: H.264 encoded by libx264
 * and AAC by FFmpeg's encoder in the test itself, HEVC by libx265 through
 * the ffmpeg command (which writes the hvcC record), fragmented into parts,
 * then read back three ways: by a box parser (init section, moof/mdat
 * layout, tfdt, trun), by libavformat's mp4 demuxer (every sample's
 * timestamps) and by libavcodec's decoders (every frame decodes). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "error.h"
#include "fragmenter.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- media made for the test ---- */

typedef struct sample {
    uint8_t *data;
    size_t len;
    int64_t dts, pts;
    uint32_t dur;
    int key;
} sample_t;

typedef struct media {
    sample_t *s;
    uint32_t n, cap;
    uint8_t extra[1024];
    size_t extra_len;
    llhls_fragmenter_params_t p;
} media_t;

static void media_push(media_t *m, const uint8_t *data, size_t len, int64_t dts, int64_t pts, int key)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->s = realloc(m->s, m->cap * sizeof(*m->s));
        assert_non_null(m->s);
    }
    sample_t *s = &m->s[m->n++];
    s->data = malloc(len);
    assert_non_null(s->data);
    memcpy(s->data, data, len);
    s->len = len;
    s->dts = dts;
    s->pts = pts;
    s->key = key;
    s->dur = 0;
}

static void media_free(media_t *m)
{
    for (uint32_t i = 0; i < m->n; i++)
        free(m->s[i].data);
    free(m->s);
    memset(m, 0, sizeof(*m));
}

/* Splits Annex B into NAL units: calls fn for each, without start code or
 * trailing zero bytes. */
static void annexb_each(const uint8_t *p, size_t n, void (*fn)(void *, const uint8_t *, size_t), void *arg)
{
    size_t i = 0, start = SIZE_MAX;
    while (i + 3 <= n) {
        if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1) {
            if (start != SIZE_MAX) {
                size_t end = i;
                while (end > start && p[end - 1] == 0)
                    end--;
                fn(arg, p + start, end - start);
            }
            i += 3;
            start = i;
        } else {
            i++;
        }
    }
    if (start != SIZE_MAX) {
        size_t end = n;
        while (end > start && p[end - 1] == 0)
            end--;
        fn(arg, p + start, end - start);
    }
}

typedef struct nal_out {
    uint8_t *buf;
    size_t len, cap;
    const uint8_t *sps, *pps;
    size_t sps_len, pps_len;
} nal_out_t;

static void to_length_prefixed(void *arg, const uint8_t *nal, size_t len)
{
    nal_out_t *o = arg;
    if (o->len + len + 4 > o->cap) {
        o->cap = (o->len + len + 4) * 2;
        o->buf = realloc(o->buf, o->cap);
        assert_non_null(o->buf);
    }
    o->buf[o->len++] = (uint8_t)(len >> 24);
    o->buf[o->len++] = (uint8_t)(len >> 16);
    o->buf[o->len++] = (uint8_t)(len >> 8);
    o->buf[o->len++] = (uint8_t)len;
    memcpy(o->buf + o->len, nal, len);
    o->len += len;
}

static void find_parameter_sets(void *arg, const uint8_t *nal, size_t len)
{
    nal_out_t *o = arg;
    if (len > 0 && (nal[0] & 0x1f) == 7) {
        o->sps = nal;
        o->sps_len = len;
    } else if (len > 0 && (nal[0] & 0x1f) == 8) {
        o->pps = nal;
        o->pps_len = len;
    }
}

/* An avcC record as an RTMP publisher would send it. */
static size_t make_avcc(uint8_t *out, const uint8_t *annexb, size_t n)
{
    nal_out_t o = {0};
    annexb_each(annexb, n, find_parameter_sets, &o);
    assert_non_null(o.sps);
    assert_non_null(o.pps);
    size_t k = 0;
    out[k++] = 1;
    out[k++] = o.sps[1];
    out[k++] = o.sps[2];
    out[k++] = o.sps[3];
    out[k++] = 0xff; /* 4-byte NAL lengths */
    out[k++] = 0xe1;
    out[k++] = (uint8_t)(o.sps_len >> 8);
    out[k++] = (uint8_t)o.sps_len;
    memcpy(out + k, o.sps, o.sps_len);
    k += o.sps_len;
    out[k++] = 1;
    out[k++] = (uint8_t)(o.pps_len >> 8);
    out[k++] = (uint8_t)o.pps_len;
    memcpy(out + k, o.pps, o.pps_len);
    k += o.pps_len;
    return k;
}

/* RTMP's clock: whole milliseconds, here in 90 kHz ticks. */
static int64_t rtmp_ticks(int64_t frame)
{
    int64_t ms = (frame * 1000 + 15) / 30;
    return ms * 90;
}

#define VIDEO_BASE 900000 /* streams rarely start at 0 */

static void video_take_packet(media_t *m, const AVPacket *pkt, int delay)
{
    nal_out_t o = {0};
    annexb_each(pkt->data, (size_t)pkt->size, to_length_prefixed, &o);
    assert_true(o.len > 0);
    /* The encoder's dts start below 0 when B-frames delay output. */
    int64_t dts = VIDEO_BASE + rtmp_ticks(pkt->dts + delay);
    int64_t pts = VIDEO_BASE + rtmp_ticks(pkt->pts + delay);
    media_push(m, o.buf, o.len, dts, pts, (pkt->flags & AV_PKT_FLAG_KEY) != 0);
    free(o.buf);
}

static void encode_video(media_t *m, int frames, int bframes)
{
    memset(m, 0, sizeof(*m));
    const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
    assert_non_null(codec);
    AVCodecContext *c = avcodec_alloc_context3(codec);
    assert_non_null(c);
    c->width = 320;
    c->height = 240;
    c->pix_fmt = AV_PIX_FMT_YUV420P;
    c->time_base = (AVRational){1, 30};
    c->framerate = (AVRational){30, 1};
    c->gop_size = 60;
    c->max_b_frames = bframes;
    c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    c->thread_count = 1;
    av_opt_set(c->priv_data, "preset", "ultrafast", 0);
    av_opt_set(c->priv_data, "x264-params", "scenecut=0:log=-1", 0);
    assert_int_equal(avcodec_open2(c, codec, NULL), 0);
    assert_true(c->extradata_size > 0);
    m->extra_len = make_avcc(m->extra, c->extradata, (size_t)c->extradata_size);
    int delay = bframes ? 2 : 0;

    AVFrame *fr = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    assert_non_null(fr);
    assert_non_null(pkt);
    fr->format = c->pix_fmt;
    fr->width = c->width;
    fr->height = c->height;
    assert_int_equal(av_frame_get_buffer(fr, 0), 0);
    for (int i = 0; i <= frames; i++) {
        int r;
        if (i < frames) {
            assert_int_equal(av_frame_make_writable(fr), 0);
            for (int y = 0; y < c->height; y++)
                for (int x = 0; x < c->width; x++)
                    fr->data[0][y * fr->linesize[0] + x] = (uint8_t)(x + y + i * 3);
            for (int y = 0; y < c->height / 2; y++)
                for (int x = 0; x < c->width / 2; x++) {
                    fr->data[1][y * fr->linesize[1] + x] = (uint8_t)(128 + y + i);
                    fr->data[2][y * fr->linesize[2] + x] = (uint8_t)(64 + x - i);
                }
            fr->pts = i;
            r = avcodec_send_frame(c, fr);
        } else {
            r = avcodec_send_frame(c, NULL);
        }
        assert_int_equal(r, 0);
        while ((r = avcodec_receive_packet(c, pkt)) == 0) {
            video_take_packet(m, pkt, delay);
            av_packet_unref(pkt);
        }
        assert_true(r == AVERROR(EAGAIN) || r == AVERROR_EOF);
    }
    assert_int_equal((int)m->n, frames);
    /* Durations from the next dts, as ingest derives them; the last one
     * nominal. */
    for (uint32_t i = 0; i < m->n; i++)
        m->s[i].dur = i + 1 < m->n ? (uint32_t)(m->s[i + 1].dts - m->s[i].dts) : 3000;
    m->p = (llhls_fragmenter_params_t){.codec = LLHLS_CODEC_H264, .extradata = m->extra,
                                       .extradata_len = m->extra_len, .width = 320, .height = 240,
                                       .timescale = 90000};
    av_packet_free(&pkt);
    av_frame_free(&fr);
    avcodec_free_context(&c);
}

#define AUDIO_BASE 48000

static void encode_audio(media_t *m, int frames)
{
    memset(m, 0, sizeof(*m));
    const AVCodec *codec = avcodec_find_encoder_by_name("aac");
    assert_non_null(codec);
    AVCodecContext *c = avcodec_alloc_context3(codec);
    assert_non_null(c);
    c->sample_fmt = AV_SAMPLE_FMT_FLTP;
    c->sample_rate = 48000;
    AVChannelLayout stereo = AV_CHANNEL_LAYOUT_STEREO;
    assert_int_equal(av_channel_layout_copy(&c->ch_layout, &stereo), 0);
    c->bit_rate = 128000;
    c->time_base = (AVRational){1, 48000};
    c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    assert_int_equal(avcodec_open2(c, codec, NULL), 0);
    assert_int_equal(c->frame_size, 1024);
    assert_true(c->extradata_size > 0 && (size_t)c->extradata_size <= sizeof(m->extra));
    memcpy(m->extra, c->extradata, (size_t)c->extradata_size);
    m->extra_len = (size_t)c->extradata_size;

    AVFrame *fr = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    assert_non_null(fr);
    assert_non_null(pkt);
    fr->format = c->sample_fmt;
    fr->nb_samples = 1024;
    fr->sample_rate = 48000;
    assert_int_equal(av_channel_layout_copy(&fr->ch_layout, &stereo), 0);
    assert_int_equal(av_frame_get_buffer(fr, 0), 0);
    /* Sines of 440 and 660 Hz by the two-term recurrence y[n] = 2cos(w)
     * y[n-1] - y[n-2], started at y[-1] = 0, y[0] = sin(w). */
    static const double two_cos[2] = {1.9966836332280566, 1.9925407529858825};
    double y1[2] = {0.057564026959567284, 0.08628636579792337}, y2[2] = {0, 0};
    for (int i = 0; i <= frames; i++) {
        int r;
        if (i < frames) {
            assert_int_equal(av_frame_make_writable(fr), 0);
            for (int ch = 0; ch < 2; ch++) {
                float *d = (float *)fr->data[ch];
                for (int k = 0; k < 1024; k++) {
                    d[k] = (float)(0.5 * y1[ch]);
                    double y = two_cos[ch] * y1[ch] - y2[ch];
                    y2[ch] = y1[ch];
                    y1[ch] = y;
                }
            }
            fr->pts = (int64_t)i * 1024;
            r = avcodec_send_frame(c, fr);
        } else {
            r = avcodec_send_frame(c, NULL);
        }
        assert_int_equal(r, 0);
        while ((r = avcodec_receive_packet(c, pkt)) == 0) {
            /* Timed by counting samples, as ingest does. */
            int64_t dts = AUDIO_BASE + (int64_t)m->n * 1024;
            media_push(m, pkt->data, (size_t)pkt->size, dts, dts, 1);
            m->s[m->n - 1].dur = 1024;
            av_packet_unref(pkt);
        }
        assert_true(r == AVERROR(EAGAIN) || r == AVERROR_EOF);
    }
    assert_true(m->n >= (uint32_t)frames);
    m->p = (llhls_fragmenter_params_t){.codec = LLHLS_CODEC_AAC, .extradata = m->extra,
                                       .extradata_len = m->extra_len, .sample_rate = 48000, .channels = 2,
                                       .timescale = 48000};
    av_packet_free(&pkt);
    av_frame_free(&fr);
    avcodec_free_context(&c);
}

/* HEVC as an RTMP publisher sends it: the hvcC record and length-prefixed
 * samples.  The ffmpeg command encodes (its mp4 muxer is what writes an
 * hvcC from libx265's parameter sets) and libavformat reads the file back;
 * B-frames and open GOPs (CRA pictures with leading pictures) are x265's
 * defaults and stay on. */
static void load_hevc(media_t *m, int frames, const char *pix_fmt)
{
    memset(m, 0, sizeof(*m));
    char path[] = "/tmp/test_fragmenter_hevc_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=320x240:rate=30 -frames:v %d -pix_fmt %s "
             "-c:v libx265 -preset ultrafast -x265-params keyint=30:min-keyint=30:info=0:log-level=error "
             "-tag:v hvc1 -f mp4 %s",
             frames, pix_fmt, path);
    if (system(cmd) != 0) {
        unlink(path);
        fail_msg("ffmpeg could not make the HEVC test media: %s", cmd);
    }
    AVFormatContext *fc = NULL;
    assert_int_equal(avformat_open_input(&fc, path, NULL, NULL), 0);
    assert_true(avformat_find_stream_info(fc, NULL) >= 0);
    AVStream *st = fc->streams[0];
    assert_int_equal(st->codecpar->codec_id, AV_CODEC_ID_HEVC);
    assert_true(st->codecpar->extradata_size > 23 && (size_t)st->codecpar->extradata_size <= sizeof(m->extra));
    assert_int_equal(st->codecpar->extradata[0], 1); /* an hvcC record, not Annex B */
    memcpy(m->extra, st->codecpar->extradata, (size_t)st->codecpar->extradata_size);
    m->extra_len = (size_t)st->codecpar->extradata_size;
    AVPacket *pkt = av_packet_alloc();
    assert_non_null(pkt);
    AVRational ms = {1, 1000};
    while (av_read_frame(fc, pkt) == 0) {
        /* Whole milliseconds, as RTMP carries them. */
        int64_t dts = av_rescale_q(pkt->dts, st->time_base, ms) * 90;
        int64_t pts = av_rescale_q(pkt->pts, st->time_base, ms) * 90;
        media_push(m, pkt->data, (size_t)pkt->size, VIDEO_BASE + dts, VIDEO_BASE + pts,
                   (pkt->flags & AV_PKT_FLAG_KEY) != 0);
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    avformat_close_input(&fc);
    unlink(path);
    assert_int_equal((int)m->n, frames);
    for (uint32_t i = 0; i < m->n; i++)
        m->s[i].dur = i + 1 < m->n ? (uint32_t)(m->s[i + 1].dts - m->s[i].dts) : 3000;
    m->p = (llhls_fragmenter_params_t){.codec = LLHLS_CODEC_HEVC, .extradata = m->extra,
                                       .extradata_len = m->extra_len, .width = 320, .height = 240,
                                       .timescale = 90000};
}

/* ---- ISO BMFF reading ---- */

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) << 32 | rd32(p + 4);
}

typedef struct box {
    char type[5];
    const uint8_t *start; /* header included */
    size_t size;
    const uint8_t *body;
    size_t body_len;
} box_t;

/* Reads the boxes directly in [p, p+n); returns how many (at most max). */
static int boxes(const uint8_t *p, size_t n, box_t *out, int max)
{
    int k = 0;
    size_t off = 0;
    while (off < n) {
        assert_true(n - off >= 8);
        size_t size = rd32(p + off);
        assert_true(size >= 8 && size <= n - off);
        assert_true(k < max);
        memcpy(out[k].type, p + off + 4, 4);
        out[k].type[4] = 0;
        out[k].start = p + off;
        out[k].size = size;
        out[k].body = p + off + 8;
        out[k].body_len = size - 8;
        k++;
        off += size;
    }
    return k;
}

/* The first box of a path ("moov/trak/mdia"), descending containers; stsd
 * and sample entries have fields before their children, skipped here. */
static int find_path(const uint8_t *p, size_t n, const char *path, box_t *out)
{
    box_t b[64];
    char head[5] = {0};
    memcpy(head, path, 4);
    int k = boxes(p, n, b, 64);
    for (int i = 0; i < k; i++) {
        if (strcmp(b[i].type, head) != 0)
            continue;
        if (path[4] == 0) {
            *out = b[i];
            return 1;
        }
        size_t skip = 0;
        if (strcmp(head, "stsd") == 0)
            skip = 8;
        else if (strcmp(head, "avc1") == 0 || strcmp(head, "hvc1") == 0)
            skip = 78;
        else if (strcmp(head, "mp4a") == 0)
            skip = 28;
        assert_true(b[i].body_len >= skip);
        if (find_path(b[i].body + skip, b[i].body_len - skip, path + 5, out))
            return 1;
    }
    return 0;
}

static int contains(const uint8_t *hay, size_t n, const uint8_t *needle, size_t k)
{
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0)
            return 1;
    return 0;
}

typedef struct trex {
    uint32_t dur, size, flags;
} trex_t;

/* The shift of the decode timeline: cmaf writes composition offsets as
 * negative where needed (trun version 1) so that the track's first sample
 * has none, which moves every decode time by that sample's pts - dts (0
 * without B-frames).  Presentation times are kept exactly. */
static int64_t decode_shift(const media_t *m)
{
    return m->s[0].pts - m->s[0].dts;
}

/* Checks one part: exactly moof then mdat; tfdt, trun and mdat agree with
 * samples [first, first+count). */
static void check_part(const uint8_t *p, size_t n, const media_t *m, uint32_t first, uint32_t count, const trex_t *tx)
{
    box_t top[4];
    int k = boxes(p, n, top, 4);
    assert_int_equal(k, 2);
    assert_string_equal(top[0].type, "moof");
    assert_string_equal(top[1].type, "mdat");

    box_t tfhd, tfdt, trun;
    assert_true(find_path(top[0].body, top[0].body_len, "traf/tfhd", &tfhd));
    assert_true(find_path(top[0].body, top[0].body_len, "traf/tfdt", &tfdt));
    assert_true(find_path(top[0].body, top[0].body_len, "traf/trun", &trun));
    box_t mf[8];
    int nm = boxes(top[0].body, top[0].body_len, mf, 8);
    int ntraf = 0;
    for (int i = 0; i < nm; i++)
        ntraf += strcmp(mf[i].type, "traf") == 0;
    assert_int_equal(ntraf, 1);

    /* tfdt: the decode time of the first sample. */
    uint64_t base = tfdt.body[0] == 1 ? rd64(tfdt.body + 4) : rd32(tfdt.body + 4);
    int64_t shift = decode_shift(m);
    assert_int_equal((int64_t)base, m->s[first].dts + shift);

    uint32_t tf = rd32(tfhd.body) & 0xffffff;
    const uint8_t *q = tfhd.body + 8;
    assert_true(tf & 0x020000); /* default-base-is-moof */
    if (tf & 0x01)
        q += 8;
    if (tf & 0x02)
        q += 4;
    uint32_t def_dur = tx->dur, def_size = tx->size, def_flags = tx->flags;
    if (tf & 0x08) {
        def_dur = rd32(q);
        q += 4;
    }
    if (tf & 0x10) {
        def_size = rd32(q);
        q += 4;
    }
    if (tf & 0x20)
        def_flags = rd32(q);

    uint32_t ver = trun.body[0];
    uint32_t fl = rd32(trun.body) & 0xffffff;
    uint32_t sc = rd32(trun.body + 4);
    assert_int_equal(sc, count);
    q = trun.body + 8;
    int32_t data_offset = 0;
    uint32_t first_flags = 0;
    if (fl & 0x01) {
        data_offset = (int32_t)rd32(q);
        q += 4;
    }
    if (fl & 0x04) {
        first_flags = rd32(q);
        q += 4;
    }
    /* The samples start right after the mdat header. */
    assert_int_equal(data_offset, (int32_t)(top[0].size + 8));
    size_t payload = 0;
    int64_t decode_time = (int64_t)base;
    for (uint32_t i = 0; i < count; i++) {
        const sample_t *s = &m->s[first + i];
        uint32_t dur = def_dur, size = def_size, flags = def_flags;
        int64_t cts = 0;
        if (fl & 0x100) {
            dur = rd32(q);
            q += 4;
        }
        if (fl & 0x200) {
            size = rd32(q);
            q += 4;
        }
        if (fl & 0x400) {
            flags = rd32(q);
            q += 4;
        } else if (i == 0 && (fl & 0x04)) {
            flags = first_flags;
        }
        if (fl & 0x800) {
            cts = ver ? (int64_t)(int32_t)rd32(q) : (int64_t)rd32(q);
            q += 4;
        }
        assert_int_equal(dur, s->dur);
        assert_int_equal(size, s->len);
        /* Every sample is presented exactly when it was given to be. */
        assert_int_equal(decode_time, s->dts + shift);
        assert_int_equal(decode_time + cts, s->pts);
        decode_time += dur;
        int non_sync = (flags >> 16) & 1;
        assert_int_equal(non_sync, !s->key);
        assert_true(payload + s->len <= top[1].body_len);
        assert_memory_equal(top[1].body + payload, s->data, s->len);
        payload += s->len;
    }
    assert_int_equal(payload, top[1].body_len);
}

/* ---- demuxing and decoding from memory ---- */

typedef struct membuf {
    const uint8_t *p;
    size_t n, off;
} membuf_t;

static int mem_read(void *opaque, uint8_t *buf, int len)
{
    membuf_t *mb = opaque;
    size_t left = mb->n - mb->off;
    if (left == 0)
        return AVERROR_EOF;
    size_t k = (size_t)len < left ? (size_t)len : left;
    memcpy(buf, mb->p + mb->off, k);
    mb->off += k;
    return (int)k;
}

static int64_t mem_seek(void *opaque, int64_t off, int whence)
{
    membuf_t *mb = opaque;
    if (whence == AVSEEK_SIZE)
        return (int64_t)mb->n;
    whence &= ~AVSEEK_FORCE;
    int64_t to = whence == SEEK_SET ? off : whence == SEEK_CUR ? (int64_t)mb->off + off : (int64_t)mb->n + off;
    if (to < 0 || to > (int64_t)mb->n)
        return AVERROR(EINVAL);
    mb->off = (size_t)to;
    return to;
}

/* Demuxes the whole file and decodes every packet; every sample must come
 * back with its timestamps and every frame must decode. */
static void check_roundtrip(const uint8_t *file, size_t n, const media_t *m, uint32_t expect_frames)
{
    membuf_t mb = {file, n, 0};
    uint8_t *iobuf = av_malloc(4096);
    assert_non_null(iobuf);
    AVIOContext *pb = avio_alloc_context(iobuf, 4096, 0, &mb, mem_read, NULL, mem_seek);
    assert_non_null(pb);
    AVFormatContext *fc = avformat_alloc_context();
    assert_non_null(fc);
    fc->pb = pb;
    assert_int_equal(avformat_open_input(&fc, NULL, NULL, NULL), 0);
    assert_int_equal(avformat_find_stream_info(fc, NULL) >= 0, 1);
    assert_int_equal(fc->nb_streams, 1);
    AVStream *st = fc->streams[0];
    assert_int_equal(st->time_base.num, 1);
    assert_int_equal(st->time_base.den, (int)m->p.timescale);

    const AVCodec *dec = avcodec_find_decoder(st->codecpar->codec_id);
    assert_non_null(dec);
    AVCodecContext *dc = avcodec_alloc_context3(dec);
    assert_non_null(dc);
    assert_int_equal(avcodec_parameters_to_context(dc, st->codecpar), 0);
    dc->err_recognition = AV_EF_EXPLODE | AV_EF_CRCCHECK | AV_EF_BITSTREAM;
    dc->thread_count = 1;
    assert_int_equal(avcodec_open2(dc, dec, NULL), 0);

    AVPacket *pkt = av_packet_alloc();
    AVFrame *fr = av_frame_alloc();
    assert_non_null(pkt);
    assert_non_null(fr);
    uint32_t i = 0, decoded = 0;
    int64_t pts_shift = 0;
    int r;
    while ((r = av_read_frame(fc, pkt)) == 0) {
        assert_true(i < m->n);
        /* libavformat's demuxer, with no edit list to go by, moves pts
         * later by the most negative composition offset so that pts >= dts;
         * whatever it does must be one shift for the whole track, and none
         * without B-frames. */
        if (i == 0)
            pts_shift = pkt->pts - m->s[0].pts;
        if (pkt->dts != m->s[i].dts + decode_shift(m) || pkt->pts != m->s[i].pts + pts_shift)
            fail_msg("sample %u read back at dts %lld pts %lld, written at dts %lld pts %lld", i,
                     (long long)pkt->dts, (long long)pkt->pts, (long long)m->s[i].dts, (long long)m->s[i].pts);
        assert_int_equal(pkt->size, m->s[i].len);
        assert_memory_equal(pkt->data, m->s[i].data, m->s[i].len);
        assert_int_equal((pkt->flags & AV_PKT_FLAG_KEY) != 0, m->s[i].key);
        assert_int_equal(avcodec_send_packet(dc, pkt), 0);
        av_packet_unref(pkt);
        while ((r = avcodec_receive_frame(dc, fr)) == 0) {
            decoded++;
            av_frame_unref(fr);
        }
        assert_int_equal(r, AVERROR(EAGAIN));
        i++;
    }
    assert_int_equal(r, AVERROR_EOF);
    assert_int_equal(i, m->n);
    assert_int_equal(avcodec_send_packet(dc, NULL), 0);
    while ((r = avcodec_receive_frame(dc, fr)) == 0) {
        decoded++;
        av_frame_unref(fr);
    }
    assert_int_equal(r, AVERROR_EOF);
    assert_int_equal(decoded, expect_frames);
    if (decode_shift(m) == 0)
        assert_int_equal(pts_shift, 0);
    else
        assert_in_range(pts_shift, 0, decode_shift(m));

    av_frame_free(&fr);
    av_packet_free(&pkt);
    avcodec_free_context(&dc);
    avformat_close_input(&fc);
    av_freep(&pb->buffer);
    avio_context_free(&pb);
}

/* ---- driving the fragmenter ---- */

/* Fragments m into parts of `every` samples (and, when at_keys is set,
 * before each video keyframe), checks each part as it comes, and returns
 * init + parts concatenated. */
static uint8_t *fragment_all(const media_t *m, uint32_t every, int at_keys, size_t *out_len, uint32_t *out_parts)
{
    llhls_buf_t init, part, all;
    llhls_buf_init(&init, 0);
    llhls_buf_init(&part, 0);
    llhls_buf_init(&all, 0);
    llhls_fragmenter_t *f = NULL;
    assert_int_equal(llhls_fragmenter_create(&f, &m->p, &init), 0);
    assert_non_null(f);

    /* The init section: ftyp then moov, with the codec configuration as
     * given and the defaults the parts rely on. */
    box_t top[8];
    int k = boxes(init.data, init.len, top, 8);
    assert_int_equal(k, 2);
    assert_string_equal(top[0].type, "ftyp");
    assert_string_equal(top[1].type, "moov");
    box_t b;
    if (m->p.codec == LLHLS_CODEC_H264) {
        assert_true(find_path(init.data, init.len, "moov/trak/mdia/minf/stbl/stsd/avc1/avcC", &b));
        assert_int_equal(b.body_len, m->extra_len);
        assert_memory_equal(b.body, m->extra, m->extra_len);
        assert_true(find_path(init.data, init.len, "moov/trak/mdia/minf/stbl/stsd/avc1", &b));
        assert_int_equal((b.body[24] << 8) | b.body[25], 320);
        assert_int_equal((b.body[26] << 8) | b.body[27], 240);
    } else if (m->p.codec == LLHLS_CODEC_HEVC) {
        /* hvc1, not hev1: the parameter sets live in the sample entry, as
         * Apple's players require. */
        assert_false(find_path(init.data, init.len, "moov/trak/mdia/minf/stbl/stsd/hev1", &b));
        assert_true(find_path(init.data, init.len, "moov/trak/mdia/minf/stbl/stsd/hvc1/hvcC", &b));
        assert_int_equal(b.body_len, m->extra_len);
        assert_memory_equal(b.body, m->extra, 22); /* the record's header, as given */
        assert_int_equal(b.body[22], m->extra[22]); /* the same number of arrays */
        assert_true(find_path(init.data, init.len, "moov/trak/mdia/minf/stbl/stsd/hvc1", &b));
        assert_int_equal((b.body[24] << 8) | b.body[25], 320);
        assert_int_equal((b.body[26] << 8) | b.body[27], 240);
    } else {
        assert_true(find_path(init.data, init.len, "moov/trak/mdia/minf/stbl/stsd/mp4a/esds", &b));
        assert_true(contains(b.body, b.body_len, m->extra, m->extra_len));
        assert_true(find_path(init.data, init.len, "moov/trak/mdia/minf/stbl/stsd/mp4a", &b));
        assert_int_equal((b.body[16] << 8) | b.body[17], 2);          /* channels */
        assert_int_equal((b.body[24] << 8) | b.body[25], 48000);      /* rate, 16.16 */
    }
    assert_true(find_path(init.data, init.len, "moov/trak/mdia/mdhd", &b));
    uint32_t ts = b.body[0] == 1 ? rd32(b.body + 20) : rd32(b.body + 12);
    assert_int_equal(ts, m->p.timescale);
    /* Empty: the samples are all in the parts. */
    assert_true(find_path(init.data, init.len, "moov/trak/mdia/minf/stbl/stsz", &b));
    assert_int_equal(rd32(b.body + 8), 0);
    trex_t tx = {0};
    assert_true(find_path(init.data, init.len, "moov/mvex/trex", &b));
    tx.dur = rd32(b.body + 12);
    tx.size = rd32(b.body + 16);
    tx.flags = rd32(b.body + 20);
    assert_int_equal(llhls_buf_append(&all, init.data, init.len), 0);

    uint32_t first = 0, parts = 0;
    for (uint32_t i = 0; i <= m->n; i++) {
        int cut = i == m->n || (i > first && ((i - first) >= every || (at_keys && m->s[i].key)));
        if (cut) {
            llhls_buf_reset(&part);
            assert_int_equal(llhls_fragmenter_flush(f, &part), 0);
            check_part(part.data, part.len, m, first, i - first, &tx);
            assert_int_equal(llhls_buf_append(&all, part.data, part.len), 0);
            parts++;
            first = i;
        }
        if (i < m->n) {
            const sample_t *s = &m->s[i];
            assert_int_equal(llhls_fragmenter_add(f, s->data, s->len, s->dts, s->pts, s->dur, s->key), 0);
        }
    }
    /* Nothing left: a further flush has nothing to write. */
    llhls_buf_reset(&part);
    assert_int_equal(llhls_fragmenter_flush(f, &part), -LLHLS_EINVAL);
    assert_int_equal(part.len, 0);
    llhls_fragmenter_destroy(f);
    llhls_buf_free(&init);
    llhls_buf_free(&part);
    *out_parts = parts;
    return llhls_buf_steal(&all, out_len);
}

static void test_fragmenter_h264_parts_round_trip(void **state)
{
    (void)state;
    media_t m;
    encode_video(&m, 150, 0);
    assert_true(m.s[0].key);
    assert_true(m.s[60].key);
    size_t len;
    uint32_t parts;
    uint8_t *file = fragment_all(&m, 10, 1, &len, &parts);
    assert_int_equal(parts, 15);
    check_roundtrip(file, len, &m, m.n);
    free(file);
    media_free(&m);
}

static void test_fragmenter_keyframe_inside_a_part_does_not_split_it(void **state)
{
    (void)state;
    media_t m;
    encode_video(&m, 90, 0);
    assert_true(m.s[60].key);
    size_t len;
    uint32_t parts;
    /* Parts of 25 frames: the keyframe at 60 lies inside [50, 75), which
     * must still come out as one moof and one mdat. */
    uint8_t *file = fragment_all(&m, 25, 0, &len, &parts);
    assert_int_equal(parts, 4);
    check_roundtrip(file, len, &m, m.n);
    free(file);
    media_free(&m);
}

static void test_fragmenter_h264_with_bframes_keeps_composition_offsets(void **state)
{
    (void)state;
    media_t m;
    encode_video(&m, 90, 2);
    uint32_t reordered = 0;
    for (uint32_t i = 0; i < m.n; i++)
        reordered += m.s[i].pts != m.s[i].dts;
    assert_true(reordered > 0);
    assert_true(decode_shift(&m) > 0);
    size_t len;
    uint32_t parts;
    uint8_t *file = fragment_all(&m, 10, 1, &len, &parts);
    assert_true(parts >= 9);
    check_roundtrip(file, len, &m, m.n);
    free(file);
    media_free(&m);
}

static void test_fragmenter_hevc_parts_round_trip(void **state)
{
    (void)state;
    media_t m;
    load_hevc(&m, 90, "yuv420p");
    /* An IRAP picture every 30 frames; B-frames move the later ones a
     * frame or two earlier in decode order. */
    uint32_t keys = 0;
    for (uint32_t i = 0; i < m.n; i++)
        keys += (uint32_t)m.s[i].key;
    assert_true(m.s[0].key);
    assert_int_equal(keys, 3);
    size_t len;
    uint32_t parts;
    uint8_t *file = fragment_all(&m, 10, 1, &len, &parts);
    assert_in_range(parts, 9, 12);
    check_roundtrip(file, len, &m, m.n);
    free(file);
    media_free(&m);
}

static void test_fragmenter_hevc_main10_parts_round_trip(void **state)
{
    (void)state;
    media_t m;
    load_hevc(&m, 40, "yuv420p10le");
    size_t len;
    uint32_t parts;
    uint8_t *file = fragment_all(&m, 8, 1, &len, &parts);
    assert_in_range(parts, 5, 7);
    check_roundtrip(file, len, &m, m.n);
    free(file);
    media_free(&m);
}

static void test_fragmenter_aac_parts_round_trip(void **state)
{
    (void)state;
    media_t m;
    encode_audio(&m, 140); /* about 3 s */
    size_t len;
    uint32_t parts;
    uint8_t *file = fragment_all(&m, 15, 0, &len, &parts); /* 320 ms parts */
    assert_int_equal(parts, (m.n + 14) / 15);
    check_roundtrip(file, len, &m, m.n);
    free(file);
    media_free(&m);
}

static void test_fragmenter_flush_without_samples_is_einval(void **state)
{
    (void)state;
    media_t m;
    encode_audio(&m, 4);
    llhls_buf_t init, part;
    llhls_buf_init(&init, 0);
    llhls_buf_init(&part, 0);
    llhls_fragmenter_t *f = NULL;
    assert_int_equal(llhls_fragmenter_create(&f, &m.p, &init), 0);
    assert_int_equal(llhls_fragmenter_flush(f, &part), -LLHLS_EINVAL);
    assert_int_equal(part.len, 0);
    assert_int_equal(llhls_fragmenter_add(f, m.s[0].data, m.s[0].len, 0, 0, 1024, 1), 0);
    assert_int_equal(llhls_fragmenter_flush(f, &part), 0);
    assert_true(part.len > 0);
    size_t len = part.len;
    assert_int_equal(llhls_fragmenter_flush(f, &part), -LLHLS_EINVAL);
    assert_int_equal(part.len, len);
    llhls_fragmenter_destroy(f);
    llhls_buf_free(&init);
    llhls_buf_free(&part);
    media_free(&m);
}

static void test_fragmenter_rejects_bad_params(void **state)
{
    (void)state;
    static const uint8_t asc[] = {0x11, 0x90};
    llhls_buf_t init;
    llhls_buf_init(&init, 0);
    llhls_fragmenter_t *f = (llhls_fragmenter_t *)&init; /* must come back NULL */
    llhls_fragmenter_params_t p = {.codec = LLHLS_CODEC_AAC, .extradata = NULL, .extradata_len = 0,
                                   .sample_rate = 48000, .channels = 2, .timescale = 48000};
    assert_int_equal(llhls_fragmenter_create(&f, &p, &init), -LLHLS_EINVAL);
    assert_null(f);
    assert_int_equal(init.len, 0);

    p.extradata = asc;
    p.extradata_len = 0;
    assert_int_equal(llhls_fragmenter_create(&f, &p, &init), -LLHLS_EINVAL);
    p.extradata_len = sizeof(asc);
    p.channels = 0;
    assert_int_equal(llhls_fragmenter_create(&f, &p, &init), -LLHLS_EINVAL);
    p.channels = 2;
    p.timescale = 0;
    assert_int_equal(llhls_fragmenter_create(&f, &p, &init), -LLHLS_EINVAL);
    p.timescale = 48000;
    p.codec = 42;
    assert_int_equal(llhls_fragmenter_create(&f, &p, &init), -LLHLS_EUNSUPPORTED);

    llhls_fragmenter_params_t v = {.codec = LLHLS_CODEC_H264, .extradata = NULL, .width = 320, .height = 240,
                                   .timescale = 90000};
    assert_int_equal(llhls_fragmenter_create(&f, &v, &init), -LLHLS_EINVAL);
    v.extradata = asc;
    v.extradata_len = sizeof(asc);
    v.width = 0;
    assert_int_equal(llhls_fragmenter_create(&f, &v, &init), -LLHLS_EINVAL);
    assert_null(f);
    assert_int_equal(init.len, 0);

    /* The same parameters, made valid, work. */
    p.codec = LLHLS_CODEC_AAC;
    assert_int_equal(llhls_fragmenter_create(&f, &p, &init), 0);
    assert_non_null(f);
    assert_true(init.len > 0);
    llhls_fragmenter_destroy(f);
    llhls_buf_free(&init);
}

static void test_fragmenter_hevc_init_carries_hvcc_in_hvc1(void **state)
{
    (void)state;
    /* A configuration record with no parameter set arrays: enough for the
     * sample entry, which the muxer copies as given. */
    static const uint8_t hvcc[23] = {1, 0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 0x5d, 0xf0, 0, 0xfc,
                                     0xfd, 0xf8, 0xf8, 0, 0, 0x0f, 0};
    llhls_fragmenter_params_t p = {.codec = LLHLS_CODEC_HEVC, .extradata = hvcc, .extradata_len = sizeof(hvcc),
                                   .width = 7680, .height = 4320, .timescale = 90000};
    llhls_buf_t init;
    llhls_buf_init(&init, 0);
    llhls_fragmenter_t *f = NULL;
    assert_int_equal(llhls_fragmenter_create(&f, &p, &init), 0);
    box_t b;
    assert_true(find_path(init.data, init.len, "moov/trak/mdia/minf/stbl/stsd/hvc1/hvcC", &b));
    assert_int_equal(b.body_len, sizeof(hvcc));
    assert_memory_equal(b.body, hvcc, sizeof(hvcc));
    assert_true(find_path(init.data, init.len, "moov/trak/mdia/minf/stbl/stsd/hvc1", &b));
    assert_int_equal((b.body[24] << 8) | b.body[25], 7680);
    assert_int_equal((b.body[26] << 8) | b.body[27], 4320);
    llhls_fragmenter_destroy(f);
    llhls_buf_free(&init);
}

static void test_fragmenter_rejects_samples_out_of_order(void **state)
{
    (void)state;
    media_t m;
    encode_audio(&m, 4);
    llhls_buf_t init, part;
    llhls_buf_init(&init, 0);
    llhls_buf_init(&part, 0);
    llhls_fragmenter_t *f = NULL;
    assert_int_equal(llhls_fragmenter_create(&f, &m.p, &init), 0);
    assert_int_equal(llhls_fragmenter_add(f, m.s[0].data, m.s[0].len, 2048, 2048, 1024, 1), 0);
    /* dts not increasing, pts before dts, empty, no duration. */
    assert_int_equal(llhls_fragmenter_add(f, m.s[1].data, m.s[1].len, 2048, 2048, 1024, 1), -LLHLS_EINVAL);
    assert_int_equal(llhls_fragmenter_add(f, m.s[1].data, m.s[1].len, 1024, 1024, 1024, 1), -LLHLS_EINVAL);
    assert_int_equal(llhls_fragmenter_add(f, m.s[1].data, m.s[1].len, 3072, 3000, 1024, 1), -LLHLS_EINVAL);
    assert_int_equal(llhls_fragmenter_add(f, m.s[1].data, 0, 3072, 3072, 1024, 1), -LLHLS_EINVAL);
    assert_int_equal(llhls_fragmenter_add(f, m.s[1].data, m.s[1].len, 3072, 3072, 0, 1), -LLHLS_EINVAL);
    assert_int_equal(llhls_fragmenter_add(f, m.s[1].data, m.s[1].len, -1024, 0, 1024, 1), -LLHLS_EINVAL);
    /* The fragmenter is still usable: the refused samples left no trace. */
    assert_int_equal(llhls_fragmenter_add(f, m.s[1].data, m.s[1].len, 3072, 3072, 1024, 1), 0);
    assert_int_equal(llhls_fragmenter_flush(f, &part), 0);
    box_t b;
    assert_true(find_path(part.data, part.len, "moof/traf/trun", &b));
    assert_int_equal(rd32(b.body + 4), 2);
    assert_true(find_path(part.data, part.len, "mdat", &b));
    assert_int_equal(b.body_len, m.s[0].len + m.s[1].len);
    llhls_fragmenter_destroy(f);
    llhls_buf_free(&init);
    llhls_buf_free(&part);
    media_free(&m);
}

static void test_fragmenter_part_over_its_cap_fails_cleanly(void **state)
{
    (void)state;
    media_t m;
    encode_audio(&m, 8);
    llhls_buf_t init, part;
    llhls_buf_init(&init, 0);
    llhls_buf_init(&part, 64); /* smaller than any moof */
    llhls_fragmenter_t *f = NULL;
    assert_int_equal(llhls_fragmenter_create(&f, &m.p, &init), 0);
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(llhls_fragmenter_add(f, m.s[i].data, m.s[i].len, m.s[i].dts, m.s[i].pts, 1024, 1), 0);
    assert_int_equal(llhls_fragmenter_flush(f, &part), -LLHLS_ETOOBIG);
    assert_int_equal(part.len, 0);
    /* The muxer's output is now incomplete: the error stays. */
    assert_int_equal(llhls_fragmenter_add(f, m.s[4].data, m.s[4].len, m.s[4].dts, m.s[4].pts, 1024, 1),
                     -LLHLS_ETOOBIG);
    llhls_fragmenter_destroy(f);
    llhls_buf_free(&init);
    llhls_buf_free(&part);
    media_free(&m);
}

int main(void)
{
    av_log_set_level(AV_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fragmenter_rejects_bad_params),
        cmocka_unit_test(test_fragmenter_flush_without_samples_is_einval),
        cmocka_unit_test(test_fragmenter_hevc_init_carries_hvcc_in_hvc1),
        cmocka_unit_test(test_fragmenter_rejects_samples_out_of_order),
        cmocka_unit_test(test_fragmenter_part_over_its_cap_fails_cleanly),
        cmocka_unit_test(test_fragmenter_h264_parts_round_trip),
        cmocka_unit_test(test_fragmenter_keyframe_inside_a_part_does_not_split_it),
        cmocka_unit_test(test_fragmenter_h264_with_bframes_keeps_composition_offsets),
        cmocka_unit_test(test_fragmenter_hevc_parts_round_trip),
        cmocka_unit_test(test_fragmenter_hevc_main10_parts_round_trip),
        cmocka_unit_test(test_fragmenter_aac_parts_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
