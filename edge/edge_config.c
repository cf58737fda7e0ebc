/* llhls-edge's configuration: a YAML default compiled into the binary, an
 * optional YAML file and the command line, applied in that order onto one
 * llhls_edge_config_t.  Every load works on a private copy that is copied
 * back only when all of it is valid, so a bad file at reload leaves the
 * running configuration exactly as it was. */
#include "edge_config.h"
#include "error.h"
#include "log.h"
#include "yaml_doc.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>
#include <yaml.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* Where a value came from, e.g. "/etc/llhls/edge.yaml:12: limits.max_held". */
#define WHERE_MAX 320
#define US_PER_S 1000000ull
#define URL_EXAMPLE "http://127.0.0.1:8080"

/* Kept equal to conf/llhls-edge.yaml, which has the long comments; a unit
 * test compares the two. */
const char llhls_edge_config_embedded[] =
    "# llhls-edge defaults; conf/llhls-edge.yaml explains each key.\n"
    "listen:\n"
    "  - address: 0.0.0.0:8081     # h2c (prior knowledge) and HTTP/1.1\n"
    "origins:                      # tried in order\n"
    "  - " URL_EXAMPLE "\n"
    "threads: 2\n"
    "cache:\n"
    "  size: 1GiB                  # memory for cached parts and playlists\n"
    "timeouts:\n"
    "  upstream_connect: 2s\n"
    "  upstream_response: 10s       # non-blocking requests only\n"
    "  client_idle: 30s\n"
    "  client_send: 20s             # a stalled response is cut off\n"
    "  tls_handshake: 10s           # a TLS handshake not done by then is dropped\n"
    "  origin_probe: 2s             # how often a down origin is retried\n"
    "limits:\n"
    "  max_connections: 20000\n"
    "  max_held: 50000              # blocking requests held per edge\n"
    "  max_held_per_connection: 64\n"
    "  max_header_size: 32KiB       # a request's line and headers\n"
    "log:\n"
    "  level: info                  # error, warn, info or debug\n"
    "  access: \"\"                   # \"\" off, \"-\" stderr, or a file\n"
    "report:\n"
    "  url: \"\"                      # the origin's /api/edges/report; \"\" off\n"
    "  interval: 2s\n";

typedef enum { KIND_COUNT, KIND_SIZE, KIND_DURATION, KIND_LEVEL, KIND_LOG_PATH, KIND_REPORT_URL, KIND_TEXT } kind_t;

/* The keys that hold one value; listen and origins are lists, read apart. */
typedef enum {
    KEY_THREADS,
    KEY_CACHE_SIZE,
    KEY_UPSTREAM_CONNECT,
    KEY_UPSTREAM_RESPONSE,
    KEY_CLIENT_IDLE,
    KEY_CLIENT_SEND,
    KEY_TLS_HANDSHAKE,
    KEY_ORIGIN_PROBE,
    KEY_MAX_CONNECTIONS,
    KEY_MAX_HELD,
    KEY_MAX_HELD_PER_CONNECTION,
    KEY_MAX_HEADER_SIZE,
    KEY_LOG_LEVEL,
    KEY_LOG_ACCESS,
    KEY_REPORT_URL,
    KEY_REPORT_TOKEN,
    KEY_REPORT_ID,
    KEY_REPORT_INTERVAL,
    KEY_COUNT
} key_id_t;

/* min and max are in the kind's unit: a count, bytes or microseconds. */
typedef struct {
    const char *section; /* NULL for a key at the top of the file */
    const char *name;
    const char *flag; /* NULL when the key has no command-line flag */
    kind_t kind;
    uint64_t min, max;
} key_def_t;

static const key_def_t keys[KEY_COUNT] = {
    [KEY_THREADS] = {NULL, "threads", "--threads", KIND_COUNT, 1, 64},
    [KEY_CACHE_SIZE] = {"cache", "size", "--cache-size", KIND_SIZE, 1ull << 20, 1ull << 40},
    [KEY_UPSTREAM_CONNECT] = {"timeouts", "upstream_connect", NULL, KIND_DURATION, US_PER_S / 10, 60 * US_PER_S},
    [KEY_UPSTREAM_RESPONSE] = {"timeouts", "upstream_response", NULL, KIND_DURATION, US_PER_S / 10, 600 * US_PER_S},
    [KEY_CLIENT_IDLE] = {"timeouts", "client_idle", NULL, KIND_DURATION, 1 * US_PER_S, 3600 * US_PER_S},
    [KEY_CLIENT_SEND] = {"timeouts", "client_send", NULL, KIND_DURATION, 1 * US_PER_S, 3600 * US_PER_S},
    [KEY_TLS_HANDSHAKE] = {"timeouts", "tls_handshake", NULL, KIND_DURATION, 1 * US_PER_S, 600 * US_PER_S},
    [KEY_ORIGIN_PROBE] = {"timeouts", "origin_probe", NULL, KIND_DURATION, US_PER_S / 10, 600 * US_PER_S},
    [KEY_MAX_CONNECTIONS] = {"limits", "max_connections", NULL, KIND_COUNT, 1, 1000000},
    [KEY_MAX_HELD] = {"limits", "max_held", NULL, KIND_COUNT, 1, 1000000},
    [KEY_MAX_HELD_PER_CONNECTION] = {"limits", "max_held_per_connection", NULL, KIND_COUNT, 1, 1000000},
    [KEY_MAX_HEADER_SIZE] = {"limits", "max_header_size", NULL, KIND_SIZE, 1024, 256 * 1024},
    [KEY_LOG_LEVEL] = {"log", "level", "--log-level", KIND_LEVEL, 0, 0},
    [KEY_LOG_ACCESS] = {"log", "access", "--access-log", KIND_LOG_PATH, 0, 0},
    [KEY_REPORT_URL] = {"report", "url", "--report-url", KIND_REPORT_URL, 0, 0},
    [KEY_REPORT_TOKEN] = {"report", "token", "--report-token", KIND_TEXT, 0, LLHLS_SECRET_MAX - 1},
    [KEY_REPORT_ID] = {"report", "id", "--report-id", KIND_TEXT, 1, 64},
    [KEY_REPORT_INTERVAL] = {"report", "interval", "--report-interval", KIND_DURATION, US_PER_S / 2, 600 * US_PER_S},
};

