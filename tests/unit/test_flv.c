/* Tests for FLV tag body parsing: real tags written by FFmpeg's FLV muxer
 * (H.264 from libx264, AAC from FFmpeg's encoder, and codecs the server
 * refuses), HEVC from libx265 in both the legacy (codec id 12) and the
 * Enhanced RTMP tag headers, plus truncated and invalid headers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "packager/flv.h"
#include "src/error.h"

/* ffmpeg -f lavfi -i testsrc=size=1920x1080:rate=30000/1001 -frames:v 1 -c:v libx264 -pix_fmt yuv420p -profile:v high
 *     -x264-params force-cfr=1 -f flv v1080p2997.flv
 * then the whole body of the first video tag (AVC sequence header). */
static const uint8_t tag_avc_sequence_header[] = {
    0x17, 0x00, 0x00, 0x00, 0x00, 0x01, 0x64, 0x00, 0x28, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x64, 0x00, 0x28,
    0xac, 0xd9, 0x40, 0x78, 0x02, 0x27, 0xe5, 0xc0, 0x44, 0x00, 0x00, 0x0f, 0xa4, 0x00, 0x03, 0xa9, 0x82,
    0x3c, 0x60, 0xc6, 0x58, 0x01, 0x00, 0x06, 0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8, 0x00,
};

/* ffmpeg -f lavfi -i color=c=blue:size=64x64:rate=25 -frames:v 2 -c:v libx264 -pix_fmt yuv420p -profile:v baseline
 *     -bsf:v filter_units=remove_types=6 -f flv small.flv
 * then the bodies of the second video tag (the IDR frame), the third (a P frame) and the last (end of sequence). */
static const uint8_t tag_avc_keyframe[] = {
    0x17, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f, 0x65, 0x88, 0x84, 0x0b, 0xf1,
    0x18, 0xa0, 0x00, 0x28, 0x73, 0x1c, 0x00, 0x04, 0xd6, 0xa3, 0x80, 0x00, 0x83, 0x6c,
    0x9c, 0x9c, 0x9d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5d, 0x75, 0xd7, 0x5e,
};

static const uint8_t tag_avc_inter[] = {
    0x27, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x41, 0x9a, 0x38, 0x15, 0xe1, 0x18,
};

static const uint8_t tag_avc_end_of_sequence[] = {
    0x17, 0x02, 0x00, 0x00, 0x00,
};

/* ffmpeg -f lavfi -i testsrc=size=64x64:rate=25 -frames:v 4 -c:v libx264 -pix_fmt yuv420p -profile:v main -bf 2
 *     -x264-params b-adapt=0 -bsf:v filter_units=remove_types=6 -f flv bframes.flv
 * then the bodies of the third video tag (the P frame, shown 160 ms after it is decoded) and the
 * fourth (a B frame, 40 ms). */
static const uint8_t tag_avc_reordered_p[] = {
    0x27, 0x01, 0x00, 0x00, 0xa0, 0x00, 0x00, 0x00, 0x10, 0x41, 0x9a, 0x23, 0x6c,
    0x43, 0x1f, 0x24, 0xc9, 0x16, 0x46, 0x5a, 0xed, 0x6e, 0xfa, 0xc0, 0x90,
};

static const uint8_t tag_avc_b[] = {
    0x27, 0x01, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x08, 0x41, 0x9e, 0x41, 0x78, 0x85, 0xbf, 0x69, 0xc1,
};

/* ffmpeg -f lavfi -i anullsrc=r=48000:cl=mono -t 0.1 -c:a aac -f flv silence.flv
 * then the bodies of the first audio tag (AAC sequence header) and the third (a raw AAC frame of silence). */
static const uint8_t tag_aac_sequence_header[] = {
    0xaf, 0x00, 0x11, 0x88, 0x56, 0xe5, 0x00,
};

static const uint8_t tag_aac_raw[] = {
    0xaf, 0x01, 0x01, 0x18, 0x20, 0x07,
};

/* The first bytes of tags in codecs the server does not take, each from
 * `ffmpeg -f lavfi -i testsrc=size=64x64:rate=25 -frames:v 1 -c:v CODEC -f flv out.flv` (video) or
 * `ffmpeg -f lavfi -i sine=sample_rate=RATE -t 0.05 -c:a CODEC -f flv out.flv` (audio): the first tag body's
 * first bytes, enough for the header. */
