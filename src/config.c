/* llhls-origin's configuration: a YAML default compiled into the binary, an
 * optional YAML file and the command line, applied in that order onto one
 * llhls_config_t.  Every value is checked here, with a message that names
 * where it came from, so that the rest of the program can trust the struct. */
#include "config.h"
#include "error.h"
#include "log.h"
#include "yaml_doc.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* Where a value came from, e.g. "/etc/llhls.yaml:12: hls.part_duration". */
#define WHERE_MAX 320
#define US_PER_S 1000000ull

/* Kept equal to conf/llhls-origin.yaml, which has the long comments; a unit
 * test compares the two. */
const char llhls_config_embedded[] = "# llhls-origin defaults; conf/llhls-origin.yaml explains each key.\n"
                                     "rtmp:\n"
                                     "  listen: 0.0.0.0:1935          # encoders publish here\n"
                                     "  max_connections: 1000\n"
                                     "  max_message_size: 32MiB       # largest frame accepted\n"
                                     "  idle_timeout: 30s             # silent connections are closed\n"
                                     "http:\n"
                                     "  listen: 0.0.0.0:8080          # players and edges fetch here\n"
                                     "  threads: 2\n"
                                     "  max_connections: 10000\n"
                                     "  max_waiting_per_stream: 5000  # blocking requests held per stream\n"
                                     "store:\n"
                                     "  path: ./llhls-data            # LMDB part store\n"
                                     "  size: 4GiB                    # LMDB map size\n"
                                     "hls:\n"
                                     "  segment_duration: 2s          # at most 30s, at least 2 parts\n"
                                     "  part_duration: 0.33334s       # PART-TARGET, at least 0.1s\n"
                                     "  window: 60s                   # at least 3 segments, at most 24h\n"
                                     "  record: false                 # keep every segment; VOD once ended\n"
                                     "  reconnect_grace: 10s          # wait for a publisher to return\n"
                                     "log:\n"
                                     "  level: info                   # error, warn, info or debug\n";

typedef enum { KIND_LISTEN, KIND_COUNT, KIND_SIZE, KIND_DURATION, KIND_PATH, KIND_LEVEL, KIND_BOOL, KIND_SECRET } kind_t;

typedef enum {
    KEY_RTMP_LISTEN,
    KEY_RTMP_MAX_CONNECTIONS,
    KEY_RTMP_MAX_MESSAGE_SIZE,
    KEY_RTMP_IDLE_TIMEOUT,
    KEY_HTTP_LISTEN,
    KEY_HTTP_THREADS,
    KEY_HTTP_MAX_CONNECTIONS,
    KEY_HTTP_MAX_WAITING,
    KEY_HTTP_WWW,
    KEY_STORE_PATH,
    KEY_STORE_SIZE,
    KEY_HLS_SEGMENT,
    KEY_HLS_PART,
    KEY_HLS_WINDOW,
    KEY_HLS_GRACE,
    KEY_HLS_RECORD,
    KEY_LOG_LEVEL,
    KEY_ADMIN_TOKEN,
    KEY_ADMIN_USER,
    KEY_ADMIN_PASSWORD,
    KEY_COUNT
} key_id_t;

/* min and max are in the kind's unit: a count, bytes or microseconds. */
typedef struct {
    const char *section;
    const char *name;
    const char *flag; /* NULL when the key has no command-line flag */
    kind_t kind;
    uint64_t min, max;
} key_def_t;

