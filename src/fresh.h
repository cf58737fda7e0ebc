/* Fresh parts: a part, and the segment record that lists it, shown to
 * readers from memory while its store commit is still being written.
 *
 * Writing a 4 MB part into LMDB takes milliseconds (a copy, a write and a
 * sync); a blocked playlist request should not wait for the disk.  So the
 * packager publishes the part here, wakes the requests waiting for it, and
 * only then commits; once the commit landed it withdraws the part, which
 * readers then find in the store.  A reader takes the fresh part (if any)
 * BEFORE it begins its read transaction: whatever that transaction lacks
 * is then in the fresh part, so playlists never step back.
 *
 * A fresh part is reference-counted; a response sending its bytes keeps a
 * reference, so the bytes outlive the withdrawal as long as needed. */
#ifndef LLHLS_FRESH_H
#define LLHLS_FRESH_H

#include "buf.h"
#include "index.h"

#include <stddef.h>
#include <stdint.h>

typedef struct llhls_fresh llhls_fresh_t;

/* What readers see; the rest is private to fresh.c. */
typedef struct llhls_fresh_part {
    char stream[LLHLS_NAME_MAX];
    int track;
    llhls_segment_t seg;        /* the record as the commit stores it */
    uint32_t index;             /* the part of seg whose bytes these are */
    const uint8_t *bytes;       /* NULL (len 0) when only the record changed */
    size_t len;
} llhls_fresh_part_t;

int llhls_fresh_create(llhls_fresh_t **out);
/* After every part was withdrawn and released. */
void llhls_fresh_destroy(llhls_fresh_t *f);

/* ---- the packager ---- */

/* Publishes seg for stream/track, with the bytes of part index when bytes
 * is given.  The bytes are taken over, not copied: *bytes is handed in
 * exchange a buffer a withdrawn part no longer needs (empty when there is
 * none), so that the next part is written into memory already touched.  At
 * most one part per track is fresh at a time.  Returns the part, which the
 * caller keeps until llhls_fresh_withdraw, or NULL when out of memory
 * (nothing was published, *bytes is as it was). */
const llhls_fresh_part_t *llhls_fresh_publish(llhls_fresh_t *f, const char *stream, int track,
                                              const llhls_segment_t *seg, uint32_t index, llhls_buf_t *bytes);

/* Withdraws p once its commit landed (or failed): later readers find it
 * in the store.  Its bytes live on while a reader holds them. */
void llhls_fresh_withdraw(llhls_fresh_t *f, const llhls_fresh_part_t *p);

/* ---- readers (any thread) ---- */

/* The fresh part of stream/track with a reference, or NULL. */
const llhls_fresh_part_t *llhls_fresh_get(llhls_fresh_t *f, const char *stream, int track);
/* Ends a reference from llhls_fresh_get (p may be NULL). */
void llhls_fresh_release(const llhls_fresh_part_t *p);

/* Brings segments read from the store (msn ascending, *segs from malloc as
 * llhls_rtxn_get_segments makes it) up to date with p: its record replaces
 * the store's when newer, or follows the last one as a new segment.
 * Returns 0 or -LLHLS_ENOMEM (the list is then as it was). */
int llhls_fresh_merge(const llhls_fresh_part_t *p, llhls_segment_t **segs, size_t *n);

/* Whether p says more than last (the store's newest segment of the track,
 * have = 0 when there is none); if so *last becomes p's record. */
int llhls_fresh_newer(const llhls_fresh_part_t *p, llhls_segment_t *last, int have);

#endif