static const uint8_t tag_sorenson[] = {0x12, 0x00, 0x00, 0x84, 0x00, 0x20, 0x20, 0x11};     /* -c:v flv1 */
static const uint8_t tag_screen_video[] = {0x13, 0x30, 0x40, 0x30, 0x40, 0x01, 0xa2, 0x78}; /* -c:v flashsv */
static const uint8_t tag_mp3[] = {0x2e, 0xff, 0xfb, 0x50, 0xc4, 0x00};                      /* libmp3lame, 44100 */
static const uint8_t tag_nellymoser[] = {0x6e, 0x37, 0x2e, 0x88, 0x35, 0xe7};               /* nellymoser, 44100 */
static const uint8_t tag_pcm[] = {0x3e, 0x00, 0x00, 0x00, 0x01, 0xff};                      /* pcm_s16le, 44100 */
static const uint8_t tag_adpcm[] = {0x1e, 0x80, 0x00, 0x00, 0x77, 0x77};                    /* adpcm_swf, 44100 */
static const uint8_t tag_alaw[] = {0x72, 0xd5, 0xe0, 0x91, 0x9e, 0x9a};                     /* pcm_alaw, 8000 */
static const uint8_t tag_mulaw[] = {0x82, 0xff, 0xc8, 0xba, 0xb3, 0xaf};                    /* pcm_mulaw, 8000 */

/* HEVC: FFmpeg 5.1's FLV muxer writes no HEVC, so the tags are built here
 * around real libx265 output, the way OBS and FFmpeg 6 write them:
 *     ffmpeg -f lavfi -i color=c=blue:size=64x64:rate=25 -frames:v 2 -c:v libx265 -preset ultrafast
 *         -x265-params info=0:bframes=0 -tag:v hvc1 small.mp4
 * gives this hvcC box body and two samples: an IDR_N_LP picture and a
 * TRAIL_R picture, each one NAL unit with a 4-byte length. */
static const uint8_t hvcc_64x64[] = {
    0x01, 0x01, 0x60, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1e, 0xf0, 0x00, 0xfc,
    0xfd, 0xf8, 0xf8, 0x00, 0x00, 0x0f, 0x03, 0xa0, 0x00, 0x01, 0x00, 0x18, 0x40, 0x01, 0x0c, 0x01,
    0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00,
    0x1e, 0xba, 0x02, 0x40, 0xa1, 0x00, 0x01, 0x00, 0x28, 0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00,
    0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x1e, 0xa0, 0x20, 0x81, 0x05, 0x96,
    0xe9, 0x29, 0x30, 0xbc, 0x05, 0xa0, 0x20, 0x00, 0x00, 0x03, 0x00, 0x20, 0x00, 0x00, 0x03, 0x03,
    0x21, 0xa2, 0x00, 0x01, 0x00, 0x06, 0x44, 0x01, 0xc0, 0x73, 0xc0, 0x89,
};

static const uint8_t hevc_idr[] = {
    0x00, 0x00, 0x00, 0x10, 0x28, 0x01, 0xac, 0x76, 0x24, 0x2b, 0xff, 0xbe, 0xa3, 0x77, 0x7d, 0x9e, 0x71, 0xaa,
    0x78, 0xef,
};

static const uint8_t hevc_trail[] = {
    0x00, 0x00, 0x00, 0x09, 0x02, 0x01, 0xd0, 0x09, 0x78, 0x83, 0xb0, 0xa0, 0x98,
};

/* A tag body: the header bytes given, then the payload. */
static size_t tag(uint8_t *out, size_t cap, const uint8_t *head, size_t head_len, const uint8_t *payload, size_t len)
{
    assert_true(head_len + len <= cap);
    memcpy(out, head, head_len);
    if (len)
        memcpy(out + head_len, payload, len);
    return head_len + len;
}

static void test_flv_parses_avc_sequence_header(void **state)
{
    llhls_flv_video_t v;
    const char *why = NULL;
    (void)state;

    memset(&v, 0xaa, sizeof(v));
    assert_int_equal(llhls_flv_parse_video(tag_avc_sequence_header, sizeof(tag_avc_sequence_header), &v, &why), 0);
    assert_int_equal(v.codec_id, LLHLS_FLV_CODEC_AVC);
    assert_int_equal(v.keyframe, 1);
    assert_int_equal(v.command, 0);
    assert_int_equal(v.packet_type, LLHLS_FLV_PACKET_SEQUENCE_HEADER);
    assert_int_equal(v.cts_ms, 0);
    /* The payload is the avcC record, in place. */
    assert_ptr_equal(v.data, tag_avc_sequence_header + 5);
    assert_int_equal(v.len, sizeof(tag_avc_sequence_header) - 5);
    assert_int_equal(v.data[0], 1);
    assert_int_equal(v.data[3], 0x28);
}

