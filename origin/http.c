/* The origin's HTTP side (see http.h).  Media bytes are never copied: a
 * response points into the store's map and keeps its read transaction open
 * until libmicrohttpd frees the response, or into a fresh part whose commit
 * is still being written, and keeps a reference to it.  A request that must
 * wait is suspended and registered with the waiters; when it is resumed the
 * same handler runs again and finds its answer.  Every reader takes the
 * fresh part of its track before it begins its read transaction (fresh.h). */
#include "http.h"

#include "clock.h"
#include "directives.h"
#include "error.h"
#include "group.h"
#include "ingest.h"
#include "log.h"
#include "playlist.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <zlib.h>

#define IMMUTABLE "public, max-age=31536000, immutable"

struct llhls_http {
    llhls_http_params_t p;
    struct MHD_Daemon *daemon;
    int port;
};

typedef struct request {
    llhls_waiter_t waiter;
    int held;
    void *admin;        /* the admin API's per-request state */
} request_t;

typedef struct route {
    char app[65], name[65];
    char stream[LLHLS_NAME_MAX];
    enum { R_MULTIVARIANT, R_PLAYLIST, R_INIT, R_SEGMENT, R_PART } kind;
    int track;
    uint64_t msn;
    uint32_t part;      /* R_PART; init id for R_INIT */
} route_t;

/* ---- responses ---- */

static void add_common_headers(struct MHD_Response *resp, const char *type, const char *cache)
{
    if (type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (cache)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cache);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    MHD_add_response_header(resp, "Access-Control-Expose-Headers", "Age, Content-Length, Date");
}

static enum MHD_Result queue(llhls_http_t *h, struct MHD_Connection *c, unsigned status, struct MHD_Response *resp,
                             size_t len)
{
    llhls_metrics_count_status(h->p.metrics, status);
    atomic_fetch_add_explicit(&h->p.metrics->http_bytes_out, len, memory_order_relaxed);
    enum MHD_Result r = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result respond_copy(llhls_http_t *h, struct MHD_Connection *c, unsigned status, const void *body,
                                    size_t len, const char *type, const char *cache)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return MHD_NO;
    add_common_headers(resp, type, cache);
    return queue(h, c, status, resp, len);
}

static enum MHD_Result respond_error(llhls_http_t *h, struct MHD_Connection *c, unsigned status, uint32_t td,
                                     const char *why)
{
    char cache[32], body[512];
    snprintf(cache, sizeof(cache), "max-age=%u", td ? td : 1);
    int n = snprintf(body, sizeof(body), "%s\n", why);
    return respond_copy(h, c, status, body, (size_t)n, "text/plain; charset=utf-8", cache);
}

static int accepts_gzip(struct MHD_Connection *c)
{
    const char *ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    return ae && strstr(ae, "gzip") != NULL;
}

/* Sends a playlist, gzip-compressed when the client accepts it. */
static enum MHD_Result respond_playlist(llhls_http_t *h, struct MHD_Connection *c, llhls_buf_t *text,
                                        const char *cache)
{
    const char *type = "application/vnd.apple.mpegurl";
    if (!accepts_gzip(c)) {
        struct MHD_Response *resp = MHD_create_response_from_buffer(text->len, text->data, MHD_RESPMEM_MUST_FREE);
        size_t len = text->len;
        text->data = NULL;
        if (resp == NULL)
            return MHD_NO;
        add_common_headers(resp, type, cache);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
        return queue(h, c, 200, resp, len);
    }
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return MHD_NO;
    uLong bound = deflateBound(&zs, text->len);
    uint8_t *out = malloc(bound);
    if (out == NULL) {
        deflateEnd(&zs);
        return MHD_NO;
    }
    zs.next_in = text->data;
    zs.avail_in = (uInt)text->len;
    zs.next_out = out;
    zs.avail_out = (uInt)bound;
    int zr = deflate(&zs, Z_FINISH);
    size_t len = zs.total_out;
    deflateEnd(&zs);
    if (zr != Z_STREAM_END) {
        free(out);
        return MHD_NO;
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, out, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL)
        return MHD_NO;
    add_common_headers(resp, type, cache);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
    return queue(h, c, 200, resp, len);
}

/* What a media response keeps until libmicrohttpd frees it: the read
 * transaction and the fresh part its bytes point into. */
