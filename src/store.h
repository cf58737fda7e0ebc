/* The part store: init sections, parts and the stream index in LMDB.
 * The packager thread is the only writer; any thread may read.  What is
 * committed survives a restart of the process.  See docs/store.md for the
 * key layout. */
#ifndef LLHLS_STORE_H
#define LLHLS_STORE_H

#include "index.h"

#include <stddef.h>
#include <stdint.h>

typedef struct llhls_store llhls_store_t;
typedef struct llhls_wtxn llhls_wtxn_t;
typedef struct llhls_rtxn llhls_rtxn_t;

/* Opens (creating if needed) the store in directory dir, which is created
 * too, with a map of map_size bytes.  Returns 0 or a negative error. */
int llhls_store_open(llhls_store_t **out, const char *dir, size_t map_size);
/* Opens an existing store read-only, beside a running origin (LMDB lets a
 * reader process share the environment).  Nothing is created: returns 0,
 * -LLHLS_ENOTFOUND when dir holds no store, or another negative error.
 * Only the read functions below may be used on it. */
int llhls_store_open_readonly(llhls_store_t **out, const char *dir);
void llhls_store_close(llhls_store_t *s);

/* ---- writing (one writer thread) ---- */

/* A write transaction keeps a sticky error: once a call fails, later calls
 * do nothing and return that error, and the transaction is aborted when the
 * callback returns. */
typedef int (*llhls_store_write_cb)(llhls_wtxn_t *t, void *ctx);

/* Runs fn in a write transaction and commits it.  When the map is full,
 * aborts, evicts the oldest quarter of every stream's segments in a
 * transaction of its own (logging what it dropped), and runs fn again, up to
 * a few times.  fn must therefore be safe to run more than once.  Returns 0,
 * the error fn returned, or the store's error. */
int llhls_store_write(llhls_store_t *s, llhls_store_write_cb fn, void *ctx);

int llhls_wtxn_put_stream(llhls_wtxn_t *t, const llhls_stream_info_t *info);
int llhls_wtxn_put_init(llhls_wtxn_t *t, const char *stream, int track, uint32_t init_id, const void *bytes,
                        size_t len);
/* Stores part seg->parts[index] bytes, and the segment record as given. */
int llhls_wtxn_put_part(llhls_wtxn_t *t, const char *stream, int track, const llhls_segment_t *seg, uint32_t index,
                        const void *bytes, size_t len);
/* Rewrites a segment record (for example to mark it complete). */
int llhls_wtxn_put_segment(llhls_wtxn_t *t, const char *stream, int track, const llhls_segment_t *seg);
/* Deletes the segments, and their parts, of one track with msn < before;
 * init sections no remaining segment refers to go too. */
int llhls_wtxn_evict_before(llhls_wtxn_t *t, const char *stream, int track, uint64_t before);
/* Deletes a stream entirely. */
int llhls_wtxn_delete_stream(llhls_wtxn_t *t, const char *stream);

/* ---- reading (any thread; a read transaction belongs to the thread that
 * uses it only while it uses it: the env is opened MDB_NOTLS) ---- */

int llhls_store_read_begin(llhls_store_t *s, llhls_rtxn_t **out);
void llhls_store_read_end(llhls_rtxn_t *r);

/* Returns 0 or -LLHLS_ENOTFOUND. */
int llhls_rtxn_get_stream(llhls_rtxn_t *r, const char *stream, llhls_stream_info_t *out);
/* Calls fn for every stream, in name order, until it returns non-zero. */
int llhls_rtxn_each_stream(llhls_rtxn_t *r, int (*fn)(const llhls_stream_info_t *info, void *ctx), void *ctx);
/* The same from the first stream whose name is >= from: one seek, so that
 * the streams sharing a prefix are found without a scan of all of them. */
int llhls_rtxn_each_stream_from(llhls_rtxn_t *r, const char *from,
                                int (*fn)(const llhls_stream_info_t *info, void *ctx), void *ctx);
/* Reads the segments of a track with msn >= from_msn, oldest first, into an
 * array the caller frees with free().  Returns 0 (with *n possibly 0) or a
 * negative error. */
int llhls_rtxn_get_segments(llhls_rtxn_t *r, const char *stream, int track, uint64_t from_msn, llhls_segment_t **out,
                            size_t *n);
/* Reads the newest segment of a track.  Returns 0 or -LLHLS_ENOTFOUND. */
int llhls_rtxn_get_last_segment(llhls_rtxn_t *r, const char *stream, int track, llhls_segment_t *out);
/* Reads the oldest segment of a track with msn >= from_msn (the oldest of
 * all with 0): one cursor seek, however many segments the track holds.
 * Returns 0 or -LLHLS_ENOTFOUND. */
int llhls_rtxn_get_next_segment(llhls_rtxn_t *r, const char *stream, int track, uint64_t from_msn,
                                llhls_segment_t *out);
/* Reads one segment record.  Returns 0 or -LLHLS_ENOTFOUND. */
int llhls_rtxn_get_segment(llhls_rtxn_t *r, const char *stream, int track, uint64_t msn, llhls_segment_t *out);
/* The bytes are valid until the read transaction ends (they point into the
 * map).  Returns 0 or -LLHLS_ENOTFOUND. */
int llhls_rtxn_get_part(llhls_rtxn_t *r, const char *stream, int track, uint64_t msn, uint32_t part,
                        const void **bytes, size_t *len);
int llhls_rtxn_get_init(llhls_rtxn_t *r, const char *stream, int track, uint32_t init_id, const void **bytes,
                        size_t *len);

/* Bytes in use in the map and its size, for /metrics. */
void llhls_store_usage(llhls_store_t *s, size_t *used, size_t *size);

#endif
