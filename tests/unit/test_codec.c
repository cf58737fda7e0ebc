/* Tests for codec configuration parsing: avcC records and SPS from real x264
 * output at the sizes and rates the server is built for (720p to 8K at 120),
 * AudioSpecificConfigs from FFmpeg's AAC encoder, and malformed records.
 * Every byte array says the command that produced it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "packager/codec.h"
#include "src/error.h"

/* Real avcC records.  The FLV muxer writes the AVCDecoderConfigurationRecord
 * as the body of the first video tag, after 5 bytes of FLV video header. */

/* ffmpeg -f lavfi -i testsrc=size=1280x720:rate=30 -frames:v 1 -c:v libx264 -pix_fmt yuv420p -profile:v high
 *     -x264-params force-cfr=1 -f flv v720p30.flv
 * then the body of the first video tag, FLV header bytes dropped. */
static const uint8_t avcc_720p30_high[] = {
    0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x1a, 0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50,
    0x05, 0xbb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc8, 0xf1, 0x83,
    0x19, 0x60, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8, 0x00,
};

/* ffmpeg -f lavfi -i testsrc=size=1280x720:rate=30 -frames:v 1 -c:v libx264 -pix_fmt yuv420p -profile:v high
 *     -f flv v720p30nocfr.flv
 * then the body of the first video tag, FLV header bytes dropped. */
static const uint8_t avcc_720p30_vfr[] = {
    0x01, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x1a, 0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50,
    0x05, 0xbb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xc0, 0xf1, 0x83,
    0x19, 0x60, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8, 0x00,
};

/* ffmpeg -f lavfi -i testsrc=size=1920x1080:rate=30000/1001 -frames:v 1 -c:v libx264 -pix_fmt yuv420p
 *     -profile:v high -x264-params force-cfr=1 -f flv v1080p2997.flv
 * then the body of the first video tag, FLV header bytes dropped. */
static const uint8_t avcc_1080p2997_high[] = {
    0x01, 0x64, 0x00, 0x28, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x64, 0x00, 0x28, 0xac, 0xd9, 0x40, 0x78,
    0x02, 0x27, 0xe5, 0xc0, 0x44, 0x00, 0x00, 0x0f, 0xa4, 0x00, 0x03, 0xa9, 0x82, 0x3c, 0x60, 0xc6,
    0x58, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8, 0x00,
};

/* ffmpeg -f lavfi -i testsrc=size=1920x1080:rate=30000/1001 -frames:v 1 -c:v libx264 -pix_fmt yuv420p
 *     -profile:v high -x264-params force-cfr=1:interlaced=1 -f flv v1080i2997.flv
 * then the body of the first video tag, FLV header bytes dropped. */
static const uint8_t avcc_1080i2997_high[] = {
    0x01, 0x64, 0x00, 0x28, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x64, 0x00, 0x28, 0xac, 0xd9, 0x40, 0x78,
    0x04, 0x4f, 0xde, 0x02, 0x20, 0x00, 0x00, 0x7d, 0x20, 0x00, 0x1d, 0x4c, 0x13, 0xe2, 0xc5, 0xb2,
    0xc0, 0x01, 0x00, 0x06, 0x68, 0xfb, 0xa3, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8, 0x00,
};

/* ffmpeg -f lavfi -i testsrc=size=3840x2160:rate=60000/1001 -frames:v 1 -c:v libx264 -pix_fmt yuv420p
 *     -profile:v high -x264-params force-cfr=1 -f flv v2160p5994.flv
 * then the body of the first video tag, FLV header bytes dropped. */
static const uint8_t avcc_2160p5994_high[] = {
    0x01, 0x64, 0x00, 0x34, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x64, 0x00, 0x34, 0xac, 0xd9, 0x40, 0x3c,
    0x00, 0x43, 0xec, 0x04, 0x40, 0x00, 0x00, 0xfa, 0x40, 0x00, 0x75, 0x30, 0x23, 0xc6, 0x0c, 0x65,
    0x80, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8, 0x00,
};

/* ffmpeg -f lavfi -i testsrc=size=7680x4320:rate=120 -frames:v 1 -c:v libx264 -pix_fmt yuv420p -profile:v high
 *     -x264-params force-cfr=1 -f flv v4320p120.flv
 * then the body of the first video tag, FLV header bytes dropped. */
static const uint8_t avcc_4320p120_high[] = {
    0x01, 0x64, 0x00, 0x3e, 0xff, 0xe1, 0x00, 0x1c, 0x67, 0x64, 0x00, 0x3e, 0xac, 0xd9, 0x40, 0x1e, 0x00,
    0x08, 0x76, 0xc0, 0x44, 0x00, 0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x03, 0x03, 0xc2, 0x3c, 0x20, 0x10,
    0x65, 0x80, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8, 0x00,
};

/* ffmpeg -f lavfi -i testsrc=size=640x360:rate=24000/1001 -frames:v 1 -c:v libx264 -pix_fmt yuv420p
 *     -profile:v baseline -x264-params force-cfr=1 -f flv v360p23976.flv
 * then the body of the first video tag, FLV header bytes dropped. */