typedef struct media_hold {
    llhls_rtxn_t *r;
    const llhls_fresh_part_t *fp;
} media_hold_t;

static void end_hold(void *cls)
{
    media_hold_t *m = cls;
    if (m->r)
        llhls_store_read_end(m->r);
    llhls_fresh_release(m->fp);
    free(m);
}

/* Sends bytes that live in the store's map or in a fresh part; r and fp
 * (either may be NULL) are handed to the response and end when it is
 * freed. */
static enum MHD_Result respond_mapped(llhls_http_t *h, struct MHD_Connection *c, llhls_rtxn_t *r,
                                      const llhls_fresh_part_t *fp, const struct MHD_IoVec *iov, unsigned n,
                                      size_t len, int track)
{
    media_hold_t *m = malloc(sizeof(*m));
    struct MHD_Response *resp = NULL;
    if (m != NULL) {
        *m = (media_hold_t){r, fp};
        resp = MHD_create_response_from_iovec(iov, n, end_hold, m);
    }
    if (resp == NULL) {
        free(m);
        if (r)
            llhls_store_read_end(r);
        llhls_fresh_release(fp);
        return MHD_NO;
    }
    if (fp)
        atomic_fetch_add_explicit(&h->p.metrics->parts_served_fresh, 1, memory_order_relaxed);
    add_common_headers(resp, track == LLHLS_TRACK_AUDIO ? "audio/mp4" : "video/mp4", IMMUTABLE);
    return queue(h, c, 200, resp, len);
}

/* ---- routing ---- */

