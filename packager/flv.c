/* FLV tag bodies as RTMP carries them: message type 9 (video) and 8 (audio).
 * The parser splits a body into its tag header (codec, frame type, packet
 * type, composition offset) and the payload behind it, without copying; it
 * accepts H.264 and AAC and names anything else in a sentence a publisher
 * can act on. */
#include "flv.h"

#include "error.h"

#include <string.h>

/* Marks a command frame's packet_type: it is none of LLHLS_FLV_PACKET_*, so
 * a caller that forgets to test `command` cannot take it for media. */
#define COMMAND_PACKET_TYPE 0xff

static int fail(const char **why, int err, const char *sentence)
{
    if (why)
        *why = sentence;
    return err;
}

static const char *video_codec_sentence(unsigned codec_id)
{
    switch (codec_id) {
    case 1: return "Video codec id 1 (JPEG) is not supported; publish H.264.";
    case 2: return "Video codec id 2 (Sorenson H.263) is not supported; publish H.264.";
    case 3: return "Video codec id 3 (Screen video) is not supported; publish H.264.";
    case 4: return "Video codec id 4 (On2 VP6) is not supported; publish H.264.";
    case 5: return "Video codec id 5 (On2 VP6 with alpha) is not supported; publish H.264.";
    case 6: return "Video codec id 6 (Screen video version 2) is not supported; publish H.264.";
    case 12: return "Video codec id 12 (HEVC in legacy FLV) is not supported yet; publish H.264.";
    case 13: return "Video codec id 13 (AV1 in legacy FLV) is not supported; publish H.264.";
    default: return "The video codec id is unknown; publish H.264.";
    }
}

static const char *audio_format_sentence(unsigned format)
{
    switch (format) {
    case 0: return "Audio sound format 0 (linear PCM) is not supported; publish AAC.";
    case 1: return "Audio sound format 1 (ADPCM) is not supported; publish AAC.";
    case 2: return "Audio sound format 2 (MP3) is not supported; publish AAC.";
    case 3: return "Audio sound format 3 (linear PCM, little endian) is not supported; publish AAC.";
    case 4:
    case 5:
    case 6: return "Nellymoser audio (sound format 4, 5 or 6) is not supported; publish AAC.";
    case 7: return "Audio sound format 7 (G.711 A-law) is not supported; publish AAC.";
    case 8: return "Audio sound format 8 (G.711 mu-law) is not supported; publish AAC.";
    case 9: return "Enhanced RTMP audio (sound format 9) is not supported yet; publish AAC.";
    case 11: return "Audio sound format 11 (Speex) is not supported; publish AAC.";
    case 14: return "Audio sound format 14 (MP3 8 kHz) is not supported; publish AAC.";
    case 15: return "Audio sound format 15 (device-specific) is not supported; publish AAC.";
    default: return "The audio sound format is unknown; publish AAC.";
    }
}

int llhls_flv_parse_video(const uint8_t *body, size_t len, llhls_flv_video_t *out, const char **why)
{
    if (!body || len < 1)
        return fail(why, -LLHLS_EINVAL, "The video tag is empty.");
    /* Enhanced RTMP sets the top bit (IsExHeader); legacy frame types stop at 5. */
    if (body[0] & 0x80)
        return fail(why, -LLHLS_EUNSUPPORTED,
                    "Enhanced RTMP video (ExVideoTagHeader) is not supported yet; publish "
                    "H.264 in legacy FLV.");
    unsigned frame_type = body[0] >> 4, codec_id = body[0] & 0x0f;
    if (frame_type < 1 || frame_type > 5)
        return fail(why, -LLHLS_EINVAL, "The video tag has an invalid frame type.");
    if (codec_id != LLHLS_FLV_CODEC_AVC)
        return fail(why, -LLHLS_EUNSUPPORTED, video_codec_sentence(codec_id));

    llhls_flv_video_t v;
    memset(&v, 0, sizeof(v));
    v.codec_id = (uint8_t)codec_id;
    if (frame_type == 5) {
        /* A command frame (seek start/end or video info) carries no picture. */
        v.command = 1;
        v.packet_type = COMMAND_PACKET_TYPE;
        v.data = body + 1;
        v.len = len - 1;
        *out = v;
        return 0;
    }
    if (len < 5)
        return fail(why, -LLHLS_EINVAL, "The H.264 video tag is shorter than its 5-byte header.");
    if (body[1] > LLHLS_FLV_PACKET_END_OF_SEQUENCE)
        return fail(why, -LLHLS_EINVAL, "The H.264 video tag has an unknown AVCPacketType.");
    v.keyframe = frame_type == 1;
    v.packet_type = body[1];
    uint32_t cts = (uint32_t)body[2] << 16 | (uint32_t)body[3] << 8 | body[4];
    v.cts_ms = (int32_t)(cts ^ 0x800000) - 0x800000;
    v.data = body + 5;
    v.len = len - 5;
    *out = v;
    return 0;
}

int llhls_flv_parse_audio(const uint8_t *body, size_t len, llhls_flv_audio_t *out, const char **why)
{
    if (!body || len < 1)
        return fail(why, -LLHLS_EINVAL, "The audio tag is empty.");
    unsigned format = body[0] >> 4;
    if (format != LLHLS_FLV_SOUND_AAC)
        return fail(why, -LLHLS_EUNSUPPORTED, audio_format_sentence(format));
    if (len < 2)
        return fail(why, -LLHLS_EINVAL, "The AAC audio tag is shorter than its 2-byte header.");
    if (body[1] > LLHLS_FLV_AAC_RAW)
        return fail(why, -LLHLS_EINVAL, "The AAC audio tag has an unknown AACPacketType.");

    llhls_flv_audio_t a;
    memset(&a, 0, sizeof(a));
    a.sound_format = (uint8_t)format;
    a.packet_type = body[1];
    a.data = body + 2;
    a.len = len - 2;
    *out = a;
    return 0;
}
