/* HEVC configuration as RTMP publishers send it: the
 * HEVCDecoderConfigurationRecord (hvcC, ISO/IEC 14496-15) with its first
 * SPS, the codec string built from them (ISO/IEC 14496-15 Annex E), and a
 * check of the length-prefixed NAL units of each frame. */
#ifndef LLHLS_HEVC_H
#define LLHLS_HEVC_H

#include "index.h"

#include <stddef.h>
#include <stdint.h>

typedef struct llhls_hevc_config {
    uint8_t general_profile_space;            /* 0-3; 1-3 print as A, B, C */
    uint8_t tier_flag;                        /* 0 main tier, 1 high tier */
    uint8_t profile_idc;                      /* 1 Main, 2 Main 10, 3 Main Still, 4 RExt, ... */
    uint32_t profile_compatibility_flags;     /* flag j is bit 31 - j, as coded */
    uint8_t constraint_flags[6];              /* general constraint indicator flags, as coded */
    uint8_t level_idc;                        /* 30 x the level: 153 = 5.1, 183 = 6.1 */
    uint8_t nal_length_size;                  /* 1, 2 or 4 */
    uint32_t width, height;                   /* conformance-window cropped picture size */
    uint32_t frame_rate_milli;                /* from the VUI timing info; 0 if absent or unreachable */
    uint8_t bit_depth_luma, bit_depth_chroma; /* 8 to 16 */
    uint8_t chroma_format_idc;                /* 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4 */
    char codec[LLHLS_CODEC_MAX];              /* "hvc1.1.6.L153.B0" */
} llhls_hevc_config_t;

/* Parses an hvcC record and the first base-layer SPS in its arrays.
 * Returns 0, -LLHLS_EINVAL (truncated or inconsistent record or SPS) or
 * -LLHLS_EUNSUPPORTED, with *why set to a sentence naming what is wrong.
 * out is written only on success. */
int llhls_hevc_parse_config(const uint8_t *hvcc, size_t len, llhls_hevc_config_t *out, const char **why);

/* Parses an SPS NAL unit (its 2-byte header included, emulation prevention
 * bytes present) into every field of out but nal_length_size, which it
 * leaves alone.  The frame rate is 0 when the VUI or its timing info is
 * absent, or cannot be reached because something before it is out of the
 * bounds this parser keeps; that is not an error.  Same returns as above. */
int llhls_hevc_parse_sps(const uint8_t *nal, size_t len, llhls_hevc_config_t *out, const char **why);

/* Checks that a frame of length-prefixed NAL units is well formed: every
 * length fits inside len and every unit holds its 2-byte header.  Sets
 * *irap when a BLA, IDR or CRA picture (NAL types 16 to 21) is present,
 * where a segment may start.  Returns 0 or -LLHLS_EINVAL. */
int llhls_hevc_check_frame(const uint8_t *data, size_t len, uint8_t nal_length_size, int *irap, const char **why);

#endif