static const key_def_t keys[KEY_COUNT] = {
    [KEY_RTMP_LISTEN] = {"rtmp", "listen", "--rtmp", KIND_LISTEN, 0, 0},
    [KEY_RTMP_MAX_CONNECTIONS] = {"rtmp", "max_connections", NULL, KIND_COUNT, 1, 1000000},
    [KEY_RTMP_MAX_MESSAGE_SIZE] = {"rtmp", "max_message_size", NULL, KIND_SIZE, 64ull << 10, 1ull << 30},
    [KEY_RTMP_IDLE_TIMEOUT] = {"rtmp", "idle_timeout", NULL, KIND_DURATION, 1 * US_PER_S, 3600 * US_PER_S},
    [KEY_HTTP_LISTEN] = {"http", "listen", "--http", KIND_LISTEN, 0, 0},
    [KEY_HTTP_THREADS] = {"http", "threads", "--http-threads", KIND_COUNT, 1, 64},
    [KEY_HTTP_MAX_CONNECTIONS] = {"http", "max_connections", NULL, KIND_COUNT, 1, 1000000},
    [KEY_HTTP_MAX_WAITING] = {"http", "max_waiting_per_stream", NULL, KIND_COUNT, 1, 1000000},
    [KEY_HTTP_WWW] = {"http", "www", "--www", KIND_PATH, 0, 0},
    [KEY_STORE_PATH] = {"store", "path", "--data", KIND_PATH, 0, 0},
    [KEY_STORE_SIZE] = {"store", "size", "--store-size", KIND_SIZE, 1ull << 20, 64ull << 40},
    [KEY_HLS_SEGMENT] = {"hls", "segment_duration", "--segment-duration", KIND_DURATION, US_PER_S / 5, 30 * US_PER_S},
    [KEY_HLS_PART] = {"hls", "part_duration", "--part-duration", KIND_DURATION, US_PER_S / 10, 15 * US_PER_S},
    [KEY_HLS_WINDOW] = {"hls", "window", "--window", KIND_DURATION, 6 * US_PER_S / 10, 24 * 3600 * US_PER_S},
    [KEY_HLS_GRACE] = {"hls", "reconnect_grace", "--reconnect-grace", KIND_DURATION, 0, 3600 * US_PER_S},
    [KEY_HLS_RECORD] = {"hls", "record", "--record", KIND_BOOL, 0, 1},
    [KEY_LOG_LEVEL] = {"log", "level", "--log-level", KIND_LEVEL, 0, 0},
    [KEY_ADMIN_TOKEN] = {"admin", "token", "--admin-token", KIND_SECRET, 16, LLHLS_SECRET_MAX - 1},
    [KEY_ADMIN_USER] = {"admin", "user", NULL, KIND_SECRET, 1, 64},
    [KEY_ADMIN_PASSWORD] = {"admin", "password", NULL, KIND_SECRET, 8, LLHLS_SECRET_MAX - 1},
};

static const char *const sections[] = {"rtmp", "http", "store", "hls", "log", "admin"};
#define SECTION_COUNT (sizeof(sections) / sizeof(sections[0]))

/* Remembers, for one load, where each key was last set: the cross-checks
 * between values blame the one the user actually wrote, in their words. */
typedef struct {
    llhls_config_t *c;
    char where[KEY_COUNT][WHERE_MAX];
    int line[KEY_COUNT];
    int order[KEY_COUNT]; /* when each key was set, 0 for never */
    int changes;
    int section_line[SECTION_COUNT];
} loader_t;

static void loader_init(loader_t *l, llhls_config_t *c)
{
    memset(l, 0, sizeof(*l));
    l->c = c;
}

/* ---- value parsers ---- */

/* Reads "123" or "123.456" (at most 9 decimals count; more are dropped).
 * The value is ip + fnum / fden. */
static int parse_decimal(const char *s, const char **end, uint64_t *ip, uint64_t *fnum, uint64_t *fden)
{
    const char *p = s;
    uint64_t v = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9') {
        if (v > (UINT64_MAX - 9) / 10)
            return -LLHLS_EINVAL;
        v = v * 10 + (uint64_t)(*p - '0');
        p++;
        digits++;
    }
    uint64_t num = 0, den = 1;
    if (*p == '.') {
        p++;
        int fdigits = 0;
        while (*p >= '0' && *p <= '9') {
            if (fdigits < 9) {
                num = num * 10 + (uint64_t)(*p - '0');
                den *= 10;
            }
            fdigits++;
            p++;
        }
        digits += fdigits;
    }
    if (digits == 0)
        return -LLHLS_EINVAL;
    *end = p;
    *ip = v;
    *fnum = num;
    *fden = den;
    return 0;
}

/* out = (ip + fnum/fden) * mult, rounded down, or -LLHLS_EINVAL on overflow. */
static int scale_decimal(uint64_t ip, uint64_t fnum, uint64_t fden, uint64_t mult, uint64_t *out)
{
    if (mult != 0 && ip > UINT64_MAX / mult)
        return -LLHLS_EINVAL;
    /* Split mult so that no product can overflow: fnum < fden <= 1e9. */
    uint64_t frac = fnum * (mult / fden) + fnum * (mult % fden) / fden;
    uint64_t whole = ip * mult;
    if (whole > UINT64_MAX - frac)
        return -LLHLS_EINVAL;
    *out = whole + frac;
    return 0;
}

int llhls_config_parse_size(const char *s, uint64_t *out)
{
    static const struct {
        const char *unit;
        uint64_t mult;
    } units[] = {
        {"", 1},
        {"B", 1},
        {"KB", 1000ull},
        {"MB", 1000ull * 1000},
        {"GB", 1000ull * 1000 * 1000},
        {"TB", 1000ull * 1000 * 1000 * 1000},
        {"KiB", 1ull << 10},
        {"MiB", 1ull << 20},
        {"GiB", 1ull << 30},
        {"TiB", 1ull << 40},
    };
    const char *p;
    uint64_t ip, fnum, fden;
    if (!s || parse_decimal(s, &p, &ip, &fnum, &fden) != 0)
        return -LLHLS_EINVAL;
    while (*p == ' ')
        p++;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(p, units[i].unit) != 0)
            continue;
        /* A fraction of a byte means nothing. */
        if (units[i].mult == 1 && fnum != 0)
            return -LLHLS_EINVAL;
        return scale_decimal(ip, fnum, fden, units[i].mult, out) == 0 ? 0 : -LLHLS_EINVAL;
    }
    return -LLHLS_EINVAL;
}

