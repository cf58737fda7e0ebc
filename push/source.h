/* The input of llhls-push, read once with libavformat and held in memory as
 * ready-to-send RTMP messages: the first video stream (H.264 or HEVC) and the
 * first audio stream (AAC), as FLV tag bodies already cut into chunks. */
#ifndef LLHLS_PUSH_SOURCE_H
#define LLHLS_PUSH_SOURCE_H

#include "rtmp_client.h"

#include <stddef.h>
#include <stdint.h>

typedef struct push_source_opts {
    const char *path;
    int enhanced;        /* HEVC as Enhanced RTMP (else codec id 12) */
    uint32_t chunk_size; /* outgoing RTMP chunk size the messages are cut for */
    uint32_t max_ms;     /* read only this much media time; 0: all of it */
} push_source_opts_t;

typedef struct push_media {
    push_frame_t *frames; /* audio and video, by timestamp; the first is a video keyframe */
    size_t count;
    push_frame_t video_config; /* sequence start: avcC or hvcC */
    push_frame_t audio_config; /* AudioSpecificConfig; len 0 without audio */
    int hevc;
    int enhanced;
    int has_audio;
    uint32_t loop_ms; /* media time of one pass over the input */
    uint32_t width, height;
    double fps;
    double video_kbps; /* average video bit rate of the input */
    uint32_t audio_rate, audio_channels;
    uint64_t bytes; /* payload bytes of one pass (every message body) */
} push_media_t;

/* Opens and reads the input.  Returns 0, or a negative error with a
 * sentence in err (cannot open, no video stream, unsupported codec...).
 * The media is freed with push_media_free(). */
int push_source_load(const push_source_opts_t *o, push_media_t *m, char *err, size_t errlen);
void push_media_free(push_media_t *m);

#endif
