/* Bitstream conversions for llhls-push.  MPEG-TS and raw elementary streams
 * carry H.264 and HEVC in Annex-B form with in-band parameter sets, and AAC
 * behind ADTS headers; FLV wants length-prefixed NAL units, a decoder
 * configuration record and a bare AudioSpecificConfig, so these are built
 * here from what the stream itself holds. */
#include "nal.h"

#include "bits.h"
#include "error.h"

#include <string.h>

enum { AVC_SPS = 7, AVC_PPS = 8, AVC_AUD = 9 };
enum { HEVC_VPS = 32, HEVC_SPS = 33, HEVC_PPS = 34, HEVC_AUD = 35 };

void push_params_init(push_params_t *ps)
{
    /* Parameter sets are small; a cap keeps a corrupt stream from growing
     * them without end. */
    llhls_buf_init(&ps->vps, 1 << 16);
    llhls_buf_init(&ps->sps, 1 << 16);
    llhls_buf_init(&ps->pps, 1 << 16);
}

void push_params_free(push_params_t *ps)
{
    llhls_buf_free(&ps->vps);
    llhls_buf_free(&ps->sps);
    llhls_buf_free(&ps->pps);
}

int push_nal_is_annexb(const uint8_t *p, size_t len)
{
    if (len >= 3 && p[0] == 0 && p[1] == 0 && p[2] == 1)
        return 1;
    return len >= 4 && p[0] == 0 && p[1] == 0 && p[2] == 0 && p[3] == 1;
}

static int nal_type(const uint8_t *nal, int hevc)
{
    return hevc ? (nal[0] >> 1) & 0x3f : nal[0] & 0x1f;
}

/* Remembers nal when it is the first parameter set of its kind. */
static int keep_param(push_params_t *ps, const uint8_t *nal, size_t len, int hevc)
{
    if (ps == NULL || len < 2)
        return 0;
    int t = nal_type(nal, hevc);
    llhls_buf_t *b = NULL;
    if (hevc)
        b = t == HEVC_VPS ? &ps->vps : t == HEVC_SPS ? &ps->sps : t == HEVC_PPS ? &ps->pps : NULL;
    else
        b = t == AVC_SPS ? &ps->sps : t == AVC_PPS ? &ps->pps : NULL;
    if (b == NULL || b->len > 0)
        return 0;
    return llhls_buf_append(b, nal, len);
}

static int put32(llhls_buf_t *out, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    return llhls_buf_append(out, b, 4);
}

/* Finds the next start code at or after i; returns its offset (len when none)
 * and sets *sc_len to its size. */
static size_t next_start(const uint8_t *p, size_t len, size_t i, size_t *sc_len)
{
    for (; i + 3 <= len; i++) {
        if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1) {
            *sc_len = 3;
            return i;
        }
    }
    *sc_len = 0;
    return len;
}

int push_nal_annexb_to_lp(const uint8_t *p, size_t len, int hevc, llhls_buf_t *out, push_params_t *ps)
{
    size_t sc;
    size_t i = next_start(p, len, 0, &sc);
    while (i < len) {
        size_t begin = i + sc;
        size_t end = next_start(p, len, begin, &sc);
        size_t next = end;
        /* Zero bytes before a start code belong to it (a 4-byte start code or
         * trailing_zero_8bits), not to the NAL unit. */
        while (end > begin && p[end - 1] == 0)
            end--;
        if (end - begin >= (size_t)(hevc ? 2 : 1)) {
            int t = nal_type(p + begin, hevc);
            if (t != (hevc ? HEVC_AUD : AVC_AUD)) {
                int rc = keep_param(ps, p + begin, end - begin, hevc);
                if (rc == 0)
                    rc = put32(out, (uint32_t)(end - begin));
                if (rc == 0)
                    rc = llhls_buf_append(out, p + begin, end - begin);
                if (rc < 0)
                    return rc;
            }
        }
        i = next;
    }
    return 0;
}