/* What may stand at the top of the file. */
typedef enum {
    TOP_LISTEN,
    TOP_ORIGINS,
    TOP_THREADS,
    TOP_CACHE,
    TOP_TIMEOUTS,
    TOP_LIMITS,
    TOP_LOG,
    TOP_REPORT,
    TOP_COUNT
} top_id_t;
static const char *const tops[TOP_COUNT] = {"listen",   "origins", "threads", "cache",
                                            "timeouts", "limits",  "log",     "report"};

/* One load: the working copy, and where each key was set, so that the rule
 * between two values blames the one the user actually wrote. */
typedef struct {
    llhls_edge_config_t c;
    char where[KEY_COUNT][WHERE_MAX];
    int line[KEY_COUNT];
    int order[KEY_COUNT]; /* when each key was set, 0 for never */
    int changes;
    int top_line[TOP_COUNT];
    int flag_listeners; /* a --listen has replaced the list */
    int flag_origins;   /* an --origin has replaced the list */
} loader_t;

static loader_t *loader_new(const llhls_edge_config_t *c)
{
    loader_t *l = calloc(1, sizeof(*l));
    if (l)
        memcpy(&l->c, c, sizeof(*c));
    return l;
}

/* "0.0.0.0:8081" or "[::1]:8443", the form the user writes. */
static const char *format_listen(const llhls_edge_listener_t *li, char *buf, size_t len)
{
    snprintf(buf, len, strchr(li->addr, ':') ? "[%s]:%d" : "%s:%d", li->addr, li->port);
    return buf;
}

static const char *key_path(key_id_t k, char *buf, size_t len)
{
    if (keys[k].section)
        snprintf(buf, len, "%s.%s", keys[k].section, keys[k].name);
    else
        snprintf(buf, len, "%s", keys[k].name);
    return buf;
}

static const char *kind_expect(kind_t kind)
{
    switch (kind) {
    case KIND_COUNT: return "a whole number";
    case KIND_SIZE: return "a size like 1GiB, 512MiB or 100MB";
    case KIND_DURATION: return "a duration like 2 or 0.5s";
    case KIND_LEVEL: return "one of error, warn, info, debug";
    case KIND_LOG_PATH: return "\"\" (off), \"-\" (stderr) or a file path";
    case KIND_REPORT_URL: return "\"\" (off) or a URL like http://origin:8080/api/edges/report";
    case KIND_TEXT: return "printable characters without spaces";
    }
    return "a value";
}

#define LISTEN_EXPECT "ADDR:PORT with a numeric address, like 0.0.0.0:8081 or [::1]:8443"

/* ---- values ---- */

static int origin_parse(const char *url, llhls_edge_origin_t *o, char *why, size_t whylen);

/* Checks text as a value for key k and stores it in c.  On error writes
 * what is wrong (without the location) into why. */
static int apply_value(llhls_edge_config_t *c, key_id_t k, const char *text, char *why, size_t whylen)
{
    const key_def_t *d = &keys[k];
    uint64_t v = 0;
    char lo[32], hi[32];

    switch (d->kind) {
    case KIND_REPORT_URL: {
        if (text[0] == 0) {
            c->report_url[0] = c->report_host[0] = c->report_path[0] = 0;
            return 0;
        }
        /* http://HOST[:PORT] as for origins, then the path posted to. */
        const char *auth = strncasecmp(text, "http://", 7) == 0 ? text + 7 : NULL;
        const char *slash = auth ? strchr(auth, '/') : NULL;
        if (slash == NULL || slash[1] == 0 || strlen(text) >= LLHLS_URL_MAX)
            return llhls_yaml_fail(why, whylen, "expected %s, got '%.80s'", kind_expect(d->kind), text);
        char base[LLHLS_URL_MAX];
        snprintf(base, sizeof(base), "%.*s", (int)(slash - text), text);
        llhls_edge_origin_t o;
        if (origin_parse(base, &o, why, whylen) != 0)
            return -LLHLS_ECONFIG;
        for (const char *p = slash; *p; p++)
            if (*p <= ' ' || *p > '~')
                return llhls_yaml_fail(why, whylen, "the path holds a space or a control character, got '%.80s'", text);
        snprintf(c->report_url, sizeof(c->report_url), "%s", text);
        snprintf(c->report_host, sizeof(c->report_host), "%s", o.host);
        c->report_port = o.port;
        snprintf(c->report_path, sizeof(c->report_path), "%s", slash);
        return 0;
    }
    case KIND_TEXT: {
        if (llhls_config_check_token(text, d->min, d->max, 0, why, whylen) != 0)
            return -LLHLS_ECONFIG;
        size_t n = strlen(text);
        memcpy(k == KEY_REPORT_TOKEN ? c->report_token : c->report_id, text, n + 1);
        return 0;
    }
    case KIND_LOG_PATH: {
        size_t n = strlen(text);
        if (n >= LLHLS_PATH_MAX)
            return llhls_yaml_fail(why, whylen, "path is longer than %d bytes", LLHLS_PATH_MAX - 1);
        memcpy(c->access_log, text, n + 1);
        return 0;
    }
    case KIND_LEVEL: {
        int level = llhls_log_parse_level(text);
        if (level < 0)
            return llhls_yaml_fail(why, whylen, "expected %s, got '%.80s'", kind_expect(d->kind), text);
        c->log_level = level;
        return 0;
    }
    case KIND_COUNT:
        if (llhls_config_parse_count(text, &v) != 0 || v < d->min || v > d->max)
            return llhls_yaml_fail(why, whylen, "expected a whole number from %llu to %llu, got '%.80s'",
                                   (unsigned long long)d->min, (unsigned long long)d->max, text);
        break;
    case KIND_SIZE:
        if (llhls_config_parse_size(text, &v) != 0)
            return llhls_yaml_fail(why, whylen, "expected %s, got '%.80s'", kind_expect(d->kind), text);
        if (v < d->min || v > d->max)
            return llhls_yaml_fail(why, whylen, "expected a size from %s to %s, got '%.80s'",
                                   llhls_config_format_size(d->min, lo, sizeof(lo)),
                                   llhls_config_format_size(d->max, hi, sizeof(hi)), text);
        break;
    case KIND_DURATION:
        if (llhls_config_parse_duration(text, &v) != 0)
            return llhls_yaml_fail(why, whylen, "expected %s, got '%.80s'", kind_expect(d->kind), text);
        if (v < d->min || v > d->max)
            return llhls_yaml_fail(why, whylen, "expected a duration from %s to %s, got '%.80s'",
                                   llhls_config_format_duration(d->min, lo, sizeof(lo)),
                                   llhls_config_format_duration(d->max, hi, sizeof(hi)), text);
        break;
    }

    /* The bounds above keep every value inside its field's type. */
    switch (k) {
    case KEY_THREADS: c->threads = (uint32_t)v; break;
    case KEY_CACHE_SIZE: c->cache_size = v; break;
    case KEY_UPSTREAM_CONNECT: c->upstream_connect_timeout_ms = (uint32_t)(v / 1000); break;
    case KEY_UPSTREAM_RESPONSE: c->upstream_timeout_ms = (uint32_t)(v / 1000); break;
    case KEY_CLIENT_IDLE: c->client_idle_timeout_ms = (uint32_t)(v / 1000); break;
    case KEY_CLIENT_SEND: c->client_send_timeout_ms = (uint32_t)(v / 1000); break;
    case KEY_TLS_HANDSHAKE: c->tls_handshake_timeout_ms = (uint32_t)(v / 1000); break;
    case KEY_ORIGIN_PROBE: c->probe_interval_ms = (uint32_t)(v / 1000); break;
    case KEY_REPORT_INTERVAL: c->report_interval_ms = (uint32_t)(v / 1000); break;
    case KEY_MAX_CONNECTIONS: c->max_connections = (uint32_t)v; break;
    case KEY_MAX_HELD: c->max_held = (uint32_t)v; break;
    case KEY_MAX_HELD_PER_CONNECTION: c->max_held_per_connection = (uint32_t)v; break;
    case KEY_MAX_HEADER_SIZE: c->max_header_size = (uint32_t)v; break;
    default: break;
    }
    return 0;
}

