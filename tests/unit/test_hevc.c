/* Tests for HEVC configuration parsing: hvcC records written by FFmpeg's mp4
 * muxer around libx265's parameter sets, from 360p to 8K, Main, Main 10,
 * 4:2:2 and high tier; SPSs built bit by bit for the syntax x265 does not
 * write (temporal sub-layers, scaling list data, inter-predicted reference
 * picture sets, long-term references); and malformed records and frames. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "packager/hevc.h"
#include "src/error.h"

/* Each record below is the hvcC box body of
 *     ffmpeg -f lavfi -i testsrc2=size=WxH:rate=R -frames:v 1 [-pix_fmt P] -c:v libx265 -preset ultrafast
 *         -x265-params info=0[:OPTIONS] -tag:v hvc1 out.mp4
 * with x265 3.5; the size, rate, pixel format and options are named above each. */

/* 640x360, 30 fps, keyint=30: Main, level 2.1 (63). */
static const uint8_t hvcc_main360[] = {
    0x01, 0x01, 0x60, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3f, 0xf0, 0x00, 0xfc, 0xfd, 0xf8, 0xf8,
    0x00, 0x00, 0x0f, 0x03, 0xa0, 0x00, 0x01, 0x00, 0x18, 0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00,
    0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x3f, 0x95, 0x94, 0x09, 0xa1, 0x00, 0x01, 0x00, 0x2b,
    0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x3f, 0xa0,
    0x05, 0x02, 0x01, 0x71, 0xf2, 0xe5, 0x95, 0x95, 0x29, 0x30, 0xbc, 0x05, 0xa0, 0x20, 0x00, 0x00, 0x03, 0x00, 0x20,
    0x00, 0x00, 0x03, 0x03, 0xc1, 0xa2, 0x00, 0x01, 0x00, 0x06, 0x44, 0x01, 0xc0, 0x73, 0xc1, 0x89,
};

/* 7680x4320, 60 fps: Main, level 6.1 (183). */
static const uint8_t hvcc_main8k[] = {
    0x01, 0x01, 0x60, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0xb7, 0xf0, 0x00, 0xfc, 0xfd, 0xf8, 0xf8,
    0x00, 0x00, 0x0f, 0x03, 0xa0, 0x00, 0x01, 0x00, 0x18, 0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00,
    0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0xb7, 0x95, 0x94, 0x09, 0xa1, 0x00, 0x01, 0x00, 0x2b,
    0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0xb7, 0xa0,
    0x00, 0xf0, 0x08, 0x00, 0x43, 0x85, 0x96, 0x56, 0x54, 0xa4, 0xc2, 0xf0, 0x16, 0x80, 0x80, 0x00, 0x00, 0x03, 0x00,
    0x80, 0x00, 0x00, 0x1e, 0x04, 0xa2, 0x00, 0x01, 0x00, 0x06, 0x44, 0x01, 0xc0, 0x73, 0xc1, 0x89,
};

/* 1920x1080, 60000/1001 fps, -pix_fmt yuv420p10le: Main 10, level 4.1 (123). */
static const uint8_t hvcc_main10_1080[] = {
    0x01, 0x02, 0x20, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7b, 0xf0, 0x00, 0xfc, 0xfd, 0xfa, 0xfa,
    0x00, 0x00, 0x0f, 0x03, 0xa0, 0x00, 0x01, 0x00, 0x18, 0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x02, 0x20, 0x00, 0x00,
    0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x7b, 0x95, 0x94, 0x09, 0xa1, 0x00, 0x01, 0x00, 0x2b,
    0x42, 0x01, 0x01, 0x02, 0x20, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x7b, 0xa0,
    0x03, 0xc0, 0x80, 0x11, 0x07, 0xca, 0xd9, 0x65, 0x65, 0x4a, 0x4c, 0x2f, 0x01, 0x68, 0x08, 0x00, 0x00, 0x1f, 0x48,
    0x00, 0x07, 0x53, 0x00, 0x40, 0xa2, 0x00, 0x01, 0x00, 0x06, 0x44, 0x01, 0xc0, 0x73, 0xc1, 0x89,
};

/* 854x480, 25 fps: coded as 856x480 with a 2-pixel conformance window on the right. */
static const uint8_t hvcc_crop480[] = {
    0x01, 0x01, 0x60, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x5a, 0xf0, 0x00, 0xfc, 0xfd, 0xf8, 0xf8,
    0x00, 0x00, 0x0f, 0x03, 0xa0, 0x00, 0x01, 0x00, 0x18, 0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00,
    0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x5a, 0x95, 0x94, 0x09, 0xa1, 0x00, 0x01, 0x00, 0x2b,
    0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x5a, 0xa0,
    0x06, 0xc2, 0x01, 0xe1, 0xcd, 0xe5, 0x95, 0x95, 0x29, 0x30, 0xbc, 0x05, 0xa0, 0x20, 0x00, 0x00, 0x03, 0x00, 0x20,
    0x00, 0x00, 0x03, 0x03, 0x21, 0xa2, 0x00, 0x01, 0x00, 0x06, 0x44, 0x01, 0xc0, 0x73, 0xc1, 0x89,
};

