/* The RTMP chunk stream: an incremental reader that turns bytes, split
 * anywhere, into whole messages, and a writer that cuts a message into
 * chunks.  Both are pure byte logic, with no sockets. */
#ifndef LLHLS_RTMP_CHUNK_H
#define LLHLS_RTMP_CHUNK_H

#include "buf.h"

#include <stddef.h>
#include <stdint.h>

/* Message types the chunk layer and the session know by number. */
enum {
    LLHLS_RTMP_SET_CHUNK_SIZE = 1,
    LLHLS_RTMP_ABORT = 2,
    LLHLS_RTMP_ACK = 3,
    LLHLS_RTMP_USER_CONTROL = 4,
    LLHLS_RTMP_WINDOW_ACK_SIZE = 5,
    LLHLS_RTMP_SET_PEER_BANDWIDTH = 6,
    LLHLS_RTMP_AUDIO = 8,
    LLHLS_RTMP_VIDEO = 9,
    LLHLS_RTMP_DATA_AMF3 = 15,
    LLHLS_RTMP_COMMAND_AMF3 = 17,
    LLHLS_RTMP_DATA_AMF0 = 18,
    LLHLS_RTMP_COMMAND_AMF0 = 20,
    LLHLS_RTMP_AGGREGATE = 22,
};

#define LLHLS_RTMP_DEFAULT_CHUNK_SIZE 128
#define LLHLS_RTMP_MAX_CSID 65599

typedef struct llhls_rtmp_chunk_limits {
    uint32_t max_chunk_size;    /* largest Set Chunk Size accepted (at most 2^31-1) */
    uint32_t max_message_size;  /* largest message length */
    uint32_t max_chunk_streams; /* distinct chunk stream ids per connection */
} llhls_rtmp_chunk_limits_t;

typedef struct llhls_rtmp_message {
    uint8_t type;
    uint32_t csid;
    uint32_t stream_id;
    uint32_t timestamp; /* absolute, deltas applied, 32 bits (wraps) */
    const uint8_t *payload; /* valid only during the callback */
    size_t len;
} llhls_rtmp_message_t;

/* Called for each whole message; a non-zero return stops the reader, which
 * returns that value from feed. */
typedef int (*llhls_rtmp_message_cb)(void *opaque, const llhls_rtmp_message_t *m);

typedef struct llhls_rtmp_chunk_reader llhls_rtmp_chunk_reader_t;

/* Returns 0 or -LLHLS_ENOMEM.  The limits are copied. */
int llhls_rtmp_chunk_reader_new(const llhls_rtmp_chunk_limits_t *limits, llhls_rtmp_chunk_reader_t **out);
void llhls_rtmp_chunk_reader_free(llhls_rtmp_chunk_reader_t *r);

/* Consumes all of p[0..len), calling cb for every message completed.  Set
 * Chunk Size and Abort take effect inside the reader, at once, for the very
 * next chunk; they are passed to cb as well.  Returns 0, cb's non-zero
 * value, -LLHLS_EPROTO (malformed chunk stream), -LLHLS_ETOOBIG (over a
 * limit) or -LLHLS_ENOMEM.  Errors are sticky: later calls return the same
 * error, and llhls_rtmp_chunk_reader_error() says what went wrong. */
int llhls_rtmp_chunk_reader_feed(llhls_rtmp_chunk_reader_t *r, const uint8_t *p, size_t len, llhls_rtmp_message_cb cb,
                                 void *opaque);
/* A sentence about the reader's error, or "" when there is none. */
const char *llhls_rtmp_chunk_reader_error(const llhls_rtmp_chunk_reader_t *r);
/* The incoming chunk size in force. */
uint32_t llhls_rtmp_chunk_reader_chunk_size(const llhls_rtmp_chunk_reader_t *r);

/* How a message's first chunk is written.  timestamp is absolute for
 * fmt 0 and a delta for fmt 1, 2 and 3; a fmt 3 first chunk carries an
 * extended timestamp only when timestamp >= 0xffffff (the caller knows
 * whether the previous header had one). */
typedef struct llhls_rtmp_chunk_header {
    uint8_t fmt;
    uint32_t csid; /* 2..65599 */
    uint32_t timestamp;
    uint8_t type;
    uint32_t stream_id;
} llhls_rtmp_chunk_header_t;

/* Appends the message as chunks of at most chunk_size payload bytes: the
 * first with header h, the others type 3 (repeating the extended timestamp
 * when there is one, as the specification and ffmpeg do).  Returns 0,
 * -LLHLS_EINVAL (bad csid, chunk size or length) or the errors of
 * llhls_buf_append(). */
int llhls_rtmp_chunk_write(llhls_buf_t *out, uint32_t chunk_size, const llhls_rtmp_chunk_header_t *h,
                           const uint8_t *payload, size_t len);

#endif