/* A certificate or key path: present and short enough. */
static int apply_file(char *dst, const char *text, char *why, size_t whylen)
{
    size_t n = strlen(text);
    if (n == 0)
        return llhls_yaml_fail(why, whylen, "expected a file path, got nothing");
    if (n >= LLHLS_PATH_MAX)
        return llhls_yaml_fail(why, whylen, "path is longer than %d bytes", LLHLS_PATH_MAX - 1);
    memcpy(dst, text, n + 1);
    return 0;
}

static int is_host_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
           ch == '_';
}

/* The parser behind llhls_edge_origin_parse, saying what is wrong. */
static int origin_parse(const char *url, llhls_edge_origin_t *o, char *why, size_t whylen)
{
    llhls_edge_origin_t out;
    memset(&out, 0, sizeof(out));
    size_t n = url ? strlen(url) : 0;
    if (n == 0)
        return llhls_yaml_fail(why, whylen, "expected a URL like " URL_EXAMPLE ", got nothing");
    if (n >= LLHLS_URL_MAX)
        return llhls_yaml_fail(why, whylen, "the URL is longer than %d bytes", LLHLS_URL_MAX - 1);
    if (strncasecmp(url, "https://", 8) == 0)
        return llhls_yaml_fail(why, whylen,
                               "https:// is not supported (origins are reached over plain HTTP), got '%.80s'", url);
    if (strncasecmp(url, "http://", 7) != 0)
        return llhls_yaml_fail(why, whylen, "expected a URL like " URL_EXAMPLE ", got '%.80s'", url);

    const char *auth = url + 7;
    const char *end = auth + strcspn(auth, "/?#");
    /* Requests are made for the same paths the players ask for, so the
     * origin is a host and a port, never a prefix. */
    if (*end && strcmp(end, "/") != 0)
        return llhls_yaml_fail(why, whylen, "only http://HOST[:PORT] is allowed, without a path, got '%.80s'", url);
    if (memchr(auth, '@', (size_t)(end - auth)))
        return llhls_yaml_fail(why, whylen, "user information is not allowed, got '%.80s'", url);

    const char *host = auth, *hend, *after;
    if (*auth == '[') {
        const char *close = memchr(auth, ']', (size_t)(end - auth));
        if (!close)
            return llhls_yaml_fail(why, whylen, "an IPv6 address needs its closing ']', got '%.80s'", url);
        host = auth + 1;
        hend = close;
        after = close + 1;
    } else {
        const char *colon = memchr(auth, ':', (size_t)(end - auth));
        hend = colon ? colon : end;
        after = hend;
    }
    size_t hlen = (size_t)(hend - host);
    if (hlen == 0)
        return llhls_yaml_fail(why, whylen, "the host is missing, got '%.80s'", url);
    if (hlen >= sizeof(out.host))
        return llhls_yaml_fail(why, whylen, "the host is longer than %zu bytes, got '%.80s'", sizeof(out.host) - 1,
                               url);
    memcpy(out.host, host, hlen);
    out.host[hlen] = '\0';
    if (*auth == '[') {
        unsigned char bin[16];
        if (inet_pton(AF_INET6, out.host, bin) != 1)
            return llhls_yaml_fail(why, whylen, "'%s' is not an IPv6 address, in '%.80s'", out.host, url);
    } else {
        for (size_t i = 0; i < hlen; i++)
            if (!is_host_char(out.host[i]))
                return llhls_yaml_fail(why, whylen,
                                       "the host may hold only letters, digits, '-', '.' and '_', got '%.80s'", url);
    }

    out.port = 80;
    if (after < end) {
        if (*after != ':')
            return llhls_yaml_fail(why, whylen, "expected ':' and a port after the host, got '%.80s'", url);
        const char *p = after + 1;
        long port = 0;
        if (p == end || end - p > 5)
            return llhls_yaml_fail(why, whylen, "the port must be 1 to 65535, got '%.80s'", url);
        for (; p < end; p++) {
            if (*p < '0' || *p > '9')
                return llhls_yaml_fail(why, whylen, "the port must be 1 to 65535, got '%.80s'", url);
            port = port * 10 + (*p - '0');
        }
        if (port < 1 || port > 65535)
            return llhls_yaml_fail(why, whylen, "the port must be 1 to 65535, got '%.80s'", url);
        out.port = (int)port;
    }
    /* The trailing '/' is dropped so that request paths can be appended. */
    memcpy(out.url, url, (size_t)(end - url));
    out.url[end - url] = '\0';
    *o = out;
    return 0;
}

int llhls_edge_origin_parse(const char *url, llhls_edge_origin_t *o)
{
    if (!o)
        return -LLHLS_EINVAL;
    return origin_parse(url, o, NULL, 0) == 0 ? 0 : -LLHLS_EINVAL;
}