/* 1280x720, 50 fps, -pix_fmt yuv422p10le: format range extensions (Main 4:2:2 10), level 4 (120). */
static const uint8_t hvcc_rext422[] = {
    0x01, 0x04, 0x08, 0x00, 0x00, 0x00, 0x9d, 0x08, 0x00, 0x00, 0x00, 0x00, 0x78, 0xf0, 0x00, 0xfc, 0xfe, 0xfa,
    0xfa, 0x00, 0x00, 0x0f, 0x03, 0xa0, 0x00, 0x01, 0x00, 0x17, 0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x04, 0x08,
    0x00, 0x00, 0x03, 0x00, 0x9d, 0x08, 0x00, 0x00, 0x03, 0x00, 0x00, 0x78, 0x95, 0x94, 0x09, 0xa1, 0x00, 0x01,
    0x00, 0x29, 0x42, 0x01, 0x01, 0x04, 0x08, 0x00, 0x00, 0x03, 0x00, 0x9d, 0x08, 0x00, 0x00, 0x03, 0x00, 0x00,
    0x78, 0xb0, 0x02, 0x80, 0x80, 0x2d, 0x13, 0x65, 0x95, 0x95, 0x29, 0x30, 0xbc, 0x05, 0xa0, 0x20, 0x00, 0x00,
    0x03, 0x00, 0x20, 0x00, 0x00, 0x06, 0x41, 0xa2, 0x00, 0x01, 0x00, 0x06, 0x44, 0x01, 0xc0, 0x73, 0xc1, 0x89,
};

/* 3840x2160, 30 fps, level-idc=5.1:high-tier=1: Main, high tier, level 5.1 (153). */
static const uint8_t hvcc_high2160[] = {
    0x01, 0x21, 0x60, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x99, 0xf0, 0x00, 0xfc, 0xfd, 0xf8, 0xf8,
    0x00, 0x00, 0x0f, 0x03, 0xa0, 0x00, 0x01, 0x00, 0x18, 0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x21, 0x60, 0x00, 0x00,
    0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x99, 0x95, 0x94, 0x09, 0xa1, 0x00, 0x01, 0x00, 0x2c,
    0x42, 0x01, 0x01, 0x21, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x99, 0xa0,
    0x01, 0xe0, 0x20, 0x02, 0x1c, 0x59, 0x65, 0x65, 0x4a, 0x4c, 0x2f, 0x01, 0x68, 0x08, 0x00, 0x00, 0x03, 0x00, 0x08,
    0x00, 0x00, 0x03, 0x00, 0xf0, 0x40, 0xa2, 0x00, 0x01, 0x00, 0x06, 0x44, 0x01, 0xc0, 0x73, 0xc1, 0x89,
};

/* 640x360, 30 fps, no-vui-timing-info=1: the VUI carries no timing info. */
static const uint8_t hvcc_notiming[] = {
    0x01, 0x01, 0x60, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3f, 0xf0, 0x00, 0xfc, 0xfd,
    0xf8, 0xf8, 0x00, 0x00, 0x0f, 0x03, 0xa0, 0x00, 0x01, 0x00, 0x18, 0x40, 0x01, 0x0c, 0x01, 0xff, 0xff,
    0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x3f, 0x95, 0x94,
    0x09, 0xa1, 0x00, 0x01, 0x00, 0x21, 0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00,
    0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x3f, 0xa0, 0x05, 0x02, 0x01, 0x71, 0xf2, 0xe5, 0x95, 0x95, 0x29,
    0x30, 0xbc, 0x05, 0xa0, 0x02, 0xa2, 0x00, 0x01, 0x00, 0x06, 0x44, 0x01, 0xc0, 0x73, 0xc1, 0x89,
};

/* Where the SPS sits in hvcc_main360: its array entry's length at 55. */
#define MAIN360_SPS_OFF 57
#define MAIN360_SPS_LEN 43

static llhls_hevc_config_t parse_ok(const uint8_t *hvcc, size_t len)
{
    llhls_hevc_config_t c;
    const char *why = NULL;

    memset(&c, 0xaa, sizeof(c));
    int r = llhls_hevc_parse_config(hvcc, len, &c, &why);
    if (r != 0)
        fail_msg("parse failed: %s", why ? why : "(no reason)");
    return c;
}

static void test_hevc_parses_main_360p30(void **state)
{
    (void)state;
    llhls_hevc_config_t c = parse_ok(hvcc_main360, sizeof(hvcc_main360));
    assert_string_equal(c.codec, "hvc1.1.6.L63.90");
    assert_int_equal(c.general_profile_space, 0);
    assert_int_equal(c.tier_flag, 0);
    assert_int_equal(c.profile_idc, 1);
    /* Main and Main 10 compatible, as x265 writes for Main. */
    assert_int_equal(c.profile_compatibility_flags, 0x60000000u);
    static const uint8_t constraints[6] = {0x90, 0, 0, 0, 0, 0}; /* progressive source, frame only */
    assert_memory_equal(c.constraint_flags, constraints, 6);
    assert_int_equal(c.level_idc, 63);
    assert_int_equal(c.nal_length_size, 4);
    assert_int_equal(c.width, 640);
    assert_int_equal(c.height, 360);
    assert_int_equal(c.frame_rate_milli, 30000);
    assert_int_equal(c.bit_depth_luma, 8);
    assert_int_equal(c.bit_depth_chroma, 8);
    assert_int_equal(c.chroma_format_idc, 1);
}