static void test_flv_parses_avc_frames(void **state)
{
    llhls_flv_video_t v;
    const char *why = NULL;
    (void)state;

    assert_int_equal(llhls_flv_parse_video(tag_avc_keyframe, sizeof(tag_avc_keyframe), &v, &why), 0);
    assert_int_equal(v.keyframe, 1);
    assert_int_equal(v.packet_type, LLHLS_FLV_PACKET_NALU);
    assert_int_equal(v.cts_ms, 0);
    assert_int_equal(v.len, 35);
    assert_int_equal(v.data[4], 0x65); /* the IDR slice's NAL header after its 4-byte length */

    assert_int_equal(llhls_flv_parse_video(tag_avc_inter, sizeof(tag_avc_inter), &v, &why), 0);
    assert_int_equal(v.keyframe, 0);
    assert_int_equal(v.command, 0);
    assert_int_equal(v.packet_type, LLHLS_FLV_PACKET_NALU);
    assert_int_equal(v.len, 10);
    assert_int_equal(v.data[4], 0x41);

    assert_int_equal(llhls_flv_parse_video(tag_avc_end_of_sequence, sizeof(tag_avc_end_of_sequence), &v, &why), 0);
    assert_int_equal(v.packet_type, LLHLS_FLV_PACKET_END_OF_SEQUENCE);
    assert_int_equal(v.len, 0);
}

static void test_flv_reads_composition_time(void **state)
{
    /* A frame shown 2 ms before it is decoded (some encoders write this;
     * FFmpeg only writes positive offsets), and the largest values. */
    static const uint8_t negative[] = {0x27, 0x01, 0xff, 0xff, 0xfe, 0x00, 0x00, 0x00, 0x01, 0x41};
    static const uint8_t most_negative[] = {0x27, 0x01, 0x80, 0x00, 0x00};
    static const uint8_t most_positive[] = {0x27, 0x01, 0x7f, 0xff, 0xff};
    llhls_flv_video_t v;
    const char *why = NULL;
    (void)state;

    assert_int_equal(llhls_flv_parse_video(tag_avc_reordered_p, sizeof(tag_avc_reordered_p), &v, &why), 0);
    assert_int_equal(v.cts_ms, 160);
    assert_int_equal(v.keyframe, 0);
    assert_int_equal(llhls_flv_parse_video(tag_avc_b, sizeof(tag_avc_b), &v, &why), 0);
    assert_int_equal(v.cts_ms, 40);
    assert_int_equal(llhls_flv_parse_video(negative, sizeof(negative), &v, &why), 0);
    assert_int_equal(v.cts_ms, -2);
    assert_int_equal(llhls_flv_parse_video(most_negative, sizeof(most_negative), &v, &why), 0);
    assert_int_equal(v.cts_ms, -8388608);
    assert_int_equal(llhls_flv_parse_video(most_positive, sizeof(most_positive), &v, &why), 0);
    assert_int_equal(v.cts_ms, 8388607);
}

static void test_flv_flags_command_frames(void **state)
{
    /* Frame type 5 with codec 7: "start of client-side seeking", no media. */
    static const uint8_t seek_start[] = {0x57, 0x00};
    static const uint8_t bare[] = {0x57};
    llhls_flv_video_t v;
    const char *why = NULL;
    (void)state;

    assert_int_equal(llhls_flv_parse_video(seek_start, sizeof(seek_start), &v, &why), 0);
    assert_int_equal(v.command, 1);
    assert_int_equal(v.keyframe, 0);
    assert_int_equal(v.codec_id, LLHLS_FLV_CODEC_AVC);
    assert_true(v.packet_type != LLHLS_FLV_PACKET_SEQUENCE_HEADER && v.packet_type != LLHLS_FLV_PACKET_NALU);
    assert_int_equal(v.len, 1);
    assert_int_equal(llhls_flv_parse_video(bare, sizeof(bare), &v, &why), 0);
    assert_int_equal(v.command, 1);
    assert_int_equal(v.len, 0);
}

