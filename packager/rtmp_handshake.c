/* The plain RTMP handshake, server side.  Clients that open with the digest
 * ("complex") handshake get a plain answer too: S1 with a zero version field
 * tells them no digest is offered, and S2 echoes their C1, which is all
 * ffmpeg and OBS check.  C2 is read and not checked, for the same clients'
 * sake. */
#include "rtmp_handshake.h"

#include "error.h"

#include <string.h>

void llhls_rtmp_handshake_init(llhls_rtmp_handshake_t *hs, uint32_t epoch_ms, uint32_t seed)
{
    memset(hs, 0, sizeof *hs);
    hs->state = LLHLS_RTMP_HS_C0;
    hs->epoch_ms = epoch_ms;
    hs->seed = seed ? seed : 0x9e3779b9u;
}

static int put_s0_s1_s2(llhls_rtmp_handshake_t *hs, llhls_buf_t *out)
{
    int rc = llhls_buf_reserve(out, 1 + 2 * LLHLS_RTMP_HANDSHAKE_SIZE);
    if (rc < 0)
        return rc;
    uint8_t *p = out->data + out->len;
    p[0] = 3;
    uint8_t *s1 = p + 1;
    s1[0] = (uint8_t)(hs->epoch_ms >> 24);
    s1[1] = (uint8_t)(hs->epoch_ms >> 16);
    s1[2] = (uint8_t)(hs->epoch_ms >> 8);
    s1[3] = (uint8_t)hs->epoch_ms;
    memset(s1 + 4, 0, 4);
    uint32_t x = hs->seed;
    for (size_t i = 8; i < LLHLS_RTMP_HANDSHAKE_SIZE; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        s1[i] = (uint8_t)x;
    }
    memcpy(s1 + LLHLS_RTMP_HANDSHAKE_SIZE, hs->c1, LLHLS_RTMP_HANDSHAKE_SIZE);
    out->len += 1 + 2 * LLHLS_RTMP_HANDSHAKE_SIZE;
    return 0;
}

int llhls_rtmp_handshake_feed(llhls_rtmp_handshake_t *hs, const uint8_t *p, size_t len, size_t *used,
                              llhls_buf_t *out, const char **why)
{
    size_t pos = 0;
    int rc;
    while (pos < len && hs->state != LLHLS_RTMP_HS_DONE) {
        if (hs->state == LLHLS_RTMP_HS_C0) {
            if (p[pos] != 3) {
                *used = pos;
                if (why)
                    *why = p[pos] == 6 ? "RTMP handshake asks for RTMPE encryption (version 6); only plain RTMP "
                                         "(version 3) is served"
                                       : "RTMP handshake version byte is not 3: not an RTMP client";
                return -LLHLS_EPROTO;
            }
            pos++;
            hs->state = LLHLS_RTMP_HS_C1;
            hs->have = 0;
            continue;
        }
        size_t take = LLHLS_RTMP_HANDSHAKE_SIZE - hs->have;
        if (take > len - pos)
            take = len - pos;
        if (hs->state == LLHLS_RTMP_HS_C1)
            memcpy(hs->c1 + hs->have, p + pos, take);
        hs->have += take;
        pos += take;
        if (hs->have < LLHLS_RTMP_HANDSHAKE_SIZE)
            break;
        hs->have = 0;
        if (hs->state == LLHLS_RTMP_HS_C1) {
            if ((rc = put_s0_s1_s2(hs, out)) < 0) {
                *used = pos;
                return rc;
            }
            hs->state = LLHLS_RTMP_HS_C2;
        } else {
            hs->state = LLHLS_RTMP_HS_DONE;
        }
    }
    *used = pos;
    return hs->state == LLHLS_RTMP_HS_DONE;
}
