/* FLV tag bodies as RTMP carries them (message types 8 and 9): the audio and
 * video tag headers, split from their payload.  Legacy AVC (codec id 7) and
 * AAC (sound format 10) in this version. */
#ifndef LLHLS_FLV_H
#define LLHLS_FLV_H

#include <stddef.h>
#include <stdint.h>

enum { LLHLS_FLV_CODEC_AVC = 7, LLHLS_FLV_CODEC_HEVC = 12 };
enum { LLHLS_FLV_SOUND_AAC = 10 };
enum { LLHLS_FLV_PACKET_SEQUENCE_HEADER = 0, LLHLS_FLV_PACKET_NALU = 1, LLHLS_FLV_PACKET_END_OF_SEQUENCE = 2 };
enum { LLHLS_FLV_AAC_SEQUENCE_HEADER = 0, LLHLS_FLV_AAC_RAW = 1 };

typedef struct llhls_flv_video {
    uint8_t codec_id;       /* LLHLS_FLV_CODEC_* */
    uint8_t keyframe;       /* frame type 1 */
    uint8_t command;        /* frame type 5: a command frame, no media */
    uint8_t packet_type;    /* LLHLS_FLV_PACKET_* */
    int32_t cts_ms;         /* composition time offset, signed 24 bits */
    const uint8_t *data;    /* points into the body given to the parser */
    size_t len;
} llhls_flv_video_t;

typedef struct llhls_flv_audio {
    uint8_t sound_format;   /* LLHLS_FLV_SOUND_* */
    uint8_t packet_type;    /* LLHLS_FLV_AAC_* when AAC */
    const uint8_t *data;
    size_t len;
} llhls_flv_audio_t;

/* Parses a video tag body.  Returns 0, -LLHLS_EINVAL (truncated, bad frame
 * type) or -LLHLS_EUNSUPPORTED (codec not AVC); *why gets a sentence. */
int llhls_flv_parse_video(const uint8_t *body, size_t len, llhls_flv_video_t *out, const char **why);
/* Parses an audio tag body, the same way (only AAC is supported). */
int llhls_flv_parse_audio(const uint8_t *body, size_t len, llhls_flv_audio_t *out, const char **why);

#endif
