/* The CMAF fragmenter: one libavformat mp4 muxer per track, in fragmented
 * mode with fragments cut only when asked, writing into memory.  The header
 * (ftyp+moov, complete because the moov is written empty at header time)
 * becomes the init section; each flush becomes one moof+mdat, one LL-HLS
 * part. */
#include "fragmenter.h"

#include "error.h"
#include "log.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>

#include <limits.h>
#include <string.h>

#define TAG "fragmenter"
#define AVIO_BUFFER_SIZE 65536
#define EXTRADATA_MAX 65536  /* avcC/hvcC/ASC come from the network */
#define DIMENSION_MAX 16384
#define SAMPLE_RATE_MAX 384000
#define CHANNELS_MAX 64

/* Fragments are cut by the part rules alone, never by the muxer: its own
 * cut at keyframes (frag_keyframe, which dash and some versions' cmaf imply)
 * would split a part in two, so the minimum fragment duration is set to its
 * largest value (35 minutes, far beyond any part) to disarm it.  No
 * delay_moov: the init section must be whole once the header is written.
 * No sidx, mfra or trailer: a part is one moof and one mdat, nothing else.
 * frag_discont without an edit list makes tfdt follow the given dts rather
 * than count from the first sample, so that tracks and successive init
 * sections stay on the stream's one timeline.  cmaf writes composition
 * offsets as signed (trun version 1) and gives the first sample none: with
 * B-frames every decode time moves later by that sample's pts - dts, and
 * every presentation time stays exactly as given. */
#define MIN_FRAG_DURATION "2147483647"
#define MOVFLAGS "cmaf+frag_custom+empty_moov+default_base_moof+frag_discont+skip_sidx+skip_trailer"

struct llhls_fragmenter {
    AVFormatContext *ctx;
    AVIOContext *pb;
    AVStream *st;
    AVPacket *pkt;
    AVRational tb_in;       /* 1/timescale: the time base of add()'s values */
    llhls_buf_t *sink;      /* where the muxer's bytes go right now */
    llhls_buf_t stray;      /* bytes written outside header and flush */
    int io_err;             /* sticky: the first failure to store bytes */
    uint32_t samples;       /* added since the last flush */
    int have_dts;
    int64_t last_dts;
};

static int on_write(void *opaque, uint8_t *buf, int len)
{
    llhls_fragmenter_t *f = opaque;
    if (f->io_err)
        return AVERROR(EIO);
    llhls_buf_t *dst = f->sink ? f->sink : &f->stray;
    int r = llhls_buf_append(dst, buf, (size_t)len);
    if (r != 0) {
        f->io_err = r;
        return AVERROR(ENOMEM);
    }
    return len;
}

static int check_params(const llhls_fragmenter_params_t *p)
{
    if (p == NULL || p->extradata == NULL || p->extradata_len == 0 || p->extradata_len > EXTRADATA_MAX ||
        p->timescale == 0 || p->timescale > INT_MAX)
        return -LLHLS_EINVAL;
    switch (p->codec) {
    case LLHLS_CODEC_H264:
    case LLHLS_CODEC_HEVC:
        if (p->width == 0 || p->height == 0 || p->width > DIMENSION_MAX || p->height > DIMENSION_MAX)
            return -LLHLS_EINVAL;
        return 0;
    case LLHLS_CODEC_AAC:
        if (p->sample_rate == 0 || p->sample_rate > SAMPLE_RATE_MAX || p->channels == 0 ||
            p->channels > CHANNELS_MAX)
            return -LLHLS_EINVAL;
        return 0;
    default:
        return -LLHLS_EUNSUPPORTED;
    }
}