static void expect_video_error(const uint8_t *body, size_t len, int err, const char *sentence)
{
    llhls_flv_video_t v;
    const char *why = NULL;

    assert_int_equal(llhls_flv_parse_video(body, len, &v, &why), err);
    assert_string_equal(why, sentence);
}

static void test_flv_rejects_other_video_codecs(void **state)
{
    static const uint8_t vp6[] = {0x14, 0x00};
    static const uint8_t av1_legacy[] = {0x1d, 0x00, 0x00, 0x00, 0x00};
    (void)state;

    expect_video_error(tag_sorenson, sizeof(tag_sorenson), -LLHLS_EUNSUPPORTED,
                       "Video codec id 2 (Sorenson H.263) is not supported; publish H.264 or HEVC.");
    expect_video_error(tag_screen_video, sizeof(tag_screen_video), -LLHLS_EUNSUPPORTED,
                       "Video codec id 3 (Screen video) is not supported; publish H.264 or HEVC.");
    expect_video_error(vp6, sizeof(vp6), -LLHLS_EUNSUPPORTED,
                       "Video codec id 4 (On2 VP6) is not supported; publish H.264 or HEVC.");
    expect_video_error(av1_legacy, sizeof(av1_legacy), -LLHLS_EUNSUPPORTED,
                       "Video codec id 13 (AV1 in legacy FLV) is not supported; publish H.264 or HEVC.");
}

static void test_flv_parses_legacy_hevc_codec_id_12(void **state)
{
    static const uint8_t seq_head[] = {0x1c, 0x00, 0x00, 0x00, 0x00};
    static const uint8_t key_head[] = {0x1c, 0x01, 0x00, 0x00, 0x00};
    static const uint8_t inter_head[] = {0x2c, 0x01, 0x00, 0x00, 0x50}; /* shown 80 ms after decoding */
    static const uint8_t end[] = {0x1c, 0x02, 0x00, 0x00, 0x00};
    static const uint8_t command[] = {0x5c, 0x01};
    uint8_t body[256];
    llhls_flv_video_t v;
    const char *why = NULL;
    (void)state;

    size_t n = tag(body, sizeof(body), seq_head, 5, hvcc_64x64, sizeof(hvcc_64x64));
    memset(&v, 0xaa, sizeof(v));
    assert_int_equal(llhls_flv_parse_video(body, n, &v, &why), 0);
    assert_int_equal(v.codec_id, LLHLS_FLV_CODEC_HEVC);
    assert_int_equal(v.enhanced, 0);
    assert_int_equal(v.keyframe, 1);
    assert_int_equal(v.command, 0);
    assert_int_equal(v.packet_type, LLHLS_FLV_PACKET_SEQUENCE_HEADER);
    assert_ptr_equal(v.data, body + 5);
    assert_int_equal(v.len, sizeof(hvcc_64x64));

    n = tag(body, sizeof(body), key_head, 5, hevc_idr, sizeof(hevc_idr));
    assert_int_equal(llhls_flv_parse_video(body, n, &v, &why), 0);
    assert_int_equal(v.keyframe, 1);
    assert_int_equal(v.packet_type, LLHLS_FLV_PACKET_NALU);
    assert_int_equal(v.cts_ms, 0);
    assert_int_equal(v.len, sizeof(hevc_idr));
    assert_int_equal((v.data[4] >> 1) & 0x3f, 20); /* IDR_N_LP after the 4-byte length */

    n = tag(body, sizeof(body), inter_head, 5, hevc_trail, sizeof(hevc_trail));
    assert_int_equal(llhls_flv_parse_video(body, n, &v, &why), 0);
    assert_int_equal(v.keyframe, 0);
    assert_int_equal(v.cts_ms, 80);
    assert_memory_equal(v.data, hevc_trail, sizeof(hevc_trail));

    assert_int_equal(llhls_flv_parse_video(end, sizeof(end), &v, &why), 0);
    assert_int_equal(v.packet_type, LLHLS_FLV_PACKET_END_OF_SEQUENCE);
    assert_int_equal(llhls_flv_parse_video(command, sizeof(command), &v, &why), 0);
    assert_int_equal(v.command, 1);
    assert_int_equal(v.codec_id, LLHLS_FLV_CODEC_HEVC);

    static const uint8_t packet_type_3[] = {0x1c, 0x03, 0x00, 0x00, 0x00};
    expect_video_error(packet_type_3, sizeof(packet_type_3), -LLHLS_EINVAL,
                       "The HEVC video tag has an unknown packet type.");
    for (size_t k = 1; k < 5; k++)
        expect_video_error(key_head, k, -LLHLS_EINVAL, "The HEVC video tag is shorter than its 5-byte header.");
}