static const uint8_t avcc_360p23976_baseline[] = {
    0x01, 0x42, 0xc0, 0x1e, 0xff, 0xe1, 0x00, 0x18, 0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x00,
    0xa0, 0x2f, 0xf9, 0x70, 0x11, 0x00, 0x00, 0x03, 0x03, 0xe9, 0x00, 0x00, 0xbb, 0x80,
    0x8f, 0x16, 0x2e, 0x48, 0x01, 0x00, 0x05, 0x68, 0xcb, 0x83, 0xcb, 0x20,
};

/* ffmpeg -f lavfi -i testsrc=size=1280x720:rate=25 -frames:v 1 -c:v libx264 -pix_fmt yuv444p -profile:v high444
 *     -x264-params force-cfr=1 -f flv v720p25yuv444.flv
 * then the body of the first video tag, FLV header bytes dropped. */
static const uint8_t avcc_720p25_high444[] = {
    0x01, 0xf4, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x1a, 0x67, 0xf4, 0x00, 0x1f, 0x91, 0x9b, 0x28, 0x0a,
    0x00, 0xb7, 0x60, 0x22, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0x65, 0x1e, 0x30,
    0x63, 0x2c, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xc4, 0x48, 0x44, 0xff, 0xf8, 0xf8, 0x00,
};

/* ffmpeg -f lavfi -i testsrc=size=1280x720:rate=50 -frames:v 1 -c:v libx264 -pix_fmt yuv422p10le
 *     -profile:v high422 -x264-params force-cfr=1 -f flv v720p50yuv422p10.flv
 * then the body of the first video tag, FLV header bytes dropped. */
static const uint8_t avcc_720p50_high422_10bit[] = {
    0x01, 0x7a, 0x00, 0x20, 0xff, 0xe1, 0x00, 0x1a, 0x67, 0x7a, 0x00, 0x20, 0xb6, 0xcd, 0x94, 0x05,
    0x00, 0x5b, 0xb0, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x64, 0x8f, 0x18,
    0x31, 0x96, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfe, 0xfa, 0xfa, 0x00,
};

/* SPS that x264 never writes, built field by field (the layout is in the
 * comment of each) and then checked by FFmpeg's own parser: each was written
 * as an Annex B file (00 00 00 01 + bytes) and read back with
 * `ffmpeg -f h264 -i sps.h264 -c copy -bsf:v trace_headers -f null -`, which
 * printed the values the tests expect (or, for the absurd ones, refused the
 * same field this parser refuses). */

/* High, level 4.0, 1920x1088 coded, cropped by 4 (8 lines) to 1080, VUI with
 * 1001/60000 timing, and seq_scaling_matrix_present_flag = 1 with the eight
 * 4:2:0 lists: list 0 "use default" (delta -8 at the first entry), list 1
 * absent, list 2 explicit (16 deltas of +1), lists 3-5 absent, list 6 (8x8
 * intra) explicit (64 deltas), list 7 "use default". */
static const uint8_t sps_scaling[] = {
    0x67, 0x64, 0x00, 0x28, 0xad, 0x84, 0x54, 0x92, 0x49, 0x24, 0x92, 0x49, 0x21, 0x27,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf8, 0x47, 0x65, 0x01, 0xe0, 0x08, 0x9f,
    0x97, 0x01, 0x10, 0x00, 0x00, 0x3e, 0x90, 0x00, 0x0e, 0xa6, 0x08, 0x40,
};
/* Main, level 3.1, 1280x720, pic_order_cnt_type 1 with offsets -2 and 1 and
 * a cycle of three offsets (2, -3, 7), VUI timing 1/50 (25 fps). */
static const uint8_t sps_poc1[] = {
    0x67, 0x4d, 0x00, 0x1f, 0xd0, 0xa8, 0x84, 0x38, 0xe2, 0x80, 0xa0, 0x0b, 0x76,
    0x02, 0x20, 0x00, 0x00, 0x03, 0x00, 0x20, 0x00, 0x00, 0x06, 0x50, 0x80,
};
/* Main, level 3.1, 1280x720, a VUI with a 1:1 aspect ratio but no timing info. */
static const uint8_t sps_notiming[] = {
    0x67, 0x4d, 0x00, 0x1f, 0xec, 0xa0, 0x28, 0x02, 0xdd, 0x80, 0x80, 0x40,
};
/* Constrained Baseline, level 3.1, 1280x720, no VUI at all. */
static const uint8_t sps_novui[] = {
    0x67, 0x42, 0xc0, 0x1f, 0xec, 0xa0, 0x28, 0x02, 0xdc, 0x80,
};
/* High 4:4:4 Predictive, level 6.2, 7680x4320, all twelve scaling lists
 * present and explicit (16 or 64 zero deltas each), VUI timing 1/240. */