int llhls_config_parse_duration(const char *s, uint64_t *us)
{
    const char *p;
    uint64_t ip, fnum, fden, mult;
    if (!s || parse_decimal(s, &p, &ip, &fnum, &fden) != 0)
        return -LLHLS_EINVAL;
    while (*p == ' ')
        p++;
    if (*p == '\0' || strcmp(p, "s") == 0)
        mult = US_PER_S;
    else if (strcmp(p, "ms") == 0)
        mult = 1000;
    else
        return -LLHLS_EINVAL;
    return scale_decimal(ip, fnum, fden, mult, us) == 0 ? 0 : -LLHLS_EINVAL;
}

int llhls_config_parse_listen(const char *s, char *addr, size_t addrlen, int *port)
{
    if (!s || !addr || addrlen == 0)
        return -LLHLS_EINVAL;
    const char *host, *colon;
    size_t hostlen;
    int family;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return -LLHLS_EINVAL;
        host = s + 1;
        hostlen = (size_t)(close - host);
        colon = close + 1;
        family = AF_INET6;
    } else {
        colon = strchr(s, ':');
        /* A second colon means an IPv6 address without brackets, where the
         * port cannot be told apart from the address. */
        if (!colon || strchr(colon + 1, ':'))
            return -LLHLS_EINVAL;
        host = s;
        hostlen = (size_t)(colon - s);
        family = AF_INET;
    }
    const char *ps = colon + 1;
    if (*ps == '\0' || strlen(ps) > 5)
        return -LLHLS_EINVAL;
    long pv = 0;
    for (const char *q = ps; *q; q++) {
        if (*q < '0' || *q > '9')
            return -LLHLS_EINVAL;
        pv = pv * 10 + (*q - '0');
    }
    if (pv > 65535)
        return -LLHLS_EINVAL;

    char tmp[LLHLS_ADDR_MAX];
    if (hostlen == 0) {
        if (family == AF_INET6)
            return -LLHLS_EINVAL;
        snprintf(tmp, sizeof(tmp), "0.0.0.0");
    } else {
        if (hostlen >= sizeof(tmp))
            return -LLHLS_EINVAL;
        memcpy(tmp, host, hostlen);
        tmp[hostlen] = '\0';
        /* Only numeric addresses: the listeners bind with inet_pton and never
         * resolve names, so a name is refused here rather than at startup. */
        unsigned char bin[16];
        if (inet_pton(family, tmp, bin) != 1)
            return -LLHLS_EINVAL;
    }
    if (strlen(tmp) >= addrlen)
        return -LLHLS_EINVAL;
    memcpy(addr, tmp, strlen(tmp) + 1);
    *port = (int)pv;
    return 0;
}

int llhls_config_parse_count(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!s || !*s)
        return -LLHLS_EINVAL;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9' || v > UINT64_MAX / 10 - 1)
            return -LLHLS_EINVAL;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *out = v;
    return 0;
}

/* ---- formatting for messages and --help ---- */

const char *llhls_config_format_duration(uint64_t us, char *buf, size_t len)
{
    if (us % US_PER_S == 0) {
        snprintf(buf, len, "%llu s", (unsigned long long)(us / US_PER_S));
    } else {
        char frac[8];
        snprintf(frac, sizeof(frac), "%06llu", (unsigned long long)(us % US_PER_S));
        size_t n = strlen(frac);
        while (n > 1 && frac[n - 1] == '0')
            frac[--n] = '\0';
        snprintf(buf, len, "%llu.%s s", (unsigned long long)(us / US_PER_S), frac);
    }
    return buf;
}

const char *llhls_config_format_size(uint64_t bytes, char *buf, size_t len)
{
    static const struct {
        const char *unit;
        uint64_t mult;
    } units[] = {
        {"TiB", 1ull << 40},      {"GiB", 1ull << 30},   {"MiB", 1ull << 20}, {"KiB", 1ull << 10},
        {"TB", 1000000000000ull}, {"GB", 1000000000ull}, {"MB", 1000000ull},  {"KB", 1000ull},
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (bytes != 0 && bytes % units[i].mult == 0) {
            snprintf(buf, len, "%llu%s", (unsigned long long)(bytes / units[i].mult), units[i].unit);
            return buf;
        }
    }
    snprintf(buf, len, "%lluB", (unsigned long long)bytes);
    return buf;
}