static void test_flv_parses_enhanced_rtmp_hevc(void **state)
{
    /* IsExHeader | frame type << 4 | packet type, then the FourCC. */
    static const uint8_t seq_start[] = {0x90, 'h', 'v', 'c', '1'};
    static const uint8_t coded_key[] = {0x91, 'h', 'v', 'c', '1', 0x00, 0x00, 0x00};
    static const uint8_t coded_b[] = {0xa1, 'h', 'v', 'c', '1', 0xff, 0xff, 0xd8}; /* -40 ms */
    static const uint8_t coded_x[] = {0xa3, 'h', 'v', 'c', '1'};
    static const uint8_t seq_end[] = {0x92, 'h', 'v', 'c', '1'};
    static const uint8_t metadata[] = {0x94, 'h', 'v', 'c', '1', 0x02, 0x00, 0x0a, 'c', 'o', 'l', 'o', 'r'};
    uint8_t body[256];
    llhls_flv_video_t v;
    const char *why = NULL;
    (void)state;

    size_t n = tag(body, sizeof(body), seq_start, 5, hvcc_64x64, sizeof(hvcc_64x64));
    memset(&v, 0xaa, sizeof(v));
    assert_int_equal(llhls_flv_parse_video(body, n, &v, &why), 0);
    assert_int_equal(v.codec_id, LLHLS_FLV_CODEC_HEVC);
    assert_int_equal(v.enhanced, 1);
    assert_int_equal(v.keyframe, 1);
    assert_int_equal(v.command, 0);
    assert_int_equal(v.packet_type, LLHLS_FLV_PACKET_SEQUENCE_HEADER);
    assert_int_equal(v.cts_ms, 0);
    assert_ptr_equal(v.data, body + 5);
    assert_memory_equal(v.data, hvcc_64x64, sizeof(hvcc_64x64));
    assert_int_equal(v.len, sizeof(hvcc_64x64));

    n = tag(body, sizeof(body), coded_key, sizeof(coded_key), hevc_idr, sizeof(hevc_idr));
    assert_int_equal(llhls_flv_parse_video(body, n, &v, &why), 0);
    assert_int_equal(v.keyframe, 1);
    assert_int_equal(v.packet_type, LLHLS_FLV_PACKET_NALU);
    assert_int_equal(v.cts_ms, 0);
    assert_ptr_equal(v.data, body + 8);
    assert_int_equal(v.len, sizeof(hevc_idr));

    n = tag(body, sizeof(body), coded_b, sizeof(coded_b), hevc_trail, sizeof(hevc_trail));
    assert_int_equal(llhls_flv_parse_video(body, n, &v, &why), 0);
    assert_int_equal(v.keyframe, 0);
    assert_int_equal(v.cts_ms, -40);
    assert_int_equal(v.len, sizeof(hevc_trail));

    /* CodedFramesX: no composition offset, the frame right after the FourCC. */
    n = tag(body, sizeof(body), coded_x, sizeof(coded_x), hevc_trail, sizeof(hevc_trail));
    assert_int_equal(llhls_flv_parse_video(body, n, &v, &why), 0);
    assert_int_equal(v.packet_type, LLHLS_FLV_PACKET_NALU);
    assert_int_equal(v.cts_ms, 0);
    assert_ptr_equal(v.data, body + 5);
    assert_memory_equal(v.data, hevc_trail, sizeof(hevc_trail));

    assert_int_equal(llhls_flv_parse_video(seq_end, sizeof(seq_end), &v, &why), 0);
    assert_int_equal(v.packet_type, LLHLS_FLV_PACKET_END_OF_SEQUENCE);
    assert_int_equal(v.len, 0);
    assert_int_equal(llhls_flv_parse_video(metadata, sizeof(metadata), &v, &why), 0);
    assert_int_equal(v.packet_type, LLHLS_FLV_PACKET_METADATA);
    assert_int_equal(v.command, 0);
    assert_int_equal(v.len, sizeof(metadata) - 5);
}