static const uint8_t sps_scaling444[] = {
    0x67, 0xf4, 0x00, 0x3e, 0x91, 0xbf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xb2,
    0x80, 0x3c, 0x00, 0x10, 0xed, 0x80, 0x88, 0x00, 0x00, 0x03, 0x00, 0x08, 0x00, 0x00, 0x07, 0x84, 0x20,
};
/* The 1080p High SPS above (without scaling lists) but seq_parameter_set_id 32. */
static const uint8_t sps_sps_id_32[] = {
    0x67, 0x64, 0x00, 0x28, 0x04, 0x2b, 0x36, 0x50, 0x1e, 0x00, 0x89, 0xf9,
    0x70, 0x11, 0x00, 0x00, 0x03, 0x03, 0xe9, 0x00, 0x00, 0xea, 0x60, 0x84,
};
/* The 1080p High SPS with level_idc 0. */
static const uint8_t sps_level0[] = {
    0x67, 0x64, 0x00, 0x00, 0xac, 0xd9, 0x40, 0x78, 0x02, 0x27, 0xe5,
    0xc0, 0x44, 0x00, 0x00, 0x0f, 0xa4, 0x00, 0x03, 0xa9, 0x82, 0x10,
};
/* High, 1088 macroblocks wide: 17408 pixels, over the 16384 bound. */
static const uint8_t sps_width_17k[] = {
    0x67, 0x64, 0x00, 0x28, 0xac, 0xd9, 0x40, 0x04, 0x40, 0x02, 0x26, 0xc0,
    0x44, 0x00, 0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0xf2, 0x10,
};
/* The 1080p High SPS with bit_depth_luma_minus8 = 7 (15 bits). */
static const uint8_t sps_bitdepth_bad[] = {
    0x67, 0x64, 0x00, 0x28, 0xa1, 0x02, 0x0d, 0x94, 0x07, 0x80, 0x22, 0x7e,
    0x5c, 0x04, 0x40, 0x00, 0x00, 0xfa, 0x40, 0x00, 0x3a, 0x98, 0x21,
};
/* The 1080p High SPS cropping 600 units (1200 lines) off a 1088-line picture. */
static const uint8_t sps_crop_too_big[] = {
    0x67, 0x64, 0x00, 0x28, 0xac, 0xd9, 0x40, 0x78, 0x02, 0x27, 0xe0, 0x09,
    0x67, 0x01, 0x10, 0x00, 0x00, 0x3e, 0x90, 0x00, 0x0e, 0xa6, 0x08, 0x40,
};
/* ffmpeg -f lavfi -i color=c=blue:size=64x64:rate=25 -frames:v 2 -c:v libx264 -pix_fmt yuv420p -profile:v baseline
 *     -bsf:v filter_units=remove_types=6 -f flv small.flv
 * then the body of the second video tag (the IDR frame), FLV header bytes dropped. */
static const uint8_t frame_idr[] = {
    0x00, 0x00, 0x00, 0x1f, 0x65, 0x88, 0x84, 0x0b, 0xf1, 0x18, 0xa0, 0x00, 0x28, 0x73, 0x1c, 0x00, 0x04, 0xd6,
    0xa3, 0x80, 0x00, 0x83, 0x6c, 0x9c, 0x9c, 0x9d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5e,
};

/* The same command, the third video tag (a P frame). */
static const uint8_t frame_p[] = {
    0x00, 0x00, 0x00, 0x06, 0x41, 0x9a, 0x38, 0x15, 0xe1, 0x18,
};

/* ffmpeg -f lavfi -i sine=frequency=1000:sample_rate=44100 -t 0.1 -ac 1 -c:a aac -b:a 96k -f flv aac_44100_1.flv
 * then the body of the first audio tag, FLV header bytes dropped. */
static const uint8_t asc_44100_mono[] = {
    0x12, 0x08, 0x56, 0xe5, 0x00,
};

/* ffmpeg -f lavfi -i sine=frequency=1000:sample_rate=44100 -t 0.1 -ac 2 -c:a aac -b:a 96k -f flv aac_44100_2.flv
 * then the body of the first audio tag, FLV header bytes dropped. */
static const uint8_t asc_44100_stereo[] = {
    0x12, 0x10, 0x56, 0xe5, 0x00,
};

/* ffmpeg -f lavfi -i sine=frequency=1000:sample_rate=48000 -t 0.1 -ac 1 -c:a aac -b:a 96k -f flv aac_48000_1.flv
 * then the body of the first audio tag, FLV header bytes dropped. */
static const uint8_t asc_48000_mono[] = {
    0x11, 0x88, 0x56, 0xe5, 0x00,
};

/* ffmpeg -f lavfi -i sine=frequency=1000:sample_rate=48000 -t 0.1 -ac 2 -c:a aac -b:a 96k -f flv aac_48000_2.flv
 * then the body of the first audio tag, FLV header bytes dropped. */
static const uint8_t asc_48000_stereo[] = {
    0x11, 0x90, 0x56, 0xe5, 0x00,
};

/* Hand-written AudioSpecificConfigs for what FFmpeg's encoder cannot emit;
 * the bits are spelled out as object type | frequency index | channels | rest. */
