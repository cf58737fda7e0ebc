/* FLV tag bodies as RTMP carries them (message types 8 and 9): the audio and
 * video tag headers, split from their payload.  Video is H.264 or HEVC, in
 * legacy FLV (codec ids 7 and 12) or Enhanced RTMP (ExVideoTagHeader with
 * the FourCC avc1 or hvc1); audio is AAC (sound format 10). */
#ifndef LLHLS_FLV_H
#define LLHLS_FLV_H

#include <stddef.h>
#include <stdint.h>

enum { LLHLS_FLV_CODEC_AVC = 7, LLHLS_FLV_CODEC_HEVC = 12 };
enum { LLHLS_FLV_SOUND_AAC = 10 };
/* Enhanced RTMP packet types are mapped onto the legacy ones: SequenceStart
 * is a sequence header, CodedFrames and CodedFramesX are NALUs, SequenceEnd
 * an end of sequence; Metadata (HDR colour info) has a value of its own,
 * which carries no media. */
enum {
    LLHLS_FLV_PACKET_SEQUENCE_HEADER = 0,
    LLHLS_FLV_PACKET_NALU = 1,
    LLHLS_FLV_PACKET_END_OF_SEQUENCE = 2,
    LLHLS_FLV_PACKET_METADATA = 3,
};
enum { LLHLS_FLV_AAC_SEQUENCE_HEADER = 0, LLHLS_FLV_AAC_RAW = 1 };

typedef struct llhls_flv_video {
    uint8_t codec_id;    /* LLHLS_FLV_CODEC_*, also for Enhanced RTMP's FourCCs */
    uint8_t enhanced;    /* came in an Enhanced RTMP ExVideoTagHeader */
    uint8_t keyframe;    /* frame type 1 */
    uint8_t command;     /* frame type 5: a command frame, no media */
    uint8_t packet_type; /* LLHLS_FLV_PACKET_* */
    int32_t cts_ms;      /* composition time offset, signed 24 bits */
    const uint8_t *data; /* points into the body given to the parser */
    size_t len;
} llhls_flv_video_t;

typedef struct llhls_flv_audio {
    uint8_t sound_format; /* LLHLS_FLV_SOUND_* */
    uint8_t packet_type;  /* LLHLS_FLV_AAC_* when AAC */
    const uint8_t *data;
    size_t len;
} llhls_flv_audio_t;

/* Parses a video tag body.  Returns 0, -LLHLS_EINVAL (truncated, bad frame
 * or packet type) or -LLHLS_EUNSUPPORTED (a codec other than H.264 and
 * HEVC, Enhanced RTMP multitrack, ModEx or MPEG-2 TS sequence starts);
 * *why gets a sentence.  A command frame (frame type 5) sets `command` and
 * carries no media, whichever header it came in. */
int llhls_flv_parse_video(const uint8_t *body, size_t len, llhls_flv_video_t *out, const char **why);
/* Parses an audio tag body, the same way (only AAC is supported). */
int llhls_flv_parse_audio(const uint8_t *body, size_t len, llhls_flv_audio_t *out, const char **why);

#endif