static void test_flv_maps_enhanced_avc1_to_avc(void **state)
{
    static const uint8_t coded[] = {0xa1, 'a', 'v', 'c', '1', 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x01, 0x41};
    uint8_t body[128];
    llhls_flv_video_t v;
    const char *why = NULL;
    (void)state;

    /* The avcC of the legacy sequence header above, behind an ex header. */
    static const uint8_t seq_start[] = {0x90, 'a', 'v', 'c', '1'};
    size_t n = tag(body, sizeof(body), seq_start, 5, tag_avc_sequence_header + 5, sizeof(tag_avc_sequence_header) - 5);
    assert_int_equal(llhls_flv_parse_video(body, n, &v, &why), 0);
    assert_int_equal(v.codec_id, LLHLS_FLV_CODEC_AVC);
    assert_int_equal(v.packet_type, LLHLS_FLV_PACKET_SEQUENCE_HEADER);
    assert_int_equal(v.data[0], 1);
    assert_int_equal(v.data[3], 0x28);
    assert_int_equal(llhls_flv_parse_video(coded, sizeof(coded), &v, &why), 0);
    assert_int_equal(v.codec_id, LLHLS_FLV_CODEC_AVC);
    assert_int_equal(v.keyframe, 0);
    assert_int_equal(v.cts_ms, 40);
    assert_int_equal(v.len, 5);
}

static void test_flv_flags_enhanced_command_frames(void **state)
{
    /* Frame type 5: one command byte, no FourCC. */
    static const uint8_t seek_end[] = {0xd1, 0x01};
    static const uint8_t bare[] = {0xd0};
    llhls_flv_video_t v;
    const char *why = NULL;
    (void)state;

    assert_int_equal(llhls_flv_parse_video(seek_end, sizeof(seek_end), &v, &why), 0);
    assert_int_equal(v.command, 1);
    assert_int_equal(v.enhanced, 1);
    assert_int_equal(v.keyframe, 0);
    assert_true(v.packet_type != LLHLS_FLV_PACKET_SEQUENCE_HEADER && v.packet_type != LLHLS_FLV_PACKET_NALU);
    assert_int_equal(v.len, 1);
    assert_int_equal(v.data[0], 0x01);
    assert_int_equal(llhls_flv_parse_video(bare, sizeof(bare), &v, &why), 0);
    assert_int_equal(v.command, 1);
    assert_int_equal(v.len, 0);
}

static void test_flv_refuses_enhanced_features_it_lacks(void **state)
{
    static const uint8_t av1[] = {0x90, 'a', 'v', '0', '1', 0x81, 0x00, 0x0c};
    static const uint8_t vp9[] = {0x90, 'v', 'p', '0', '9'};
    static const uint8_t vp8[] = {0x91, 'v', 'p', '0', '8', 0x00};
    static const uint8_t unknown[] = {0x90, 'H', 'V', 'C', '1'};
    /* Multitrack: AvMultitrackType << 4 | packet type, then the FourCC... */
    static const uint8_t multitrack[] = {0x96, 0x00, 'h', 'v', 'c', '1', 0x00};
    static const uint8_t multitrack_short[] = {0x96};
    /* ModEx: a size, the modifier data, then type and the real packet type. */
    static const uint8_t modex[] = {0x97, 0x02, 0x00, 0x00, 0x00, 0x01, 'h', 'v', 'c', '1'};
    static const uint8_t mpeg2ts[] = {0x95, 'h', 'v', 'c', '1', 0x00};
    (void)state;

    expect_video_error(av1, sizeof(av1), -LLHLS_EUNSUPPORTED,
                       "AV1 video (FourCC av01) is not supported; publish H.264 or HEVC.");
    expect_video_error(vp9, sizeof(vp9), -LLHLS_EUNSUPPORTED,
                       "VP9 video (FourCC vp09) is not supported; publish H.264 or HEVC.");
    expect_video_error(vp8, sizeof(vp8), -LLHLS_EUNSUPPORTED,
                       "VP8 video (FourCC vp08) is not supported; publish H.264 or HEVC.");
    expect_video_error(unknown, sizeof(unknown), -LLHLS_EUNSUPPORTED,
                       "The Enhanced RTMP video FourCC is not a known codec; publish H.264 (avc1) or HEVC (hvc1).");
    expect_video_error(multitrack, sizeof(multitrack), -LLHLS_EUNSUPPORTED,
                       "Enhanced RTMP multitrack video (packet type 6) is not supported; publish one video track.");
    expect_video_error(multitrack_short, sizeof(multitrack_short), -LLHLS_EUNSUPPORTED,
                       "Enhanced RTMP multitrack video (packet type 6) is not supported; publish one video track.");
    expect_video_error(modex, sizeof(modex), -LLHLS_EUNSUPPORTED,
                       "Enhanced RTMP ModEx video packets (packet type 7) are not supported; publish without "
                       "timestamp offsets.");
    expect_video_error(modex, 1, -LLHLS_EUNSUPPORTED,
                       "Enhanced RTMP ModEx video packets (packet type 7) are not supported; publish without "
                       "timestamp offsets.");
    expect_video_error(mpeg2ts, sizeof(mpeg2ts), -LLHLS_EUNSUPPORTED,
                       "Enhanced RTMP MPEG-2 TS sequence starts (packet type 5) are not supported; send "
                       "SequenceStart with the configuration record.");
}