static void test_hevc_parses_8k_main_level_6_1(void **state)
{
    (void)state;
    llhls_hevc_config_t c = parse_ok(hvcc_main8k, sizeof(hvcc_main8k));
    assert_string_equal(c.codec, "hvc1.1.6.L183.90");
    assert_int_equal(c.level_idc, 183);
    assert_int_equal(c.width, 7680);
    assert_int_equal(c.height, 4320);
    assert_int_equal(c.frame_rate_milli, 60000);
}

static void test_hevc_parses_main10_1080p5994(void **state)
{
    (void)state;
    llhls_hevc_config_t c = parse_ok(hvcc_main10_1080, sizeof(hvcc_main10_1080));
    assert_string_equal(c.codec, "hvc1.2.4.L123.90");
    assert_int_equal(c.profile_idc, 2);
    assert_int_equal(c.profile_compatibility_flags, 0x20000000u);
    assert_int_equal(c.bit_depth_luma, 10);
    assert_int_equal(c.bit_depth_chroma, 10);
    assert_int_equal(c.width, 1920);
    assert_int_equal(c.height, 1080);
    assert_int_equal(c.frame_rate_milli, 59940);
}

static void test_hevc_crops_conformance_window(void **state)
{
    (void)state;
    llhls_hevc_config_t c = parse_ok(hvcc_crop480, sizeof(hvcc_crop480));
    assert_int_equal(c.width, 854);
    assert_int_equal(c.height, 480);
    assert_int_equal(c.frame_rate_milli, 25000);
    assert_string_equal(c.codec, "hvc1.1.6.L90.90");
}

static void test_hevc_parses_range_extension_422_10(void **state)
{
    (void)state;
    llhls_hevc_config_t c = parse_ok(hvcc_rext422, sizeof(hvcc_rext422));
    /* RExt constraint flags (max_12bit .. lower_bit_rate) fill two bytes. */
    assert_string_equal(c.codec, "hvc1.4.10.L120.9D.08");
    assert_int_equal(c.profile_idc, 4);
    assert_int_equal(c.chroma_format_idc, 2);
    assert_int_equal(c.bit_depth_luma, 10);
    assert_int_equal(c.width, 1280);
    assert_int_equal(c.height, 720);
    assert_int_equal(c.frame_rate_milli, 50000);
}

static void test_hevc_parses_high_tier(void **state)
{
    (void)state;
    llhls_hevc_config_t c = parse_ok(hvcc_high2160, sizeof(hvcc_high2160));
    assert_string_equal(c.codec, "hvc1.1.6.H153.90");
    assert_int_equal(c.tier_flag, 1);
    assert_int_equal(c.width, 3840);
    assert_int_equal(c.height, 2160);
    assert_int_equal(c.frame_rate_milli, 30000);
}

static void test_hevc_without_timing_reports_rate_0(void **state)
{
    (void)state;
    llhls_hevc_config_t c = parse_ok(hvcc_notiming, sizeof(hvcc_notiming));
    assert_int_equal(c.frame_rate_milli, 0);
    assert_int_equal(c.width, 640);
    assert_string_equal(c.codec, "hvc1.1.6.L63.90");
}

/* ---- SPSs built bit by bit ---- */

typedef struct bw {
    uint8_t rbsp[512];
    size_t bits;
} bw_t;

static void put(bw_t *w, uint32_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        assert_true(w->bits / 8 < sizeof(w->rbsp));
        if ((v >> i) & 1)
            w->rbsp[w->bits / 8] |= (uint8_t)(0x80 >> (w->bits % 8));
        w->bits++;
    }
}

static void put_ue(bw_t *w, uint32_t v)
{
    uint64_t x = (uint64_t)v + 1;
    int len = 0;
    while ((x >> len) > 1)
        len++;
    put(w, 0, len);
    put(w, (uint32_t)x, len + 1);
}

static void put_se(bw_t *w, int32_t v)
{
    put_ue(w, v > 0 ? (uint32_t)(2 * v - 1) : (uint32_t)(-2 * v));
}

/* Ends the RBSP and escapes it into a NAL unit with the SPS header. */
static size_t finish_sps(bw_t *w, uint8_t *nal, size_t cap)
{
    put(w, 1, 1);
    while (w->bits % 8)
        put(w, 0, 1);
    size_t n = 0, zeros = 0;
    nal[n++] = 0x42;
    nal[n++] = 0x01;
    for (size_t i = 0; i < w->bits / 8; i++) {
        assert_true(n + 2 < cap);
        if (zeros >= 2 && w->rbsp[i] <= 3) {
            nal[n++] = 3;
            zeros = 0;
        }
        nal[n++] = w->rbsp[i];
        zeros = w->rbsp[i] == 0 ? zeros + 1 : 0;
    }
    return n;
}

typedef struct sps_shape {
    unsigned sub_layers_minus1;
    int scaling_list_data;
    int inter_rps;
    int long_term;
    int pcm;
    int display_window;
    uint32_t units, scale; /* 0: no timing info */
} sps_shape_t;

/* 1920x1080 Main level 4.1, coded 1088 high with 8 lines cropped, then the
 * syntax the shape asks for before the VUI.  FFmpeg's own reader (ffmpeg
 * -bsf:v trace_headers over these SPSs after a VPS) finds the same timing
 * info in every shape the tests use. */
