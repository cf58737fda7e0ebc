/* The admin API (see admin.h and docs/api.md).  Every request is checked
 * for the credential first; answers are JSON built with jansson.  Reads
 * come from the store and the in-memory history and edge registry;
 * actions go to the packager thread through the control queue. */
#include "admin.h"

#include "clock.h"
#include "control.h"
#include "edges.h"
#include "error.h"
#include "group.h"
#include "history.h"
#include "ingest.h"
#include "log.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BODY_MAX LLHLS_EDGE_REPORT_MAX
#define ACTION_TIMEOUT_MS 5000
#define BITRATE_WINDOW_MS 5000

struct llhls_admin {
    llhls_admin_params_t p;
    atomic_int rtmp_port;       /* 0 until the RTMP server listens */
};

typedef struct request {
    char *body;
    size_t len;
    int too_big;
} request_t;

int llhls_admin_create(const llhls_admin_params_t *p, llhls_admin_t **out)
{
    llhls_admin_t *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return -LLHLS_ENOMEM;
    a->p = *p;
    *out = a;
    return 0;
}

void llhls_admin_set_rtmp_port(llhls_admin_t *a, int port)
{
    atomic_store(&a->rtmp_port, port);
}

void llhls_admin_destroy(llhls_admin_t *a)
{
    free(a);
}

void llhls_admin_request_done(void *state)
{
    request_t *q = state;
    if (q == NULL)
        return;
    free(q->body);
    free(q);
}

/* ---- answers ---- */

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    size_t len = text ? strlen(text) : 0;
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, text ? MHD_RESPMEM_MUST_FREE
                                                                                 : MHD_RESPMEM_PERSISTENT);
    if (resp == NULL) {
        free(text);
        return MHD_NO;
    }
    if (text)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"llhls\"");
    enum MHD_Result r = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *why)
{
    return send_json(c, status, json_pack("{s:s}", "error", why));
}

static enum MHD_Result send_not_allowed(struct MHD_Connection *c, const char *allow)
{
    json_t *body = json_pack("{s:s}", "error", "method not allowed here");
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result r = MHD_queue_response(c, 405, resp);
    MHD_destroy_response(resp);
    return r;
}

/* ---- who may call ---- */

/* Compares the whole of both strings whatever they hold, so that the time
 * taken says nothing about how much of a guess was right. */
static int same_secret(const char *given, const char *want)
{
    size_t gn = strlen(given), wn = strlen(want);
    unsigned char diff = gn != wn;
    for (size_t i = 0; i < wn; i++)
        diff |= (unsigned char)(want[i] ^ (i < gn ? given[i] : 0));
    return diff == 0;
}

static int peer_address(struct MHD_Connection *c, char *out, size_t len, int *loopback)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    *loopback = 0;
    out[0] = 0;
    if (ci == NULL || ci->client_addr == NULL)
        return -1;
    char host[INET6_ADDRSTRLEN];
    if (ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)ci->client_addr;
        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
        *loopback = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
        snprintf(out, len, "%s:%u", host, ntohs(s4->sin_port));
        return 0;
    }
    if (ci->client_addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ci->client_addr;
        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
        const uint8_t *b = s6->sin6_addr.s6_addr;
        *loopback = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) || (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && b[12] == 127);
        snprintf(out, len, "[%s]:%u", host, ntohs(s6->sin6_port));
        return 0;
    }
    return -1;
}

/* 0 when the request may go on; otherwise the status to refuse it with. */
static unsigned check_credential(llhls_admin_t *a, struct MHD_Connection *c, const char **kind)
{
    int have_token = a->p.token && a->p.token[0];
    int have_basic = a->p.user && a->p.user[0] && a->p.password && a->p.password[0];
    if (!have_token && !have_basic) {
        char peer[80];
        int loopback;
        peer_address(c, peer, sizeof(peer), &loopback);
        *kind = "loopback";
        return loopback ? 0 : 403;
    }
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (auth == NULL)
        return 401;
    if (have_token && strncasecmp(auth, "Bearer ", 7) == 0) {
        *kind = "token";
        return same_secret(auth + 7, a->p.token) ? 0 : 401;
    }
    if (have_basic && strncasecmp(auth, "Basic ", 6) == 0) {
        char *password = NULL;
        char *user = MHD_basic_auth_get_username_password(c, &password);
        int ok = user && password;
        /* Both compared, whatever the first gave. */
        ok &= same_secret(user ? user : "", a->p.user) & same_secret(password ? password : "", a->p.password);
        MHD_free(user);
        MHD_free(password);
        *kind = "basic";
        return ok ? 0 : 401;
    }
    return 401;
}