static void test_flv_rejects_malformed_enhanced_headers(void **state)
{
    static const uint8_t coded[] = {0x91, 'h', 'v', 'c', '1', 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x01};
    static const uint8_t frame_type_0[] = {0x80, 'h', 'v', 'c', '1'};
    static const uint8_t frame_type_6[] = {0xe0, 'h', 'v', 'c', '1'};
    static const uint8_t frame_type_7[] = {0xf3, 'h', 'v', 'c', '1'};
    static const uint8_t packet_type_8[] = {0x98, 'h', 'v', 'c', '1'};
    static const uint8_t packet_type_15[] = {0x9f, 'h', 'v', 'c', '1'};
    (void)state;

    expect_video_error(frame_type_0, sizeof(frame_type_0), -LLHLS_EINVAL,
                       "The Enhanced RTMP video tag has an invalid frame type.");
    expect_video_error(frame_type_6, sizeof(frame_type_6), -LLHLS_EINVAL,
                       "The Enhanced RTMP video tag has an invalid frame type.");
    expect_video_error(frame_type_7, sizeof(frame_type_7), -LLHLS_EINVAL,
                       "The Enhanced RTMP video tag has an invalid frame type.");
    expect_video_error(packet_type_8, sizeof(packet_type_8), -LLHLS_EINVAL,
                       "The Enhanced RTMP video tag has an unknown packet type.");
    expect_video_error(packet_type_15, sizeof(packet_type_15), -LLHLS_EINVAL,
                       "The Enhanced RTMP video tag has an unknown packet type.");
    for (size_t n = 1; n < 5; n++)
        expect_video_error(coded, n, -LLHLS_EINVAL, "The Enhanced RTMP video tag is shorter than its 5-byte header.");
    for (size_t n = 5; n < 8; n++)
        expect_video_error(coded, n, -LLHLS_EINVAL,
                           "The Enhanced RTMP coded frames tag is shorter than its 8-byte header.");
    /* Exactly the header: a frame of no bytes, for the codec layer to refuse. */
    llhls_flv_video_t v;
    const char *why = NULL;
    assert_int_equal(llhls_flv_parse_video(coded, 8, &v, &why), 0);
    assert_int_equal(v.len, 0);
}

static void test_flv_rejects_truncated_video(void **state)
{
    static const uint8_t frame_type_0[] = {0x07, 0x01, 0x00, 0x00, 0x00};
    static const uint8_t frame_type_6[] = {0x67, 0x01, 0x00, 0x00, 0x00};
    static const uint8_t packet_type_3[] = {0x17, 0x03, 0x00, 0x00, 0x00};
    (void)state;

    expect_video_error(tag_avc_keyframe, 0, -LLHLS_EINVAL, "The video tag is empty.");
    expect_video_error(NULL, 0, -LLHLS_EINVAL, "The video tag is empty.");
    for (size_t n = 1; n < 5; n++)
        expect_video_error(tag_avc_keyframe, n, -LLHLS_EINVAL,
                           "The H.264 video tag is shorter than its 5-byte header.");
    expect_video_error(frame_type_0, sizeof(frame_type_0), -LLHLS_EINVAL, "The video tag has an invalid frame type.");
    expect_video_error(frame_type_6, sizeof(frame_type_6), -LLHLS_EINVAL, "The video tag has an invalid frame type.");
    expect_video_error(packet_type_3, sizeof(packet_type_3), -LLHLS_EINVAL,
                       "The H.264 video tag has an unknown AVCPacketType.");
}