static int set_codecpar(AVCodecParameters *par, const llhls_fragmenter_params_t *p)
{
    par->extradata = av_mallocz(p->extradata_len + AV_INPUT_BUFFER_PADDING_SIZE);
    if (par->extradata == NULL)
        return -LLHLS_ENOMEM;
    memcpy(par->extradata, p->extradata, p->extradata_len);
    par->extradata_size = (int)p->extradata_len;
    if (p->codec == LLHLS_CODEC_AAC) {
        par->codec_type = AVMEDIA_TYPE_AUDIO;
        par->codec_id = AV_CODEC_ID_AAC;
        par->sample_rate = (int)p->sample_rate;
        par->frame_size = 1024;
        av_channel_layout_default(&par->ch_layout, (int)p->channels);
        return 0;
    }
    par->codec_type = AVMEDIA_TYPE_VIDEO;
    par->width = (int)p->width;
    par->height = (int)p->height;
    if (p->codec == LLHLS_CODEC_HEVC) {
        par->codec_id = AV_CODEC_ID_HEVC;
        /* Apple's players want the parameter sets in the sample entry. */
        par->codec_tag = MKTAG('h', 'v', 'c', '1');
    } else {
        par->codec_id = AV_CODEC_ID_H264;
    }
    return 0;
}

static int muxer_error(llhls_fragmenter_t *f, const char *what, int averr)
{
    if (f->io_err) {
        LLHLS_ERROR(TAG, "%s: %s", what, llhls_strerror(f->io_err));
        return f->io_err;
    }
    LLHLS_ERROR(TAG, "%s: %s", what, av_err2str(averr));
    return -LLHLS_EIO;
}

int llhls_fragmenter_create(llhls_fragmenter_t **out, const llhls_fragmenter_params_t *p, llhls_buf_t *init)
{
    *out = NULL;
    int r = check_params(p);
    if (r != 0)
        return r;
    llhls_fragmenter_t *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -LLHLS_ENOMEM;
    llhls_buf_init(&f->stray, 0);
    f->tb_in = (AVRational){1, (int)p->timescale};

    AVDictionary *opts = NULL;
    size_t init_len = init->len;
    int averr = avformat_alloc_output_context2(&f->ctx, NULL, "mp4", NULL);
    if (averr < 0 || f->ctx == NULL) {
        r = muxer_error(f, "no mp4 muxer", averr);
        goto out;
    }
    /* Samples arrive as the mp4 sample format already (length-prefixed NAL
     * units, raw AAC); a filter guessing otherwise from the first bytes
     * could only do harm. */
    f->ctx->flags &= ~AVFMT_FLAG_AUTO_BSF;
    f->ctx->avoid_negative_ts = AVFMT_AVOID_NEG_TS_DISABLED;

    uint8_t *iobuf = av_malloc(AVIO_BUFFER_SIZE);
    if (iobuf == NULL) {
        r = -LLHLS_ENOMEM;
        goto out;
    }
    f->pb = avio_alloc_context(iobuf, AVIO_BUFFER_SIZE, 1, f, NULL, on_write, NULL);
    if (f->pb == NULL) {
        av_free(iobuf);
        r = -LLHLS_ENOMEM;
        goto out;
    }
    f->ctx->pb = f->pb;
    f->ctx->flags |= AVFMT_FLAG_CUSTOM_IO;

    f->st = avformat_new_stream(f->ctx, NULL);
    f->pkt = av_packet_alloc();
    if (f->st == NULL || f->pkt == NULL) {
        r = -LLHLS_ENOMEM;
        goto out;
    }
    f->st->time_base = f->tb_in;
    if ((r = set_codecpar(f->st->codecpar, p)) != 0)
        goto out;

    if (av_dict_set(&opts, "movflags", MOVFLAGS, 0) < 0 ||
        av_dict_set(&opts, "min_frag_duration", MIN_FRAG_DURATION, 0) < 0 ||
        av_dict_set(&opts, "use_editlist", "0", 0) < 0) {
        r = -LLHLS_ENOMEM;
        goto out;
    }
    f->sink = init;
    averr = avformat_write_header(f->ctx, &opts);
    if (averr >= 0) {
        avio_flush(f->pb);
        if (f->pb->error < 0)
            averr = f->pb->error;
    }
    f->sink = NULL;
    if (averr < 0) {
        r = muxer_error(f, "writing the init section failed", averr);
        goto out;
    }
    if (av_dict_count(opts) > 0) {
        /* An option the installed muxer does not know would silently change
         * what a part holds. */
        LLHLS_ERROR(TAG, "the mp4 muxer ignored option %s", av_dict_get(opts, "", NULL, AV_DICT_IGNORE_SUFFIX)->key);
        r = -LLHLS_EIO;
        goto out;
    }
    if (init->len == init_len) {
        LLHLS_ERROR(TAG, "the mp4 muxer wrote no init section");
        r = -LLHLS_EIO;
        goto out;
    }
    r = 0;
out:
    av_dict_free(&opts);
    if (r != 0) {
        init->len = init_len;
        llhls_fragmenter_destroy(f);
        return r;
    }
    *out = f;
    return 0;
}

