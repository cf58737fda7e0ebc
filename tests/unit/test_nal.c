/* Unit tests of llhls-push's bitstream conversions, on parameter sets taken
 * from real x264 and x265 streams: the records built from Annex-B input must
 * equal what the encoders' own mp4 files carry. */
#include "nal.h"

#include "error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static const uint8_t hevc_vps[] = {0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00,
                                   0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x3f, 0x95, 0x94, 0x09};
static const uint8_t hevc_sps[] = {0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00,
                                   0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x3f, 0xa0, 0x05, 0x02, 0x01,
                                   0x71, 0xf2, 0xe5, 0x95, 0x95, 0x29, 0x30, 0xbc, 0x05, 0xa0, 0x20,
                                   0x00, 0x00, 0x03, 0x00, 0x20, 0x00, 0x00, 0x03, 0x03, 0xc1, 0xa2};
static const uint8_t hevc_pps[] = {0x44, 0x01, 0xc0, 0x73, 0xc1, 0x89};
static const uint8_t avc_sps[] = {0x67, 0x42, 0xc0, 0x1e, 0xda, 0x02, 0x80, 0xbf, 0xe5, 0xc0, 0x44, 0x00, 0x00,
                                  0x03, 0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0xf0, 0x3c, 0x58, 0xba, 0x80};
static const uint8_t avc_pps[] = {0x68, 0xce, 0x0f, 0xc8};

static void append(uint8_t *buf, size_t *len, const uint8_t *p, size_t n)
{
    memcpy(buf + *len, p, n);
    *len += n;
}

static void test_nal_annexb_to_length_prefixed_drops_aud_and_keeps_params(void **state)
{
    (void)state;
    uint8_t in[256];
    size_t n = 0;
    static const uint8_t sc4[] = {0, 0, 0, 1}, sc3[] = {0, 0, 1};
    static const uint8_t aud[] = {0x46, 0x01, 0x10};
    static const uint8_t slice[] = {0x26, 0x01, 0xaf, 0x00, 0x00, 0x03, 0x01, 0x42};
    append(in, &n, sc4, 4);
    append(in, &n, aud, sizeof aud);
    append(in, &n, sc4, 4);
    append(in, &n, hevc_vps, sizeof hevc_vps);
    append(in, &n, sc3, 3);
    append(in, &n, hevc_sps, sizeof hevc_sps);
    append(in, &n, sc4, 4);
    append(in, &n, hevc_pps, sizeof hevc_pps);
    append(in, &n, sc3, 3);
    append(in, &n, slice, sizeof slice);
    in[n++] = 0; /* trailing_zero_8bits belong to no NAL unit */
    in[n++] = 0;
    assert_true(push_nal_is_annexb(in, n));

    push_params_t ps;
    push_params_init(&ps);
    llhls_buf_t out;
    llhls_buf_init(&out, 0);
    assert_int_equal(push_nal_annexb_to_lp(in, n, 1, &out, &ps), 0);
    assert_int_equal(out.len, 4 * 4 + sizeof hevc_vps + sizeof hevc_sps + sizeof hevc_pps + sizeof slice);
    assert_memory_equal(out.data, "\x00\x00\x00\x18", 4);
    assert_memory_equal(out.data + 4, hevc_vps, sizeof hevc_vps);
    size_t at = out.len - sizeof slice - 4;
    assert_memory_equal(out.data + at, "\x00\x00\x00\x08", 4);
    assert_memory_equal(out.data + at + 4, slice, sizeof slice);
    assert_int_equal(ps.sps.len, sizeof hevc_sps);
    assert_memory_equal(ps.pps.data, hevc_pps, sizeof hevc_pps);

    /* The same units, length-prefixed, give the same parameter sets. */
    push_params_t ps2;
    push_params_init(&ps2);
    assert_int_equal(push_nal_scan_lp(out.data, out.len, 1, &ps2), 0);
    assert_int_equal(ps2.vps.len, sizeof hevc_vps);
    assert_int_equal(push_nal_scan_lp(out.data, out.len - 1, 1, &ps2), -LLHLS_EINVAL);
    push_params_free(&ps2);
    push_params_free(&ps);
    llhls_buf_free(&out);
}

static void load(push_params_t *ps, int hevc)
{
    push_params_init(ps);
    if (hevc) {
        llhls_buf_append(&ps->vps, hevc_vps, sizeof hevc_vps);
        llhls_buf_append(&ps->sps, hevc_sps, sizeof hevc_sps);
        llhls_buf_append(&ps->pps, hevc_pps, sizeof hevc_pps);
    } else {
        llhls_buf_append(&ps->sps, avc_sps, sizeof avc_sps);
        llhls_buf_append(&ps->pps, avc_pps, sizeof avc_pps);
    }
}