static size_t build_sps(const sps_shape_t *s, uint8_t *nal, size_t cap)
{
    bw_t w;
    memset(&w, 0, sizeof(w));
    put(&w, 0, 4); /* sps_video_parameter_set_id */
    put(&w, s->sub_layers_minus1, 3);
    put(&w, 1, 1);    /* sps_temporal_id_nesting_flag */
    put(&w, 0x01, 8); /* space 0, main tier, profile 1 */
    put(&w, 0x60000000, 32);
    put(&w, 0xb0, 8); /* progressive, non-packed, frame only */
    put(&w, 0, 32);
    put(&w, 0, 8);
    put(&w, 123, 8);
    for (unsigned i = 0; i < s->sub_layers_minus1; i++) {
        put(&w, i == 0, 1); /* sub_layer_profile_present_flag */
        put(&w, 1, 1);      /* sub_layer_level_present_flag */
    }
    if (s->sub_layers_minus1 > 0)
        put(&w, 0, 2 * (8 - (int)s->sub_layers_minus1));
    for (unsigned i = 0; i < s->sub_layers_minus1; i++) {
        if (i == 0) {
            put(&w, 0x02, 8); /* a sub-layer that looks like Main 10: must not be taken */
            put(&w, 0x20000000, 32);
            put(&w, 0x80, 8);
            put(&w, 0, 32);
            put(&w, 0, 8);
        }
        put(&w, 90, 8);
    }
    put_ue(&w, 0); /* sps_seq_parameter_set_id */
    put_ue(&w, 1); /* 4:2:0 */
    put_ue(&w, 1920);
    put_ue(&w, 1088);
    put(&w, 1, 1);
    put_ue(&w, 0);
    put_ue(&w, 0);
    put_ue(&w, 0);
    put_ue(&w, 4); /* 8 lines at the bottom */
    put_ue(&w, 0); /* 8-bit */
    put_ue(&w, 0);
    put_ue(&w, 4); /* log2_max_pic_order_cnt_lsb_minus4: 8 bits */
    put(&w, 1, 1); /* sub_layer_ordering_info_present_flag */
    for (unsigned i = 0; i <= s->sub_layers_minus1; i++) {
        put_ue(&w, 4);
        put_ue(&w, 2);
        put_ue(&w, 0);
    }
    put_ue(&w, 0); /* block sizes and depths */
    put_ue(&w, 2);
    put_ue(&w, 0);
    put_ue(&w, 3);
    put_ue(&w, 1);
    put_ue(&w, 1);
    put(&w, s->scaling_list_data ? 1 : 0, 1); /* scaling_list_enabled_flag */
    if (s->scaling_list_data) {
        put(&w, 1, 1); /* sps_scaling_list_data_present_flag */
        for (int size_id = 0; size_id < 4; size_id++) {
            for (int matrix_id = 0; matrix_id < 6; matrix_id += size_id == 3 ? 3 : 1) {
                if (matrix_id % 2) { /* copied from the list before */
                    put(&w, 0, 1);
                    put_ue(&w, 1);
                    continue;
                }
                put(&w, 1, 1);
                if (size_id > 1)
                    put_se(&w, 8);
                for (int i = 0; i < (size_id == 0 ? 16 : 64); i++)
                    put_se(&w, i % 3 - 1);
            }
        }
    }
    put(&w, 1, 1); /* amp */
    put(&w, 1, 1); /* sao */
    put(&w, s->pcm ? 1 : 0, 1);
    if (s->pcm) {
        put(&w, 7, 4);
        put(&w, 7, 4);
        put_ue(&w, 0);
        put_ue(&w, 1);
        put(&w, 1, 1);
    }
    put_ue(&w, s->inter_rps ? 3 : 1); /* num_short_term_ref_pic_sets */
    put_ue(&w, 2);                    /* set 0: two before, one after */
    put_ue(&w, 1);
    put_ue(&w, 0);
    put(&w, 1, 1);
    put_ue(&w, 1);
    put(&w, 0, 1);
    put_ue(&w, 3);
    put(&w, 1, 1);
    if (s->inter_rps) {
        /* Set 1 from set 0 (3 pictures, so 4 entries): two kept, one
         * dropped with use_delta_flag 0, one unused but kept.  Set 2
         * from set 1, whose count (3) decides how many entries follow. */
        put(&w, 1, 1);
        put(&w, 1, 1);
        put_ue(&w, 0);
        put(&w, 1, 1);
        put(&w, 0, 1);
        put(&w, 0, 1);
        put(&w, 1, 1);
        put(&w, 0, 1);
        put(&w, 1, 1);
        put(&w, 1, 1);
        put(&w, 0, 1);
        put_ue(&w, 1);
        for (int j = 0; j < 4; j++)
            put(&w, 1, 1);
    }
    put(&w, s->long_term ? 1 : 0, 1);
    if (s->long_term) {
        put_ue(&w, 2);
        put(&w, 0x35, 8);
        put(&w, 1, 1);
        put(&w, 0xc4, 8);
        put(&w, 0, 1);
    }
    put(&w, 1, 1); /* sps_temporal_mvp_enabled_flag */
    put(&w, 1, 1); /* strong_intra_smoothing_enabled_flag */
    put(&w, 1, 1); /* vui_parameters_present_flag */
    put(&w, 1, 1); /* aspect ratio: extended SAR 4:3 */
    put(&w, 255, 8);
    put(&w, 4, 16);
    put(&w, 3, 16);
    put(&w, 0, 1); /* overscan */
    put(&w, 1, 1); /* video signal type with colour description */
    put(&w, 5, 3);
    put(&w, 0, 1);
    put(&w, 1, 1);
    put(&w, 0x010101, 24);
    put(&w, 1, 1); /* chroma location */
    put_ue(&w, 0);
    put_ue(&w, 0);
    put(&w, 0, 3);
    put(&w, s->display_window ? 1 : 0, 1);
    if (s->display_window)
        for (int i = 0; i < 4; i++)
            put_ue(&w, 8);
    put(&w, s->scale ? 1 : 0, 1);
    if (s->scale) {
        put(&w, s->units, 32);
        put(&w, s->scale, 32);
        put(&w, 0, 1); /* vui_poc_proportional_to_timing_flag */
        put(&w, 0, 1); /* vui_hrd_parameters_present_flag */
    }
    put(&w, 0, 1); /* bitstream_restriction_flag */
    put(&w, 0, 1); /* sps_extension_present_flag */
    return finish_sps(&w, nal, cap);
}