static const char *kind_expect(kind_t kind)
{
    switch (kind) {
    case KIND_LISTEN: return "ADDR:PORT with a numeric address, like 0.0.0.0:1935 or [::1]:1935";
    case KIND_COUNT: return "a whole number";
    case KIND_SIZE: return "a size like 4GiB, 512MiB or 100MB";
    case KIND_DURATION: return "a duration like 2 or 0.5s";
    case KIND_PATH: return "a directory path";
    case KIND_LEVEL: return "one of error, warn, info, debug";
    case KIND_BOOL: return "true or false";
    case KIND_SECRET: return "printable characters without spaces";
    }
    return "a value";
}

int llhls_config_check_token(const char *s, size_t min, size_t max, int no_colon, char *why, size_t whylen)
{
    /* Printable ASCII without spaces: a value that survives an HTTP header
     * intact. */
    size_t n = strlen(s);
    if (n < min || n > max)
        return llhls_yaml_fail(why, whylen, "expected %zu to %zu characters, got %zu", min, max, n);
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~' || (no_colon && s[i] == ':'))
            return llhls_yaml_fail(why, whylen, "expected printable characters without spaces%s",
                                   no_colon ? " and no ':'" : "");
    return 0;
}

/* ---- applying one value ---- */

/* Checks text as a value for key k and stores it in c.  On error writes
 * what is wrong (without the location) into why. */
static int apply_value(llhls_config_t *c, key_id_t k, const char *text, char *why, size_t whylen)
{
    const key_def_t *d = &keys[k];
    uint64_t v = 0;
    char lo[32], hi[32];

    switch (d->kind) {
    case KIND_LISTEN: {
        char addr[LLHLS_ADDR_MAX];
        int port;
        if (llhls_config_parse_listen(text, addr, sizeof(addr), &port) != 0)
            return llhls_yaml_fail(why, whylen, "expected %s, got '%.80s'", kind_expect(d->kind), text);
        char *dst = k == KEY_RTMP_LISTEN ? c->rtmp_addr : c->http_addr;
        memcpy(dst, addr, strlen(addr) + 1);
        if (k == KEY_RTMP_LISTEN)
            c->rtmp_port = port;
        else
            c->http_port = port;
        return 0;
    }
    case KIND_PATH: {
        size_t n = strlen(text);
        if (n == 0)
            return llhls_yaml_fail(why, whylen, "expected %s, got nothing", kind_expect(d->kind));
        char *dst = k == KEY_HTTP_WWW ? c->www_dir : c->data_dir;
        if (n >= LLHLS_PATH_MAX)
            return llhls_yaml_fail(why, whylen, "path is longer than %d bytes", LLHLS_PATH_MAX - 1);
        memcpy(dst, text, n + 1);
        return 0;
    }
    case KIND_SECRET: {
        /* The user name of basic auth has no ':' either. */
        if (llhls_config_check_token(text, d->min, d->max, k == KEY_ADMIN_USER, why, whylen) != 0)
            return -LLHLS_ECONFIG;
        size_t n = strlen(text);
        char *dst = k == KEY_ADMIN_TOKEN ? c->admin_token : k == KEY_ADMIN_USER ? c->admin_user : c->admin_password;
        memcpy(dst, text, n + 1);
        return 0;
    }
    case KIND_LEVEL: {
        int level = llhls_log_parse_level(text);
        if (level < 0)
            return llhls_yaml_fail(why, whylen, "expected %s, got '%.80s'", kind_expect(d->kind), text);
        c->log_level = level;
        return 0;
    }
    case KIND_BOOL:
        /* YAML 1.1 spellings too, since that is what editors highlight. */
        if (strcmp(text, "true") == 0 || strcmp(text, "yes") == 0 || strcmp(text, "on") == 0)
            v = 1;
        else if (strcmp(text, "false") == 0 || strcmp(text, "no") == 0 || strcmp(text, "off") == 0)
            v = 0;
        else
            return llhls_yaml_fail(why, whylen, "expected %s, got '%.80s'", kind_expect(d->kind), text);
        break;
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
                                   llhls_config_format_size(d->min, lo, sizeof(lo)), llhls_config_format_size(d->max, hi, sizeof(hi)), text);
        break;
    case KIND_DURATION:
        if (llhls_config_parse_duration(text, &v) != 0)
            return llhls_yaml_fail(why, whylen, "expected %s, got '%.80s'", kind_expect(d->kind), text);
        if (v < d->min || v > d->max)
            return llhls_yaml_fail(why, whylen, "expected a duration from %s to %s, got '%.80s'",
                                   llhls_config_format_duration(d->min, lo, sizeof(lo)), llhls_config_format_duration(d->max, hi, sizeof(hi)),
                                   text);
        break;
    }

    /* The bounds above keep every value inside its field's type. */
    switch (k) {
    case KEY_RTMP_MAX_CONNECTIONS: c->rtmp_max_connections = (uint32_t)v; break;
    case KEY_RTMP_MAX_MESSAGE_SIZE: c->rtmp_max_message_size = (uint32_t)v; break;
    case KEY_RTMP_IDLE_TIMEOUT: c->rtmp_idle_timeout_ms = (uint32_t)(v / 1000); break;
    case KEY_HTTP_THREADS: c->http_threads = (uint32_t)v; break;
    case KEY_HTTP_MAX_CONNECTIONS: c->http_max_connections = (uint32_t)v; break;
    case KEY_HTTP_MAX_WAITING: c->http_max_waiting = (uint32_t)v; break;
    case KEY_STORE_SIZE: c->store_size = v; break;
    case KEY_HLS_SEGMENT: c->segment_target_us = (uint32_t)v; break;
    case KEY_HLS_PART: c->part_target_us = (uint32_t)v; break;
    case KEY_HLS_WINDOW: c->window_ms = (uint32_t)(v / 1000); break;
    case KEY_HLS_RECORD: c->record = (int)v; break;
    case KEY_HLS_GRACE: c->grace_ms = (uint32_t)(v / 1000); break;
    default: break;
    }
    return 0;
}