/* 00101 0110 0010 0011 00010 000: HE-AAC, core 24000 Hz stereo, output 48000, core AAC-LC. */
static const uint8_t asc_he_aac[] = {0x2b, 0x11, 0x88, 0x00};
/* 11101 0110 0001 0011 00010 000: HE-AACv2, core 24000 Hz mono, output 48000. */
static const uint8_t asc_he_aacv2[] = {0xeb, 0x09, 0x88, 0x00};
/* 00010 1111 <24 bits: 22050> 0001 000: AAC-LC with an explicit rate, mono. */
static const uint8_t asc_explicit_rate[] = {0x17, 0x80, 0x2b, 0x11, 0x08};
/* 00010 0011 0010 100: AAC-LC 48000 Hz stereo with frameLengthFlag = 1. */
static const uint8_t asc_lc_960[] = {0x11, 0x94};
/* 11111 000010 1101 0010: escaped object type 34, then reserved index 13. */
static const uint8_t asc_escape_reserved[] = {0xf8, 0x5a, 0x40};
/* 11111 000010 0011 0010 000: escaped object type 34 (MPEG-1 Layer 3), 48000 Hz stereo. */
static const uint8_t asc_escape_layer3[] = {0xf8, 0x46, 0x40};
/* 00010 0110 0010 000, then 01010110111 00101 1 0011: AAC-LC 24000 Hz stereo
 * with backward-compatible SBR signalled after it (sync 0x2b7), output 48000. */
static const uint8_t asc_sbr_sync[] = {0x13, 0x10, 0x56, 0xe5, 0x98};
/* 00010 1101 0010 000 and 00010 1110 0010 000: reserved indexes 13 and 14. */
static const uint8_t asc_reserved_13[] = {0x16, 0x90};
static const uint8_t asc_reserved_14[] = {0x17, 0x10};
/* 00010 0011 0000 000: channel configuration 0 (a PCE would follow). */
static const uint8_t asc_channels_0[] = {0x11, 0x80};
/* 00010 0011 1000 000: channel configuration 8, reserved. */
static const uint8_t asc_channels_8[] = {0x11, 0xc0};
/* 00010 1111 <24 zero bits> 0010 000: an explicit rate of 0 Hz. */
static const uint8_t asc_rate_0[] = {0x17, 0x80, 0x00, 0x00, 0x10};
/* 10111 0011 0010 000 11: ER AAC-LD with epConfig 3. */
static const uint8_t asc_ep3[] = {0xb9, 0x90, 0xc0};

static void expect_avc(const uint8_t *avcc, size_t len, uint8_t profile, uint8_t flags, uint8_t level, uint32_t width,
                       uint32_t height, uint32_t rate, const char *codec)
{
    llhls_avc_config_t cfg;
    const char *why = NULL;

    memset(&cfg, 0xaa, sizeof(cfg));
    assert_int_equal(llhls_avc_parse_config(avcc, len, &cfg, &why), 0);
    assert_int_equal(cfg.profile_idc, profile);
    assert_int_equal(cfg.constraint_flags, flags);
    assert_int_equal(cfg.level_idc, level);
    assert_int_equal(cfg.nal_length_size, 4);
    assert_int_equal(cfg.width, width);
    assert_int_equal(cfg.height, height);
    assert_int_equal(cfg.frame_rate_milli, rate);
    assert_string_equal(cfg.codec, codec);
}

static void test_avc_parses_720p30_high(void **state)
{
    (void)state;
    expect_avc(avcc_720p30_high, sizeof(avcc_720p30_high), 100, 0, 31, 1280, 720, 30000, "avc1.64001f");
}

static void test_avc_parses_720p30_without_force_cfr(void **state)
{
    (void)state;
    /* Without force-cfr x264 still writes timing (1/60), only fixed_frame_rate_flag is 0. */
    expect_avc(avcc_720p30_vfr, sizeof(avcc_720p30_vfr), 100, 0, 31, 1280, 720, 30000, "avc1.64001f");
}

static void test_avc_crops_1080p2997_from_1088_lines(void **state)
{
    (void)state;
    expect_avc(avcc_1080p2997_high, sizeof(avcc_1080p2997_high), 100, 0, 40, 1920, 1080, 29970, "avc1.640028");
}

static void test_avc_parses_interlaced_1080i2997(void **state)
{
    (void)state;
    /* frame_mbs_only_flag = 0: 34 map units of field pairs, cropped in units of 4 lines. */
    expect_avc(avcc_1080i2997_high, sizeof(avcc_1080i2997_high), 100, 0, 40, 1920, 1080, 29970, "avc1.640028");
}

static void test_avc_parses_2160p5994(void **state)
{
    (void)state;
    expect_avc(avcc_2160p5994_high, sizeof(avcc_2160p5994_high), 100, 0, 52, 3840, 2160, 59940, "avc1.640034");
}

static void test_avc_parses_4320p120(void **state)
{
    (void)state;
    expect_avc(avcc_4320p120_high, sizeof(avcc_4320p120_high), 100, 0, 62, 7680, 4320, 120000, "avc1.64003e");
}

static void test_avc_parses_360p23976_baseline(void **state)
{
    (void)state;
    expect_avc(avcc_360p23976_baseline, sizeof(avcc_360p23976_baseline), 66, 0xc0, 30, 640, 360, 23976, "avc1.42c01e");
}

static void test_avc_parses_high444_chroma_fields(void **state)
{
    (void)state;
    expect_avc(avcc_720p25_high444, sizeof(avcc_720p25_high444), 244, 0, 31, 1280, 720, 25000, "avc1.f4001f");
}

static void test_avc_parses_high422_10bit(void **state)
{
    (void)state;
    expect_avc(avcc_720p50_high422_10bit, sizeof(avcc_720p50_high422_10bit), 122, 0, 32, 1280, 720, 50000,
               "avc1.7a0020");
}

