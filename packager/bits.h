/* A bounded, big-endian bit reader for codec headers.  It reads either plain
 * bytes (AudioSpecificConfig) or NAL unit payloads, where it drops the
 * emulation prevention byte (0x03 after two zero bytes) on the fly so that no
 * unescaped copy of the NAL unit is needed.  Reading past the end returns
 * zeros and sets a sticky error that the caller checks once at the end. */
#ifndef LLHLS_BITS_H
#define LLHLS_BITS_H

#include <stddef.h>
#include <stdint.h>

typedef struct llhls_bits {
    const uint8_t *p;
    size_t len;
    size_t pos;   /* next byte of p to load */
    uint32_t cur; /* the byte being read */
    int left;     /* bits of cur not yet read */
    int zeros;    /* consecutive zero bytes loaded, for emulation prevention */
    int nal;      /* drop emulation prevention bytes */
    int err;      /* set once a read ran past the end */
} llhls_bits_t;

static inline void llhls_bits_init(llhls_bits_t *b, const uint8_t *p, size_t len, int nal)
{
    b->p = p;
    b->len = len;
    b->pos = 0;
    b->cur = 0;
    b->left = 0;
    b->zeros = 0;
    b->nal = nal;
    b->err = 0;
}

static inline int llhls_bits_load(llhls_bits_t *b)
{
    if (b->pos < b->len && b->nal && b->zeros >= 2 && b->p[b->pos] == 0x03) {
        b->pos++;
        b->zeros = 0;
    }
    if (b->pos >= b->len) {
        b->err = 1;
        return -1;
    }
    b->cur = b->p[b->pos++];
    b->zeros = b->cur == 0 ? b->zeros + 1 : 0;
    b->left = 8;
    return 0;
}

/* Reads n bits (n <= 32). */
static inline uint32_t llhls_bits_u(llhls_bits_t *b, int n)
{
    uint32_t v = 0;

    while (n > 0) {
        if (b->left == 0 && llhls_bits_load(b) < 0)
            return 0;
        int take = n < b->left ? n : b->left;
        uint32_t chunk = (b->cur >> (b->left - take)) & ((1u << take) - 1);
        v = (v << take) | chunk;
        b->left -= take;
        n -= take;
    }
    return v;
}

/* Reads an unsigned exp-Golomb code.  More than 31 leading zeros cannot be a
 * 32-bit value, so it is an error rather than a long loop over garbage. */
static inline uint32_t llhls_bits_ue(llhls_bits_t *b)
{
    int zeros = 0;

    while (llhls_bits_u(b, 1) == 0) {
        if (b->err || ++zeros > 31) {
            b->err = 1;
            return 0;
        }
    }
    if (zeros == 0)
        return 0;
    return (uint32_t)(((uint64_t)1 << zeros) - 1 + llhls_bits_u(b, zeros));
}

/* Reads a signed exp-Golomb code. */
static inline int32_t llhls_bits_se(llhls_bits_t *b)
{
    uint32_t k = llhls_bits_ue(b);

    if (k & 1)
        return (int32_t)((k >> 1) + 1);
    return -(int32_t)(k >> 1);
}

/* Bits that remain (emulation prevention bytes counted as data, so an upper bound). */
static inline size_t llhls_bits_left(const llhls_bits_t *b)
{
    return (b->len - b->pos) * 8 + (size_t)b->left;
}

#endif