/* Index of an earlier listener on the same address and port, or -1.  Port 0
 * asks for any free port, so two of them never collide. */
static int find_listener(const llhls_edge_config_t *c, size_t upto, const char *addr, int port)
{
    for (size_t i = 0; i < upto; i++)
        if (port != 0 && c->listeners[i].port == port && strcmp(c->listeners[i].addr, addr) == 0)
            return (int)i;
    return -1;
}

static int find_origin(const llhls_edge_config_t *c, size_t upto, const llhls_edge_origin_t *o)
{
    for (size_t i = 0; i < upto; i++)
        if (c->origins[i].port == o->port && strcasecmp(c->origins[i].host, o->host) == 0)
            return (int)i;
    return -1;
}

/* Names, for the rule below, the one of two keys the user set last: the
 * last change is the one that broke the rule. */
static const char *blame(const loader_t *l, key_id_t about, key_id_t other, char *buf, size_t len)
{
    key_id_t k = l->order[other] > l->order[about] ? other : about;
    if (l->where[k][0])
        return l->where[k];
    return key_path(k, buf, len);
}

static int check_rules(const loader_t *l, char *err, size_t errlen)
{
    const llhls_edge_config_t *c = &l->c;
    char w[64];
    if (c->max_held_per_connection > c->max_held)
        return llhls_yaml_fail(err, errlen, "%s: max_held_per_connection %u must be at most max_held %u",
                               blame(l, KEY_MAX_HELD_PER_CONNECTION, KEY_MAX_HELD, w, sizeof(w)),
                               c->max_held_per_connection, c->max_held);
    return 0;
}

/* ---- YAML ---- */

typedef struct {
    loader_t *l;
    yaml_document_t *doc;
    const char *name;
    char *err;
    size_t errlen;
} yctx_t;

static yaml_node_t *node_at(const yctx_t *y, int id)
{
    return yaml_document_get_node(y->doc, id);
}

/* A scalar value for path, or an error naming it. */
static int expect_scalar(const yctx_t *y, const yaml_node_t *vn, const char *path, const char *expect)
{
    if (vn->type != YAML_SCALAR_NODE)
        return llhls_yaml_fail(y->err, y->errlen, "%s:%d: %s: expected %s, got %s", y->name, llhls_yaml_node_line(vn),
                               path, expect, llhls_yaml_node_kind(vn));
    if (strlen(llhls_yaml_scalar(vn)) != vn->data.scalar.length)
        return llhls_yaml_fail(y->err, y->errlen, "%s:%d: %s: the value contains a NUL byte", y->name,
                               llhls_yaml_node_line(vn), path);
    return 0;
}

static int load_key(yctx_t *y, key_id_t k, const yaml_node_t *kn, const yaml_node_t *vn)
{
    char path[64];
    key_path(k, path, sizeof(path));
    int line = llhls_yaml_node_line(kn);
    if (y->l->line[k] > 0)
        return llhls_yaml_fail(y->err, y->errlen, "%s:%d: %s: given twice (first on line %d)", y->name, line, path,
                               y->l->line[k]);
    int r = expect_scalar(y, vn, path, kind_expect(keys[k].kind));
    if (r != 0)
        return r;
    char why[256];
    if (apply_value(&y->l->c, k, llhls_yaml_scalar(vn), why, sizeof(why)) != 0)
        return llhls_yaml_fail(y->err, y->errlen, "%s:%d: %s: %s", y->name, llhls_yaml_node_line(vn), path, why);
    y->l->line[k] = line;
    y->l->order[k] = ++y->l->changes;
    snprintf(y->l->where[k], WHERE_MAX, "%s:%d: %s", y->name, line, path);
    return 0;
}

static int load_section(yctx_t *y, const char *sec, const yaml_node_t *vn)
{
    /* A section whose keys are all commented out is still a valid file. */
    if (llhls_yaml_node_is_empty(vn))
        return 0;
    if (vn->type != YAML_MAPPING_NODE)
        return llhls_yaml_fail(y->err, y->errlen, "%s:%d: %s: expected a mapping of keys, got %s", y->name,
                               llhls_yaml_node_line(vn), sec, llhls_yaml_node_kind(vn));
    for (yaml_node_pair_t *p = vn->data.mapping.pairs.start; p < vn->data.mapping.pairs.top; p++) {
        const yaml_node_t *kn = node_at(y, p->key);
        if (kn->type != YAML_SCALAR_NODE)
            return llhls_yaml_fail(y->err, y->errlen, "%s:%d: %s: expected a key name, got %s", y->name,
                                   llhls_yaml_node_line(kn), sec, llhls_yaml_node_kind(kn));
        int k = -1;
        for (int i = 0; i < KEY_COUNT; i++)
            if (keys[i].section && strcmp(keys[i].section, sec) == 0 &&
                strcmp(keys[i].name, llhls_yaml_scalar(kn)) == 0)
                k = i;
        if (k < 0) {
            char known[160] = "";
            size_t used = 0;
            for (int i = 0; i < KEY_COUNT; i++) {
                if (!keys[i].section || strcmp(keys[i].section, sec) != 0)
                    continue;
                int n = snprintf(known + used, sizeof(known) - used, "%s%s", used ? ", " : "", keys[i].name);
                if (n < 0 || (size_t)n >= sizeof(known) - used)
                    break;
                used += (size_t)n;
            }
            return llhls_yaml_fail(y->err, y->errlen, "%s:%d: %s.%.60s: unknown key (%s has %s)", y->name,
                                   llhls_yaml_node_line(kn), sec, llhls_yaml_scalar(kn), sec, known);
        }
        int r = load_key(y, (key_id_t)k, kn, node_at(y, p->value));
        if (r != 0)
            return r;
    }
    return 0;
}