static void test_avc_honours_nal_length_size(void **state)
{
    uint8_t copy[sizeof(avcc_720p30_high)];
    llhls_avc_config_t cfg;
    const char *why = NULL;
    (void)state;

    memcpy(copy, avcc_720p30_high, sizeof(copy));
    copy[4] = 0xfc;
    assert_int_equal(llhls_avc_parse_config(copy, sizeof(copy), &cfg, &why), 0);
    assert_int_equal(cfg.nal_length_size, 1);
    copy[4] = 0xfd;
    assert_int_equal(llhls_avc_parse_config(copy, sizeof(copy), &cfg, &why), 0);
    assert_int_equal(cfg.nal_length_size, 2);
    copy[4] = 0xfe;
    assert_int_equal(llhls_avc_parse_config(copy, sizeof(copy), &cfg, &why), -LLHLS_EINVAL);
    assert_string_equal(why, "The avcC record declares 3-byte NAL lengths; only 1, 2 and 4 are valid.");
}

static void expect_sps(const uint8_t *sps, size_t len, uint8_t profile, uint8_t level, uint32_t width, uint32_t height,
                       uint32_t rate, const char *codec)
{
    llhls_avc_config_t cfg;
    const char *why = NULL;

    memset(&cfg, 0, sizeof(cfg));
    assert_int_equal(llhls_avc_parse_sps(sps, len, &cfg, &why), 0);
    assert_int_equal(cfg.profile_idc, profile);
    assert_int_equal(cfg.level_idc, level);
    assert_int_equal(cfg.width, width);
    assert_int_equal(cfg.height, height);
    assert_int_equal(cfg.frame_rate_milli, rate);
    assert_string_equal(cfg.codec, codec);
}

static void test_sps_skips_scaling_lists(void **state)
{
    (void)state;
    expect_sps(sps_scaling, sizeof(sps_scaling), 100, 40, 1920, 1080, 29970, "avc1.640028");
}

static void test_sps_skips_twelve_scaling_lists_in_444(void **state)
{
    (void)state;
    expect_sps(sps_scaling444, sizeof(sps_scaling444), 244, 62, 7680, 4320, 120000, "avc1.f4003e");
}

static void test_sps_parses_poc_type_1(void **state)
{
    (void)state;
    expect_sps(sps_poc1, sizeof(sps_poc1), 77, 31, 1280, 720, 25000, "avc1.4d001f");
}

static void test_sps_without_timing_reports_rate_0(void **state)
{
    (void)state;
    expect_sps(sps_notiming, sizeof(sps_notiming), 77, 31, 1280, 720, 0, "avc1.4d001f");
    expect_sps(sps_novui, sizeof(sps_novui), 66, 31, 1280, 720, 0, "avc1.42c01f");
}

static void expect_sps_error(const uint8_t *sps, size_t len, const char *sentence)
{
    llhls_avc_config_t cfg;
    const char *why = NULL;

    assert_int_equal(llhls_avc_parse_sps(sps, len, &cfg, &why), -LLHLS_EINVAL);
    assert_non_null(why);
    if (sentence)
        assert_string_equal(why, sentence);
}

static void test_sps_rejects_absurd_values(void **state)
{
    (void)state;
    expect_sps_error(sps_sps_id_32, sizeof(sps_sps_id_32), "The SPS id is over 31.");
    expect_sps_error(sps_level0, sizeof(sps_level0), "The SPS has level_idc 0.");
    expect_sps_error(sps_width_17k, sizeof(sps_width_17k),
                     "The SPS describes a picture wider or taller than 16384 pixels.");
    expect_sps_error(sps_bitdepth_bad, sizeof(sps_bitdepth_bad), "The SPS has a bit depth over 14.");
    expect_sps_error(sps_crop_too_big, sizeof(sps_crop_too_big), "The SPS crops away the whole picture.");
}

