/* FLV tag bodies as RTMP carries them: message type 9 (video) and 8 (audio).
 * The parser splits a body into its tag header (codec, frame type, packet
 * type, composition offset) and the payload behind it, without copying.  It
 * takes H.264 and HEVC both in legacy FLV and in Enhanced RTMP's extended
 * header, and AAC; anything else is named in a sentence a publisher can act
 * on. */
#include "flv.h"

#include "error.h"

#include <string.h>

/* Marks a command frame's packet_type: it is none of LLHLS_FLV_PACKET_*, so
 * a caller that forgets to test `command` cannot take it for media. */
#define COMMAND_PACKET_TYPE 0xff

/* Enhanced RTMP's VideoPacketType values. */
enum {
    EX_SEQUENCE_START = 0,
    EX_CODED_FRAMES = 1,
    EX_SEQUENCE_END = 2,
    EX_CODED_FRAMES_X = 3,
    EX_METADATA = 4,
    EX_MPEG2TS_SEQUENCE_START = 5,
    EX_MULTITRACK = 6,
    EX_MODEX = 7,
};

#define FOURCC(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static int fail(const char **why, int err, const char *sentence)
{
    if (why)
        *why = sentence;
    return err;
}

static const char *video_codec_sentence(unsigned codec_id)
{
    switch (codec_id) {
    case 1: return "Video codec id 1 (JPEG) is not supported; publish H.264 or HEVC.";
    case 2: return "Video codec id 2 (Sorenson H.263) is not supported; publish H.264 or HEVC.";
    case 3: return "Video codec id 3 (Screen video) is not supported; publish H.264 or HEVC.";
    case 4: return "Video codec id 4 (On2 VP6) is not supported; publish H.264 or HEVC.";
    case 5: return "Video codec id 5 (On2 VP6 with alpha) is not supported; publish H.264 or HEVC.";
    case 6: return "Video codec id 6 (Screen video version 2) is not supported; publish H.264 or HEVC.";
    case 13: return "Video codec id 13 (AV1 in legacy FLV) is not supported; publish H.264 or HEVC.";
    default: return "The video codec id is unknown; publish H.264 or HEVC.";
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

static void set_command(llhls_flv_video_t *v, const uint8_t *body, size_t len)
{
    /* Seek start/end or a video info command: no picture to take. */
    v->command = 1;
    v->packet_type = COMMAND_PACKET_TYPE;
    v->data = body + 1;
    v->len = len - 1;
}

/* Enhanced RTMP: [IsExHeader:1 FrameType:3 PacketType:4] then, except for
 * command frames, a FourCC; CodedFrames add a signed 24-bit composition
 * offset, CodedFramesX imply 0. */
static int parse_ex_video(const uint8_t *body, size_t len, llhls_flv_video_t *out, const char **why)
{
    unsigned frame_type = (body[0] >> 4) & 7, packet_type = body[0] & 0x0f;
    llhls_flv_video_t v;

    if (frame_type < 1 || frame_type > 5)
        return fail(why, -LLHLS_EINVAL, "The Enhanced RTMP video tag has an invalid frame type.");
    /* ModEx and multitrack wrap the rest of the header in more syntax;
     * refused before anything past the first byte is read. */
    if (packet_type == EX_MODEX)
        return fail(why, -LLHLS_EUNSUPPORTED,
                    "Enhanced RTMP ModEx video packets (packet type 7) are not supported; publish without "
                    "timestamp offsets.");
    if (packet_type == EX_MULTITRACK)
        return fail(why, -LLHLS_EUNSUPPORTED,
                    "Enhanced RTMP multitrack video (packet type 6) is not supported; publish one video track.");
    if (packet_type > EX_MODEX)
        return fail(why, -LLHLS_EINVAL, "The Enhanced RTMP video tag has an unknown packet type.");

    memset(&v, 0, sizeof(v));
    v.enhanced = 1;
    if (frame_type == 5 && packet_type != EX_METADATA) {
        set_command(&v, body, len);
        *out = v;
        return 0;
    }
    if (len < 5)
        return fail(why, -LLHLS_EINVAL, "The Enhanced RTMP video tag is shorter than its 5-byte header.");
    switch (FOURCC(body[1], body[2], body[3], body[4])) {
    case FOURCC('h', 'v', 'c', '1'): v.codec_id = LLHLS_FLV_CODEC_HEVC; break;
    case FOURCC('a', 'v', 'c', '1'): v.codec_id = LLHLS_FLV_CODEC_AVC; break;
    case FOURCC('a', 'v', '0', '1'):
        return fail(why, -LLHLS_EUNSUPPORTED, "AV1 video (FourCC av01) is not supported; publish H.264 or HEVC.");
    case FOURCC('v', 'p', '0', '9'):
        return fail(why, -LLHLS_EUNSUPPORTED, "VP9 video (FourCC vp09) is not supported; publish H.264 or HEVC.");
    case FOURCC('v', 'p', '0', '8'):
        return fail(why, -LLHLS_EUNSUPPORTED, "VP8 video (FourCC vp08) is not supported; publish H.264 or HEVC.");
    default:
        return fail(why, -LLHLS_EUNSUPPORTED,
                    "The Enhanced RTMP video FourCC is not a known codec; publish H.264 (avc1) or HEVC (hvc1).");
    }
    v.keyframe = frame_type == 1;
    v.data = body + 5;
    v.len = len - 5;
    switch (packet_type) {
    case EX_SEQUENCE_START: v.packet_type = LLHLS_FLV_PACKET_SEQUENCE_HEADER; break;
    case EX_SEQUENCE_END: v.packet_type = LLHLS_FLV_PACKET_END_OF_SEQUENCE; break;
    case EX_CODED_FRAMES_X: v.packet_type = LLHLS_FLV_PACKET_NALU; break;
    case EX_METADATA: v.packet_type = LLHLS_FLV_PACKET_METADATA; break;
    case EX_CODED_FRAMES: {
        if (len < 8)
            return fail(why, -LLHLS_EINVAL, "The Enhanced RTMP coded frames tag is shorter than its 8-byte header.");
        uint32_t cts = (uint32_t)body[5] << 16 | (uint32_t)body[6] << 8 | body[7];
        v.cts_ms = (int32_t)(cts ^ 0x800000) - 0x800000;
        v.packet_type = LLHLS_FLV_PACKET_NALU;
        v.data = body + 8;
        v.len = len - 8;
        break;
    }
    default: /* EX_MPEG2TS_SEQUENCE_START */
        return fail(why, -LLHLS_EUNSUPPORTED,
                    "Enhanced RTMP MPEG-2 TS sequence starts (packet type 5) are not supported; send "
                    "SequenceStart with the configuration record.");
    }
    *out = v;
    return 0;
}

int llhls_flv_parse_video(const uint8_t *body, size_t len, llhls_flv_video_t *out, const char **why)
{
    if (!body || len < 1)
        return fail(why, -LLHLS_EINVAL, "The video tag is empty.");
    /* Enhanced RTMP sets the top bit (IsExHeader); legacy frame types stop at 5. */
    if (body[0] & 0x80)
        return parse_ex_video(body, len, out, why);
    unsigned frame_type = body[0] >> 4, codec_id = body[0] & 0x0f;
    if (frame_type < 1 || frame_type > 5)
        return fail(why, -LLHLS_EINVAL, "The video tag has an invalid frame type.");
    if (codec_id != LLHLS_FLV_CODEC_AVC && codec_id != LLHLS_FLV_CODEC_HEVC)
        return fail(why, -LLHLS_EUNSUPPORTED, video_codec_sentence(codec_id));

    /* Codec id 12 is HEVC with the AVC tag layout, as the encoders that used
     * it before Enhanced RTMP existed agreed. */
    int hevc = codec_id == LLHLS_FLV_CODEC_HEVC;
    llhls_flv_video_t v;
    memset(&v, 0, sizeof(v));
    v.codec_id = (uint8_t)codec_id;
    if (frame_type == 5) {
        set_command(&v, body, len);
        *out = v;
        return 0;
    }
    if (len < 5)
        return fail(why, -LLHLS_EINVAL,
                    hevc ? "The HEVC video tag is shorter than its 5-byte header."
                         : "The H.264 video tag is shorter than its 5-byte header.");
    if (body[1] > LLHLS_FLV_PACKET_END_OF_SEQUENCE)
        return fail(why, -LLHLS_EINVAL,
                    hevc ? "The HEVC video tag has an unknown packet type."
                         : "The H.264 video tag has an unknown AVCPacketType.");
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