static int load_tls(yctx_t *y, size_t idx, const yaml_node_t *vn, llhls_edge_listener_t *li)
{
    char path[64];
    snprintf(path, sizeof(path), "listen[%zu].tls", idx);
    if (vn->type != YAML_MAPPING_NODE)
        return llhls_yaml_fail(y->err, y->errlen, "%s:%d: %s: expected a mapping with certificate and key, got %s",
                               y->name, llhls_yaml_node_line(vn), path, llhls_yaml_node_kind(vn));
    int cert_line = 0, key_line = 0;
    for (yaml_node_pair_t *p = vn->data.mapping.pairs.start; p < vn->data.mapping.pairs.top; p++) {
        const yaml_node_t *kn = node_at(y, p->key), *val = node_at(y, p->value);
        const char *kname = kn->type == YAML_SCALAR_NODE ? llhls_yaml_scalar(kn) : "";
        int is_cert = strcmp(kname, "certificate") == 0, is_key = strcmp(kname, "key") == 0;
        if (!is_cert && !is_key) {
            if (kn->type != YAML_SCALAR_NODE)
                return llhls_yaml_fail(y->err, y->errlen, "%s:%d: %s: expected a key name, got %s", y->name,
                                       llhls_yaml_node_line(kn), path, llhls_yaml_node_kind(kn));
            return llhls_yaml_fail(y->err, y->errlen, "%s:%d: %s.%.60s: unknown key (tls has certificate, key)",
                                   y->name, llhls_yaml_node_line(kn), path, kname);
        }
        int *seen = is_cert ? &cert_line : &key_line;
        char kpath[80];
        snprintf(kpath, sizeof(kpath), "%s.%s", path, kname);
        if (*seen)
            return llhls_yaml_fail(y->err, y->errlen, "%s:%d: %s: given twice (first on line %d)", y->name,
                                   llhls_yaml_node_line(kn), kpath, *seen);
        *seen = llhls_yaml_node_line(kn);
        int r = expect_scalar(y, val, kpath, "a file path");
        if (r != 0)
            return r;
        char why[256];
        if (apply_file(is_cert ? li->cert : li->key, llhls_yaml_scalar(val), why, sizeof(why)) != 0)
            return llhls_yaml_fail(y->err, y->errlen, "%s:%d: %s: %s", y->name, llhls_yaml_node_line(val), kpath, why);
    }
    if (!cert_line || !key_line)
        return llhls_yaml_fail(y->err, y->errlen, "%s:%d: %s.%s: missing (tls needs both certificate and key)", y->name,
                               llhls_yaml_node_line(vn), path, cert_line ? "key" : "certificate");
    li->tls = 1;
    return 0;
}

static int load_listener(yctx_t *y, size_t idx, const yaml_node_t *item)
{
    llhls_edge_config_t *c = &y->l->c;
    llhls_edge_listener_t *li = &c->listeners[idx];
    if (item->type != YAML_MAPPING_NODE)
        return llhls_yaml_fail(y->err, y->errlen,
                               "%s:%d: listen[%zu]: expected a mapping with address and optionally tls, got %s%s",
                               y->name, llhls_yaml_node_line(item), idx, llhls_yaml_node_kind(item),
                               item->type == YAML_SCALAR_NODE ? " (write '- address: ADDR:PORT')" : "");
    int addr_line = 0, tls_line = 0;
    char path[64];
    for (yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top; p++) {
        const yaml_node_t *kn = node_at(y, p->key), *val = node_at(y, p->value);
        if (kn->type != YAML_SCALAR_NODE)
            return llhls_yaml_fail(y->err, y->errlen, "%s:%d: listen[%zu]: expected a key name, got %s", y->name,
                                   llhls_yaml_node_line(kn), idx, llhls_yaml_node_kind(kn));
        const char *kname = llhls_yaml_scalar(kn);
        int r;
        if (strcmp(kname, "address") == 0) {
            snprintf(path, sizeof(path), "listen[%zu].address", idx);
            if (addr_line)
                return llhls_yaml_fail(y->err, y->errlen, "%s:%d: %s: given twice (first on line %d)", y->name,
                                       llhls_yaml_node_line(kn), path, addr_line);
            addr_line = llhls_yaml_node_line(kn);
            if ((r = expect_scalar(y, val, path, LISTEN_EXPECT)) != 0)
                return r;
            if (llhls_config_parse_listen(llhls_yaml_scalar(val), li->addr, sizeof(li->addr), &li->port) != 0)
                return llhls_yaml_fail(y->err, y->errlen, "%s:%d: %s: expected " LISTEN_EXPECT ", got '%.80s'", y->name,
                                       llhls_yaml_node_line(val), path, llhls_yaml_scalar(val));
            int dup = find_listener(c, idx, li->addr, li->port);
            if (dup >= 0)
                return llhls_yaml_fail(y->err, y->errlen, "%s:%d: %s: %s is already listen[%d]", y->name,
                                       llhls_yaml_node_line(val), path, llhls_yaml_scalar(val), dup);
        } else if (strcmp(kname, "tls") == 0) {
            if (tls_line)
                return llhls_yaml_fail(y->err, y->errlen, "%s:%d: listen[%zu].tls: given twice (first on line %d)",
                                       y->name, llhls_yaml_node_line(kn), idx, tls_line);
            tls_line = llhls_yaml_node_line(kn);
            if ((r = load_tls(y, idx, val, li)) != 0)
                return r;
        } else {
            return llhls_yaml_fail(y->err, y->errlen,
                                   "%s:%d: listen[%zu].%.60s: unknown key (a listener has address, tls)", y->name,
                                   llhls_yaml_node_line(kn), idx, kname);
        }
    }
    if (!addr_line)
        return llhls_yaml_fail(y->err, y->errlen, "%s:%d: listen[%zu].address: missing (every listener needs one)",
                               y->name, llhls_yaml_node_line(item), idx);
    return 0;
}

/* A list in the file replaces the one before it: listing one listener
 * must not keep the default one beside it. */
static int load_listeners(yctx_t *y, const yaml_node_t *vn)
{
    llhls_edge_config_t *c = &y->l->c;
    if (vn->type != YAML_SEQUENCE_NODE && !llhls_yaml_node_is_empty(vn))
        return llhls_yaml_fail(y->err, y->errlen,
                               "%s:%d: listen: expected a sequence of listeners ('- address: ADDR:PORT'), got %s",
                               y->name, llhls_yaml_node_line(vn), llhls_yaml_node_kind(vn));
    size_t n =
        vn->type == YAML_SEQUENCE_NODE ? (size_t)(vn->data.sequence.items.top - vn->data.sequence.items.start) : 0;
    if (n == 0)
        return llhls_yaml_fail(y->err, y->errlen, "%s:%d: listen: at least one listener is needed", y->name,
                               llhls_yaml_node_line(vn));
    memset(c->listeners, 0, sizeof(c->listeners));
    c->nlisteners = 0;
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *item = node_at(y, vn->data.sequence.items.start[i]);
        if (i == LLHLS_EDGE_MAX_LISTENERS)
            return llhls_yaml_fail(y->err, y->errlen, "%s:%d: listen[%zu]: at most %d listeners are allowed", y->name,
                                   llhls_yaml_node_line(item), i, LLHLS_EDGE_MAX_LISTENERS);
        int r = load_listener(y, i, item);
        if (r != 0)
            return r;
        c->nlisteners = i + 1;
    }
    return 0;
}

