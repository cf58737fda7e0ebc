/* libFuzzer target: FLV tag bodies and the codec records inside them, the
 * bytes an RTMP publisher controls completely. */
#include "codec.h"
#include "flv.h"
#include "hevc.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *why;
    llhls_flv_video_t v;
    if (llhls_flv_parse_video(data, size, &v, &why) == 0) {
        llhls_avc_config_t avc;
        llhls_hevc_config_t hevc;
        int key;
        if (v.packet_type == LLHLS_FLV_PACKET_SEQUENCE_HEADER) {
            if (v.codec_id == LLHLS_FLV_CODEC_HEVC)
                llhls_hevc_parse_config(v.data, v.len, &hevc, &why);
            else
                llhls_avc_parse_config(v.data, v.len, &avc, &why);
        } else if (v.codec_id == LLHLS_FLV_CODEC_HEVC) {
            llhls_hevc_check_frame(v.data, v.len, 4, &key, &why);
            llhls_hevc_check_frame(v.data, v.len, 1, &key, &why);
        } else {
            llhls_avc_check_frame(v.data, v.len, 4, &key, &why);
            llhls_avc_check_frame(v.data, v.len, 1, &key, &why);
        }
        llhls_avc_parse_sps(v.data, v.len, &avc, &why);
        llhls_hevc_parse_sps(v.data, v.len, &hevc, &why);
    }
    llhls_flv_audio_t a;
    if (llhls_flv_parse_audio(data, size, &a, &why) == 0) {
        llhls_aac_config_t aac;
        llhls_aac_parse_config(a.data, a.len, &aac, &why);
    }
    return 0;
}