static void test_sps_rejects_garbage(void **state)
{
    /* A PPS where an SPS should be, zero bytes, and all-ones bytes. */
    static const uint8_t pps[] = {0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0};
    static const uint8_t zeros[] = {0x67, 0x64, 0x00, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    static const uint8_t ones[] = {0x67, 0x64, 0x00, 0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t no_profile[] = {0x67, 0x00, 0x00, 0x28, 0xac, 0xd9, 0x40, 0x78};
    (void)state;

    expect_sps_error(pps, sizeof(pps), "The SPS NAL unit does not have NAL type 7.");
    expect_sps_error(zeros, sizeof(zeros), "The SPS ends before its last field.");
    expect_sps_error(ones, sizeof(ones), NULL);
    expect_sps_error(no_profile, sizeof(no_profile), "The SPS has profile_idc 0.");
    expect_sps_error(avcc_720p30_high, 3, "The SPS is shorter than its 4-byte header.");
}

static void test_sps_rejects_every_truncation(void **state)
{
    /* The 1080p SPS sits at offset 8 of its avcC and is 25 bytes long; the
     * last field read, time_scale, ends in byte 20 (bit 165). */
    const uint8_t *sps = avcc_1080p2997_high + 8;
    llhls_avc_config_t cfg;
    const char *why = NULL;
    (void)state;

    for (size_t n = 0; n < 21; n++) {
        why = NULL;
        assert_int_equal(llhls_avc_parse_sps(sps, n, &cfg, &why), -LLHLS_EINVAL);
        assert_non_null(why);
    }
    for (size_t n = 21; n <= 25; n++) {
        assert_int_equal(llhls_avc_parse_sps(sps, n, &cfg, &why), 0);
        assert_int_equal(cfg.frame_rate_milli, 29970);
    }
}

static void test_avc_rejects_truncated_avcc(void **state)
{
    /* 6 header bytes, 2 + 25 of SPS, 1 count, 2 + 6 of PPS = 42; the four
     * bytes after (chroma format, bit depths) are optional. */
    llhls_avc_config_t cfg;
    const char *why;
    (void)state;

    for (size_t n = 0; n < 42; n++) {
        why = NULL;
        assert_int_equal(llhls_avc_parse_config(avcc_1080p2997_high, n, &cfg, &why), -LLHLS_EINVAL);
        assert_non_null(why);
    }
    for (size_t n = 42; n <= sizeof(avcc_1080p2997_high); n++)
        assert_int_equal(llhls_avc_parse_config(avcc_1080p2997_high, n, &cfg, &why), 0);
    assert_int_equal(llhls_avc_parse_config(avcc_1080p2997_high, 7, &cfg, &why), -LLHLS_EINVAL);
    assert_string_equal(why, "The avcC record ends inside an SPS length.");
    assert_int_equal(llhls_avc_parse_config(avcc_1080p2997_high, 20, &cfg, &why), -LLHLS_EINVAL);
    assert_string_equal(why, "An SPS length in the avcC record runs past its end.");
    assert_int_equal(llhls_avc_parse_config(avcc_1080p2997_high, 33, &cfg, &why), -LLHLS_EINVAL);
    assert_string_equal(why, "The avcC record ends before its PPS count.");
    assert_int_equal(llhls_avc_parse_config(avcc_1080p2997_high, 40, &cfg, &why), -LLHLS_EINVAL);
    assert_string_equal(why, "A PPS length in the avcC record runs past its end.");
    assert_int_equal(llhls_avc_parse_config(avcc_1080p2997_high, 5, &cfg, &why), -LLHLS_EINVAL);
    assert_string_equal(why, "The avcC record is shorter than its 7-byte header.");
}

static void expect_avcc_error(const uint8_t *avcc, size_t len, const char *sentence)
{
    llhls_avc_config_t cfg;
    const char *why = NULL;

    assert_int_equal(llhls_avc_parse_config(avcc, len, &cfg, &why), -LLHLS_EINVAL);
    assert_string_equal(why, sentence);
}

static void test_avc_rejects_lying_counts_and_lengths(void **state)
{
    uint8_t copy[sizeof(avcc_1080p2997_high)];
    const size_t len = sizeof(copy);
    (void)state;

    /* Two SPS announced, one present: the PPS count and length are read as a 256-byte SPS. */
    memcpy(copy, avcc_1080p2997_high, len);
    copy[5] = 0xe2;
    expect_avcc_error(copy, len, "An SPS length in the avcC record runs past its end.");
    /* An SPS length one byte longer than the record. */
    memcpy(copy, avcc_1080p2997_high, len);
    copy[7] = (uint8_t)(len - 8 + 1);
    expect_avcc_error(copy, len, "An SPS length in the avcC record runs past its end.");
    /* An SPS length of 0xffff. */
    memcpy(copy, avcc_1080p2997_high, len);
    copy[6] = copy[7] = 0xff;
    expect_avcc_error(copy, len, "An SPS length in the avcC record runs past its end.");
    /* No SPS, an empty SPS. */
    memcpy(copy, avcc_1080p2997_high, len);
    copy[5] = 0xe0;
    expect_avcc_error(copy, len, "The avcC record holds no SPS.");
    memcpy(copy, avcc_1080p2997_high, len);
    copy[7] = 0;
    expect_avcc_error(copy, len, "The avcC record holds an empty SPS.");
    /* Two PPS announced, one present (the trailing bytes fd f8 read as a length). */
    memcpy(copy, avcc_1080p2997_high, len);
    copy[33] = 2;
    expect_avcc_error(copy, len, "A PPS length in the avcC record runs past its end.");
    /* No PPS, an empty PPS. */
    memcpy(copy, avcc_1080p2997_high, len);
    copy[33] = 0;
    expect_avcc_error(copy, len, "The avcC record holds no PPS.");
    memcpy(copy, avcc_1080p2997_high, len);
    copy[35] = 0;
    expect_avcc_error(copy, len, "The avcC record holds an empty PPS.");
    /* Version 0. */
    memcpy(copy, avcc_1080p2997_high, len);
    copy[0] = 0;
    expect_avcc_error(copy, len, "The avcC record is not version 1.");
    /* An SPS length that stops short: the SPS itself is then cut. */
    memcpy(copy, avcc_1080p2997_high, len);
    copy[7] = 10;
    {
        llhls_avc_config_t cfg;
        const char *why = NULL;
        assert_int_equal(llhls_avc_parse_config(copy, len, &cfg, &why), -LLHLS_EINVAL);
        assert_non_null(why);
    }
}

static void test_avc_check_frame_finds_idr(void **state)
{
    int idr = -1;
    const char *why = NULL;
    uint8_t both[sizeof(frame_p) + sizeof(frame_idr)];
    (void)state;

    assert_int_equal(llhls_avc_check_frame(frame_idr, sizeof(frame_idr), 4, &idr, &why), 0);
    assert_int_equal(idr, 1);
    assert_int_equal(llhls_avc_check_frame(frame_p, sizeof(frame_p), 4, &idr, &why), 0);
    assert_int_equal(idr, 0);
    memcpy(both, frame_p, sizeof(frame_p));
    memcpy(both + sizeof(frame_p), frame_idr, sizeof(frame_idr));
    assert_int_equal(llhls_avc_check_frame(both, sizeof(both), 4, &idr, &why), 0);
    assert_int_equal(idr, 1);
}

static void test_avc_check_frame_with_short_lengths(void **state)
{
    /* The P frame's NAL unit with 1- and 2-byte length prefixes. */
    static const uint8_t one[] = {0x06, 0x41, 0x9a, 0x38, 0x15, 0xe1, 0x18};
    static const uint8_t two[] = {0x00, 0x06, 0x41, 0x9a, 0x38, 0x15, 0xe1, 0x18};
    int idr = -1;
    const char *why = NULL;
    (void)state;

    assert_int_equal(llhls_avc_check_frame(one, sizeof(one), 1, &idr, &why), 0);
    assert_int_equal(idr, 0);
    assert_int_equal(llhls_avc_check_frame(two, sizeof(two), 2, &idr, &why), 0);
    assert_int_equal(llhls_avc_check_frame(two, sizeof(two), 3, &idr, &why), -LLHLS_EINVAL);
    assert_string_equal(why, "The NAL length size is not 1, 2 or 4.");
}

static void expect_frame_error(const uint8_t *data, size_t len, const char *sentence)
{
    int idr = -1;
    const char *why = NULL;

    assert_int_equal(llhls_avc_check_frame(data, len, 4, &idr, &why), -LLHLS_EINVAL);
    assert_string_equal(why, sentence);
    assert_int_equal(idr, 0);
}

static void test_avc_check_frame_rejects_bad_lengths(void **state)
{
    static const uint8_t zero_len[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                       0x06, 0x41, 0x9a, 0x38, 0x15, 0xe1, 0x18};
    uint8_t tail[sizeof(frame_p) + 2];
    (void)state;

    expect_frame_error(zero_len, sizeof(zero_len), "The video frame holds a zero-length NAL unit.");
    expect_frame_error(frame_idr, sizeof(frame_idr) - 1, "A NAL unit length runs past the end of the video frame.");
    for (size_t n = 1; n < 4; n++)
        expect_frame_error(frame_p, n, "The video frame ends inside a NAL unit length.");
    expect_frame_error(frame_p, 4, "A NAL unit length runs past the end of the video frame.");
    memcpy(tail, frame_p, sizeof(frame_p));
    tail[sizeof(frame_p)] = 0;
    tail[sizeof(frame_p) + 1] = 0;
    expect_frame_error(tail, sizeof(tail), "The video frame ends inside a NAL unit length.");
    expect_frame_error(frame_p, 0, "The video frame holds no NAL unit.");
}

static void expect_aac(const uint8_t *asc, size_t len, uint8_t object_type, uint32_t rate, uint8_t channels,
                       uint16_t frame_length, const char *codec)
{
    llhls_aac_config_t cfg;
    const char *why = NULL;

    memset(&cfg, 0xaa, sizeof(cfg));
    assert_int_equal(llhls_aac_parse_config(asc, len, &cfg, &why), 0);
    assert_int_equal(cfg.object_type, object_type);
    assert_int_equal(cfg.sample_rate, rate);
    assert_int_equal(cfg.channels, channels);
    assert_int_equal(cfg.frame_length, frame_length);
    assert_string_equal(cfg.codec, codec);
}

static void test_aac_parses_ffmpeg_configs(void **state)
{
    (void)state;
    /* FFmpeg appends a sync extension saying "no SBR"; it must stay AAC-LC. */
    expect_aac(asc_44100_mono, sizeof(asc_44100_mono), 2, 44100, 1, 1024, "mp4a.40.2");
    expect_aac(asc_44100_stereo, sizeof(asc_44100_stereo), 2, 44100, 2, 1024, "mp4a.40.2");
    expect_aac(asc_48000_mono, sizeof(asc_48000_mono), 2, 48000, 1, 1024, "mp4a.40.2");
    expect_aac(asc_48000_stereo, sizeof(asc_48000_stereo), 2, 48000, 2, 1024, "mp4a.40.2");
    /* Without the extension, the two first bytes alone. */
    expect_aac(asc_48000_stereo, 2, 2, 48000, 2, 1024, "mp4a.40.2");
}

static void test_aac_parses_sbr_and_explicit_rates(void **state)
{
    (void)state;
    expect_aac(asc_he_aac, sizeof(asc_he_aac), 5, 48000, 2, 2048, "mp4a.40.5");
    expect_aac(asc_he_aacv2, sizeof(asc_he_aacv2), 29, 48000, 1, 2048, "mp4a.40.29");
    expect_aac(asc_sbr_sync, sizeof(asc_sbr_sync), 5, 48000, 2, 2048, "mp4a.40.5");
    expect_aac(asc_explicit_rate, sizeof(asc_explicit_rate), 2, 22050, 1, 1024, "mp4a.40.2");
    expect_aac(asc_lc_960, sizeof(asc_lc_960), 2, 48000, 2, 960, "mp4a.40.2");
}

static void expect_aac_error(const uint8_t *asc, size_t len, int err, const char *sentence)
{
    llhls_aac_config_t cfg;
    const char *why = NULL;

    assert_int_equal(llhls_aac_parse_config(asc, len, &cfg, &why), err);
    assert_non_null(why);
    if (sentence)
        assert_string_equal(why, sentence);
}

static void test_aac_rejects_reserved_and_unsupported(void **state)
{
    const char *reserved = "The AudioSpecificConfig uses a reserved sampling frequency index (13 or 14).";
    (void)state;

    expect_aac_error(asc_reserved_13, sizeof(asc_reserved_13), -LLHLS_EINVAL, reserved);
    expect_aac_error(asc_reserved_14, sizeof(asc_reserved_14), -LLHLS_EINVAL, reserved);
    /* The escape's six bits must be consumed for the index to be read as 13. */
    expect_aac_error(asc_escape_reserved, sizeof(asc_escape_reserved), -LLHLS_EINVAL, reserved);
    expect_aac_error(asc_escape_layer3, sizeof(asc_escape_layer3), -LLHLS_EUNSUPPORTED,
                     "The AAC audio object type is not supported; publish AAC-LC or HE-AAC.");
    expect_aac_error(asc_channels_0, sizeof(asc_channels_0), -LLHLS_EUNSUPPORTED,
                     "AAC channel configuration 0 (channels in a program config element) is not supported.");
    expect_aac_error(asc_channels_8, sizeof(asc_channels_8), -LLHLS_EINVAL,
                     "The AudioSpecificConfig uses a reserved channel configuration.");
    expect_aac_error(asc_rate_0, sizeof(asc_rate_0), -LLHLS_EINVAL,
                     "The AudioSpecificConfig gives a sampling frequency of 0 or over 192 kHz.");
    expect_aac_error(asc_ep3, sizeof(asc_ep3), -LLHLS_EUNSUPPORTED,
                     "AAC with error protection (epConfig 2 or 3) is not supported.");
}

static void test_aac_rejects_short_configs(void **state)
{
    (void)state;
    expect_aac_error(asc_48000_stereo, 0, -LLHLS_EINVAL, "The AudioSpecificConfig is shorter than 2 bytes.");
    expect_aac_error(asc_48000_stereo, 1, -LLHLS_EINVAL, "The AudioSpecificConfig is shorter than 2 bytes.");
    expect_aac_error(asc_explicit_rate, 2, -LLHLS_EINVAL,
                     "The AudioSpecificConfig ends inside its sampling frequency.");
    expect_aac_error(asc_explicit_rate, 4, -LLHLS_EINVAL,
                     "The AudioSpecificConfig ends inside its sampling frequency.");
    expect_aac_error(asc_he_aac, 2, -LLHLS_EINVAL, "The AudioSpecificConfig ends inside its sampling frequency.");
    expect_aac_error(asc_he_aac, 3, -LLHLS_EINVAL, "The AudioSpecificConfig ends inside its GASpecificConfig.");
    expect_aac_error(NULL, 0, -LLHLS_EINVAL, "The AudioSpecificConfig is shorter than 2 bytes.");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_avc_parses_720p30_high),
        cmocka_unit_test(test_avc_parses_720p30_without_force_cfr),
        cmocka_unit_test(test_avc_crops_1080p2997_from_1088_lines),
        cmocka_unit_test(test_avc_parses_interlaced_1080i2997),
        cmocka_unit_test(test_avc_parses_2160p5994),
        cmocka_unit_test(test_avc_parses_4320p120),
        cmocka_unit_test(test_avc_parses_360p23976_baseline),
        cmocka_unit_test(test_avc_parses_high444_chroma_fields),
        cmocka_unit_test(test_avc_parses_high422_10bit),
        cmocka_unit_test(test_avc_honours_nal_length_size),
        cmocka_unit_test(test_sps_skips_scaling_lists),
        cmocka_unit_test(test_sps_skips_twelve_scaling_lists_in_444),
        cmocka_unit_test(test_sps_parses_poc_type_1),
        cmocka_unit_test(test_sps_without_timing_reports_rate_0),
        cmocka_unit_test(test_sps_rejects_absurd_values),
        cmocka_unit_test(test_sps_rejects_garbage),
        cmocka_unit_test(test_sps_rejects_every_truncation),
        cmocka_unit_test(test_avc_rejects_truncated_avcc),
        cmocka_unit_test(test_avc_rejects_lying_counts_and_lengths),
        cmocka_unit_test(test_avc_check_frame_finds_idr),
        cmocka_unit_test(test_avc_check_frame_with_short_lengths),
        cmocka_unit_test(test_avc_check_frame_rejects_bad_lengths),
        cmocka_unit_test(test_aac_parses_ffmpeg_configs),
        cmocka_unit_test(test_aac_parses_sbr_and_explicit_rates),
        cmocka_unit_test(test_aac_rejects_reserved_and_unsupported),
        cmocka_unit_test(test_aac_rejects_short_configs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