/* Names, for the rules below, the one of two keys the user set last: the
 * last change is the one that broke the rule.  A key left at its default
 * is named by its YAML path. */
static const char *blame(const loader_t *l, key_id_t about, key_id_t other, char *buf, size_t len)
{
    key_id_t k = l->order[other] > l->order[about] ? other : about;
    if (l->where[k][0])
        return l->where[k];
    snprintf(buf, len, "%s.%s", keys[k].section, keys[k].name);
    return buf;
}

/* The rules between values, checked once everything is applied. */
static int check_rules(const loader_t *l, char *err, size_t errlen)
{
    const llhls_config_t *c = l->c;
    char a[32], b[32], w[64];

    if ((uint64_t)c->part_target_us * 2 > c->segment_target_us)
        return llhls_yaml_fail(err, errlen, "%s: part duration %s must be at most half of the segment duration %s",
                               blame(l, KEY_HLS_PART, KEY_HLS_SEGMENT, w, sizeof(w)),
                               llhls_config_format_duration(c->part_target_us, a, sizeof(a)),
                               llhls_config_format_duration(c->segment_target_us, b, sizeof(b)));
    if (!c->admin_user[0] != !c->admin_password[0])
        return llhls_yaml_fail(err, errlen, "%s: admin.user and admin.password go together (basic auth needs both)",
                               blame(l, KEY_ADMIN_USER, KEY_ADMIN_PASSWORD, w, sizeof(w)));
    if ((uint64_t)c->window_ms * 1000 < (uint64_t)c->segment_target_us * 3)
        return llhls_yaml_fail(err, errlen, "%s: window %s must be at least 3 times the segment duration %s",
                               blame(l, KEY_HLS_WINDOW, KEY_HLS_SEGMENT, w, sizeof(w)),
                               llhls_config_format_duration((uint64_t)c->window_ms * 1000, a, sizeof(a)),
                               llhls_config_format_duration(c->segment_target_us, b, sizeof(b)));
    return 0;
}

/* ---- YAML ---- */

/* An unquoted "[::1]:1935" under a listen key reads as a YAML flow
 * sequence; the syntax error then says what to do. */
static const llhls_yaml_hint_t listen_hint = {"listen:", 0, " (an IPv6 listen address needs quotes: \"[::1]:1935\")"};

typedef struct {
    loader_t *l;
    yaml_document_t *doc;
    const char *name;
    char *err;
    size_t errlen;
} yctx_t;

