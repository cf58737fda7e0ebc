/* The publishing side of RTMP for llhls-push: URL parsing, handshake,
 * connect / createStream / publish, then audio and video messages written in
 * large batches with writev(2).  Media messages are cut into chunks once, when
 * the input is loaded; per send only the first chunk header is written. */
#ifndef LLHLS_PUSH_RTMP_CLIENT_H
#define LLHLS_PUSH_RTMP_CLIENT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Chunk stream ids of the publisher's messages. */
#define PUSH_CSID_CONTROL 2
#define PUSH_CSID_COMMAND 3
#define PUSH_CSID_AUDIO 4
#define PUSH_CSID_DATA 5
#define PUSH_CSID_VIDEO 6
#define PUSH_CSID_STREAM 8

/* One audio or video message, ready to send. */
typedef struct push_frame {
    uint8_t type;  /* 8 audio, 9 video */
    uint8_t key;   /* video keyframe */
    uint32_t ts;   /* ms from the start of the input (one pass) */
    uint32_t len;  /* message length: the FLV tag body */
    uint8_t *wire; /* the body with a type 3 chunk header after every chunk_size bytes */
    size_t wire_len;
} push_frame_t;

/* Fills f->wire from body for chunk stream csid.  Returns 0, -LLHLS_ETOOBIG
 * (a message longer than 16 MiB - 1 cannot be sent) or -LLHLS_ENOMEM. */
int push_frame_wire(push_frame_t *f, uint32_t csid, uint32_t chunk_size, const uint8_t *body, size_t len);
void push_frame_free(push_frame_t *f);

typedef struct push_url {
    char host[256];
    char port[8];
    char app[256];
    char name[256];
    char tc_url[600]; /* rtmp://host[:port]/app */
} push_url_t;

/* Splits rtmp://HOST[:PORT]/APP/NAME (APP may hold slashes: the stream name
 * is the last path element).  Returns 0 or -LLHLS_EINVAL with a sentence in
 * err. */
int push_url_parse(const char *url, push_url_t *out, char *err, size_t errlen);

typedef struct push_conn push_conn_t;

typedef struct push_conn_params {
    const push_url_t *url;
    const char *name; /* the stream name to publish */
    int enhanced;     /* announce fourCcList ["hvc1"] in connect */
    uint32_t chunk_size;
    int timeout_ms;              /* for the server's answers and for a stalled socket */
    atomic_uint_fast64_t *bytes; /* every byte written to the socket is counted here */
} push_conn_params_t;

/* Connects, handshakes and publishes.  Returns 0 and the connection in *out,
 * or a negative error with a sentence in err: connection refused, publish
 * refused with the server's code and description, server closed... */
int push_conn_open(const push_conn_params_t *p, push_conn_t **out, char *err, size_t errlen);

/* Sends an AMF0 data message (@setDataFrame) on the published stream. */
int push_conn_send_data(push_conn_t *c, const uint8_t *amf, size_t len);

/* Adds a message to the batch being built, with timestamp ts (the frame's own
 * is ignored), and writes the batch when it is full.  The frame's bytes must
 * stay valid until push_conn_flush() returns.  Returns 0 or a negative error
 * (push_conn_error() says which). */
int push_conn_queue(push_conn_t *c, const push_frame_t *f, uint32_t ts);
/* Writes the batch, and whatever answers to the server are due. */
int push_conn_flush(push_conn_t *c);
/* Reads and answers what the server sends for up to timeout_ms (acks, pings),
 * returning early when the server closes. */
int push_conn_serve(push_conn_t *c, int timeout_ms);

/* Ends the publish: the video end of sequence (body given, may be NULL),
 * FCUnpublish, deleteStream, then waits (bounded) for the server to close
 * once it has read everything. */
int push_conn_finish(push_conn_t *c, const uint8_t *eos, size_t eos_len);
void push_conn_close(push_conn_t *c);

/* A sentence about the connection's error. */
const char *push_conn_error(const push_conn_t *c);

#endif