static llhls_hevc_config_t parse_sps_ok(const uint8_t *nal, size_t len)
{
    llhls_hevc_config_t c;
    const char *why = NULL;
    memset(&c, 0, sizeof(c));
    int r = llhls_hevc_parse_sps(nal, len, &c, &why);
    if (r != 0)
        fail_msg("SPS parse failed: %s", why ? why : "(no reason)");
    return c;
}

static void test_sps_plain_synthetic_1080p5994(void **state)
{
    (void)state;
    uint8_t nal[512];
    sps_shape_t s = {.units = 1001, .scale = 60000};
    llhls_hevc_config_t c = parse_sps_ok(nal, build_sps(&s, nal, sizeof(nal)));
    assert_string_equal(c.codec, "hvc1.1.6.L123.B0");
    assert_int_equal(c.width, 1920);
    assert_int_equal(c.height, 1080);
    assert_int_equal(c.frame_rate_milli, 59940);
}

static void test_sps_reads_general_level_past_sub_layers(void **state)
{
    (void)state;
    uint8_t nal[512];
    sps_shape_t s = {.sub_layers_minus1 = 2, .units = 1, .scale = 120};
    llhls_hevc_config_t c = parse_sps_ok(nal, build_sps(&s, nal, sizeof(nal)));
    assert_string_equal(c.codec, "hvc1.1.6.L123.B0");
    assert_int_equal(c.height, 1080);
    assert_int_equal(c.frame_rate_milli, 120000);
    s.sub_layers_minus1 = 6;
    c = parse_sps_ok(nal, build_sps(&s, nal, sizeof(nal)));
    assert_int_equal(c.profile_idc, 1);
    assert_int_equal(c.level_idc, 123);
    assert_int_equal(c.frame_rate_milli, 120000);
}

static void test_sps_skips_scaling_list_data_to_reach_vui(void **state)
{
    (void)state;
    uint8_t nal[512];
    sps_shape_t s = {.scaling_list_data = 1, .pcm = 1, .units = 1, .scale = 50};
    llhls_hevc_config_t c = parse_sps_ok(nal, build_sps(&s, nal, sizeof(nal)));
    assert_int_equal(c.frame_rate_milli, 50000);
    assert_int_equal(c.width, 1920);
}

static void test_sps_skips_inter_predicted_rps_and_long_term_refs(void **state)
{
    (void)state;
    uint8_t nal[512];
    sps_shape_t s = {.inter_rps = 1, .long_term = 1, .display_window = 1, .units = 1001, .scale = 24000};
    llhls_hevc_config_t c = parse_sps_ok(nal, build_sps(&s, nal, sizeof(nal)));
    assert_int_equal(c.frame_rate_milli, 23976);
    s.sub_layers_minus1 = 3;
    s.scaling_list_data = 1;
    s.pcm = 1;
    c = parse_sps_ok(nal, build_sps(&s, nal, sizeof(nal)));
    assert_int_equal(c.frame_rate_milli, 23976);
    assert_int_equal(c.height, 1080);
}

static void test_sps_treats_clock_time_base_as_unknown_rate(void **state)
{
    (void)state;
    uint8_t nal[512];
    sps_shape_t s = {.units = 1, .scale = 90000000};
    llhls_hevc_config_t c = parse_sps_ok(nal, build_sps(&s, nal, sizeof(nal)));
    assert_int_equal(c.frame_rate_milli, 0);
    s.units = 0;
    s.scale = 30;
    c = parse_sps_ok(nal, build_sps(&s, nal, sizeof(nal)));
    assert_int_equal(c.frame_rate_milli, 0);
}

/* ---- malformed input ---- */

static void expect_sps_error(const uint8_t *nal, size_t len, int err, const char *sentence)
{
    llhls_hevc_config_t c;
    const char *why = NULL;
    memset(&c, 0, sizeof(c));
    assert_int_equal(llhls_hevc_parse_sps(nal, len, &c, &why), err);
    assert_non_null(why);
    assert_string_equal(why, sentence);
}