static int load_origins(yctx_t *y, const yaml_node_t *vn)
{
    llhls_edge_config_t *c = &y->l->c;
    if (vn->type != YAML_SEQUENCE_NODE && !llhls_yaml_node_is_empty(vn))
        return llhls_yaml_fail(y->err, y->errlen,
                               "%s:%d: origins: expected a sequence of URLs ('- " URL_EXAMPLE "'), got %s", y->name,
                               llhls_yaml_node_line(vn), llhls_yaml_node_kind(vn));
    size_t n =
        vn->type == YAML_SEQUENCE_NODE ? (size_t)(vn->data.sequence.items.top - vn->data.sequence.items.start) : 0;
    if (n == 0)
        return llhls_yaml_fail(y->err, y->errlen, "%s:%d: origins: at least one origin is needed", y->name,
                               llhls_yaml_node_line(vn));
    memset(c->origins, 0, sizeof(c->origins));
    c->norigins = 0;
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *item = node_at(y, vn->data.sequence.items.start[i]);
        char path[32], why[256];
        snprintf(path, sizeof(path), "origins[%zu]", i);
        if (i == LLHLS_EDGE_MAX_ORIGINS)
            return llhls_yaml_fail(y->err, y->errlen, "%s:%d: %s: at most %d origins are allowed", y->name,
                                   llhls_yaml_node_line(item), path, LLHLS_EDGE_MAX_ORIGINS);
        int r = expect_scalar(y, item, path, "a URL like " URL_EXAMPLE);
        if (r != 0)
            return r;
        if (origin_parse(llhls_yaml_scalar(item), &c->origins[i], why, sizeof(why)) != 0)
            return llhls_yaml_fail(y->err, y->errlen, "%s:%d: %s: %s", y->name, llhls_yaml_node_line(item), path, why);
        int dup = find_origin(c, i, &c->origins[i]);
        if (dup >= 0)
            return llhls_yaml_fail(y->err, y->errlen, "%s:%d: %s: the same origin as origins[%d]", y->name,
                                   llhls_yaml_node_line(item), path, dup);
        c->norigins = i + 1;
    }
    return 0;
}

static int load_top(yctx_t *y, const yaml_node_t *kn, const yaml_node_t *vn)
{
    if (kn->type != YAML_SCALAR_NODE)
        return llhls_yaml_fail(y->err, y->errlen, "%s:%d: expected a key name, got %s", y->name,
                               llhls_yaml_node_line(kn), llhls_yaml_node_kind(kn));
    const char *name = llhls_yaml_scalar(kn);
    int t = -1;
    for (int i = 0; i < TOP_COUNT; i++)
        if (strcmp(tops[i], name) == 0)
            t = i;
    if (t < 0)
        return llhls_yaml_fail(
            y->err, y->errlen,
            "%s:%d: %.60s: unknown key (expected listen, origins, threads, cache, timeouts, limits, log or report)",
            y->name, llhls_yaml_node_line(kn), name);
    if (y->l->top_line[t] > 0)
        return llhls_yaml_fail(y->err, y->errlen, "%s:%d: %s: given twice (first on line %d)", y->name,
                               llhls_yaml_node_line(kn), name, y->l->top_line[t]);
    y->l->top_line[t] = llhls_yaml_node_line(kn);
    switch ((top_id_t)t) {
    case TOP_LISTEN: return load_listeners(y, vn);
    case TOP_ORIGINS: return load_origins(y, vn);
    case TOP_THREADS: return load_key(y, KEY_THREADS, kn, vn);
    default: return load_section(y, name, vn);
    }
}

/* An unquoted "[::1]:8443" after "address:" (often "- address:") reads as
 * a YAML flow sequence; the syntax error then says what to do. */
static const llhls_yaml_hint_t address_hint = {"address:", 1, " (an IPv6 address needs quotes: \"[::1]:8443\")"};

static int on_root(void *ctx, yaml_document_t *doc, yaml_node_t *root)
{
    yctx_t *y = ctx;
    y->doc = doc;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
        int r = load_top(y, node_at(y, p->key), node_at(y, p->value));
        if (r != 0)
            return r;
    }
    return 0;
}

#define ROOT_EXPECT "a mapping of keys (listen, origins, threads, ...)"

static int load_yaml(loader_t *l, const char *yaml, size_t len, const char *name, char *err, size_t errlen)
{
    yctx_t y = {.l = l, .name = name ? name : "config", .err = err, .errlen = errlen};
    return llhls_yaml_load(yaml, len, y.name, &address_hint, ROOT_EXPECT, on_root, &y, err, errlen);
}

static int load_path(loader_t *l, const char *path, char *err, size_t errlen)
{
    yctx_t y = {.l = l, .name = path, .err = err, .errlen = errlen};
    return llhls_yaml_load_file(path, &address_hint, ROOT_EXPECT, on_root, &y, err, errlen);
}

/* ---- public loaders ---- */

void llhls_edge_config_default(llhls_edge_config_t *c)
{
    char err[256];
    memset(c, 0, sizeof(*c));
    if (llhls_edge_config_load_string(c, llhls_edge_config_embedded, strlen(llhls_edge_config_embedded),
                                      "embedded default", err, sizeof(err)) != 0) {
        /* The text is part of the binary: failing here is a build bug. */
        fprintf(stderr, "llhls-edge: %s\n", err);
        abort();
    }
    /* The edge names itself to the origin by its host name unless told. */
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    size_t n = 0;
    for (const char *p = host; *p && n < sizeof(c->report_id) - 1; p++)
        if (*p > ' ' && *p <= '~')
            c->report_id[n++] = *p;
    c->report_id[n] = 0;
    if (n == 0)
        snprintf(c->report_id, sizeof(c->report_id), "edge");
}

/* Copies the working copy out when everything in it is valid. */
static int finish(loader_t *l, int r, llhls_edge_config_t *c, char *err, size_t errlen)
{
    if (r == 0)
        r = check_rules(l, err, errlen);
    if (r == 0)
        memcpy(c, &l->c, sizeof(*c));
    free(l);
    return r;
}