/* ---- streams ---- */

static const char *state_name(int state)
{
    switch (state) {
    case LLHLS_STREAM_LIVE: return "live";
    case LLHLS_STREAM_IDLE: return "idle";
    default: return "ended";
    }
}

static json_t *track_json(const llhls_track_info_t *t, int video)
{
    if (!t->present)
        return json_null();
    json_t *o = json_pack("{s:s, s:I, s:I}", "codec", t->codec, "bandwidth_peak", (json_int_t)t->bandwidth_peak,
                          "bandwidth_avg", (json_int_t)t->bandwidth_avg);
    if (video) {
        json_object_set_new(o, "width", json_integer(t->width));
        json_object_set_new(o, "height", json_integer(t->height));
        json_object_set_new(o, "frame_rate", json_real(t->frame_rate_milli / 1000.0));
    } else {
        json_object_set_new(o, "sample_rate", json_integer(t->sample_rate));
        json_object_set_new(o, "channels", json_integer(t->channels));
    }
    return o;
}

static json_t *stream_json(llhls_admin_t *a, llhls_rtxn_t *r, const llhls_stream_info_t *info, int64_t now_ms)
{
    char group[LLHLS_NAME_MAX], playlist[LLHLS_NAME_MAX + 16], app[LLHLS_NAME_MAX];
    llhls_group_name(info->name, group);
    snprintf(app, sizeof(app), "%s", info->name);
    char *slash = strchr(app, '/');
    if (slash)
        *slash = 0;
    snprintf(playlist, sizeof(playlist), "/%s/index.m3u8", info->name);
    int track = info->tracks[LLHLS_TRACK_VIDEO].present ? LLHLS_TRACK_VIDEO : LLHLS_TRACK_AUDIO;
    llhls_segment_t last;
    int have = llhls_rtxn_get_last_segment(r, info->name, track, &last) == 0 && last.nparts > 0;
    int live = info->state == LLHLS_STREAM_LIVE && info->published_ms > 0;
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(info->name));
    json_object_set_new(o, "app", json_string(app));
    json_object_set_new(o, "key", json_string(llhls_group_key(info->name)));
    json_object_set_new(o, "group", json_string(group));
    json_object_set_new(o, "rendition", json_string(llhls_group_label(info->name)));
    json_object_set_new(o, "state", json_string(state_name(info->state)));
    json_object_set_new(o, "record", json_boolean(info->record));
    json_object_set_new(o, "started_ms", json_integer(info->started_ms));
    json_object_set_new(o, "updated_ms", json_integer(info->updated_ms));
    json_object_set_new(o, "uptime_s", json_real(live ? (double)(now_ms - info->published_ms) / 1000.0 : 0.0));
    json_object_set_new(o, "publisher", json_string(info->publisher));
    json_object_set_new(o, "segment_target_ms", json_integer(info->segment_target_us / 1000));
    json_object_set_new(o, "part_target_ms", json_integer(info->part_target_us / 1000));
    json_object_set_new(o, "window_ms", json_integer(info->window_ms));
    json_object_set_new(o, "discontinuities", json_integer(have ? last.disc_seq : 0));
    json_object_set_new(o, "bitrate_bps",
                        json_integer((json_int_t)llhls_history_bitrate(a->p.history, info->name, now_ms,
                                                                       BITRATE_WINDOW_MS)));
    json_object_set_new(o, "msn", json_integer(have ? (json_int_t)last.msn : -1));
    json_object_set_new(o, "part", json_integer(have ? (json_int_t)last.nparts - 1 : -1));
    json_object_set_new(o, "playlist", json_string(playlist));
    json_object_set_new(o, "video", track_json(&info->tracks[LLHLS_TRACK_VIDEO], 1));
    json_object_set_new(o, "audio", track_json(&info->tracks[LLHLS_TRACK_AUDIO], 0));
    return o;
}

