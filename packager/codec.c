/* Codec configuration parsing for what an RTMP publisher sends in its sequence
 * headers: the AVCDecoderConfigurationRecord (avcC) with its first SPS, and
 * AAC's AudioSpecificConfig.  The results name the stream in playlists (RFC
 * 6381 codec strings, resolution, frame rate) and every field is checked
 * against the bytes that carry it, since all of them come from the network. */
#include "codec.h"

#include "bits.h"
#include "error.h"

#include <stdio.h>
#include <string.h>

#define MAX_PICTURE_SIDE 16384
/* A VUI time base finer than this is a clock, not a frame rate (variable
 * frame rate streams signal 90 kHz ticks), so it is reported as unknown. */
#define MAX_FRAME_RATE_MILLI 1000000u

static int fail(const char **why, int err, const char *sentence)
{
    if (why)
        *why = sentence;
    return err;
}

static int high_profile(uint8_t profile_idc)
{
    switch (profile_idc) {
    case 100:
    case 110:
    case 122:
    case 244:
    case 44:
    case 83:
    case 86:
    case 118:
    case 128:
    case 138:
    case 139:
    case 134:
    case 135: return 1;
    default: return 0;
    }
}

/* Scaling lists only need to be stepped over: the values matter to a
 * decoder, not to a packager.  A delta that brings the next scale to zero
 * ends the list early (it means "use the default list"). */
static int skip_scaling_list(llhls_bits_t *b, int size)
{
    int last = 8, next = 8;

    for (int j = 0; j < size && next != 0; j++) {
        int32_t delta = llhls_bits_se(b);
        if (b->err || delta < -128 || delta > 127)
            return -1;
        next = (last + delta + 256) % 256;
        if (next != 0)
            last = next;
    }
    return 0;
}

static int parse_vui_timing(llhls_bits_t *b, uint32_t *units, uint32_t *scale)
{
    *units = *scale = 0;
    if (llhls_bits_u(b, 1)) {          /* aspect_ratio_info_present_flag */
        if (llhls_bits_u(b, 8) == 255) /* Extended_SAR */
            llhls_bits_u(b, 32);
    }
    if (llhls_bits_u(b, 1)) /* overscan_info_present_flag */
        llhls_bits_u(b, 1);
    if (llhls_bits_u(b, 1)) { /* video_signal_type_present_flag */
        llhls_bits_u(b, 4);
        if (llhls_bits_u(b, 1)) /* colour_description_present_flag */
            llhls_bits_u(b, 24);
    }
    if (llhls_bits_u(b, 1)) { /* chroma_loc_info_present_flag */
        llhls_bits_ue(b);
        llhls_bits_ue(b);
    }
    if (llhls_bits_u(b, 1)) { /* timing_info_present_flag */
        *units = llhls_bits_u(b, 32);
        *scale = llhls_bits_u(b, 32);
    }
    return b->err ? -1 : 0;
}