int llhls_edge_config_load_string(llhls_edge_config_t *c, const char *yaml, size_t len, const char *name, char *err,
                                  size_t errlen)
{
    loader_t *l = loader_new(c);
    if (!l)
        return llhls_yaml_fail(err, errlen, "%s: out of memory", name ? name : "config");
    return finish(l, load_yaml(l, yaml, len, name, err, errlen), c, err, errlen);
}

int llhls_edge_config_load_file(llhls_edge_config_t *c, const char *path, char *err, size_t errlen)
{
    loader_t *l = loader_new(c);
    if (!l)
        return llhls_yaml_fail(err, errlen, "%s: out of memory", path);
    return finish(l, load_path(l, path, err, errlen), c, err, errlen);
}

/* ---- command line ---- */

enum {
    OPT_LISTEN = 256,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_ORIGIN,
    OPT_THREADS,
    OPT_CACHE_SIZE,
    OPT_LOG_LEVEL,
    OPT_ACCESS_LOG,
    OPT_REPORT_URL,
    OPT_REPORT_TOKEN,
    OPT_REPORT_ID,
    OPT_REPORT_INTERVAL,
};

static const struct option long_options[] = {
    {"config", required_argument, NULL, 'c'},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"origin", required_argument, NULL, OPT_ORIGIN},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"cache-size", required_argument, NULL, OPT_CACHE_SIZE},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"access-log", required_argument, NULL, OPT_ACCESS_LOG},
    {"report-url", required_argument, NULL, OPT_REPORT_URL},
    {"report-token", required_argument, NULL, OPT_REPORT_TOKEN},
    {"report-id", required_argument, NULL, OPT_REPORT_ID},
    {"report-interval", required_argument, NULL, OPT_REPORT_INTERVAL},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* "+" stops at the first operand instead of reordering argv; ":" makes a
 * missing value come back as ':' so that the message can name the flag. */
static const char short_options[] = "+:c:hV";

static int option_key(int val)
{
    switch (val) {
    case OPT_THREADS: return KEY_THREADS;
    case OPT_CACHE_SIZE: return KEY_CACHE_SIZE;
    case OPT_LOG_LEVEL: return KEY_LOG_LEVEL;
    case OPT_ACCESS_LOG: return KEY_LOG_ACCESS;
    case OPT_REPORT_URL: return KEY_REPORT_URL;
    case OPT_REPORT_TOKEN: return KEY_REPORT_TOKEN;
    case OPT_REPORT_ID: return KEY_REPORT_ID;
    case OPT_REPORT_INTERVAL: return KEY_REPORT_INTERVAL;
    default: return -1;
    }
}

static const char *option_name(int val)
{
    switch (val) {
    case 'c': return "-c/--config";
    case 'h': return "-h/--help";
    case 'V': return "-V/--version";
    case OPT_LISTEN: return "--listen";
    case OPT_TLS_CERT: return "--tls-cert";
    case OPT_TLS_KEY: return "--tls-key";
    case OPT_ORIGIN: return "--origin";
    default: {
        int k = option_key(val);
        return k >= 0 ? keys[k].flag : NULL;
    }
    }
}

/* Turns getopt's '?' and ':' into a sentence naming the flag. */
static int option_error(int ch, int argc, char **argv, char *err, size_t errlen)
{
    const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
    const char *known = optopt ? option_name(optopt) : NULL;
    if (ch == ':')
        return llhls_yaml_fail(err, errlen, "%s needs a value (see --help)", known ? known : arg);
    if (known)
        return llhls_yaml_fail(err, errlen, "%s takes no value (see --help)", known);
    if (optopt && optopt < 256)
        return llhls_yaml_fail(err, errlen, "unknown option '-%c' (see --help)", optopt);
    return llhls_yaml_fail(err, errlen, "unknown or ambiguous option '%.80s' (see --help)", arg);
}

static int flag_listen(loader_t *l, const char *arg, char *err, size_t errlen)
{
    llhls_edge_config_t *c = &l->c;
    if (!l->flag_listeners) {
        memset(c->listeners, 0, sizeof(c->listeners));
        c->nlisteners = 0;
        l->flag_listeners = 1;
    }
    if (c->nlisteners == LLHLS_EDGE_MAX_LISTENERS)
        return llhls_yaml_fail(err, errlen, "--listen: at most %d listeners are allowed", LLHLS_EDGE_MAX_LISTENERS);
    llhls_edge_listener_t *li = &c->listeners[c->nlisteners];
    if (llhls_config_parse_listen(arg, li->addr, sizeof(li->addr), &li->port) != 0) {
        memset(li, 0, sizeof(*li));
        return llhls_yaml_fail(err, errlen, "--listen: expected " LISTEN_EXPECT ", got '%.80s'", arg);
    }
    if (find_listener(c, c->nlisteners, li->addr, li->port) >= 0)
        return llhls_yaml_fail(err, errlen, "--listen: %.80s is given twice", arg);
    c->nlisteners++;
    return 0;
}

static int flag_tls(loader_t *l, int ch, const char *arg, char *err, size_t errlen)
{
    const char *flag = option_name(ch);
    char a[LLHLS_ADDR_MAX + 16], why[256];
    if (!l->flag_listeners)
        return llhls_yaml_fail(err, errlen, "%s: needs a --listen before it (it applies to the one just before)", flag);
    llhls_edge_listener_t *li = &l->c.listeners[l->c.nlisteners - 1];
    char *dst = ch == OPT_TLS_CERT ? li->cert : li->key;
    if (dst[0])
        return llhls_yaml_fail(err, errlen, "%s: given twice for --listen %s", flag, format_listen(li, a, sizeof(a)));
    if (apply_file(dst, arg, why, sizeof(why)) != 0)
        return llhls_yaml_fail(err, errlen, "%s: %s", flag, why);
    li->tls = 1;
    return 0;
}

static int flag_origin(loader_t *l, const char *arg, char *err, size_t errlen)
{
    llhls_edge_config_t *c = &l->c;
    if (!l->flag_origins) {
        memset(c->origins, 0, sizeof(c->origins));
        c->norigins = 0;
        l->flag_origins = 1;
    }
    if (c->norigins == LLHLS_EDGE_MAX_ORIGINS)
        return llhls_yaml_fail(err, errlen, "--origin: at most %d origins are allowed", LLHLS_EDGE_MAX_ORIGINS);
    char why[256];
    llhls_edge_origin_t o;
    if (origin_parse(arg, &o, why, sizeof(why)) != 0)
        return llhls_yaml_fail(err, errlen, "--origin: %s", why);
    if (find_origin(c, c->norigins, &o) >= 0)
        return llhls_yaml_fail(err, errlen, "--origin: %.80s is given twice", arg);
    c->origins[c->norigins++] = o;
    return 0;
}

