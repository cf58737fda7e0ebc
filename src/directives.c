/* Delivery directives of LL-HLS (RFC 8216bis 6.2.5): parsing the _HLS_msn,
 * _HLS_part and _HLS_skip query values, and deciding whether a playlist or
 * part request is answered now, held until the track moves on, or refused.
 * The origin and the edge take the same decisions from the same position. */
#include "directives.h"

#include "error.h"
#include "playlist.h"

#include <string.h>

#define DECIMAL_DIGITS_MAX 18

/* How far past the newest part a part request is held rather than refused
 * with 404.  The advance part limit is never below 3, so this stays within
 * it whatever the part target (which the part decision is not told). */
#define PART_PENDING_AHEAD 3

/* Plain decimal, 1 to 18 digits: no sign, no space, no hex. */
static int parse_decimal(const char *s, uint64_t *v)
{
    uint64_t x = 0;
    size_t n = 0;
    for (; s[n] != '\0'; n++) {
        if (n == DECIMAL_DIGITS_MAX || s[n] < '0' || s[n] > '9')
            return -1;
        x = x * 10 + (uint64_t)(s[n] - '0');
    }
    if (n == 0)
        return -1;
    *v = x;
    return 0;
}

static int invalid(const char **why, const char *sentence)
{
    if (why != NULL)
        *why = sentence;
    return -LLHLS_EINVAL;
}

int llhls_directives_parse(llhls_directives_t *d, const char *msn, const char *part, const char *skip, const char **why)
{
    memset(d, 0, sizeof(*d));
    if (part != NULL && msn == NULL)
        return invalid(why, "_HLS_part requires _HLS_msn");
    if (msn != NULL) {
        if (parse_decimal(msn, &d->msn) != 0)
            return invalid(why, "_HLS_msn must be a decimal number of at most 18 digits");
        d->has_msn = 1;
    }
    if (part != NULL) {
        uint64_t v;
        if (parse_decimal(part, &v) != 0)
            return invalid(why, "_HLS_part must be a decimal number of at most 18 digits");
        if (v > UINT32_MAX)
            return invalid(why, "_HLS_part is out of range");
        d->part = (uint32_t)v;
        d->has_part = 1;
    }
    if (skip != NULL) {
        if (strcmp(skip, "YES") == 0)
            d->skip = LLHLS_SKIP_YES;
        else if (strcmp(skip, "v2") == 0)
            d->skip = LLHLS_SKIP_V2;
        else
            return invalid(why, "_HLS_skip must be YES or v2");
    }
    return 0;
}

uint32_t llhls_advance_part_limit(uint32_t part_target_us)
{
    /* 3 / PART-TARGET, rounded up: a request the rounding would put just
     * over the limit is a legitimate one. */
    if (part_target_us == 0 || part_target_us >= 1000000)
        return 3;
    return (3000000u + part_target_us - 1) / part_target_us;
}

/* The newest part of a track.  A track with nothing yet stands just before
 * part 0 of segment 0, where a new stream starts. */
typedef struct tip {
    uint64_t msn;
    int64_t part;
    int complete;
} tip_t;

static void tip_of(const llhls_position_t *pos, tip_t *t)
{
    if (pos->has_parts) {
        t->msn = pos->last_msn;
        t->part = pos->last_part;
        t->complete = pos->last_complete;
    } else {
        t->msn = 0;
        t->part = -1;
        t->complete = 0;
    }
}

/* Parts still to be published before part n of segment m exists, for m no
 * more than two past the tip.  The length of an unfinished segment is not
 * known, so its remaining parts count as none: a lower bound, which errs
 * towards holding a request rather than refusing it. */
static int64_t parts_ahead(const tip_t *t, uint64_t m, uint32_t n)
{
    if (m == t->msn)
        return (int64_t)n - t->part;
    return (int64_t)n + (int64_t)(m - t->msn);
}

llhls_block_t llhls_block_decide(const llhls_directives_t *d, const llhls_position_t *pos, uint32_t part_target_us,
                                 const char **why)
{
    if (!d->has_msn) {
        if (!d->has_part)
            return LLHLS_BLOCK_READY;
        if (why != NULL)
            *why = "_HLS_part requires _HLS_msn";
        return LLHLS_BLOCK_BAD;
    }
    if (pos->ended)
        return LLHLS_BLOCK_READY;
    tip_t t;
    tip_of(pos, &t);
    if (d->msn > t.msn + 2) {
        if (why != NULL)
            *why = "_HLS_msn is more than two segments past the end of the playlist";
        return LLHLS_BLOCK_BAD;
    }
    /* Already in the playlist or already gone from it: the player is behind
     * and needs the current playlist at once. */
    if (d->msn < t.msn)
        return LLHLS_BLOCK_READY;
    if (!d->has_part)
        return d->msn == t.msn && t.complete ? LLHLS_BLOCK_READY : LLHLS_BLOCK_WAIT;
    int64_t ahead = parts_ahead(&t, d->msn, d->part);
    if (ahead <= 0)
        return LLHLS_BLOCK_READY;
    if (ahead > (int64_t)llhls_advance_part_limit(part_target_us)) {
        if (why != NULL)
            *why = "_HLS_part is beyond the advance part limit";
        return LLHLS_BLOCK_BAD;
    }
    return LLHLS_BLOCK_WAIT;
}

llhls_part_state_t llhls_part_decide(uint64_t msn, uint32_t part, int present, const llhls_position_t *pos)
{
    if (present)
        return LLHLS_PART_PRESENT;
    if (pos->ended)
        return LLHLS_PART_GONE;
    tip_t t;
    tip_of(pos, &t);
    if (msn == t.msn) {
        /* Within a finished segment, or already published and evicted: it
         * will not come. */
        if (t.complete || (int64_t)part <= t.part)
            return LLHLS_PART_GONE;
    } else if (msn != t.msn + 1) {
        return LLHLS_PART_GONE;
    }
    return parts_ahead(&t, msn, part) <= PART_PENDING_AHEAD ? LLHLS_PART_PENDING : LLHLS_PART_GONE;
}
