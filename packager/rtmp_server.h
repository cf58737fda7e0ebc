/* The RTMP server on libuv: accepts publishers, runs the handshake, the
 * chunk stream and the AMF0 command exchange, and feeds the packager
 * through ingest.h.  Every size from the network is bounded (see
 * llhls_rtmp_limits_t); a connection over a bound is closed with a log line
 * and no other connection notices. */
#ifndef LLHLS_RTMP_SERVER_H
#define LLHLS_RTMP_SERVER_H

#include "ingest.h"

#include <stdint.h>
#include <uv.h>

typedef struct llhls_rtmp_server llhls_rtmp_server_t;

typedef struct llhls_rtmp_limits {
    uint32_t max_connections;    /* default 1000 */
    uint32_t max_chunk_size;     /* largest Set Chunk Size accepted; default 16 MiB */
    uint32_t max_message_size;   /* largest message; default 32 MiB (an 8K IDR frame) */
    uint32_t max_chunk_streams;  /* chunk stream ids in use per connection; default 64 */
    uint32_t handshake_timeout_ms; /* default 10000 */
    uint32_t idle_timeout_ms;    /* no bytes for this long closes; default 30000 */
} llhls_rtmp_limits_t;

/* Fills the defaults above. */
void llhls_rtmp_limits_default(llhls_rtmp_limits_t *l);

/* Binds addr:port (port 0 picks a free one) on loop and starts accepting.
 * Returns 0 or a negative error (-LLHLS_EIO, logged). */
int llhls_rtmp_server_start(uv_loop_t *loop, const char *addr, int port, const llhls_rtmp_limits_t *limits,
                            llhls_ingest_t *ing, llhls_rtmp_server_t **out);
/* The port actually bound. */
int llhls_rtmp_server_port(llhls_rtmp_server_t *s);
/* Closes the listener and every connection (each publish is stopped);
 * frees s once libuv has closed the handles, so run the loop after it. */
void llhls_rtmp_server_stop(llhls_rtmp_server_t *s);
/* Closes the connection publishing stream "app/name"; returns 0 or
 * -LLHLS_ENOTFOUND. */
int llhls_rtmp_server_kick(llhls_rtmp_server_t *s, const char *stream);

#endif