static int parse_u64(const char *s, size_t n, uint64_t *out)
{
    if (n == 0 || n > 18)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

static int ends_with(const char *s, size_t n, const char *suffix)
{
    size_t m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* Parses /APP/NAME/REST.  Returns 0 or -1 (404). */
static int parse_route(const char *url, route_t *rt)
{
    const char *p = url;
    if (*p++ != '/')
        return -1;
    const char *s1 = strchr(p, '/');
    if (s1 == NULL || (size_t)(s1 - p) >= sizeof(rt->app))
        return -1;
    memcpy(rt->app, p, (size_t)(s1 - p));
    rt->app[s1 - p] = 0;
    p = s1 + 1;
    const char *s2 = strchr(p, '/');
    if (s2 == NULL || (size_t)(s2 - p) >= sizeof(rt->name))
        return -1;
    memcpy(rt->name, p, (size_t)(s2 - p));
    rt->name[s2 - p] = 0;
    const char *why;
    if (llhls_publish_name_check(rt->app, rt->name, &why) != 0)
        return -1;
    snprintf(rt->stream, sizeof(rt->stream), "%s/%s", rt->app, rt->name);
    const char *rest = s2 + 1;
    size_t n = strlen(rest);
    if (strcmp(rest, "index.m3u8") == 0) {
        rt->kind = R_MULTIVARIANT;
        return 0;
    }
    if (ends_with(rest, n, ".m3u8")) {
        rt->track = llhls_track_parse(rest, n - 5);
        rt->kind = R_PLAYLIST;
        return rt->track < 0 ? -1 : 0;
    }
    const char *slash = strchr(rest, '/');
    if (slash == NULL || (rt->track = llhls_track_parse(rest, (size_t)(slash - rest))) < 0)
        return -1;
    const char *file = slash + 1;
    size_t fn = strlen(file);
    uint64_t a, b;
    if (strncmp(file, "init-", 5) == 0 && ends_with(file, fn, ".mp4")) {
        if (parse_u64(file + 5, fn - 9, &a) != 0 || a > UINT32_MAX)
            return -1;
        rt->kind = R_INIT;
        rt->part = (uint32_t)a;
        return 0;
    }
    if (!ends_with(file, fn, ".m4s"))
        return -1;
    fn -= 4;
    const char *dot = memchr(file, '.', fn);
    if (dot == NULL) {
        if (parse_u64(file, fn, &a) != 0)
            return -1;
        rt->kind = R_SEGMENT;
        rt->msn = a;
        return 0;
    }
    if (parse_u64(file, (size_t)(dot - file), &a) != 0 ||
        parse_u64(dot + 1, fn - (size_t)(dot - file) - 1, &b) != 0 || b >= LLHLS_MAX_PARTS)
        return -1;
    rt->kind = R_PART;
    rt->msn = a;
    rt->part = (uint32_t)b;
    return 0;
}

/* ---- handlers ---- */

static uint32_t default_td(llhls_http_t *h)
{
    return (h->p.segment_target_us + 999999) / 1000000;
}

static enum MHD_Result hold(llhls_http_t *h, struct MHD_Connection *c, request_t *req, const route_t *rt,
                            uint32_t td, int *again)
{
    llhls_waiter_t *w = &req->waiter;
    w->conn = c;
    snprintf(w->stream, sizeof(w->stream), "%s", rt->stream);
    w->track = rt->track;
    if (!req->held)
        w->deadline_ms = llhls_mono_ms() + 3000 * (int64_t)td;
    int r = llhls_waiters_hold(h->p.waiters, w);
    if (r == 1) {
        req->held = 1;
        return MHD_YES;
    }
    if (r == 0) {
        *again = 1;
        return MHD_YES;
    }
    return respond_error(h, c, 503, td, "too many requests waiting on this stream");
}

/* The multivariant playlist of APP/NAME: the stream alone, or, when
 * renditions NAME~LABEL exist, every active rendition of the group.  A
 * rendition's own index.m3u8 lists that rendition alone. */
static enum MHD_Result serve_multivariant(llhls_http_t *h, struct MHD_Connection *c, const route_t *rt)
{
    llhls_rtxn_t *r;
    if (llhls_store_read_begin(h->p.store, &r) != 0)
        return respond_error(h, c, 503, 1, "store unavailable");
    llhls_group_t *g = malloc(sizeof(*g));
    int rc = g ? 0 : -LLHLS_ENOMEM;
    if (rc == 0 && *llhls_group_label(rt->stream) != 0) {
        rc = llhls_rtxn_get_stream(r, rt->stream, &g->members[0]);
        g->n = rc == 0;
        rc = rc == -LLHLS_ENOTFOUND ? 0 : rc;
    } else if (rc == 0) {
        rc = llhls_group_read(r, rt->stream, g);
    }
    llhls_store_read_end(r);
    if (rc != 0) {
        free(g);
        return respond_error(h, c, 503, 1, "store unavailable");
    }
    llhls_variant_t vars[LLHLS_GROUP_MAX];
    char dirs[LLHLS_GROUP_MAX][LLHLS_NAME_MAX + 8];
    size_t n = 0;
    for (size_t i = 0; i < g->n; i++) {
        const llhls_stream_info_t *m = &g->members[i];
        if (!llhls_group_member_active(g, i) || (!m->tracks[0].present && !m->tracks[1].present))
            continue;
        if (strcmp(m->name, rt->stream) == 0)
            dirs[n][0] = 0;
        else
            snprintf(dirs[n], sizeof(dirs[n]), "../%s/", llhls_group_key(m->name));
        vars[n].stream = m;
        vars[n].dir = dirs[n];
        n++;
    }
    if (n == 0) {
        free(g);
        return respond_error(h, c, 404, default_td(h), "no such stream");
    }
    llhls_buf_t out;
    llhls_buf_init(&out, 0);
    rc = llhls_playlist_render_variants(&out, vars, n);
    free(g);
    if (rc != 0) {
        llhls_buf_free(&out);
        return MHD_NO;
    }
    char cache[32];
    snprintf(cache, sizeof(cache), "max-age=%u", (default_td(h) + 1) / 2);
    enum MHD_Result res = respond_playlist(h, c, &out, cache);
    llhls_buf_free(&out);
    return res;
}

/* The newest segment of a track: the store's, or the fresh one.  Taken
 * inside r, so it may lag a part committed meanwhile; rendition reports
 * only need to be about right. */
static int newest_segment(llhls_http_t *h, llhls_rtxn_t *r, const char *stream, int track, llhls_segment_t *out)
{
    const llhls_fresh_part_t *fp = llhls_fresh_get(h->p.fresh, stream, track);
    int have = llhls_rtxn_get_last_segment(r, stream, track, out) == 0;
    have = llhls_fresh_newer(fp, out, have) || have;
    llhls_fresh_release(fp);
    return have;
}

/* Rendition reports for a media playlist of rt: where every other playlist
 * a player of the same multivariant playlist may switch to stands — the
 * stream's other track, and the video of every other active rendition of
 * its group and the group's audio.  uris holds the report URIs. */
static size_t group_reports(llhls_http_t *h, llhls_rtxn_t *r, const route_t *rt, const llhls_stream_info_t *self,
                            llhls_rendition_report_t *reports, char (*uris)[LLHLS_NAME_MAX + 16])
{
    size_t n = 0;
    int ended = self->state == LLHLS_STREAM_ENDED;
    for (int t = 0; t < LLHLS_TRACKS; t++) {
        llhls_segment_t last;
        if (t == rt->track || !self->tracks[t].present)
            continue;
        int have = newest_segment(h, r, rt->stream, t, &last);
        snprintf(uris[n], LLHLS_NAME_MAX + 16, "%s.m3u8", llhls_track_name(t));
        reports[n].uri = uris[n];
        llhls_position_from_segment(&reports[n].pos, have ? &last : NULL, ended);
        n++;
    }
    char group[LLHLS_NAME_MAX];
    llhls_group_name(rt->stream, group);
    llhls_group_t *g = malloc(sizeof(*g));
    if (g == NULL || llhls_group_read(r, group, g) != 0 || g->n < 2) {
        free(g);
        return n;
    }
    int audio_seen = 0;
    for (size_t i = 0; i < g->n; i++) {
        const llhls_stream_info_t *m = &g->members[i];
        if (!llhls_group_member_active(g, i))
            continue;
        int is_self = strcmp(m->name, rt->stream) == 0;
        for (int t = 0; t < LLHLS_TRACKS; t++) {
            /* The group's audio is the first active member's that has some. */
            if (!m->tracks[t].present || (t == LLHLS_TRACK_AUDIO && audio_seen++))
                continue;
            if (is_self)
                continue;
            llhls_segment_t last;
            int have = newest_segment(h, r, m->name, t, &last);
            snprintf(uris[n], LLHLS_NAME_MAX + 16, "../%s/%s.m3u8", llhls_group_key(m->name), llhls_track_name(t));
            reports[n].uri = uris[n];
            llhls_position_from_segment(&reports[n].pos, have ? &last : NULL, m->state == LLHLS_STREAM_ENDED);
            n++;
        }
    }
    free(g);
    return n;
}

static enum MHD_Result serve_playlist(llhls_http_t *h, struct MHD_Connection *c, request_t *req, const route_t *rt,
                                      int *again)
{
    llhls_directives_t d;
    const char *why = "";
    if (llhls_directives_parse(&d, MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "_HLS_msn"),
                               MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "_HLS_part"),
                               MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "_HLS_skip"), &why) != 0) {
        LLHLS_DEBUG("http", "400 for %s: %s", rt->stream, why);
        return respond_error(h, c, 400, default_td(h), why);
    }
    const llhls_fresh_part_t *fp = llhls_fresh_get(h->p.fresh, rt->stream, rt->track);
    llhls_rtxn_t *r;
    llhls_stream_info_t info;
    if (llhls_store_read_begin(h->p.store, &r) != 0) {
        llhls_fresh_release(fp);
        return respond_error(h, c, 503, 1, "store unavailable");
    }
    if (llhls_rtxn_get_stream(r, rt->stream, &info) != 0 || !info.tracks[rt->track].present) {
        llhls_store_read_end(r);
        llhls_fresh_release(fp);
        return respond_error(h, c, 404, default_td(h), "no such stream or rendition");
    }
    llhls_segment_t *segs = NULL;
    size_t n = 0;
    int rc = llhls_rtxn_get_segments(r, rt->stream, rt->track, 0, &segs, &n);
    if (rc == 0)
        rc = llhls_fresh_merge(fp, &segs, &n);
    llhls_fresh_release(fp);
    if (rc != 0) {
        llhls_store_read_end(r);
        free(segs);
        return respond_error(h, c, 503, 1, "store unavailable");
    }
    llhls_position_t pos;
    int ended = info.state == LLHLS_STREAM_ENDED;
    llhls_position_from_segment(&pos, n ? &segs[n - 1] : NULL, ended);
    uint32_t td = llhls_playlist_target_duration(&info, segs, n);
    llhls_block_t b = llhls_block_decide(&d, &pos, info.part_target_us, &why);
    if (b == LLHLS_BLOCK_BAD) {
        llhls_store_read_end(r);
        free(segs);
        return respond_error(h, c, 400, td, why);
    }
    if (b == LLHLS_BLOCK_WAIT || n == 0) {
        llhls_store_read_end(r);
        free(segs);
        if (req->waiter.state == LLHLS_WAITER_TIMED_OUT)
            return respond_error(h, c, 503, td, "the requested part did not arrive in time");
        if (n == 0 && !d.has_msn)
            return respond_error(h, c, 404, td, "the stream has no media yet");
        req->waiter.kind = LLHLS_WAIT_PLAYLIST;
        req->waiter.d = d;
        req->waiter.part_target_us = info.part_target_us;
        return hold(h, c, req, rt, td, again);
    }
    llhls_rendition_report_t reports[LLHLS_TRACKS * LLHLS_GROUP_MAX];
    char uris[LLHLS_TRACKS * LLHLS_GROUP_MAX][LLHLS_NAME_MAX + 16];
    size_t nreports = group_reports(h, r, rt, &info, reports, uris);
    llhls_store_read_end(r);
    llhls_media_playlist_t pl = {.stream = &info, .track = rt->track, .segs = segs, .nsegs = n,
                                 .reports = reports, .nreports = nreports, .skip = d.skip};
    llhls_buf_t out;
    llhls_buf_init(&out, 0);
    int rr = llhls_playlist_render_media(&out, &pl);
    free(segs);
    if (rr != 0) {
        llhls_buf_free(&out);
        return MHD_NO;
    }
    char cache[32];
    /* A blocking answer names a fixed point of the playlist and may be kept
     * long; a plain reload must stay fresh. */
    if (d.has_msn)
        snprintf(cache, sizeof(cache), "max-age=%u", 6 * td);
    else
        snprintf(cache, sizeof(cache), "max-age=%u", td / 2 ? td / 2 : 1);
    enum MHD_Result res = respond_playlist(h, c, &out, cache);
    llhls_buf_free(&out);
    return res;
}