static void test_nal_hvcc_matches_the_encoder_record(void **state)
{
    (void)state;
    /* x265's hvcC in mp4, up to numOfArrays (it adds a fourth, SEI, array). */
    static const uint8_t want[] = {0x01, 0x01, 0x60, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00,
                                   0x3f, 0xf0, 0x00, 0xfc, 0xfd, 0xf8, 0xf8, 0x00, 0x00, 0x0f, 0x03};
    push_params_t ps;
    load(&ps, 1);
    llhls_buf_t out;
    llhls_buf_init(&out, 0);
    const char *why = NULL;
    assert_int_equal(push_nal_build_hvcc(&ps, &out, &why), 0);
    assert_memory_equal(out.data, want, sizeof want);
    assert_int_equal(out.len, sizeof want + 3 * 5 + sizeof hevc_vps + sizeof hevc_sps + sizeof hevc_pps);
    const uint8_t *a = out.data + sizeof want;
    assert_memory_equal(a, "\xa0\x00\x01\x00\x18", 5);
    a += 5 + sizeof hevc_vps;
    assert_memory_equal(a, "\xa1\x00\x01\x00\x2c", 5);
    a += 5 + sizeof hevc_sps;
    assert_memory_equal(a, "\xa2\x00\x01\x00\x06", 5);
    push_params_free(&ps);
    llhls_buf_free(&out);
}

static void test_nal_hvcc_rejects_missing_vps_and_truncated_sps(void **state)
{
    (void)state;
    push_params_t ps;
    load(&ps, 1);
    llhls_buf_t out;
    llhls_buf_init(&out, 0);
    const char *why = NULL;
    llhls_buf_reset(&ps.vps);
    assert_int_equal(push_nal_build_hvcc(&ps, &out, &why), -LLHLS_EINVAL);
    assert_non_null(strstr(why, "VPS"));
    llhls_buf_append(&ps.vps, hevc_vps, sizeof hevc_vps);
    ps.sps.len = 16; /* cut inside the profile_tier_level */
    assert_int_equal(push_nal_build_hvcc(&ps, &out, &why), -LLHLS_EINVAL);
    assert_string_equal(why, "malformed HEVC SPS");
    push_params_free(&ps);
    llhls_buf_free(&out);
}

static void test_nal_avcc_matches_the_encoder_record(void **state)
{
    (void)state;
    push_params_t ps;
    load(&ps, 0);
    llhls_buf_t out;
    llhls_buf_init(&out, 0);
    const char *why = NULL;
    assert_int_equal(push_nal_build_avcc(&ps, &out, &why), 0);
    static const uint8_t head[] = {0x01, 0x42, 0xc0, 0x1e, 0xff, 0xe1, 0x00, 0x19};
    assert_int_equal(out.len, sizeof head + sizeof avc_sps + 3 + sizeof avc_pps);
    assert_memory_equal(out.data, head, sizeof head);
    assert_memory_equal(out.data + sizeof head + sizeof avc_sps, "\x01\x00\x04\x68\xce\x0f\xc8", 7);
    llhls_buf_reset(&ps.pps);
    assert_int_equal(push_nal_build_avcc(&ps, &out, &why), -LLHLS_EINVAL);
    push_params_free(&ps);
    llhls_buf_free(&out);
}

static void test_adts_header_gives_audio_specific_config(void **state)
{
    (void)state;
    /* AAC-LC, 44100 Hz, mono, 17-byte frame, no CRC. */
    uint8_t f[17] = {0xff, 0xf1, 0x50, 0x40, 0x02, 0x3f, 0xfc};
    size_t hlen = 0, flen = 0;
    uint8_t asc[2];
    assert_int_equal(push_adts_parse(f, sizeof f, &hlen, &flen, asc), 0);
    assert_int_equal(hlen, 7);
    assert_int_equal(flen, 17);
    assert_int_equal(asc[0], 0x12);
    assert_int_equal(asc[1], 0x08);
}

static void test_adts_rejects_bad_sync_and_overlong_frames(void **state)
{
    (void)state;
    uint8_t f[17] = {0xff, 0xf1, 0x50, 0x40, 0x02, 0x3f, 0xfc};
    size_t hlen, flen;
    uint8_t asc[2];
    assert_int_equal(push_adts_parse(f, 16, &hlen, &flen, asc), -LLHLS_EINVAL);
    assert_int_equal(push_adts_parse(f, 6, &hlen, &flen, asc), -LLHLS_EINVAL);
    f[1] = 0xf7; /* layer 3: not ADTS */
    assert_int_equal(push_adts_parse(f, sizeof f, &hlen, &flen, asc), -LLHLS_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nal_annexb_to_length_prefixed_drops_aud_and_keeps_params),
        cmocka_unit_test(test_nal_hvcc_matches_the_encoder_record),
        cmocka_unit_test(test_nal_hvcc_rejects_missing_vps_and_truncated_sps),
        cmocka_unit_test(test_nal_avcc_matches_the_encoder_record),
        cmocka_unit_test(test_adts_header_gives_audio_specific_config),
        cmocka_unit_test(test_adts_rejects_bad_sync_and_overlong_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