static void test_flv_parses_aac_tags(void **state)
{
    llhls_flv_audio_t a;
    const char *why = NULL;
    (void)state;

    memset(&a, 0xaa, sizeof(a));
    assert_int_equal(llhls_flv_parse_audio(tag_aac_sequence_header, sizeof(tag_aac_sequence_header), &a, &why), 0);
    assert_int_equal(a.sound_format, LLHLS_FLV_SOUND_AAC);
    assert_int_equal(a.packet_type, LLHLS_FLV_AAC_SEQUENCE_HEADER);
    assert_ptr_equal(a.data, tag_aac_sequence_header + 2);
    assert_int_equal(a.len, 5);
    assert_int_equal(a.data[0], 0x11); /* AAC-LC, 48000 Hz: the AudioSpecificConfig's first byte */

    assert_int_equal(llhls_flv_parse_audio(tag_aac_raw, sizeof(tag_aac_raw), &a, &why), 0);
    assert_int_equal(a.packet_type, LLHLS_FLV_AAC_RAW);
    assert_ptr_equal(a.data, tag_aac_raw + 2);
    assert_int_equal(a.len, sizeof(tag_aac_raw) - 2);
}

static void expect_audio_error(const uint8_t *body, size_t len, int err, const char *sentence)
{
    llhls_flv_audio_t a;
    const char *why = NULL;

    assert_int_equal(llhls_flv_parse_audio(body, len, &a, &why), err);
    assert_string_equal(why, sentence);
}

static void test_flv_rejects_other_audio_formats(void **state)
{
    (void)state;
    expect_audio_error(tag_mp3, sizeof(tag_mp3), -LLHLS_EUNSUPPORTED,
                       "Audio sound format 2 (MP3) is not supported; publish AAC.");
    expect_audio_error(tag_nellymoser, sizeof(tag_nellymoser), -LLHLS_EUNSUPPORTED,
                       "Nellymoser audio (sound format 4, 5 or 6) is not supported; publish AAC.");
    expect_audio_error(tag_pcm, sizeof(tag_pcm), -LLHLS_EUNSUPPORTED,
                       "Audio sound format 3 (linear PCM, little endian) is not supported; publish AAC.");
    expect_audio_error(tag_adpcm, sizeof(tag_adpcm), -LLHLS_EUNSUPPORTED,
                       "Audio sound format 1 (ADPCM) is not supported; publish AAC.");
    expect_audio_error(tag_alaw, sizeof(tag_alaw), -LLHLS_EUNSUPPORTED,
                       "Audio sound format 7 (G.711 A-law) is not supported; publish AAC.");
    expect_audio_error(tag_mulaw, sizeof(tag_mulaw), -LLHLS_EUNSUPPORTED,
                       "Audio sound format 8 (G.711 mu-law) is not supported; publish AAC.");
}

static void test_flv_rejects_truncated_audio(void **state)
{
    static const uint8_t packet_type_2[] = {0xaf, 0x02, 0x00};
    (void)state;

    expect_audio_error(tag_aac_raw, 0, -LLHLS_EINVAL, "The audio tag is empty.");
    expect_audio_error(tag_aac_raw, 1, -LLHLS_EINVAL, "The AAC audio tag is shorter than its 2-byte header.");
    expect_audio_error(packet_type_2, sizeof(packet_type_2), -LLHLS_EINVAL,
                       "The AAC audio tag has an unknown AACPacketType.");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flv_parses_avc_sequence_header),
        cmocka_unit_test(test_flv_parses_avc_frames),
        cmocka_unit_test(test_flv_reads_composition_time),
        cmocka_unit_test(test_flv_flags_command_frames),
        cmocka_unit_test(test_flv_rejects_other_video_codecs),
        cmocka_unit_test(test_flv_parses_legacy_hevc_codec_id_12),
        cmocka_unit_test(test_flv_parses_enhanced_rtmp_hevc),
        cmocka_unit_test(test_flv_maps_enhanced_avc1_to_avc),
        cmocka_unit_test(test_flv_flags_enhanced_command_frames),
        cmocka_unit_test(test_flv_refuses_enhanced_features_it_lacks),
        cmocka_unit_test(test_flv_rejects_malformed_enhanced_headers),
        cmocka_unit_test(test_flv_rejects_truncated_video),
        cmocka_unit_test(test_flv_parses_aac_tags),
        cmocka_unit_test(test_flv_rejects_other_audio_formats),
        cmocka_unit_test(test_flv_rejects_truncated_audio),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
