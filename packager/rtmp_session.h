/* One RTMP connection's protocol, without sockets: bytes from the peer go
 * in, and out come bytes to send back and calls for the publish (start,
 * media, metadata, stop).  The server wires the calls to ingest.h; tests
 * give their own. */
#ifndef LLHLS_RTMP_SESSION_H
#define LLHLS_RTMP_SESSION_H

#include "rtmp_chunk.h"

#include <stddef.h>
#include <stdint.h>

/* What the session asks of its owner.  Every callback is made from inside
 * llhls_rtmp_session_feed() (publish_stop also from _free()). */
typedef struct llhls_rtmp_session_cbs {
    /* Bytes for the peer: copy them before returning.  A negative return
     * (the write queue is over its bound) closes the session. */
    int (*send)(void *opaque, const uint8_t *p, size_t len);
    /* app and name are bare (no query).  Returns 0, or -LLHLS_EBUSY or
     * -LLHLS_EINVAL (or any error) with *why a sentence for the publisher. */
    int (*publish_start)(void *opaque, const char *app, const char *name, const char **why);
    /* The publish that publish_start began is over. */
    void (*publish_stop)(void *opaque);
    /* onMetaData's framerate, 0 when absent. */
    void (*metadata)(void *opaque, double framerate);
    /* FLV tag bodies with absolute 32-bit timestamps; a non-zero return
     * closes the session. */
    int (*video)(void *opaque, uint32_t ts_ms, const uint8_t *body, size_t len);
    int (*audio)(void *opaque, uint32_t ts_ms, const uint8_t *body, size_t len);
} llhls_rtmp_session_cbs_t;

typedef struct llhls_rtmp_session_config {
    llhls_rtmp_chunk_limits_t limits;
    const char *peer;   /* "1.2.3.4:5678", for log lines; copied */
    uint32_t epoch_ms;  /* S1's time field */
    uint32_t seed;      /* S1's filler */
} llhls_rtmp_session_config_t;

/* Chunk size the server announces and writes with once connected. */
#define LLHLS_RTMP_OUT_CHUNK_SIZE 60000
/* Window Acknowledgement Size and peer bandwidth announced on connect. */
#define LLHLS_RTMP_WINDOW 5000000
/* Command and data messages larger than this are not from a real client. */
#define LLHLS_RTMP_MAX_COMMAND_SIZE 65536

typedef struct llhls_rtmp_session llhls_rtmp_session_t;

/* Returns 0 or -LLHLS_ENOMEM.  cbs is copied; opaque is passed to each. */
int llhls_rtmp_session_new(const llhls_rtmp_session_config_t *cfg, const llhls_rtmp_session_cbs_t *cbs, void *opaque,
                           llhls_rtmp_session_t **out);
/* Stops the publish if one is live (publish_stop is called), then frees. */
void llhls_rtmp_session_free(llhls_rtmp_session_t *s);

/* Feeds bytes from the peer.  Returns 0, or a negative error after which
 * the connection must be closed (once what was sent is flushed: a refused
 * publish has its onStatus queued); llhls_rtmp_session_reason() says why. */
int llhls_rtmp_session_feed(llhls_rtmp_session_t *s, const uint8_t *p, size_t len);
/* A sentence on why the session ended, or "" while it runs. */
const char *llhls_rtmp_session_reason(const llhls_rtmp_session_t *s);
/* Non-zero once the handshake is complete. */
int llhls_rtmp_session_handshake_done(const llhls_rtmp_session_t *s);
/* "app/name" while publishing, else NULL. */
const char *llhls_rtmp_session_stream(const llhls_rtmp_session_t *s);
/* The publish name's query ("key=..."), "" when none: kept for auth. */
const char *llhls_rtmp_session_query(const llhls_rtmp_session_t *s);

#endif
