/* Codec configuration records: the AVCDecoderConfigurationRecord with its
 * SPS (profile, level, resolution, frame rate) and AAC's
 * AudioSpecificConfig, and the RFC 6381 codec strings built from them. */
#ifndef LLHLS_CODEC_H
#define LLHLS_CODEC_H

#include "index.h"

#include <stddef.h>
#include <stdint.h>

typedef struct llhls_avc_config {
    uint8_t profile_idc, constraint_flags, level_idc;
    uint8_t nal_length_size;     /* 1, 2 or 4 */
    uint32_t width, height;      /* cropped picture size from the SPS */
    uint32_t frame_rate_milli;   /* from VUI timing info; 0 if absent */
    char codec[LLHLS_CODEC_MAX]; /* "avc1.PPCCLL", lower-case hex */
} llhls_avc_config_t;

/* Parses an avcC record (with its first SPS).  Returns 0 or -LLHLS_EINVAL /
 * -LLHLS_EUNSUPPORTED with *why set to a sentence naming what is wrong. */
int llhls_avc_parse_config(const uint8_t *avcc, size_t len, llhls_avc_config_t *out, const char **why);

/* Parses an SPS NAL unit (header byte included, emulation prevention bytes
 * present) into out's profile, level, size and frame rate fields. */
int llhls_avc_parse_sps(const uint8_t *nal, size_t len, llhls_avc_config_t *out, const char **why);

/* A walk over the length-prefixed NAL units of one frame (H.264 and HEVC
 * alike), checking that every length fits inside the frame. */
typedef struct llhls_nal_walk {
    const uint8_t *data;
    size_t len, off;
    uint8_t length_size;
} llhls_nal_walk_t;

/* Starts a walk.  Returns 0, or -LLHLS_EINVAL (length size not 1, 2 or 4,
 * or an empty frame) with *why set. */
int llhls_nal_walk_start(llhls_nal_walk_t *w, const uint8_t *data, size_t len, uint8_t length_size, const char **why);
/* The next NAL unit in *nal and *n: returns 1, 0 at the end of the frame,
 * or -LLHLS_EINVAL with *why set (truncated length, zero length, overrun). */
int llhls_nal_walk_next(llhls_nal_walk_t *w, const uint8_t **nal, size_t *n, const char **why);

/* Checks that a frame of length-prefixed NAL units is well formed: every
 * length fits inside len.  Sets *idr when it holds an IDR slice (type 5).
 * Returns 0 or -LLHLS_EINVAL. */
int llhls_avc_check_frame(const uint8_t *data, size_t len, uint8_t nal_length_size, int *idr, const char **why);

typedef struct llhls_aac_config {
    uint8_t object_type; /* 2 = AAC-LC, 5 = HE-AAC, 29 = HE-AACv2 */
    uint32_t sample_rate;
    uint8_t channels;
    uint16_t frame_length;       /* samples per frame at sample_rate: 1024, 960, or 2048 with SBR */
    char codec[LLHLS_CODEC_MAX]; /* "mp4a.40.2" */
} llhls_aac_config_t;

/* Parses an AudioSpecificConfig.  Same returns as above. */
int llhls_aac_parse_config(const uint8_t *asc, size_t len, llhls_aac_config_t *out, const char **why);

#endif