/* Whether fp holds the bytes of part i of segment msn. */
static int fresh_holds(const llhls_fresh_part_t *fp, uint64_t msn, uint32_t i)
{
    return fp && fp->bytes && fp->seg.msn == msn && fp->index == i;
}

static enum MHD_Result serve_media(llhls_http_t *h, struct MHD_Connection *c, request_t *req, const route_t *rt,
                                   int *again)
{
    const llhls_fresh_part_t *fp = rt->kind == R_INIT ? NULL : llhls_fresh_get(h->p.fresh, rt->stream, rt->track);
    llhls_rtxn_t *r;
    llhls_stream_info_t info;
    if (llhls_store_read_begin(h->p.store, &r) != 0) {
        llhls_fresh_release(fp);
        return respond_error(h, c, 503, 1, "store unavailable");
    }
    if (llhls_rtxn_get_stream(r, rt->stream, &info) != 0) {
        llhls_store_read_end(r);
        llhls_fresh_release(fp);
        return respond_error(h, c, 404, default_td(h), "no such stream");
    }
    uint32_t td = (info.segment_target_us + 999999) / 1000000;
    const void *bytes;
    size_t len;
    if (rt->kind == R_INIT) {
        if (llhls_rtxn_get_init(r, rt->stream, rt->track, rt->part, &bytes, &len) != 0) {
            llhls_store_read_end(r);
            return respond_error(h, c, 404, td, "no such init section");
        }
        struct MHD_IoVec iov = {bytes, len};
        return respond_mapped(h, c, r, NULL, &iov, 1, len, rt->track);
    }
    if (rt->kind == R_SEGMENT) {
        llhls_segment_t seg;
        int have = llhls_rtxn_get_segment(r, rt->stream, rt->track, rt->msn, &seg) == 0;
        if (fp && fp->seg.msn == rt->msn)
            have = llhls_fresh_newer(fp, &seg, have) || have;
        struct MHD_IoVec iov[LLHLS_MAX_PARTS];
        size_t total = 0;
        int fresh = 0;
        for (uint32_t i = 0; have && seg.complete && i < seg.nparts; i++) {
            if (fresh_holds(fp, rt->msn, i)) {
                iov[i] = (struct MHD_IoVec){fp->bytes, fp->len};
                fresh = 1;
            } else if (llhls_rtxn_get_part(r, rt->stream, rt->track, rt->msn, i, &iov[i].iov_base,
                                           &iov[i].iov_len) != 0) {
                llhls_store_read_end(r);
                llhls_fresh_release(fp);
                return respond_error(h, c, 404, td, "segment no longer stored");
            }
            total += iov[i].iov_len;
        }
        if (!have || !seg.complete) {
            llhls_store_read_end(r);
            llhls_fresh_release(fp);
            return respond_error(h, c, 404, td, "no such segment");
        }
        if (!fresh) {
            llhls_fresh_release(fp);
            fp = NULL;
        }
        return respond_mapped(h, c, r, fp, iov, seg.nparts, total, rt->track);
    }
    if (fresh_holds(fp, rt->msn, rt->part)) {
        llhls_store_read_end(r);
        struct MHD_IoVec iov = {fp->bytes, fp->len};
        return respond_mapped(h, c, NULL, fp, &iov, 1, fp->len, rt->track);
    }
    if (llhls_rtxn_get_part(r, rt->stream, rt->track, rt->msn, rt->part, &bytes, &len) == 0) {
        llhls_fresh_release(fp);
        struct MHD_IoVec iov = {bytes, len};
        return respond_mapped(h, c, r, NULL, &iov, 1, len, rt->track);
    }
    llhls_segment_t last;
    int have = llhls_rtxn_get_last_segment(r, rt->stream, rt->track, &last) == 0;
    llhls_store_read_end(r);
    have = llhls_fresh_newer(fp, &last, have) || have;
    llhls_fresh_release(fp);
    llhls_position_t pos;
    llhls_position_from_segment(&pos, have ? &last : NULL, info.state == LLHLS_STREAM_ENDED);
    llhls_part_state_t ps = llhls_part_decide(rt->msn, rt->part, 0, &pos);
    if (ps != LLHLS_PART_PENDING)
        return respond_error(h, c, 404, td, "no such part");
    if (req->waiter.state == LLHLS_WAITER_TIMED_OUT)
        return respond_error(h, c, 503, td, "the hinted part did not arrive in time");
    req->waiter.kind = LLHLS_WAIT_PART;
    req->waiter.msn = rt->msn;
    req->waiter.part = rt->part;
    req->waiter.part_target_us = info.part_target_us;
    return hold(h, c, req, rt, td, again);
}