static int apply_flags(loader_t *l, int argc, char **argv, char *err, size_t errlen)
{
    int ch, r;
    optind = 0;
    while ((ch = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
        switch (ch) {
        case OPT_LISTEN: r = flag_listen(l, optarg, err, errlen); break;
        case OPT_TLS_CERT:
        case OPT_TLS_KEY: r = flag_tls(l, ch, optarg, err, errlen); break;
        case OPT_ORIGIN: r = flag_origin(l, optarg, err, errlen); break;
        default: {
            int k = option_key(ch);
            if (k < 0)
                continue;
            char why[256];
            r = apply_value(&l->c, (key_id_t)k, optarg, why, sizeof(why));
            if (r != 0)
                r = llhls_yaml_fail(err, errlen, "%s: %s", keys[k].flag, why);
            snprintf(l->where[k], WHERE_MAX, "%s", keys[k].flag);
            l->order[k] = ++l->changes;
        }
        }
        if (r != 0)
            return r;
    }
    /* Only now is it known whether a --tls-cert has its --tls-key. */
    for (size_t i = 0; l->flag_listeners && i < l->c.nlisteners; i++) {
        const llhls_edge_listener_t *li = &l->c.listeners[i];
        char a[LLHLS_ADDR_MAX + 16];
        if (li->tls && (!li->cert[0] || !li->key[0]))
            return llhls_yaml_fail(err, errlen, "--listen %s: %s needs %s too", format_listen(li, a, sizeof(a)),
                                   li->cert[0] ? "--tls-cert" : "--tls-key", li->cert[0] ? "--tls-key" : "--tls-cert");
    }
    return 0;
}

int llhls_edge_config_parse_args(llhls_edge_config_t *c, int argc, char **argv, const char **config_path, char *err,
                                 size_t errlen)
{
    const char *path = NULL;
    int help = 0, version = 0, ch;
    if (config_path)
        *config_path = NULL;

    /* First pass: find -c, --help and --version, and reject unknown flags,
     * before any value is applied.  getopt keeps its state in globals;
     * optind = 0 makes glibc start over from scratch. */
    opterr = 0;
    optind = 0;
    while ((ch = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
        if (ch == '?' || ch == ':')
            return option_error(ch, argc, argv, err, errlen);
        if (ch == 'c') {
            if (path)
                return llhls_yaml_fail(err, errlen, "-c/--config given twice ('%.80s' and '%.80s')", path, optarg);
            path = optarg;
        } else if (ch == 'h') {
            help = 1;
        } else if (ch == 'V') {
            version = 1;
        }
    }
    if (optind < argc)
        return llhls_yaml_fail(err, errlen, "unexpected argument '%.80s' (see --help)", argv[optind]);
    if (help) {
        llhls_edge_config_usage(stdout, argc > 0 ? argv[0] : "llhls-edge");
        return 1;
    }
    if (version) {
        printf("llhls-edge %s\n", PACKAGE_VERSION);
        return 1;
    }
    if (config_path)
        *config_path = path;

    loader_t *l = loader_new(c);
    if (!l)
        return llhls_yaml_fail(err, errlen, "out of memory");
    int r = path ? load_path(l, path, err, errlen) : 0;
    if (r == 0)
        r = apply_flags(l, argc, argv, err, errlen);
    optind = 0;
    return finish(l, r, c, err, errlen);
}

void llhls_edge_config_usage(FILE *f, const char *argv0)
{
    llhls_edge_config_t d;
    char listen[LLHLS_ADDR_MAX + 16], size[32];
    static const char *levels[] = {"error", "warn", "info", "debug"};
    llhls_edge_config_default(&d);

    fprintf(f,
            "Usage: %s [OPTION]...\n"
            "Serves Low-Latency HLS over HTTP/2, pulled from one or more llhls origins.\n"
            "Values come from the embedded default, then the config file (-c), then\n"
            "these flags.\n"
            "\n"
            "  -c, --config FILE           YAML config file, read before the other flags\n"
            "      --listen ADDR:PORT      listen address, repeatable; the first one replaces\n"
            "                              the configured list (default %s)\n"
            "      --tls-cert FILE         PEM certificate chain for the --listen before it\n"
            "      --tls-key FILE          PEM private key for the --listen before it\n"
            "      --origin URL            origin http://HOST[:PORT], repeatable, tried in\n"
            "                              order; the first one replaces the configured\n"
            "                              list (default %s)\n"
            "      --threads N             worker threads (default %u)\n"
            "      --cache-size SIZE       memory for cached objects (default %s)\n"
            "      --log-level LEVEL       error, warn, info or debug (default %s)\n"
            "      --access-log PATH       access log file, - for stderr, \"\" for none\n"
            "                              (default %s)\n"
            "      --report-url URL        post a summary to the origin's admin API,\n"
            "                              http://ORIGIN:PORT/api/edges/report\n"
            "      --report-token TOKEN    its admin token (Authorization: Bearer)\n"
            "      --report-id NAME        this edge's name in the report (default: host name)\n"
            "      --report-interval S     how often (default 2 s)\n"
            "  -h, --help                  print this help and exit\n"
            "  -V, --version               print the version and exit\n"
            "\n"
            "ADDR:PORT takes a numeric address, IPv6 in brackets ([::]:8443); port 0\n"
            "picks a free port.  A listener with --tls-cert and --tls-key serves HTTP/2\n"
            "over TLS; one without serves h2c (prior knowledge) and HTTP/1.1.\n"
            "Sizes: 1GiB, 512MiB, 100MB.  The config file has more keys; see\n"
            "docs/edge-config.md.\n",
            argv0 ? argv0 : "llhls-edge", format_listen(&d.listeners[0], listen, sizeof(listen)), d.origins[0].url,
            d.threads, llhls_config_format_size(d.cache_size, size, sizeof(size)),
            d.log_level >= 0 && d.log_level < 4 ? levels[d.log_level] : "info",
            d.access_log[0] ? d.access_log : "none");
}