int push_nal_scan_lp(const uint8_t *p, size_t len, int hevc, push_params_t *ps)
{
    size_t pos = 0;
    while (len - pos >= 4) {
        size_t n = (size_t)p[pos] << 24 | (size_t)p[pos + 1] << 16 | (size_t)p[pos + 2] << 8 | p[pos + 3];
        pos += 4;
        if (n > len - pos)
            return -LLHLS_EINVAL;
        int rc = keep_param(ps, p + pos, n, hevc);
        if (rc < 0)
            return rc;
        pos += n;
    }
    return 0;
}

static int put16(llhls_buf_t *out, size_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    return llhls_buf_append(out, b, 2);
}

int push_nal_build_avcc(const push_params_t *ps, llhls_buf_t *out, const char **why)
{
    const llhls_buf_t *sps = &ps->sps, *pps = &ps->pps;
    if (sps->len < 4 || pps->len < 1) {
        *why = "no SPS and PPS in the H.264 stream";
        return -LLHLS_EINVAL;
    }
    if (sps->len > 0xffff || pps->len > 0xffff) {
        *why = "H.264 parameter set longer than 65535 bytes";
        return -LLHLS_EINVAL;
    }
    uint8_t head[6] = {1, sps->data[1], sps->data[2], sps->data[3], 0xfc | 3, 0xe0 | 1};
    int rc = llhls_buf_append(out, head, sizeof head);
    if (rc == 0)
        rc = put16(out, sps->len);
    if (rc == 0)
        rc = llhls_buf_append(out, sps->data, sps->len);
    if (rc == 0)
        rc = llhls_buf_append(out, (const uint8_t[]){1}, 1);
    if (rc == 0)
        rc = put16(out, pps->len);
    if (rc == 0)
        rc = llhls_buf_append(out, pps->data, pps->len);
    return rc;
}

typedef struct hevc_sps_info {
    uint8_t ptl[12];        /* general profile_tier_level, byte-aligned in the SPS */
    uint8_t max_sub_layers; /* sps_max_sub_layers_minus1 + 1 */
    uint8_t temporal_id_nested;
    uint8_t chroma_format;
    uint8_t bit_depth_luma_minus8, bit_depth_chroma_minus8;
} hevc_sps_info_t;

static int parse_hevc_sps(const uint8_t *nal, size_t len, hevc_sps_info_t *out)
{
    llhls_bits_t b;
    if (len < 2 + 1 + 12)
        return -LLHLS_EINVAL;
    /* The NAL header's two bytes never hold an emulation prevention byte. */
    llhls_bits_init(&b, nal + 2, len - 2, 1);
    llhls_bits_u(&b, 4); /* sps_video_parameter_set_id */
    uint32_t max_sub_minus1 = llhls_bits_u(&b, 3);
    out->max_sub_layers = (uint8_t)(max_sub_minus1 + 1);
    out->temporal_id_nested = (uint8_t)llhls_bits_u(&b, 1);
    for (int i = 0; i < 12; i++)
        out->ptl[i] = (uint8_t)llhls_bits_u(&b, 8);
    uint8_t profile_present[8] = {0}, level_present[8] = {0};
    for (uint32_t i = 0; i < max_sub_minus1; i++) {
        profile_present[i] = (uint8_t)llhls_bits_u(&b, 1);
        level_present[i] = (uint8_t)llhls_bits_u(&b, 1);
    }
    if (max_sub_minus1 > 0)
        for (uint32_t i = max_sub_minus1; i < 8; i++)
            llhls_bits_u(&b, 2);
    for (uint32_t i = 0; i < max_sub_minus1; i++) {
        if (profile_present[i]) {
            llhls_bits_u(&b, 32);
            llhls_bits_u(&b, 32);
            llhls_bits_u(&b, 24);
        }
        if (level_present[i])
            llhls_bits_u(&b, 8);
    }
    llhls_bits_ue(&b); /* sps_seq_parameter_set_id */
    uint32_t chroma = llhls_bits_ue(&b);
    if (chroma == 3)
        llhls_bits_u(&b, 1);
    llhls_bits_ue(&b); /* width */
    llhls_bits_ue(&b); /* height */
    if (llhls_bits_u(&b, 1)) {
        for (int i = 0; i < 4; i++)
            llhls_bits_ue(&b);
    }
    uint32_t bdl = llhls_bits_ue(&b), bdc = llhls_bits_ue(&b);
    if (b.err || chroma > 3 || bdl > 7 || bdc > 7)
        return -LLHLS_EINVAL;
    out->chroma_format = (uint8_t)chroma;
    out->bit_depth_luma_minus8 = (uint8_t)bdl;
    out->bit_depth_chroma_minus8 = (uint8_t)bdc;
    return 0;
}

