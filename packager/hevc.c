/* HEVC configuration parsing for what an RTMP publisher sends in its
 * sequence header: the HEVCDecoderConfigurationRecord (hvcC) and the SPS
 * inside it, read as far as the VUI timing info.  The results name the
 * stream in playlists (the ISO/IEC 14496-15 Annex E codec string,
 * resolution, frame rate); every length and count comes from the network
 * and is bounded before it is used. */
#include "hevc.h"

#include "bits.h"
#include "codec.h"
#include "error.h"

#include <stdio.h>
#include <string.h>

#define MAX_PICTURE_SIDE 16384
/* As for H.264: a time base finer than this is a clock, not a frame rate. */
#define MAX_FRAME_RATE_MILLI 1000000u
#define NAL_VPS 32
#define NAL_SPS 33
#define NAL_PPS 34
#define HVCC_HEADER 23
/* The limits H.265 itself sets on the SPS syntax (7.4.3.2). */
#define MAX_SUB_LAYERS 7
#define MAX_SHORT_TERM_RPS 64
#define MAX_LONG_TERM_REFS 32
#define MAX_DELTA_POCS 16

static int fail(const char **why, int err, const char *sentence)
{
    if (why)
        *why = sentence;
    return err;
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* profile_tier_level(1, max_sub_layers_minus1): the general part is kept,
 * the sub-layer parts only stepped over. */
static void read_profile_tier_level(llhls_bits_t *b, unsigned max_sub_layers_minus1, llhls_hevc_config_t *c)
{
    uint8_t profile_present[MAX_SUB_LAYERS] = {0}, level_present[MAX_SUB_LAYERS] = {0};

    c->general_profile_space = (uint8_t)llhls_bits_u(b, 2);
    c->tier_flag = (uint8_t)llhls_bits_u(b, 1);
    c->profile_idc = (uint8_t)llhls_bits_u(b, 5);
    c->profile_compatibility_flags = llhls_bits_u(b, 32);
    for (int i = 0; i < 6; i++)
        c->constraint_flags[i] = (uint8_t)llhls_bits_u(b, 8);
    c->level_idc = (uint8_t)llhls_bits_u(b, 8);
    for (unsigned i = 0; i < max_sub_layers_minus1; i++) {
        profile_present[i] = (uint8_t)llhls_bits_u(b, 1);
        level_present[i] = (uint8_t)llhls_bits_u(b, 1);
    }
    if (max_sub_layers_minus1 > 0)
        llhls_bits_u(b, 2 * (8 - (int)max_sub_layers_minus1)); /* reserved_zero_2bits */
    for (unsigned i = 0; i < max_sub_layers_minus1; i++) {
        if (profile_present[i]) {
            /* space, tier, idc, 32 compatibility flags, 48 constraint bits */
            llhls_bits_u(b, 8);
            llhls_bits_u(b, 32);
            llhls_bits_u(b, 24);
            llhls_bits_u(b, 24);
        }
        if (level_present[i])
            llhls_bits_u(b, 8);
    }
}

/* scaling_list_data(): the values matter to a decoder only. */
static int skip_scaling_list_data(llhls_bits_t *b)
{
    for (int size_id = 0; size_id < 4; size_id++) {
        for (int matrix_id = 0; matrix_id < 6; matrix_id += size_id == 3 ? 3 : 1) {
            if (!llhls_bits_u(b, 1)) { /* scaling_list_pred_mode_flag */
                if (llhls_bits_ue(b) > (unsigned)matrix_id / (size_id == 3 ? 3 : 1))
                    return -1;
                continue;
            }
            int coefs = size_id == 0 ? 16 : 64;
            if (size_id > 1 && llhls_bits_se(b) > 247) /* scaling_list_dc_coef_minus8 */
                return -1;
            for (int i = 0; i < coefs && !b->err; i++) {
                int32_t delta = llhls_bits_se(b);
                if (delta < -128 || delta > 127)
                    return -1;
            }
        }
        if (b->err)
            return -1;
    }
    return b->err ? -1 : 0;
}

/* st_ref_pic_set(idx) as it appears in an SPS.  An inter-predicted set is
 * coded against the set before it (delta_idx_minus1 only exists in slice
 * headers), and needs that set's count of pictures, hence num_delta_pocs. */
static int skip_short_term_rps(llhls_bits_t *b, unsigned idx, uint8_t *num_delta_pocs)
{
    if (idx != 0 && llhls_bits_u(b, 1)) { /* inter_ref_pic_set_prediction_flag */
        llhls_bits_u(b, 1);               /* delta_rps_sign */
        if (llhls_bits_ue(b) > 32767)     /* abs_delta_rps_minus1 */
            return -1;
        unsigned count = 0;
        for (unsigned j = 0; j <= num_delta_pocs[idx - 1]; j++) {
            unsigned used = llhls_bits_u(b, 1);
            unsigned use_delta = used ? 1 : llhls_bits_u(b, 1);
            count += use_delta;
        }
        if (b->err || count > MAX_DELTA_POCS)
            return -1;
        num_delta_pocs[idx] = (uint8_t)count;
        return 0;
    }
    uint32_t negative = llhls_bits_ue(b), positive = llhls_bits_ue(b);
    if (b->err || negative > MAX_DELTA_POCS || positive > MAX_DELTA_POCS || negative + positive > MAX_DELTA_POCS)
        return -1;
    for (uint32_t i = 0; i < negative + positive && !b->err; i++) {
        if (llhls_bits_ue(b) > 32767) /* delta_poc_s0_minus1 / delta_poc_s1_minus1 */
            return -1;
        llhls_bits_u(b, 1); /* used_by_curr_pic_s0_flag / s1 */
    }
    num_delta_pocs[idx] = (uint8_t)(negative + positive);
    return b->err ? -1 : 0;
}

/* vui_parameters() up to and including the timing info. */
static int read_vui_timing(llhls_bits_t *b, uint32_t *units, uint32_t *scale)
{
    *units = *scale = 0;
    if (llhls_bits_u(b, 1) && llhls_bits_u(b, 8) == 255) /* aspect_ratio_idc == EXTENDED_SAR */
        llhls_bits_u(b, 32);
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
    llhls_bits_u(b, 3);       /* neutral_chroma_indication, field_seq, frame_field_info_present */
    if (llhls_bits_u(b, 1)) { /* default_display_window_flag */
        for (int i = 0; i < 4; i++)
            llhls_bits_ue(b);
    }
    if (llhls_bits_u(b, 1)) { /* vui_timing_info_present_flag */
        *units = llhls_bits_u(b, 32);
        *scale = llhls_bits_u(b, 32);
    }
    return b->err ? -1 : 0;
}

/* Everything between the bit depths and the VUI, stepped over; then the
 * VUI timing.  Returns the frame rate in milli-frames per second, or 0
 * when it is absent or cannot be reached. */
static uint32_t read_frame_rate(llhls_bits_t *b, unsigned max_sub_layers_minus1)
{
    uint32_t log2_max_poc_lsb = llhls_bits_ue(b) + 4;
    if (b->err || log2_max_poc_lsb > 16)
        return 0;
    unsigned first = llhls_bits_u(b, 1) ? 0 : max_sub_layers_minus1; /* sub_layer_ordering_info_present */
    for (unsigned i = first; i <= max_sub_layers_minus1; i++) {
        llhls_bits_ue(b); /* max_dec_pic_buffering_minus1, max_num_reorder_pics, max_latency_increase_plus1 */
        llhls_bits_ue(b);
        llhls_bits_ue(b);
    }
    for (int i = 0; i < 6; i++)
        llhls_bits_ue(b); /* coding and transform block sizes, transform hierarchy depths */
    if (llhls_bits_u(b, 1) && llhls_bits_u(b, 1) && skip_scaling_list_data(b) < 0) /* scaling lists in the SPS */
        return 0;
    llhls_bits_u(b, 2);       /* amp_enabled_flag, sample_adaptive_offset_enabled_flag */
    if (llhls_bits_u(b, 1)) { /* pcm_enabled_flag */
        llhls_bits_u(b, 8);
        llhls_bits_ue(b);
        llhls_bits_ue(b);
        llhls_bits_u(b, 1);
    }
    uint32_t sets = llhls_bits_ue(b);
    if (b->err || sets > MAX_SHORT_TERM_RPS)
        return 0;
    uint8_t num_delta_pocs[MAX_SHORT_TERM_RPS];
    for (uint32_t i = 0; i < sets; i++) {
        if (skip_short_term_rps(b, i, num_delta_pocs) < 0)
            return 0;
    }
    if (llhls_bits_u(b, 1)) { /* long_term_ref_pics_present_flag */
        uint32_t n = llhls_bits_ue(b);
        if (b->err || n > MAX_LONG_TERM_REFS)
            return 0;
        for (uint32_t i = 0; i < n; i++)
            llhls_bits_u(b, (int)log2_max_poc_lsb + 1); /* lt_ref_pic_poc_lsb_sps, used_by_curr_pic_lt_sps_flag */
    }
    llhls_bits_u(b, 2); /* sps_temporal_mvp_enabled_flag, strong_intra_smoothing_enabled_flag */
    uint32_t units = 0, scale = 0;
    if (!llhls_bits_u(b, 1) || b->err || read_vui_timing(b, &units, &scale) < 0)
        return 0;
    if (units == 0 || scale == 0)
        return 0;
    /* Unlike H.264, a tick is a whole picture. */
    uint64_t milli = ((uint64_t)scale * 1000 + units / 2) / units;
    return milli <= MAX_FRAME_RATE_MILLI ? (uint32_t)milli : 0;
}

/* Bit j of the coded 32 flags (general_profile_compatibility_flag[j]) is
 * bit 31 - j of the value; Annex E prints them with flag 0 as bit 0. */
static uint32_t reverse32(uint32_t v)
{
    uint32_t r = 0;

    for (int i = 0; i < 32; i++) {
        r = r << 1 | (v & 1);
        v >>= 1;
    }
    return r;
}

static void make_codec_string(llhls_hevc_config_t *c)
{
    static const char *const spaces[4] = {"", "A", "B", "C"};
    char *p = c->codec;
    size_t left = sizeof(c->codec);
    int n = snprintf(p, left, "hvc1.%s%u.%X.%c%u", spaces[c->general_profile_space & 3], c->profile_idc,
                     reverse32(c->profile_compatibility_flags), c->tier_flag ? 'H' : 'L', c->level_idc);
    /* The constraint bytes, trailing zero bytes left out. */
    int last = 5;
    while (last >= 0 && c->constraint_flags[last] == 0)
        last--;
    for (int i = 0; i <= last && n > 0 && (size_t)n < left; i++)
        n += snprintf(p + n, left - (size_t)n, ".%02X", c->constraint_flags[i]);
}

int llhls_hevc_parse_sps(const uint8_t *nal, size_t len, llhls_hevc_config_t *out, const char **why)
{
    llhls_bits_t b;
    llhls_hevc_config_t c;

    if (!nal || len < 3)
        return fail(why, -LLHLS_EINVAL, "The HEVC SPS is shorter than its 2-byte header and first byte.");
    if ((nal[0] & 0x80) || ((nal[0] >> 1) & 0x3f) != NAL_SPS)
        return fail(why, -LLHLS_EINVAL, "The HEVC SPS NAL unit does not have NAL type 33.");
    if (((nal[0] & 1) << 5 | nal[1] >> 3) != 0)
        return fail(why, -LLHLS_EUNSUPPORTED, "The HEVC SPS belongs to an enhancement layer (nuh_layer_id not 0).");

    memset(&c, 0, sizeof(c));
    c.nal_length_size = out->nal_length_size;
    llhls_bits_init(&b, nal + 2, len - 2, 1);
    llhls_bits_u(&b, 4); /* sps_video_parameter_set_id */
    unsigned max_sub_layers_minus1 = llhls_bits_u(&b, 3);
    llhls_bits_u(&b, 1); /* sps_temporal_id_nesting_flag */
    if (max_sub_layers_minus1 >= MAX_SUB_LAYERS)
        return fail(why, -LLHLS_EINVAL, "The HEVC SPS declares more than 7 temporal sub-layers.");
    read_profile_tier_level(&b, max_sub_layers_minus1, &c);
    if (b.err)
        return fail(why, -LLHLS_EINVAL, "The HEVC SPS ends inside its profile_tier_level.");
    if (llhls_bits_ue(&b) > 15)
        return fail(why, -LLHLS_EINVAL, "The HEVC SPS id is over 15.");
    uint32_t chroma_format_idc = llhls_bits_ue(&b);
    if (chroma_format_idc > 3)
        return fail(why, -LLHLS_EINVAL, "The HEVC SPS has a chroma_format_idc over 3.");
    uint32_t separate_planes = chroma_format_idc == 3 ? llhls_bits_u(&b, 1) : 0;
    uint64_t coded_w = llhls_bits_ue(&b), coded_h = llhls_bits_ue(&b);
    uint64_t left = 0, right = 0, top = 0, bottom = 0;
    if (llhls_bits_u(&b, 1)) { /* conformance_window_flag */
        left = llhls_bits_ue(&b);
        right = llhls_bits_ue(&b);
        top = llhls_bits_ue(&b);
        bottom = llhls_bits_ue(&b);
    }
    uint32_t depth_luma = llhls_bits_ue(&b), depth_chroma = llhls_bits_ue(&b);
    if (b.err)
        return fail(why, -LLHLS_EINVAL, "The HEVC SPS ends before its bit depths.");
    if (coded_w == 0 || coded_h == 0)
        return fail(why, -LLHLS_EINVAL, "The HEVC SPS has a picture width or height of 0.");
    if (depth_luma > 8 || depth_chroma > 8)
        return fail(why, -LLHLS_EINVAL, "The HEVC SPS has a bit depth over 16.");

    /* The window is counted in chroma samples. */
    uint32_t chroma_array_type = separate_planes ? 0 : chroma_format_idc;
    uint64_t sub_w = chroma_array_type == 1 || chroma_array_type == 2 ? 2 : 1;
    uint64_t sub_h = chroma_array_type == 1 ? 2 : 1;
    uint64_t cut_w = (left + right) * sub_w, cut_h = (top + bottom) * sub_h;
    if (cut_w >= coded_w || cut_h >= coded_h)
        return fail(why, -LLHLS_EINVAL, "The HEVC SPS crops away the whole picture.");
    uint64_t width = coded_w - cut_w, height = coded_h - cut_h;
    if (width > MAX_PICTURE_SIDE || height > MAX_PICTURE_SIDE)
        return fail(why, -LLHLS_EINVAL, "The HEVC SPS describes a picture wider or taller than 16384 pixels.");

    c.width = (uint32_t)width;
    c.height = (uint32_t)height;
    c.chroma_format_idc = (uint8_t)chroma_format_idc;
    c.bit_depth_luma = (uint8_t)(depth_luma + 8);
    c.bit_depth_chroma = (uint8_t)(depth_chroma + 8);
    c.frame_rate_milli = read_frame_rate(&b, max_sub_layers_minus1);
    make_codec_string(&c);
    *out = c;
    return 0;
}

int llhls_hevc_parse_config(const uint8_t *hvcc, size_t len, llhls_hevc_config_t *out, const char **why)
{
    if (!hvcc || len < HVCC_HEADER)
        return fail(why, -LLHLS_EINVAL, "The hvcC record is shorter than its 23-byte header.");
    if (hvcc[0] != 1)
        return fail(why, -LLHLS_EINVAL, "The hvcC record is not version 1.");
    uint8_t nal_length_size = (uint8_t)((hvcc[21] & 3) + 1);
    if (nal_length_size == 3)
        return fail(why, -LLHLS_EINVAL, "The hvcC record declares 3-byte NAL lengths; only 1, 2 and 4 are valid.");

    unsigned arrays = hvcc[22];
    size_t off = HVCC_HEADER;
    const uint8_t *sps = NULL;
    size_t sps_len = 0;
    int have_vps = 0, have_pps = 0, other_layer_sps = 0;
    for (unsigned a = 0; a < arrays; a++) {
        if (len - off < 3)
            return fail(why, -LLHLS_EINVAL, "The hvcC record ends inside a NAL unit array header.");
        unsigned type = hvcc[off] & 0x3f;
        unsigned count = be16(hvcc + off + 1);
        off += 3;
        for (unsigned i = 0; i < count; i++) {
            if (len - off < 2)
                return fail(why, -LLHLS_EINVAL, "The hvcC record ends inside a NAL unit length.");
            size_t n = be16(hvcc + off);
            off += 2;
            if (n < 2)
                return fail(why, -LLHLS_EINVAL, "The hvcC record holds a NAL unit shorter than its 2-byte header.");
            if (n > len - off)
                return fail(why, -LLHLS_EINVAL, "A NAL unit length in the hvcC record runs past its end.");
            if (((hvcc[off] >> 1) & 0x3f) != type)
                return fail(why, -LLHLS_EINVAL, "A NAL unit in the hvcC record is not of its array's type.");
            if (type == NAL_SPS && sps == NULL) {
                if (((hvcc[off] & 1) << 5 | hvcc[off + 1] >> 3) == 0) {
                    sps = hvcc + off;
                    sps_len = n;
                } else {
                    other_layer_sps = 1;
                }
            }
            have_vps |= type == NAL_VPS;
            have_pps |= type == NAL_PPS;
            off += n;
        }
    }
    if (sps == NULL)
        return fail(why, -LLHLS_EINVAL,
                    other_layer_sps ? "The hvcC record holds no SPS for the base layer."
                                    : "The hvcC record holds no SPS.");
    /* Parameter sets out of band only: a record without them could be
     * played by no decoder from the init section alone. */
    if (!have_vps)
        return fail(why, -LLHLS_EINVAL, "The hvcC record holds no VPS.");
    if (!have_pps)
        return fail(why, -LLHLS_EINVAL, "The hvcC record holds no PPS.");

    llhls_hevc_config_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.nal_length_size = nal_length_size;
    int rc = llhls_hevc_parse_sps(sps, sps_len, &cfg, why);
    if (rc < 0)
        return rc;
    *out = cfg;
    return 0;
}

int llhls_hevc_check_frame(const uint8_t *data, size_t len, uint8_t nal_length_size, int *irap, const char **why)
{
    llhls_nal_walk_t w;
    const uint8_t *nal;
    size_t n;
    int found = 0, r;

    if (irap)
        *irap = 0;
    if ((r = llhls_nal_walk_start(&w, data, len, nal_length_size, why)) != 0)
        return r;
    while ((r = llhls_nal_walk_next(&w, &nal, &n, why)) == 1) {
        if (n < 2)
            return fail(why, -LLHLS_EINVAL, "The video frame holds an HEVC NAL unit shorter than its 2-byte header.");
        unsigned type = (nal[0] >> 1) & 0x3f;
        if (type >= 16 && type <= 21)
            found = 1;
    }
    if (r < 0)
        return r;
    if (irap)
        *irap = found;
    return 0;
}
