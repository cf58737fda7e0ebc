/* LL-HLS delivery directives (_HLS_msn, _HLS_part, _HLS_skip) and the
 * decisions they lead to: answer now, hold the request, or refuse it.
 * Pure functions, shared by the origin and the edge. */
#ifndef LLHLS_DIRECTIVES_H
#define LLHLS_DIRECTIVES_H

#include "index.h"

#include <stdint.h>

typedef struct llhls_directives {
    uint8_t has_msn, has_part;
    uint64_t msn;
    uint32_t part;
    int skip;               /* llhls_skip_t */
} llhls_directives_t;

/* Parses the raw query values (NULL when absent).  Numbers must be plain
 * decimal (no sign, no spaces, at most 18 digits); skip must be "YES" or
 * "v2".  _HLS_part without _HLS_msn is an error.  Returns 0 or -LLHLS_EINVAL
 * with *why set to a static sentence for the 400 body and the log. */
int llhls_directives_parse(llhls_directives_t *d, const char *msn, const char *part, const char *skip,
                           const char **why);

typedef enum {
    LLHLS_BLOCK_READY = 0,  /* answer with the playlist now */
    LLHLS_BLOCK_WAIT = 1,   /* hold until the position moves on */
    LLHLS_BLOCK_BAD = 2,    /* 400 at once */
} llhls_block_t;

/* The advance part limit of RFC 8216bis 6.2.5.2: 3 / PART-TARGET parts when
 * the part target is under a second, else 3. */
uint32_t llhls_advance_part_limit(uint32_t part_target_us);

/* Decides a playlist request with directives d against a track at pos.
 * _HLS_msn=M&_HLS_part=N is ready once part N of M is listed, or any part of
 * a later segment (N past the end of M); _HLS_msn=M alone once M is
 * complete.  M more than two past the last MSN, or a part more than the
 * advance limit past the last part, is BAD.  With no directive, an ended
 * stream, or an M already present: READY.  why gets a sentence for BAD. */
llhls_block_t llhls_block_decide(const llhls_directives_t *d, const llhls_position_t *pos, uint32_t part_target_us,
                                 const char **why);

typedef enum {
    LLHLS_PART_PRESENT = 0, /* listed: serve it */
    LLHLS_PART_PENDING = 1, /* the next part to come (the preload hint): hold */
    LLHLS_PART_GONE = 2,    /* will never exist or is not near: 404 */
} llhls_part_state_t;

/* Decides a request for part N of segment M against a track at pos, whether
 * it exists being told by present (checked in the store by the caller). */
llhls_part_state_t llhls_part_decide(uint64_t msn, uint32_t part, int present, const llhls_position_t *pos);

#endif