typedef struct listing {
    llhls_admin_t *a;
    llhls_rtxn_t *r;
    int64_t now_ms;
    json_t *streams;
    json_t *groups;     /* group name -> array of member names */
} listing_t;

static int list_one(const llhls_stream_info_t *info, void *ctx)
{
    listing_t *l = ctx;
    json_array_append_new(l->streams, stream_json(l->a, l->r, info, l->now_ms));
    char group[LLHLS_NAME_MAX];
    llhls_group_name(info->name, group);
    json_t *members = json_object_get(l->groups, group);
    if (members == NULL) {
        members = json_array();
        json_object_set_new(l->groups, group, members);
    }
    json_array_append_new(members, json_string(info->name));
    return 0;
}

static enum MHD_Result list_streams(llhls_admin_t *a, struct MHD_Connection *c)
{
    llhls_rtxn_t *r;
    if (llhls_store_read_begin(a->p.store, &r) != 0)
        return send_error(c, 503, "the store cannot be read");
    listing_t l = {.a = a, .r = r, .now_ms = llhls_wall_ms(), .streams = json_array(), .groups = json_object()};
    int rc = llhls_rtxn_each_stream(r, list_one, &l);
    llhls_store_read_end(r);
    if (rc < 0) {
        json_decref(l.streams);
        json_decref(l.groups);
        return send_error(c, 503, "the store cannot be read");
    }
    /* A group is worth naming when it has renditions. */
    json_t *groups = json_array();
    const char *name;
    json_t *members;
    json_object_foreach(l.groups, name, members) {
        int labelled = 0;
        size_t i;
        json_t *m;
        json_array_foreach(members, i, m) labelled |= strchr(json_string_value(m), LLHLS_RENDITION_MARK) != NULL;
        if (!labelled)
            continue;
        char playlist[LLHLS_NAME_MAX + 16];
        snprintf(playlist, sizeof(playlist), "/%s/index.m3u8", name);
        json_array_append_new(groups, json_pack("{s:s, s:s, s:O}", "name", name, "playlist", playlist,
                                                "renditions", members));
    }
    json_decref(l.groups);
    return send_json(c, 200, json_pack("{s:I, s:o, s:o}", "now_ms", (json_int_t)l.now_ms, "streams", l.streams,
                                       "groups", groups));
}

static enum MHD_Result one_stream(llhls_admin_t *a, struct MHD_Connection *c, const char *stream)
{
    llhls_rtxn_t *r;
    llhls_stream_info_t info;
    if (llhls_store_read_begin(a->p.store, &r) != 0)
        return send_error(c, 503, "the store cannot be read");
    if (llhls_rtxn_get_stream(r, stream, &info) != 0) {
        llhls_store_read_end(r);
        return send_error(c, 404, "no such stream");
    }
    json_t *o = stream_json(a, r, &info, llhls_wall_ms());
    llhls_store_read_end(r);
    return send_json(c, 200, o);
}

static int stream_known(llhls_admin_t *a, const char *stream, llhls_stream_info_t *info)
{
    llhls_rtxn_t *r;
    if (llhls_store_read_begin(a->p.store, &r) != 0)
        return -LLHLS_ESTORE;
    int rc = llhls_rtxn_get_stream(r, stream, info);
    llhls_store_read_end(r);
    return rc;
}

static enum MHD_Result stream_history(llhls_admin_t *a, struct MHD_Connection *c, const char *stream)
{
    llhls_stream_info_t info;
    if (stream_known(a, stream, &info) != 0)
        return send_error(c, 404, "no such stream");
    llhls_history_series_t *s = malloc(sizeof(*s));
    if (s == NULL)
        return MHD_NO;
    llhls_history_read(a->p.history, stream, llhls_wall_ms(), s);
    json_t *t = json_array(), *bitrate = json_array(), *parts = json_array(), *jitter = json_array();
    for (int i = 0; i < LLHLS_HISTORY_SECONDS; i++) {
        json_array_append_new(t, json_integer(s->start_ms + (json_int_t)i * 1000));
        json_array_append_new(bitrate, json_integer((json_int_t)(s->bytes[i] * 8)));
        json_array_append_new(parts, json_integer(s->parts[i]));
        json_array_append_new(jitter, json_real(s->jitter_us[i] / 1000.0));
    }
    free(s);
    return send_json(c, 200, json_pack("{s:s, s:i, s:o, s:o, s:o, s:o}", "name", stream, "interval_ms", 1000,
                                       "t_ms", t, "bitrate_bps", bitrate, "parts", parts, "jitter_ms", jitter));
}