int llhls_avc_parse_sps(const uint8_t *nal, size_t len, llhls_avc_config_t *out, const char **why)
{
    llhls_bits_t b;
    uint32_t chroma_format_idc = 1, separate_planes = 0;

    if (!nal || len < 4)
        return fail(why, -LLHLS_EINVAL, "The SPS is shorter than its 4-byte header.");
    if ((nal[0] & 0x80) || (nal[0] & 0x1f) != 7)
        return fail(why, -LLHLS_EINVAL, "The SPS NAL unit does not have NAL type 7.");

    llhls_bits_init(&b, nal + 1, len - 1, 1);
    uint8_t profile_idc = (uint8_t)llhls_bits_u(&b, 8);
    uint8_t constraint_flags = (uint8_t)llhls_bits_u(&b, 8);
    uint8_t level_idc = (uint8_t)llhls_bits_u(&b, 8);
    if (profile_idc == 0)
        return fail(why, -LLHLS_EINVAL, "The SPS has profile_idc 0.");
    if (level_idc == 0)
        return fail(why, -LLHLS_EINVAL, "The SPS has level_idc 0.");
    if (llhls_bits_ue(&b) > 31)
        return fail(why, -LLHLS_EINVAL, "The SPS id is over 31.");

    if (high_profile(profile_idc)) {
        chroma_format_idc = llhls_bits_ue(&b);
        if (chroma_format_idc > 3)
            return fail(why, -LLHLS_EINVAL, "The SPS has a chroma_format_idc over 3.");
        if (chroma_format_idc == 3)
            separate_planes = llhls_bits_u(&b, 1);
        if (llhls_bits_ue(&b) > 6 || llhls_bits_ue(&b) > 6)
            return fail(why, -LLHLS_EINVAL, "The SPS has a bit depth over 14.");
        llhls_bits_u(&b, 1);       /* qpprime_y_zero_transform_bypass_flag */
        if (llhls_bits_u(&b, 1)) { /* seq_scaling_matrix_present_flag */
            int lists = chroma_format_idc == 3 ? 12 : 8;
            for (int i = 0; i < lists; i++) {
                if (llhls_bits_u(&b, 1) && skip_scaling_list(&b, i < 6 ? 16 : 64) < 0)
                    return fail(why, -LLHLS_EINVAL, "The SPS has a malformed scaling list.");
            }
        }
    }

    if (llhls_bits_ue(&b) > 12)
        return fail(why, -LLHLS_EINVAL, "The SPS has log2_max_frame_num over 16.");
    uint32_t poc_type = llhls_bits_ue(&b);
    if (poc_type == 0) {
        if (llhls_bits_ue(&b) > 12)
            return fail(why, -LLHLS_EINVAL, "The SPS has log2_max_pic_order_cnt_lsb over 16.");
    } else if (poc_type == 1) {
        llhls_bits_u(&b, 1); /* delta_pic_order_always_zero_flag */
        llhls_bits_se(&b);   /* offset_for_non_ref_pic */
        llhls_bits_se(&b);   /* offset_for_top_to_bottom_field */
        uint32_t cycle = llhls_bits_ue(&b);
        if (cycle > 255)
            return fail(why, -LLHLS_EINVAL, "The SPS has more than 255 reference frames in its POC cycle.");
        for (uint32_t i = 0; i < cycle && !b.err; i++)
            llhls_bits_se(&b);
    } else if (poc_type != 2) {
        return fail(why, -LLHLS_EINVAL, "The SPS has a pic_order_cnt_type over 2.");
    }
    if (llhls_bits_ue(&b) > 16)
        return fail(why, -LLHLS_EINVAL, "The SPS has more than 16 reference frames.");
    llhls_bits_u(&b, 1); /* gaps_in_frame_num_value_allowed_flag */
    uint64_t width_mbs = (uint64_t)llhls_bits_ue(&b) + 1;
    uint64_t height_units = (uint64_t)llhls_bits_ue(&b) + 1;
    uint32_t frame_mbs_only = llhls_bits_u(&b, 1);
    if (!frame_mbs_only)
        llhls_bits_u(&b, 1); /* mb_adaptive_frame_field_flag */
    llhls_bits_u(&b, 1);     /* direct_8x8_inference_flag */
    uint64_t crop_left = 0, crop_right = 0, crop_top = 0, crop_bottom = 0;
    if (llhls_bits_u(&b, 1)) {
        crop_left = llhls_bits_ue(&b);
        crop_right = llhls_bits_ue(&b);
        crop_top = llhls_bits_ue(&b);
        crop_bottom = llhls_bits_ue(&b);
    }
    uint32_t units = 0, scale = 0;
    if (llhls_bits_u(&b, 1) && parse_vui_timing(&b, &units, &scale) < 0)
        return fail(why, -LLHLS_EINVAL, "The SPS ends inside its VUI parameters.");
    if (b.err)
        return fail(why, -LLHLS_EINVAL, "The SPS ends before its last field.");

    /* Cropping is counted in chroma samples (and in field pairs when the
     * stream may be interlaced), hence the units. */
    uint32_t chroma_array_type = separate_planes ? 0 : chroma_format_idc;
    uint64_t crop_x = chroma_array_type == 1 || chroma_array_type == 2 ? 2 : 1;
    uint64_t crop_y = (chroma_array_type == 1 ? 2 : 1) * (2 - frame_mbs_only);
    uint64_t coded_w = width_mbs * 16, coded_h = height_units * 16 * (2 - frame_mbs_only);
    uint64_t cut_w = (crop_left + crop_right) * crop_x, cut_h = (crop_top + crop_bottom) * crop_y;
    if (cut_w >= coded_w || cut_h >= coded_h)
        return fail(why, -LLHLS_EINVAL, "The SPS crops away the whole picture.");
    uint64_t width = coded_w - cut_w, height = coded_h - cut_h;
    if (width > MAX_PICTURE_SIDE || height > MAX_PICTURE_SIDE)
        return fail(why, -LLHLS_EINVAL, "The SPS describes a picture wider or taller than 16384 pixels.");

    out->profile_idc = profile_idc;
    out->constraint_flags = constraint_flags;
    out->level_idc = level_idc;
    out->width = (uint32_t)width;
    out->height = (uint32_t)height;
    out->frame_rate_milli = 0;
    if (units > 0 && scale > 0) {
        /* A frame is two ticks: H.264 counts field periods. */
        uint64_t milli = ((uint64_t)scale * 1000 + units) / ((uint64_t)units * 2);
        if (milli <= MAX_FRAME_RATE_MILLI)
            out->frame_rate_milli = (uint32_t)milli;
    }
    snprintf(out->codec, sizeof(out->codec), "avc1.%02x%02x%02x", profile_idc, constraint_flags, level_idc);
    return 0;
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

int llhls_avc_parse_config(const uint8_t *avcc, size_t len, llhls_avc_config_t *out, const char **why)
{
    if (!avcc || len < 7)
        return fail(why, -LLHLS_EINVAL, "The avcC record is shorter than its 7-byte header.");
    if (avcc[0] != 1)
        return fail(why, -LLHLS_EINVAL, "The avcC record is not version 1.");
    uint8_t nal_length_size = (uint8_t)((avcc[4] & 3) + 1);
    if (nal_length_size == 3)
        return fail(why, -LLHLS_EINVAL, "The avcC record declares 3-byte NAL lengths; only 1, 2 and 4 are valid.");
    unsigned sps_count = avcc[5] & 0x1f;
    if (sps_count == 0)
        return fail(why, -LLHLS_EINVAL, "The avcC record holds no SPS.");

    size_t off = 6;
    const uint8_t *sps = NULL;
    size_t sps_len = 0;
    for (unsigned i = 0; i < sps_count; i++) {
        if (len - off < 2)
            return fail(why, -LLHLS_EINVAL, "The avcC record ends inside an SPS length.");
        size_t n = be16(avcc + off);
        off += 2;
        if (n == 0)
            return fail(why, -LLHLS_EINVAL, "The avcC record holds an empty SPS.");
        if (n > len - off)
            return fail(why, -LLHLS_EINVAL, "An SPS length in the avcC record runs past its end.");
        if (i == 0) {
            sps = avcc + off;
            sps_len = n;
        }
        off += n;
    }
    if (len - off < 1)
        return fail(why, -LLHLS_EINVAL, "The avcC record ends before its PPS count.");
    unsigned pps_count = avcc[off++];
    if (pps_count == 0)
        return fail(why, -LLHLS_EINVAL, "The avcC record holds no PPS.");
    for (unsigned i = 0; i < pps_count; i++) {
        if (len - off < 2)
            return fail(why, -LLHLS_EINVAL, "The avcC record ends inside a PPS length.");
        size_t n = be16(avcc + off);
        off += 2;
        if (n == 0)
            return fail(why, -LLHLS_EINVAL, "The avcC record holds an empty PPS.");
        if (n > len - off)
            return fail(why, -LLHLS_EINVAL, "A PPS length in the avcC record runs past its end.");
        off += n;
    }
    /* High profile records may carry chroma and bit depth bytes after the
     * PPS; the SPS already says the same, so they are left unread. */

    llhls_avc_config_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    int rc = llhls_avc_parse_sps(sps, sps_len, &cfg, why);
    if (rc < 0)
        return rc;
    cfg.nal_length_size = nal_length_size;
    *out = cfg;
    return 0;
}

int llhls_nal_walk_start(llhls_nal_walk_t *w, const uint8_t *data, size_t len, uint8_t length_size, const char **why)
{
    if (length_size != 1 && length_size != 2 && length_size != 4)
        return fail(why, -LLHLS_EINVAL, "The NAL length size is not 1, 2 or 4.");
    if (!data || len == 0)
        return fail(why, -LLHLS_EINVAL, "The video frame holds no NAL unit.");
    w->data = data;
    w->len = len;
    w->off = 0;
    w->length_size = length_size;
    return 0;
}

int llhls_nal_walk_next(llhls_nal_walk_t *w, const uint8_t **nal, size_t *n, const char **why)
{
    if (w->off >= w->len)
        return 0;
    if (w->len - w->off < w->length_size)
        return fail(why, -LLHLS_EINVAL, "The video frame ends inside a NAL unit length.");
    size_t size = 0;
    for (unsigned i = 0; i < w->length_size; i++)
        size = size << 8 | w->data[w->off + i];
    w->off += w->length_size;
    if (size == 0)
        return fail(why, -LLHLS_EINVAL, "The video frame holds a zero-length NAL unit.");
    if (size > w->len - w->off)
        return fail(why, -LLHLS_EINVAL, "A NAL unit length runs past the end of the video frame.");
    *nal = w->data + w->off;
    *n = size;
    w->off += size;
    return 1;
}

int llhls_avc_check_frame(const uint8_t *data, size_t len, uint8_t nal_length_size, int *idr, const char **why)
{
    llhls_nal_walk_t w;
    const uint8_t *nal;
    size_t n;
    int found = 0, r;

    if (idr)
        *idr = 0;
    if ((r = llhls_nal_walk_start(&w, data, len, nal_length_size, why)) != 0)
        return r;
    while ((r = llhls_nal_walk_next(&w, &nal, &n, why)) == 1)
        if ((nal[0] & 0x1f) == 5)
            found = 1;
    if (r < 0)
        return r;
    if (idr)
        *idr = found;
    return 0;
}

static const uint32_t aac_rates[13] = {
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
};

static uint32_t read_object_type(llhls_bits_t *b)
{
    uint32_t aot = llhls_bits_u(b, 5);

    return aot == 31 ? 32 + llhls_bits_u(b, 6) : aot;
}

/* Reads a sampling frequency index (and the explicit rate after index 15). */
static int read_sample_rate(llhls_bits_t *b, uint32_t *rate, const char **why)
{
    uint32_t index = llhls_bits_u(b, 4);

    if (index == 13 || index == 14)
        return fail(why, -LLHLS_EINVAL, "The AudioSpecificConfig uses a reserved sampling frequency index (13 or 14).");
    *rate = index == 15 ? llhls_bits_u(b, 24) : aac_rates[index];
    if (b->err)
        return fail(why, -LLHLS_EINVAL, "The AudioSpecificConfig ends inside its sampling frequency.");
    if (*rate == 0 || *rate > 192000)
        return fail(why, -LLHLS_EINVAL, "The AudioSpecificConfig gives a sampling frequency of 0 or over 192 kHz.");
    return 0;
}

static int general_audio(uint32_t aot)
{
    switch (aot) {
    case 1:
    case 2:
    case 3:
    case 4:
    case 6:
    case 7:
    case 17:
    case 19:
    case 20:
    case 21:
    case 22:
    case 23: return 1;
    default: return 0;
    }
}

/* Channel counts for channelConfiguration 1-14; 0 marks the reserved ones. */
static const uint8_t aac_channels[15] = {0, 1, 2, 3, 4, 5, 6, 8, 0, 0, 0, 7, 8, 24, 8};

int llhls_aac_parse_config(const uint8_t *asc, size_t len, llhls_aac_config_t *out, const char **why)
{
    llhls_bits_t b;
    uint32_t rate, ext_rate = 0;
    int sbr = 0, rc;

    if (!asc || len < 2)
        return fail(why, -LLHLS_EINVAL, "The AudioSpecificConfig is shorter than 2 bytes.");
    llhls_bits_init(&b, asc, len, 0);
    uint32_t aot = read_object_type(&b);
    if (aot == 0)
        return fail(why, -LLHLS_EINVAL, "The AudioSpecificConfig has audio object type 0 (null).");
    if ((rc = read_sample_rate(&b, &rate, why)) < 0)
        return rc;
    uint32_t channel_config = llhls_bits_u(&b, 4);
    if (b.err)
        return fail(why, -LLHLS_EINVAL, "The AudioSpecificConfig ends inside its header.");
    if (channel_config == 0)
        return fail(why, -LLHLS_EUNSUPPORTED,
                    "AAC channel configuration 0 (channels in a program config element) is not supported.");
    if (channel_config >= 15 || aac_channels[channel_config] == 0)
        return fail(why, -LLHLS_EINVAL, "The AudioSpecificConfig uses a reserved channel configuration.");

    /* HE-AAC (SBR) and HE-AACv2 (SBR + PS) signalled explicitly: the output
     * rate follows, then the object type of the AAC core underneath. */
    uint32_t signalled = aot;
    if (aot == 5 || aot == 29) {
        sbr = 1;
        if ((rc = read_sample_rate(&b, &ext_rate, why)) < 0)
            return rc;
        aot = read_object_type(&b);
    }
    if (b.err)
        return fail(why, -LLHLS_EINVAL, "The AudioSpecificConfig ends inside its header.");
    if (!general_audio(aot))
        return fail(why, -LLHLS_EUNSUPPORTED, "The AAC audio object type is not supported; publish AAC-LC or HE-AAC.");

    /* GASpecificConfig, read to its end so that a backward-compatible SBR
     * extension after it can be found. */
    uint32_t frame_length = llhls_bits_u(&b, 1) ? 960 : 1024;
    if (llhls_bits_u(&b, 1)) /* dependsOnCoreCoder */
        llhls_bits_u(&b, 14);
    uint32_t extension = llhls_bits_u(&b, 1);
    if (aot == 6 || aot == 20)
        llhls_bits_u(&b, 3); /* layerNr */
    if (extension) {
        if (aot == 22)
            llhls_bits_u(&b, 16); /* numOfSubFrame, layer_length */
        if (aot == 17 || aot == 19 || aot == 20 || aot == 23)
            llhls_bits_u(&b, 3); /* the three resilience flags */
        llhls_bits_u(&b, 1);     /* extensionFlag3 */
    }
    if (b.err)
        return fail(why, -LLHLS_EINVAL, "The AudioSpecificConfig ends inside its GASpecificConfig.");
    if (aot == 17 || (aot >= 19 && aot <= 27)) {
        if (llhls_bits_u(&b, 2) > 1) /* epConfig 2 and 3 need error protection */
            return fail(why, -LLHLS_EUNSUPPORTED, "AAC with error protection (epConfig 2 or 3) is not supported.");
    }

    /* Some encoders signal SBR after the core config (sync word 0x2b7),
     * so that old decoders still play the AAC-LC core. */
    if (!sbr && !b.err && llhls_bits_left(&b) >= 16) {
        llhls_bits_t peek = b;
        if (llhls_bits_u(&peek, 11) == 0x2b7 && read_object_type(&peek) == 5 && llhls_bits_u(&peek, 1)) {
            if ((rc = read_sample_rate(&peek, &ext_rate, why)) < 0)
                return rc;
            sbr = 1;
            signalled = 5;
        }
    }

    out->object_type = (uint8_t)signalled;
    out->channels = aac_channels[channel_config];
    if (sbr) {
        /* The decoder outputs twice the core's samples per frame at the
         * extension rate, so duration = frame_length / sample_rate holds. */
        out->sample_rate = ext_rate;
        out->frame_length = (uint16_t)(frame_length * (ext_rate == rate ? 1 : 2));
    } else {
        out->sample_rate = rate;
        out->frame_length = (uint16_t)frame_length;
    }
    snprintf(out->codec, sizeof(out->codec), "mp4a.40.%u", (unsigned)signalled);
    return 0;
}
