/* Viewers per stream at the edge: the client connections that asked for a
 * stream's playlists or media within the last LLHLS_VIEWER_WINDOW_MS, each
 * counted once per stream.  One table for all workers behind a mutex: a
 * lookup per request is far cheaper than the request.  Times are passed
 * in (the monotonic clock, ms), so that tests drive it. */
#ifndef LLHLS_VIEWERS_H
#define LLHLS_VIEWERS_H

#include <stddef.h>
#include <stdint.h>

#define LLHLS_VIEWER_WINDOW_MS 10000
#define LLHLS_VIEWER_STREAMS 1024       /* streams counted at once */
#define LLHLS_VIEWER_ENTRIES (1u << 18) /* (connection, stream) pairs remembered; past it, new ones are not counted */

typedef struct llhls_viewers llhls_viewers_t;

llhls_viewers_t *llhls_viewers_create(void);
void llhls_viewers_destroy(llhls_viewers_t *v);

/* A request for path ("/live/x/video.m3u8": the stream is "live/x") on
 * connection conn (unique within the process).  Paths without a stream
 * (/metrics), or whose stream is not a name a publisher could use
 * (llhls_publish_name_check), are not counted: stream names go verbatim
 * into /metrics and the report. */
void llhls_viewers_seen(llhls_viewers_t *v, const char *path, size_t len, uint64_t conn, int64_t now_ms);

/* Calls fn for every stream with viewers now; returns the total. */
uint64_t llhls_viewers_each(llhls_viewers_t *v, int64_t now_ms, void (*fn)(const char *stream, uint32_t n, void *ctx),
                            void *ctx);

#endif