static enum MHD_Result stream_action(llhls_admin_t *a, struct MHD_Connection *c, const char *stream,
                                     const char *action)
{
    llhls_stream_info_t info;
    if (stream_known(a, stream, &info) != 0)
        return send_error(c, 404, "no such stream");
    if (a->p.control == NULL)
        return send_error(c, 503, "the packager takes no actions now");
    int r;
    if (strcmp(action, "end") == 0) {
        if (info.state == LLHLS_STREAM_ENDED)
            return send_error(c, 409, "the stream has already ended");
        r = llhls_control_run(a->p.control, LLHLS_CONTROL_END, stream, ACTION_TIMEOUT_MS);
        if (r == 0) {
            LLHLS_INFO("admin", "%s: ended by an operator", stream);
            return send_json(c, 200, json_pack("{s:s, s:s}", "name", stream, "state", "ended"));
        }
        if (r == -LLHLS_ENOTFOUND)
            return send_error(c, 409, "the stream has already ended");
    } else if (strcmp(action, "disconnect") == 0) {
        r = llhls_control_run(a->p.control, LLHLS_CONTROL_KICK, stream, ACTION_TIMEOUT_MS);
        if (r == 0) {
            LLHLS_INFO("admin", "%s: publisher disconnected by an operator", stream);
            return send_json(c, 200, json_pack("{s:s, s:s}", "name", stream, "state", "idle"));
        }
        if (r == -LLHLS_ENOTFOUND)
            return send_error(c, 409, "no publisher is connected to this stream");
    } else {
        return send_error(c, 404, "no such action (end or disconnect)");
    }
    return send_error(c, 503, r == -LLHLS_EAGAIN ? "the packager did not answer in time" : llhls_strerror(r));
}

static enum MHD_Result stream_delete(llhls_admin_t *a, struct MHD_Connection *c, const char *stream)
{
    llhls_stream_info_t info;
    if (stream_known(a, stream, &info) != 0)
        return send_error(c, 404, "no such stream");
    if (a->p.control == NULL)
        return send_error(c, 503, "the packager takes no actions now");
    int r = llhls_control_run(a->p.control, LLHLS_CONTROL_DELETE, stream, ACTION_TIMEOUT_MS);
    if (r == 0) {
        llhls_history_forget(a->p.history, stream);
        LLHLS_INFO("admin", "%s: deleted by an operator", stream);
        return send_json(c, 200, json_pack("{s:s, s:b}", "name", stream, "deleted", 1));
    }
    if (r == -LLHLS_EBUSY)
        return send_error(c, 409, "the stream is live or waiting for its publisher: end it first");
    if (r == -LLHLS_ENOTFOUND)
        return send_error(c, 404, "no such stream");
    return send_error(c, 503, r == -LLHLS_EAGAIN ? "the packager did not answer in time" : llhls_strerror(r));
}

/* ---- routing ---- */

/* "/api/streams/APP/KEY[/REST]": the stream "APP/KEY" and REST ("" when
 * none).  Returns 0 or -1 when the names are not stream names. */
static int parse_stream_path(const char *path, char *stream, size_t len, const char **rest)
{
    const char *app = path, *s1 = strchr(app, '/');
    if (s1 == NULL)
        return -1;
    const char *key = s1 + 1, *s2 = strchr(key, '/');
    size_t an = (size_t)(s1 - app), kn = s2 ? (size_t)(s2 - key) : strlen(key);
    char a[65], k[65];
    if (an == 0 || kn == 0 || an >= sizeof(a) || kn >= sizeof(k))
        return -1;
    memcpy(a, app, an);
    a[an] = 0;
    memcpy(k, key, kn);
    k[kn] = 0;
    const char *why;
    if (llhls_publish_name_check(a, k, &why) != 0)
        return -1;
    snprintf(stream, len, "%s/%s", a, k);
    *rest = s2 ? s2 + 1 : "";
    return 0;
}

