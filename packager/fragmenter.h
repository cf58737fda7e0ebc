/* The CMAF fragmenter: one FFmpeg mov muxer per track, in cmaf +
 * frag_custom mode, writing into memory through a custom AVIOContext.  The
 * header becomes the init section; every flush becomes one moof+mdat, an
 * LL-HLS part. */
#ifndef LLHLS_FRAGMENTER_H
#define LLHLS_FRAGMENTER_H

#include "buf.h"

#include <stddef.h>
#include <stdint.h>

typedef struct llhls_fragmenter llhls_fragmenter_t;

typedef enum { LLHLS_CODEC_H264 = 1, LLHLS_CODEC_AAC = 2, LLHLS_CODEC_HEVC = 3 } llhls_codec_t;

typedef struct llhls_fragmenter_params {
    int codec;                      /* llhls_codec_t */
    const uint8_t *extradata;       /* avcC or AudioSpecificConfig, copied */
    size_t extradata_len;
    uint32_t width, height;         /* video */
    uint32_t sample_rate, channels; /* audio */
    uint32_t timescale;             /* units of the timestamps given to add():
                                       90000 for video, the sample rate for audio */
} llhls_fragmenter_params_t;

/* Creates a fragmenter and appends its init section (ftyp+moov) to init.
 * Returns 0 or a negative error (-LLHLS_EIO with the muxer's reason logged). */
int llhls_fragmenter_create(llhls_fragmenter_t **out, const llhls_fragmenter_params_t *p, llhls_buf_t *init);
void llhls_fragmenter_destroy(llhls_fragmenter_t *f);

/* Adds one sample (an access unit: length-prefixed NAL units, or one raw AAC
 * frame) with its timestamps and duration in timescale units.  Samples
 * arrive in decode order with dts strictly increasing.  The bytes are copied. */
int llhls_fragmenter_add(llhls_fragmenter_t *f, const uint8_t *data, size_t len, int64_t dts, int64_t pts,
                         uint32_t duration, int keyframe);

/* Appends one moof+mdat holding every sample added since the last flush to
 * part.  Returns 0, or -LLHLS_EINVAL when no sample was added. */
int llhls_fragmenter_flush(llhls_fragmenter_t *f, llhls_buf_t *part);

#endif