void llhls_fragmenter_destroy(llhls_fragmenter_t *f)
{
    if (f == NULL)
        return;
    /* No trailer: it could only repeat samples of an unflushed fragment and
     * an mfra, none of which belongs in the store.  Freeing the context
     * releases the muxer's state all the same. */
    if (f->ctx)
        avformat_free_context(f->ctx);
    if (f->pb) {
        av_freep(&f->pb->buffer);
        avio_context_free(&f->pb);
    }
    av_packet_free(&f->pkt);
    llhls_buf_free(&f->stray);
    free(f);
}

int llhls_fragmenter_add(llhls_fragmenter_t *f, const uint8_t *data, size_t len, int64_t dts, int64_t pts,
                         uint32_t duration, int keyframe)
{
    if (f->io_err)
        return f->io_err;
    /* tfdt is unsigned: a decode time before 0 cannot be written. */
    if (len == 0 || len > INT_MAX - AV_INPUT_BUFFER_PADDING_SIZE || duration == 0 || dts < 0 || pts < dts ||
        (f->have_dts && dts <= f->last_dts))
        return -LLHLS_EINVAL;
    AVPacket *pkt = f->pkt;
    /* Not reference counted: libavformat uses the caller's bytes in place
     * and the mp4 muxer copies them into its mdat buffer at once. */
    pkt->data = (uint8_t *)data;
    pkt->size = (int)len;
    pkt->stream_index = 0;
    pkt->dts = dts;
    pkt->pts = pts;
    pkt->duration = duration;
    pkt->flags = keyframe ? AV_PKT_FLAG_KEY : 0;
    if (av_cmp_q(f->st->time_base, f->tb_in) != 0)
        av_packet_rescale_ts(pkt, f->tb_in, f->st->time_base);
    int averr = av_write_frame(f->ctx, pkt);
    pkt->data = NULL;
    pkt->size = 0;
    if (averr < 0)
        return muxer_error(f, "adding a sample failed", averr);
    f->have_dts = 1;
    f->last_dts = dts;
    f->samples++;
    return 0;
}

int llhls_fragmenter_flush(llhls_fragmenter_t *f, llhls_buf_t *part)
{
    if (f->io_err)
        return f->io_err;
    if (f->samples == 0)
        return -LLHLS_EINVAL;
    size_t part_len = part->len;
    int r = 0;
    if (f->stray.len > 0) {
        /* Nothing should reach the output between flushes; if the muxer
         * did write something, it belongs before this fragment. */
        r = llhls_buf_append(part, f->stray.data, f->stray.len);
        if (r != 0)
            return r;
        llhls_buf_reset(&f->stray);
    }
    f->sink = part;
    int averr = av_write_frame(f->ctx, NULL);
    if (averr >= 0) {
        avio_flush(f->pb);
        if (f->pb->error < 0)
            averr = f->pb->error;
    }
    f->sink = NULL;
    if (averr < 0) {
        part->len = part_len;
        return muxer_error(f, "writing a fragment failed", averr);
    }
    f->samples = 0;
    return 0;
}