static int load_key(yctx_t *y, int section, const yaml_node_t *kn, const yaml_node_t *vn)
{
    const char *sec = sections[section];
    if (kn->type != YAML_SCALAR_NODE)
        return llhls_yaml_fail(y->err, y->errlen, "%s:%d: %s: expected a key name, got %s", y->name,
                               llhls_yaml_node_line(kn), sec, llhls_yaml_node_kind(kn));
    const char *kname = llhls_yaml_scalar(kn);
    int k = -1;
    for (int i = 0; i < KEY_COUNT; i++)
        if (strcmp(keys[i].section, sec) == 0 && strcmp(keys[i].name, kname) == 0)
            k = i;
    if (k < 0) {
        char known[160] = "";
        size_t used = 0;
        for (int i = 0; i < KEY_COUNT; i++) {
            if (strcmp(keys[i].section, sec) != 0)
                continue;
            int n = snprintf(known + used, sizeof(known) - used, "%s%s", used ? ", " : "", keys[i].name);
            if (n < 0 || (size_t)n >= sizeof(known) - used)
                break;
            used += (size_t)n;
        }
        return llhls_yaml_fail(y->err, y->errlen, "%s:%d: %s.%.60s: unknown key (%s has %s)", y->name,
                               llhls_yaml_node_line(kn), sec, kname, sec, known);
    }
    const key_def_t *d = &keys[k];
    int line = llhls_yaml_node_line(kn);
    if (y->l->line[k] > 0)
        return llhls_yaml_fail(y->err, y->errlen, "%s:%d: %s.%s: given twice (first on line %d)", y->name, line, sec,
                               d->name, y->l->line[k]);
    if (vn->type != YAML_SCALAR_NODE)
        return llhls_yaml_fail(y->err, y->errlen, "%s:%d: %s.%s: expected %s, got %s%s", y->name,
                               llhls_yaml_node_line(vn), sec, d->name, kind_expect(d->kind), llhls_yaml_node_kind(vn),
                               d->kind == KIND_LISTEN && vn->type == YAML_SEQUENCE_NODE ? listen_hint.text : "");
    if (strlen(llhls_yaml_scalar(vn)) != vn->data.scalar.length)
        return llhls_yaml_fail(y->err, y->errlen, "%s:%d: %s.%s: the value contains a NUL byte", y->name,
                               llhls_yaml_node_line(vn), sec, d->name);
    char why[256];
    if (apply_value(y->l->c, (key_id_t)k, llhls_yaml_scalar(vn), why, sizeof(why)) != 0)
        return llhls_yaml_fail(y->err, y->errlen, "%s:%d: %s.%s: %s", y->name, llhls_yaml_node_line(vn), sec, d->name,
                               why);
    y->l->line[k] = line;
    y->l->order[k] = ++y->l->changes;
    snprintf(y->l->where[k], WHERE_MAX, "%s:%d: %s.%s", y->name, line, sec, d->name);
    return 0;
}

static int load_section(yctx_t *y, const yaml_node_t *kn, const yaml_node_t *vn)
{
    if (kn->type != YAML_SCALAR_NODE)
        return llhls_yaml_fail(y->err, y->errlen, "%s:%d: expected a section name, got %s", y->name,
                               llhls_yaml_node_line(kn), llhls_yaml_node_kind(kn));
    const char *sname = llhls_yaml_scalar(kn);
    int s = -1;
    for (size_t i = 0; i < SECTION_COUNT; i++)
        if (strcmp(sections[i], sname) == 0)
            s = (int)i;
    if (s < 0)
        return llhls_yaml_fail(y->err, y->errlen,
                               "%s:%d: %.60s: unknown section (expected rtmp, http, store, hls, log or admin)", y->name,
                               llhls_yaml_node_line(kn), sname);
    if (y->l->section_line[s] > 0)
        return llhls_yaml_fail(y->err, y->errlen, "%s:%d: %s: section given twice (first on line %d)", y->name,
                               llhls_yaml_node_line(kn), sname, y->l->section_line[s]);
    y->l->section_line[s] = llhls_yaml_node_line(kn);
    /* A section whose keys are all commented out is still a valid file. */
    if (llhls_yaml_node_is_empty(vn))
        return 0;
    if (vn->type != YAML_MAPPING_NODE)
        return llhls_yaml_fail(y->err, y->errlen, "%s:%d: %s: expected a mapping of keys, got %s", y->name,
                               llhls_yaml_node_line(vn), sname, llhls_yaml_node_kind(vn));
    for (yaml_node_pair_t *p = vn->data.mapping.pairs.start; p < vn->data.mapping.pairs.top; p++) {
        int r = load_key(y, s, yaml_document_get_node(y->doc, p->key), yaml_document_get_node(y->doc, p->value));
        if (r != 0)
            return r;
    }
    return 0;
}

static int on_root(void *ctx, yaml_document_t *doc, yaml_node_t *root)
{
    yctx_t *y = ctx;
    y->doc = doc;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
        int r = load_section(y, yaml_document_get_node(doc, p->key), yaml_document_get_node(doc, p->value));
        if (r != 0)
            return r;
    }
    return 0;
}

#define ROOT_EXPECT "a mapping of sections (rtmp, http, store, hls, log, admin)"

static int load_yaml(loader_t *l, const char *yaml, size_t len, const char *name, char *err, size_t errlen)
{
    yctx_t y = {.l = l, .name = name ? name : "config", .err = err, .errlen = errlen};
    return llhls_yaml_load(yaml, len, y.name, &listen_hint, ROOT_EXPECT, on_root, &y, err, errlen);
}