static void test_sps_rejects_bad_headers_and_values(void **state)
{
    (void)state;
    uint8_t nal[64];
    const uint8_t *real = hvcc_main360 + MAIN360_SPS_OFF;

    expect_sps_error(NULL, 0, -LLHLS_EINVAL, "The HEVC SPS is shorter than its 2-byte header and first byte.");
    expect_sps_error(real, 2, -LLHLS_EINVAL, "The HEVC SPS is shorter than its 2-byte header and first byte.");
    memcpy(nal, real, MAIN360_SPS_LEN);
    nal[0] = 0x44; /* a PPS header */
    expect_sps_error(nal, MAIN360_SPS_LEN, -LLHLS_EINVAL, "The HEVC SPS NAL unit does not have NAL type 33.");
    nal[0] = 0xc2; /* forbidden_zero_bit set */
    expect_sps_error(nal, MAIN360_SPS_LEN, -LLHLS_EINVAL, "The HEVC SPS NAL unit does not have NAL type 33.");
    memcpy(nal, real, MAIN360_SPS_LEN);
    nal[1] = 0x09; /* nuh_layer_id 1 */
    expect_sps_error(nal, MAIN360_SPS_LEN, -LLHLS_EUNSUPPORTED,
                     "The HEVC SPS belongs to an enhancement layer (nuh_layer_id not 0).");
    memcpy(nal, real, MAIN360_SPS_LEN);
    nal[2] = 0x0f; /* sps_max_sub_layers_minus1 = 7 */
    expect_sps_error(nal, MAIN360_SPS_LEN, -LLHLS_EINVAL, "The HEVC SPS declares more than 7 temporal sub-layers.");
}

static void test_sps_rejects_absurd_pictures(void **state)
{
    (void)state;
    /* The SPS of hvcc_main360 up to its level, then fields written here. */
    uint8_t nal[64];
    bw_t w;
    static const struct {
        uint32_t sps_id, chroma, width, height, crop_bottom, depth;
        const char *why;
    } cases[] = {
        {16, 1, 640, 360, 0, 0, "The HEVC SPS id is over 15."},
        {0, 4, 640, 360, 0, 0, "The HEVC SPS has a chroma_format_idc over 3."},
        {0, 1, 0, 360, 0, 0, "The HEVC SPS has a picture width or height of 0."},
        {0, 1, 640, 0, 0, 0, "The HEVC SPS has a picture width or height of 0."},
        {0, 1, 640, 360, 180, 0, "The HEVC SPS crops away the whole picture."},
        {0, 1, 16392, 360, 0, 0, "The HEVC SPS describes a picture wider or taller than 16384 pixels."},
        {0, 1, 640, 360, 0, 9, "The HEVC SPS has a bit depth over 16."},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&w, 0, sizeof(w));
        /* vps 0, 1 sub-layer, nesting; Main, level 63 */
        put(&w, 0x01, 8);
        put(&w, 0x01, 8);
        put(&w, 0x60000000, 32);
        put(&w, 0x90, 8);
        put(&w, 0, 32);
        put(&w, 0, 8);
        put(&w, 63, 8);
        put_ue(&w, cases[i].sps_id);
        put_ue(&w, cases[i].chroma);
        put_ue(&w, cases[i].width);
        put_ue(&w, cases[i].height);
        put(&w, cases[i].crop_bottom ? 1 : 0, 1);
        if (cases[i].crop_bottom) {
            put_ue(&w, 0);
            put_ue(&w, 0);
            put_ue(&w, 0);
            put_ue(&w, cases[i].crop_bottom);
        }
        put_ue(&w, cases[i].depth);
        put_ue(&w, cases[i].depth);
        put(&w, 0xff, 8); /* something after, so that no case is a truncation */
        size_t n = finish_sps(&w, nal, sizeof(nal));
        expect_sps_error(nal, n, -LLHLS_EINVAL, cases[i].why);
    }
}

static void test_sps_truncated_anywhere_fails_or_loses_only_the_rate(void **state)
{
    (void)state;
    const uint8_t *real = hvcc_main360 + MAIN360_SPS_OFF;
    int lost_rate = 0, failed = 0;

    for (size_t n = 0; n < MAIN360_SPS_LEN; n++) {
        llhls_hevc_config_t c;
        const char *why = NULL;
        memset(&c, 0, sizeof(c));
        int r = llhls_hevc_parse_sps(real, n, &c, &why);
        if (r == 0) {
            /* Past the bit depths the picture is known; the rate needs the
             * VUI, which a cut SPS does not reach. */
            assert_int_equal(c.width, 640);
            assert_int_equal(c.height, 360);
            assert_string_equal(c.codec, "hvc1.1.6.L63.90");
            assert_int_equal(c.frame_rate_milli, 0);
            lost_rate++;
        } else {
            assert_int_equal(r, -LLHLS_EINVAL);
            assert_non_null(why);
            assert_true(strstr(why, "HEVC SPS") != NULL);
            assert_int_equal(lost_rate, 0); /* no failure after the first success */
            failed++;
        }
    }
    assert_true(failed >= 15);
    assert_true(lost_rate >= 10);
}

