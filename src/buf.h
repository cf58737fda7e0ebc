/* A growable byte buffer with a hard cap, for everything whose size comes
 * from the network: appending past the cap fails with -LLHLS_ETOOBIG and
 * leaves the buffer as it was. */
#ifndef LLHLS_BUF_H
#define LLHLS_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct llhls_buf {
    uint8_t *data;
    size_t len;
    size_t cap;     /* allocated bytes */
    size_t max;     /* hard cap on len; 0 means SIZE_MAX */
} llhls_buf_t;

/* Sets up an empty buffer that may grow to max bytes (0: no cap). */
void llhls_buf_init(llhls_buf_t *b, size_t max);
void llhls_buf_free(llhls_buf_t *b);
/* Empties the buffer, keeping its allocation. */
static inline void llhls_buf_reset(llhls_buf_t *b) { b->len = 0; }
/* Makes room for n more bytes. Returns 0, -LLHLS_ETOOBIG or -LLHLS_ENOMEM. */
int llhls_buf_reserve(llhls_buf_t *b, size_t n);
/* Appends n bytes. Returns 0, -LLHLS_ETOOBIG or -LLHLS_ENOMEM. */
int llhls_buf_append(llhls_buf_t *b, const void *p, size_t n);
/* Appends formatted text (no NUL is counted in len). Same returns. */
int llhls_buf_printf(llhls_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Removes the first n bytes. */
void llhls_buf_consume(llhls_buf_t *b, size_t n);
/* Hands the bytes to the caller (who frees them with free()) and empties b. */
uint8_t *llhls_buf_steal(llhls_buf_t *b, size_t *len);

#endif