static int load_path(loader_t *l, const char *path, char *err, size_t errlen)
{
    yctx_t y = {.l = l, .name = path, .err = err, .errlen = errlen};
    return llhls_yaml_load_file(path, &listen_hint, ROOT_EXPECT, on_root, &y, err, errlen);
}

/* ---- public loaders ---- */

void llhls_config_default(llhls_config_t *c)
{
    char err[256];
    memset(c, 0, sizeof(*c));
    if (llhls_config_load_string(c, llhls_config_embedded, strlen(llhls_config_embedded), "embedded default", err,
                                 sizeof(err)) != 0) {
        /* The text is part of the binary: failing here is a build bug. */
        fprintf(stderr, "llhls: %s\n", err);
        abort();
    }
}

int llhls_config_load_string(llhls_config_t *c, const char *yaml, size_t len, const char *name, char *err,
                             size_t errlen)
{
    loader_t l;
    loader_init(&l, c);
    int r = load_yaml(&l, yaml, len, name, err, errlen);
    return r != 0 ? r : check_rules(&l, err, errlen);
}

int llhls_config_load_file(llhls_config_t *c, const char *path, char *err, size_t errlen)
{
    loader_t l;
    loader_init(&l, c);
    int r = load_path(&l, path, err, errlen);
    return r != 0 ? r : check_rules(&l, err, errlen);
}

/* ---- command line ---- */

enum {
    OPT_RTMP = 256,
    OPT_HTTP,
    OPT_DATA,
    OPT_STORE_SIZE,
    OPT_SEGMENT,
    OPT_PART,
    OPT_WINDOW,
    OPT_GRACE,
    OPT_THREADS,
    OPT_LOG_LEVEL,
    OPT_WWW,
    OPT_RECORD,
    OPT_ADMIN_TOKEN,
};

static const struct option long_options[] = {
    {"config", required_argument, NULL, 'c'},
    {"rtmp", required_argument, NULL, OPT_RTMP},
    {"http", required_argument, NULL, OPT_HTTP},
    {"data", required_argument, NULL, OPT_DATA},
    {"store-size", required_argument, NULL, OPT_STORE_SIZE},
    {"segment-duration", required_argument, NULL, OPT_SEGMENT},
    {"part-duration", required_argument, NULL, OPT_PART},
    {"window", required_argument, NULL, OPT_WINDOW},
    {"reconnect-grace", required_argument, NULL, OPT_GRACE},
    {"http-threads", required_argument, NULL, OPT_THREADS},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"www", required_argument, NULL, OPT_WWW},
    {"record", optional_argument, NULL, OPT_RECORD},
    {"admin-token", required_argument, NULL, OPT_ADMIN_TOKEN},
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
    case OPT_RTMP: return KEY_RTMP_LISTEN;
    case OPT_HTTP: return KEY_HTTP_LISTEN;
    case OPT_DATA: return KEY_STORE_PATH;
    case OPT_STORE_SIZE: return KEY_STORE_SIZE;
    case OPT_SEGMENT: return KEY_HLS_SEGMENT;
    case OPT_PART: return KEY_HLS_PART;
    case OPT_WINDOW: return KEY_HLS_WINDOW;
    case OPT_GRACE: return KEY_HLS_GRACE;
    case OPT_THREADS: return KEY_HTTP_THREADS;
    case OPT_LOG_LEVEL: return KEY_LOG_LEVEL;
    case OPT_WWW: return KEY_HTTP_WWW;
    case OPT_RECORD: return KEY_HLS_RECORD;
    case OPT_ADMIN_TOKEN: return KEY_ADMIN_TOKEN;
    default: return -1;
    }
}