static const char *content_type_of(const char *path)
{
    static const struct { const char *ext, *type; } types[] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
        {".ico", "image/x-icon"}, {".map", "application/json"},
    };
    size_t n = strlen(path);
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (ends_with(path, n, types[i].ext))
            return types[i].type;
    return "application/octet-stream";
}

/* Files of the www directory: the player page and its scripts.  Only plain
 * names below the directory: no "..", no hidden files. */
static enum MHD_Result serve_static(llhls_http_t *h, struct MHD_Connection *c, const char *url)
{
    if (h->p.www_dir == NULL || strstr(url, "/.") != NULL || strlen(url) > 256)
        return respond_error(h, c, 404, default_td(h), "not found");
    char path[1400];
    /* A directory URL means its index.html. */
    const char *index = url[strlen(url) - 1] == '/' ? "index.html" : "";
    snprintf(path, sizeof(path), "%s%s%s", h->p.www_dir, url, index);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return respond_error(h, c, 404, default_td(h), "not found");
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (resp == NULL) {
        close(fd);
        return MHD_NO;
    }
    add_common_headers(resp, content_type_of(path), "no-cache");
    return queue(h, c, 200, resp, (size_t)st.st_size);
}

static enum MHD_Result serve_metrics(llhls_http_t *h, struct MHD_Connection *c)
{
    llhls_buf_t out;
    llhls_buf_init(&out, 0);
    llhls_metrics_render(h->p.metrics, &out);
    size_t used = 0, size = 0;
    llhls_store_usage(h->p.store, &used, &size);
    llhls_buf_printf(&out,
                     "# HELP llhls_store_bytes_used Bytes of the store's map in use.\n"
                     "# TYPE llhls_store_bytes_used gauge\nllhls_store_bytes_used %zu\n"
                     "# HELP llhls_store_bytes_size Size of the store's map.\n"
                     "# TYPE llhls_store_bytes_size gauge\nllhls_store_bytes_size %zu\n",
                     used, size);
    enum MHD_Result r = respond_copy(h, c, 200, out.data, out.len, "text/plain; version=0.0.4", "no-store");
    llhls_buf_free(&out);
    return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    llhls_http_t *h = cls;
    request_t *req = *con_cls;
    if (req == NULL) {
        req = calloc(1, sizeof(*req));
        if (req == NULL)
            return MHD_NO;
        *con_cls = req;
    }
    if (h->p.admin && (strcmp(url, "/api") == 0 || strncmp(url, "/api/", 5) == 0))
        return llhls_admin_handle(h->p.admin, c, url, method, upload_data, upload_data_size, &req->admin);
    if (strcmp(method, "OPTIONS") == 0) {
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        add_common_headers(resp, NULL, "max-age=86400");
        MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
        MHD_add_response_header(resp, "Access-Control-Allow-Headers", "*");
        MHD_add_response_header(resp, "Access-Control-Max-Age", "86400");
        return queue(h, c, 204, resp, 0);
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        if (*upload_data_size) {
            *upload_data_size = 0; /* the body is not read */
            return MHD_YES;
        }
        return respond_error(h, c, 405, 1, "only GET, HEAD and OPTIONS");
    }
    if (strcmp(url, "/metrics") == 0)
        return serve_metrics(h, c);
    if (strcmp(url, "/healthz") == 0)
        return respond_copy(h, c, 200, "ok\n", 3, "text/plain", "no-store");
    if (strcmp(url, "/admin") == 0 || strcmp(url, "/") == 0) {
        /* The admin page's directory, so that its relative links resolve. */
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (resp == NULL)
            return MHD_NO;
        add_common_headers(resp, NULL, "no-cache");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, "/admin/");
        return queue(h, c, 302, resp, 0);
    }
    route_t rt;
    memset(&rt, 0, sizeof(rt));
    if (parse_route(url, &rt) != 0)
        return serve_static(h, c, url);
    for (;;) {
        int again = 0;
        enum MHD_Result res;
        if (rt.kind == R_MULTIVARIANT)
            return serve_multivariant(h, c, &rt);
        if (rt.kind == R_PLAYLIST)
            res = serve_playlist(h, c, req, &rt, &again);
        else
            res = serve_media(h, c, req, &rt, &again);
        if (!again)
            return res;
    }
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    llhls_http_t *h = cls;
    request_t *req = *con_cls;
    if (req == NULL)
        return;
    llhls_waiters_forget(h->p.waiters, &req->waiter);
    if (req->admin)
        llhls_admin_request_done(req->admin);
    free(req);
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    size_t n = strlen(line);
    while (n && line[n - 1] == '\n')
        line[--n] = 0;
    LLHLS_DEBUG("http", "%s", line);
}

