/* The server side of the RTMP handshake: C0 and C1 in, S0, S1 and S2 out,
 * then C2 in.  Fed incrementally, with no sockets. */
#ifndef LLHLS_RTMP_HANDSHAKE_H
#define LLHLS_RTMP_HANDSHAKE_H

#include "buf.h"

#include <stddef.h>
#include <stdint.h>

#define LLHLS_RTMP_HANDSHAKE_SIZE 1536

typedef enum {
    LLHLS_RTMP_HS_C0 = 0,
    LLHLS_RTMP_HS_C1,
    LLHLS_RTMP_HS_C2,
    LLHLS_RTMP_HS_DONE,
} llhls_rtmp_hs_state_t;

typedef struct llhls_rtmp_handshake {
    llhls_rtmp_hs_state_t state;
    uint8_t c1[LLHLS_RTMP_HANDSHAKE_SIZE];
    size_t have;        /* bytes of the current part (C1 or C2) received */
    uint32_t epoch_ms;  /* our S1 time field */
    uint32_t seed;      /* for S1's filler bytes */
} llhls_rtmp_handshake_t;

/* epoch_ms goes into S1's time field; seed varies its filler bytes (the
 * filler needs no secrecy: the plain handshake has none). */
void llhls_rtmp_handshake_init(llhls_rtmp_handshake_t *hs, uint32_t epoch_ms, uint32_t seed);

/* Consumes bytes up to the end of C2 and no further: *used says how many
 * were taken; the rest belong to the chunk stream.  S0+S1+S2 are appended
 * to out once C1 is complete.  Returns 1 when the handshake is done, 0 when
 * more bytes are needed, -LLHLS_EPROTO when C0 is not version 3 (*why says
 * so) or an error of llhls_buf_append(). */
int llhls_rtmp_handshake_feed(llhls_rtmp_handshake_t *hs, const uint8_t *p, size_t len, size_t *used,
                              llhls_buf_t *out, const char **why);

#endif