static const char *option_name(int val)
{
    if (val == 'c')
        return "-c/--config";
    if (val == 'h')
        return "-h/--help";
    if (val == 'V')
        return "-V/--version";
    int k = option_key(val);
    return k >= 0 ? keys[k].flag : NULL;
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

int llhls_config_parse_args(llhls_config_t *c, int argc, char **argv, char *err, size_t errlen)
{
    const char *config_path = NULL;
    int help = 0, version = 0, ch;
    loader_t l;
    loader_init(&l, c);

    /* First pass: find -c, --help and --version, and reject unknown flags,
     * before any value is applied.  getopt keeps its state in globals;
     * optind = 0 makes glibc start over from scratch. */
    opterr = 0;
    optind = 0;
    while ((ch = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
        if (ch == '?' || ch == ':')
            return option_error(ch, argc, argv, err, errlen);
        if (ch == 'c') {
            if (config_path)
                return llhls_yaml_fail(err, errlen, "-c/--config given twice ('%.80s' and '%.80s')", config_path,
                                       optarg);
            config_path = optarg;
        } else if (ch == 'h') {
            help = 1;
        } else if (ch == 'V') {
            version = 1;
        }
    }
    if (optind < argc)
        return llhls_yaml_fail(err, errlen, "unexpected argument '%.80s' (see --help)", argv[optind]);
    if (help) {
        llhls_config_usage(stdout, argc > 0 ? argv[0] : "llhls-origin");
        return 1;
    }
    if (version) {
        printf("llhls-origin %s\n", PACKAGE_VERSION);
        return 1;
    }

    int r;
    if (config_path && (r = load_path(&l, config_path, err, errlen)) != 0)
        return r;

    optind = 0;
    while ((ch = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
        int k = option_key(ch);
        if (k < 0)
            continue;
        char why[256];
        /* A bare --record means --record=true. */
        const char *value = optarg ? optarg : "true";
        if (apply_value(c, (key_id_t)k, value, why, sizeof(why)) != 0)
            return llhls_yaml_fail(err, errlen, "%s: %s", keys[k].flag, why);
        snprintf(l.where[k], WHERE_MAX, "%s", keys[k].flag);
        l.order[k] = ++l.changes;
    }
    optind = 0;
    return check_rules(&l, err, errlen);
}

void llhls_config_usage(FILE *f, const char *argv0)
{
    llhls_config_t d;
    char a[32], b[32], e[32], g[32], s[32];
    llhls_config_default(&d);
    const char *rtmp_fmt = strchr(d.rtmp_addr, ':') ? "[%s]:%d" : "%s:%d";
    const char *http_fmt = strchr(d.http_addr, ':') ? "[%s]:%d" : "%s:%d";
    char rtmp[LLHLS_ADDR_MAX + 16], http[LLHLS_ADDR_MAX + 16];
    snprintf(rtmp, sizeof(rtmp), rtmp_fmt, d.rtmp_addr, d.rtmp_port);
    snprintf(http, sizeof(http), http_fmt, d.http_addr, d.http_port);
    static const char *levels[] = {"error", "warn", "info", "debug"};

    fprintf(f,
            "Usage: %s [OPTION]...\n"
            "Ingests RTMP and serves it as Low-Latency HLS.  Values come from the embedded\n"
            "default, then the config file (-c), then these flags.\n"
            "\n"
            "  -c, --config FILE           YAML config file, read before the other flags\n"
            "      --rtmp ADDR:PORT        RTMP listen address (default %s)\n"
            "      --http ADDR:PORT        HTTP listen address (default %s)\n"
            "      --data DIR              store directory (default %s)\n"
            "      --store-size SIZE       largest size of the store (default %s)\n"
            "      --segment-duration S    segment target duration (default %s)\n"
            "      --part-duration S       part target duration (default %s)\n"
            "      --window S              playlist window, up to 24h (default %s)\n"
            "      --record[=BOOL]         keep every segment of a stream; once it ends,\n"
            "                              its playlists list the whole recording as VOD\n"
            "                              (default %s)\n"
            "      --reconnect-grace S     how long a stream waits for its publisher to\n"
            "                              reconnect before it ends (default %s)\n"
            "      --http-threads N        HTTP worker threads (default %u)\n"
            "      --log-level LEVEL       error, warn, info or debug (default %s)\n"
            "      --www DIR               pages served at / (default: the installed ones)\n"
            "      --admin-token TOKEN     the bearer token of the admin page and API\n"
            "                              (at least 16 characters; without one they\n"
            "                              answer loopback peers only)\n"
            "  -h, --help                  print this help and exit\n"
            "  -V, --version               print the version and exit\n"
            "\n"
            "ADDR:PORT takes a numeric address, IPv6 in brackets ([::]:8080); port 0\n"
            "picks a free port.  Sizes: 4GiB, 512MiB, 100MB.  Durations: 2, 0.5s, 500ms.\n"
            "The config file has more keys; see docs/config.md.\n",
            argv0 ? argv0 : "llhls-origin", rtmp, http, d.data_dir, llhls_config_format_size(d.store_size, s, sizeof(s)),
            llhls_config_format_duration(d.segment_target_us, a, sizeof(a)), llhls_config_format_duration(d.part_target_us, b, sizeof(b)),
            llhls_config_format_duration((uint64_t)d.window_ms * 1000, e, sizeof(e)), d.record ? "true" : "false",
            llhls_config_format_duration((uint64_t)d.grace_ms * 1000, g, sizeof(g)),
            d.http_threads, d.log_level >= 0 && d.log_level < 4 ? levels[d.log_level] : "info");
}