int llhls_http_start(const llhls_http_params_t *p, llhls_http_t **out)
{
    llhls_http_t *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return -LLHLS_ENOMEM;
    h->p = *p;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
                     MHD_USE_TURBO;
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, p->addr, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)p->port);
    } else if (inet_pton(AF_INET6, p->addr, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)p->port);
        flags |= MHD_USE_IPv6;
    } else {
        LLHLS_ERROR("http", "cannot listen on '%s': not a numeric address", p->addr);
        free(h);
        return -LLHLS_ECONFIG;
    }
    h->daemon = MHD_start_daemon(flags, (uint16_t)p->port, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
                                 on_mhd_log, h, MHD_OPTION_SOCK_ADDR, &ss, MHD_OPTION_THREAD_POOL_SIZE, p->threads,
                                 MHD_OPTION_CONNECTION_LIMIT, p->max_connections, MHD_OPTION_CONNECTION_TIMEOUT, 60u,
                                 MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096u, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                                 MHD_OPTION_END);
    if (h->daemon == NULL) {
        LLHLS_ERROR("http", "cannot listen on %s:%d", p->addr, p->port);
        free(h);
        return -LLHLS_EIO;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : p->port;
    *out = h;
    return 0;
}

int llhls_http_port(llhls_http_t *h)
{
    return h->port;
}

void llhls_http_stop(llhls_http_t *h)
{
    MHD_quiesce_daemon(h->daemon);
    llhls_waiters_release_all(h->p.waiters);
    MHD_stop_daemon(h->daemon);
    free(h);
}