static enum MHD_Result route(llhls_admin_t *a, struct MHD_Connection *c, const char *path, const char *method,
                             request_t *q, const char *auth_kind)
{
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (strcmp(path, "session") == 0) {
        if (!get)
            return send_not_allowed(c, "GET, HEAD");
        return send_json(c, 200, json_pack("{s:s, s:s, s:i}", "auth", auth_kind, "version", PACKAGE_VERSION,
                                           "rtmp_port", atomic_load(&a->rtmp_port)));
    }
    if (strcmp(path, "streams") == 0) {
        if (!get)
            return send_not_allowed(c, "GET, HEAD");
        return list_streams(a, c);
    }
    if (strcmp(path, "edges") == 0) {
        if (!get)
            return send_not_allowed(c, "GET, HEAD");
        return send_json(c, 200, llhls_edges_json(a->p.edges, llhls_wall_ms()));
    }
    if (strcmp(path, "edges/report") == 0) {
        if (strcmp(method, "POST") != 0)
            return send_not_allowed(c, "POST");
        if (q->too_big)
            return send_error(c, 413, "a report is at most 64 KiB");
        char peer[80], why[256];
        int loopback;
        peer_address(c, peer, sizeof(peer), &loopback);
        int r = llhls_edges_report(a->p.edges, q->body ? q->body : "", q->len, peer, llhls_wall_ms(), why, sizeof(why));
        if (r == -LLHLS_ETOOBIG)
            return send_error(c, 413, why);
        if (r != 0)
            return send_error(c, 400, why);
        return send_json(c, 204, NULL);
    }
    if (strncmp(path, "streams/", 8) == 0) {
        char stream[LLHLS_NAME_MAX];
        const char *rest;
        if (parse_stream_path(path + 8, stream, sizeof(stream), &rest) != 0)
            return send_error(c, 404, "not a stream name");
        if (rest[0] == 0) {
            if (get)
                return one_stream(a, c, stream);
            if (strcmp(method, "DELETE") == 0)
                return stream_delete(a, c, stream);
            return send_not_allowed(c, "GET, HEAD, DELETE");
        }
        if (strcmp(rest, "history") == 0)
            return get ? stream_history(a, c, stream) : send_not_allowed(c, "GET, HEAD");
        if (strcmp(rest, "end") == 0 || strcmp(rest, "disconnect") == 0)
            return strcmp(method, "POST") == 0 ? stream_action(a, c, stream, rest) : send_not_allowed(c, "POST");
    }
    return send_error(c, 404, "no such API endpoint (see docs/api.md)");
}

enum MHD_Result llhls_admin_handle(llhls_admin_t *a, struct MHD_Connection *c, const char *url, const char *method,
                                   const char *upload_data, size_t *upload_data_size, void **state)
{
    request_t *q = *state;
    if (q == NULL) {
        /* The first call has the headers only; a body comes in the next. */
        if ((q = calloc(1, sizeof(*q))) == NULL)
            return MHD_NO;
        *state = q;
        return MHD_YES;
    }
    /* A body arrives in pieces: keep it (bounded), answer after the last. */
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (q->too_big || q->len + n > BODY_MAX) {
            q->too_big = 1;
            return MHD_YES;
        }
        char *grown = realloc(q->body, q->len + n + 1);
        if (grown == NULL)
            return MHD_NO;
        memcpy(grown + q->len, upload_data, n);
        q->body = grown;
        q->len += n;
        q->body[q->len] = 0;
        return MHD_YES;
    }
    const char *kind = "none";
    unsigned refuse = check_credential(a, c, &kind);
    if (refuse == 401)
        return send_error(c, 401, "a valid admin credential is needed (Authorization: Bearer TOKEN, or basic auth)");
    if (refuse == 403)
        return send_error(c, 403, "no admin credential is configured: the admin API answers loopback peers only");
    const char *path = url + 4; /* after "/api" */
    if (*path == '/')
        path++;
    return route(a, c, path, method, q, kind);
}