static int put_array(llhls_buf_t *out, int type, const llhls_buf_t *nal)
{
    uint8_t head[3] = {(uint8_t)(0x80 | type), 0, 1}; /* array_completeness, one NAL unit */
    int rc = llhls_buf_append(out, head, sizeof head);
    if (rc == 0)
        rc = put16(out, nal->len);
    if (rc == 0)
        rc = llhls_buf_append(out, nal->data, nal->len);
    return rc;
}

int push_nal_build_hvcc(const push_params_t *ps, llhls_buf_t *out, const char **why)
{
    if (ps->vps.len < 2 || ps->sps.len < 2 || ps->pps.len < 2) {
        *why = "no VPS, SPS and PPS in the HEVC stream";
        return -LLHLS_EINVAL;
    }
    if (ps->vps.len > 0xffff || ps->sps.len > 0xffff || ps->pps.len > 0xffff) {
        *why = "HEVC parameter set longer than 65535 bytes";
        return -LLHLS_EINVAL;
    }
    hevc_sps_info_t si;
    if (parse_hevc_sps(ps->sps.data, ps->sps.len, &si) < 0) {
        *why = "malformed HEVC SPS";
        return -LLHLS_EINVAL;
    }
    uint8_t h[23];
    h[0] = 1;
    memcpy(h + 1, si.ptl, 12);
    h[13] = 0xf0; /* min_spatial_segmentation_idc 0 */
    h[14] = 0x00;
    h[15] = 0xfc; /* parallelismType 0: unknown */
    h[16] = (uint8_t)(0xfc | si.chroma_format);
    h[17] = (uint8_t)(0xf8 | si.bit_depth_luma_minus8);
    h[18] = (uint8_t)(0xf8 | si.bit_depth_chroma_minus8);
    h[19] = 0; /* avgFrameRate unknown */
    h[20] = 0;
    h[21] = (uint8_t)((si.max_sub_layers & 7) << 3 | (si.temporal_id_nested & 1) << 2 | 3);
    h[22] = 3; /* VPS, SPS and PPS arrays */
    int rc = llhls_buf_append(out, h, sizeof h);
    if (rc == 0)
        rc = put_array(out, HEVC_VPS, &ps->vps);
    if (rc == 0)
        rc = put_array(out, HEVC_SPS, &ps->sps);
    if (rc == 0)
        rc = put_array(out, HEVC_PPS, &ps->pps);
    return rc;
}

int push_adts_parse(const uint8_t *p, size_t len, size_t *hdr_len, size_t *frame_len, uint8_t asc[2])
{
    if (len < 7 || p[0] != 0xff || (p[1] & 0xf6) != 0xf0)
        return -LLHLS_EINVAL;
    unsigned profile = p[2] >> 6; /* object type - 1 */
    unsigned sf_index = (p[2] >> 2) & 0x0f;
    unsigned channels = (p[2] & 1) << 2 | p[3] >> 6;
    size_t flen = (size_t)(p[3] & 3) << 11 | (size_t)p[4] << 3 | p[5] >> 5;
    size_t hlen = (p[1] & 1) ? 7 : 9; /* protection_absent, else a CRC follows */
    if (sf_index > 12 || flen < hlen || flen > len)
        return -LLHLS_EINVAL;
    unsigned object_type = profile + 1;
    asc[0] = (uint8_t)(object_type << 3 | sf_index >> 1);
    asc[1] = (uint8_t)((sf_index & 1) << 7 | channels << 3);
    *hdr_len = hlen;
    *frame_len = flen;
    return 0;
}
