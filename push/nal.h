/* Bitstream conversions for the publisher: Annex-B (start codes) to
 * length-prefixed NAL units, the decoder configuration records (avcC, hvcC)
 * built from the parameter sets found in the stream, and AAC's ADTS header
 * turned into an AudioSpecificConfig. */
#ifndef LLHLS_PUSH_NAL_H
#define LLHLS_PUSH_NAL_H

#include "buf.h"

#include <stddef.h>
#include <stdint.h>

/* The first VPS, SPS and PPS seen (VPS only for HEVC), NAL header
 * included, emulation prevention bytes present. */
typedef struct push_params {
    llhls_buf_t vps, sps, pps;
} push_params_t;

void push_params_init(push_params_t *ps);
void push_params_free(push_params_t *ps);

/* Whether p starts with a 3- or 4-byte start code. */
int push_nal_is_annexb(const uint8_t *p, size_t len);

/* Appends every NAL unit of an Annex-B access unit to out, each behind a
 * 4-byte big-endian length.  Access unit delimiters are dropped; the first
 * parameter sets are copied into ps (when ps is set).  Returns 0 or the
 * errors of llhls_buf_append(). */
int push_nal_annexb_to_lp(const uint8_t *p, size_t len, int hevc, llhls_buf_t *out, push_params_t *ps);

/* Collects the parameter sets of length-prefixed (4-byte) NAL units. */
int push_nal_scan_lp(const uint8_t *p, size_t len, int hevc, push_params_t *ps);

/* Builds an AVCDecoderConfigurationRecord (4-byte lengths) from ps.
 * Returns 0, -LLHLS_EINVAL with *why set when the SPS or PPS is missing or
 * too short, or -LLHLS_ENOMEM. */
int push_nal_build_avcc(const push_params_t *ps, llhls_buf_t *out, const char **why);

/* Builds an HEVCDecoderConfigurationRecord (4-byte lengths) from ps: the
 * general profile_tier_level is copied from the SPS, chroma format and bit
 * depths are read from it.  Same returns as push_nal_build_avcc(). */
int push_nal_build_hvcc(const push_params_t *ps, llhls_buf_t *out, const char **why);

/* Reads an ADTS header at p.  On success *hdr_len is its size (7 or 9),
 * *frame_len the whole frame's and asc[0..1] the matching
 * AudioSpecificConfig.  Returns 0 or -LLHLS_EINVAL. */
int push_adts_parse(const uint8_t *p, size_t len, size_t *hdr_len, size_t *frame_len, uint8_t asc[2]);

#endif