static void expect_config_error(const uint8_t *hvcc, size_t len, const char *sentence)
{
    llhls_hevc_config_t c;
    const char *why = NULL;
    memset(&c, 0x5a, sizeof(c));
    llhls_hevc_config_t before = c;
    assert_int_equal(llhls_hevc_parse_config(hvcc, len, &c, &why), -LLHLS_EINVAL);
    assert_non_null(why);
    assert_string_equal(why, sentence);
    assert_memory_equal(&c, &before, sizeof(c)); /* untouched on failure */
}

static void test_hevc_rejects_truncated_hvcc(void **state)
{
    (void)state;
    expect_config_error(NULL, 0, "The hvcC record is shorter than its 23-byte header.");
    expect_config_error(hvcc_main360, 22, "The hvcC record is shorter than its 23-byte header.");
    expect_config_error(hvcc_main360, 23, "The hvcC record ends inside a NAL unit array header.");
    expect_config_error(hvcc_main360, 26, "The hvcC record ends inside a NAL unit length.");
    expect_config_error(hvcc_main360, 27, "The hvcC record ends inside a NAL unit length.");
    for (size_t n = 28; n < 52; n++)
        expect_config_error(hvcc_main360, n, "A NAL unit length in the hvcC record runs past its end.");
    for (size_t n = 100; n < sizeof(hvcc_main360); n++) {
        llhls_hevc_config_t c;
        const char *why = NULL;
        assert_int_equal(llhls_hevc_parse_config(hvcc_main360, n, &c, &why), -LLHLS_EINVAL);
    }
}

static void test_hevc_rejects_inconsistent_hvcc(void **state)
{
    (void)state;
    uint8_t h[sizeof(hvcc_main360)];

    memcpy(h, hvcc_main360, sizeof(h));
    h[0] = 0;
    expect_config_error(h, sizeof(h), "The hvcC record is not version 1.");
    memcpy(h, hvcc_main360, sizeof(h));
    h[21] = (uint8_t)((h[21] & ~3) | 2);
    expect_config_error(h, sizeof(h), "The hvcC record declares 3-byte NAL lengths; only 1, 2 and 4 are valid.");
    memcpy(h, hvcc_main360, sizeof(h));
    h[22] = 4; /* one array more than there is */
    expect_config_error(h, sizeof(h), "The hvcC record ends inside a NAL unit array header.");
    memcpy(h, hvcc_main360, sizeof(h));
    h[52] = 0xa2; /* the SPS array claims to hold PPSs */
    expect_config_error(h, sizeof(h), "A NAL unit in the hvcC record is not of its array's type.");
    memcpy(h, hvcc_main360, sizeof(h));
    h[56] = 1; /* an SPS of one byte */
    expect_config_error(h, sizeof(h), "The hvcC record holds a NAL unit shorter than its 2-byte header.");
    memcpy(h, hvcc_main360, sizeof(h));
    h[22] = 0;
    expect_config_error(h, sizeof(h), "The hvcC record holds no SPS.");
    memcpy(h, hvcc_main360, sizeof(h));
    h[22] = 1; /* only the VPS */
    expect_config_error(h, 52, "The hvcC record holds no SPS.");
    memcpy(h, hvcc_main360, sizeof(h));
    h[22] = 2; /* VPS and SPS, no PPS */
    expect_config_error(h, 100, "The hvcC record holds no PPS.");
    /* The SPS array first, no VPS. */
    memcpy(h, hvcc_main360, 23);
    h[22] = 2;
    memcpy(h + 23, hvcc_main360 + 52, sizeof(hvcc_main360) - 52);
    expect_config_error(h, 23 + sizeof(hvcc_main360) - 52, "The hvcC record holds no VPS.");
    /* An enhancement-layer SPS alone. */
    memcpy(h, hvcc_main360, sizeof(h));
    h[MAIN360_SPS_OFF + 1] = 0x09;
    expect_config_error(h, sizeof(h), "The hvcC record holds no SPS for the base layer.");
    /* A broken SPS inside an intact record: the SPS's own sentence. */
    memcpy(h, hvcc_main360, sizeof(h));
    h[MAIN360_SPS_OFF + 2] = 0x0f;
    expect_config_error(h, sizeof(h), "The HEVC SPS declares more than 7 temporal sub-layers.");
}

static void test_hevc_honours_nal_length_size(void **state)
{
    (void)state;
    uint8_t h[sizeof(hvcc_main360)];
    static const uint8_t sizes[][2] = {{0, 1}, {1, 2}, {3, 4}};
    for (size_t i = 0; i < 3; i++) {
        memcpy(h, hvcc_main360, sizeof(h));
        h[21] = (uint8_t)((h[21] & ~3) | sizes[i][0]);
        llhls_hevc_config_t c = parse_ok(h, sizeof(h));
        assert_int_equal(c.nal_length_size, sizes[i][1]);
    }
}

/* ---- frames ---- */

static void test_hevc_check_frame_finds_irap(void **state)
{
    (void)state;
    /* An access unit as x265 writes its first: AUD, VPS... here AUD, prefix
     * SEI then an IDR_W_RADL slice; then a CRA; then a TRAIL_R alone. */
    static const uint8_t idr[] = {0,    0,    0,    3, 0x46, 0x01, 0x10, 0,    0,    0,    4,   0x4e,
                                  0x01, 0x05, 0x80, 0, 0,    0,    4,    0x26, 0x01, 0xaf, 0x00};
    static const uint8_t cra[] = {0, 0, 0, 4, 0x2a, 0x01, 0xaf, 0x00};
    static const uint8_t bla[] = {0, 4, 0x20, 0x01, 0xaf, 0x00};
    static const uint8_t trail[] = {0, 0, 0, 4, 0x02, 0x01, 0xd0, 0x00};
    static const uint8_t rasl[] = {4, 0x10, 0x01, 0xd0, 0x00};          /* type 8: leading, not IRAP */
    static const uint8_t reserved_irap[] = {4, 0x2e, 0x01, 0xd0, 0x00}; /* type 23, RSV_IRAP_VCL23 */
    int irap = -1;
    const char *why = NULL;

    assert_int_equal(llhls_hevc_check_frame(idr, sizeof(idr), 4, &irap, &why), 0);
    assert_int_equal(irap, 1);
    assert_int_equal(llhls_hevc_check_frame(cra, sizeof(cra), 4, &irap, &why), 0);
    assert_int_equal(irap, 1);
    assert_int_equal(llhls_hevc_check_frame(bla, sizeof(bla), 2, &irap, &why), 0);
    assert_int_equal(irap, 1);
    assert_int_equal(llhls_hevc_check_frame(trail, sizeof(trail), 4, &irap, &why), 0);
    assert_int_equal(irap, 0);
    assert_int_equal(llhls_hevc_check_frame(rasl, sizeof(rasl), 1, &irap, &why), 0);
    assert_int_equal(irap, 0);
    assert_int_equal(llhls_hevc_check_frame(reserved_irap, sizeof(reserved_irap), 1, &irap, &why), 0);
    assert_int_equal(irap, 0);
}

static void expect_frame_error(const uint8_t *data, size_t len, uint8_t size, const char *sentence)
{
    int irap = -1;
    const char *why = NULL;
    assert_int_equal(llhls_hevc_check_frame(data, len, size, &irap, &why), -LLHLS_EINVAL);
    assert_string_equal(why, sentence);
    assert_int_equal(irap, 0);
}

static void test_hevc_check_frame_rejects_bad_lengths(void **state)
{
    (void)state;
    static const uint8_t cra[] = {0, 0, 0, 4, 0x2a, 0x01, 0xaf, 0x00};
    static const uint8_t zero[] = {0, 0, 0, 0, 0x2a, 0x01};
    static const uint8_t one_byte[] = {0, 0, 0, 1, 0x2a};
    static const uint8_t long_len[] = {0, 0, 0, 5, 0x2a, 0x01, 0xaf, 0x00};
    static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 0x2a, 0x01};

    expect_frame_error(cra, sizeof(cra), 3, "The NAL length size is not 1, 2 or 4.");
    expect_frame_error(NULL, 0, 4, "The video frame holds no NAL unit.");
    expect_frame_error(cra, 3, 4, "The video frame ends inside a NAL unit length.");
    expect_frame_error(zero, sizeof(zero), 4, "The video frame holds a zero-length NAL unit.");
    expect_frame_error(one_byte, sizeof(one_byte), 4,
                       "The video frame holds an HEVC NAL unit shorter than its 2-byte header.");
    expect_frame_error(long_len, sizeof(long_len), 4, "A NAL unit length runs past the end of the video frame.");
    expect_frame_error(huge, sizeof(huge), 4, "A NAL unit length runs past the end of the video frame.");
    for (size_t n = 1; n < sizeof(cra); n++) {
        int irap = -1;
        assert_int_equal(llhls_hevc_check_frame(cra, n, 4, &irap, NULL), -LLHLS_EINVAL);
        assert_int_equal(irap, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hevc_parses_main_360p30),
        cmocka_unit_test(test_hevc_parses_8k_main_level_6_1),
        cmocka_unit_test(test_hevc_parses_main10_1080p5994),
        cmocka_unit_test(test_hevc_crops_conformance_window),
        cmocka_unit_test(test_hevc_parses_range_extension_422_10),
        cmocka_unit_test(test_hevc_parses_high_tier),
        cmocka_unit_test(test_hevc_without_timing_reports_rate_0),
        cmocka_unit_test(test_sps_plain_synthetic_1080p5994),
        cmocka_unit_test(test_sps_reads_general_level_past_sub_layers),
        cmocka_unit_test(test_sps_skips_scaling_list_data_to_reach_vui),
        cmocka_unit_test(test_sps_skips_inter_predicted_rps_and_long_term_refs),
        cmocka_unit_test(test_sps_treats_clock_time_base_as_unknown_rate),
        cmocka_unit_test(test_sps_rejects_bad_headers_and_values),
        cmocka_unit_test(test_sps_rejects_absurd_pictures),
        cmocka_unit_test(test_sps_truncated_anywhere_fails_or_loses_only_the_rate),
        cmocka_unit_test(test_hevc_rejects_truncated_hvcc),
        cmocka_unit_test(test_hevc_rejects_inconsistent_hvcc),
        cmocka_unit_test(test_hevc_honours_nal_length_size),
        cmocka_unit_test(test_hevc_check_frame_finds_irap),
        cmocka_unit_test(test_hevc_check_frame_rejects_bad_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
