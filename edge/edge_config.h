/* llhls-edge's configuration: embedded defaults, a YAML file (-c FILE,
 * libyaml) and command-line flags, in that order.  The same rules as the
 * origin's: unknown keys are errors, and every error names the file, the
 * line and the key.  A reload (SIGHUP) parses into a fresh struct and keeps
 * the running one on error. */
#ifndef LLHLS_EDGE_CONFIG_H
#define LLHLS_EDGE_CONFIG_H

#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define LLHLS_EDGE_MAX_LISTENERS 8
#define LLHLS_EDGE_MAX_ORIGINS 8
#define LLHLS_URL_MAX 256

typedef struct llhls_edge_listener {
    char addr[LLHLS_ADDR_MAX]; /* numeric, no brackets */
    int port;                  /* 0: any free port */
    int tls;                   /* h2 over TLS with ALPN (else h2c and HTTP/1.1) */
    char cert[LLHLS_PATH_MAX]; /* PEM certificate chain, when tls */
    char key[LLHLS_PATH_MAX];  /* PEM private key, when tls */
} llhls_edge_listener_t;

typedef struct llhls_edge_origin {
    char url[LLHLS_URL_MAX];   /* "http://host:port" as written */
    char host[LLHLS_ADDR_MAX]; /* host name or address */
    int port;
} llhls_edge_origin_t;

typedef struct llhls_edge_config {
    llhls_edge_listener_t listeners[LLHLS_EDGE_MAX_LISTENERS];
    size_t nlisteners; /* listen: at least one */
    llhls_edge_origin_t origins[LLHLS_EDGE_MAX_ORIGINS];
    size_t norigins;                      /* origins: at least one */
    uint32_t threads;                     /* threads: 2 */
    uint64_t cache_size;                  /* cache.size: 1GiB */
    uint32_t upstream_connect_timeout_ms; /* timeouts.upstream_connect: 2s */
    uint32_t upstream_timeout_ms;         /* timeouts.upstream_response: 10s (non-blocking requests) */
    uint32_t client_idle_timeout_ms;      /* timeouts.client_idle: 30s */
    uint32_t client_send_timeout_ms;      /* timeouts.client_send: 20s without progress on a response */
    uint32_t tls_handshake_timeout_ms;    /* timeouts.tls_handshake: 10s for a TLS handshake to finish */
    uint32_t probe_interval_ms;           /* timeouts.origin_probe: 2s, for origins marked down */
    uint32_t max_connections;             /* limits.max_connections: 20000 */
    uint32_t max_held;                    /* limits.max_held: 50000 held blocking requests per edge */
    uint32_t max_held_per_connection;     /* limits.max_held_per_connection: 64 */
    uint32_t max_header_size;             /* limits.max_header_size: 32KiB, a request's line and headers */
    int log_level;                        /* log.level: info */
    char access_log[LLHLS_PATH_MAX];      /* log.access: "" off, "-" stderr, else a file */
    /* report: a summary posted to the origin's admin API (docs/api.md) */
    char report_url[LLHLS_URL_MAX];   /* report.url: "" off, else http://HOST[:PORT]/PATH */
    char report_host[LLHLS_ADDR_MAX]; /* from report.url */
    int report_port;
    char report_path[LLHLS_URL_MAX];
    char report_token[LLHLS_SECRET_MAX]; /* report.token: sent as Authorization: Bearer */
    char report_id[65];                  /* report.id: the edge's name, default the host name */
    uint32_t report_interval_ms;         /* report.interval: 2s */
} llhls_edge_config_t;

extern const char llhls_edge_config_embedded[];

void llhls_edge_config_default(llhls_edge_config_t *c);
/* Same contract as llhls_config_load_string/file in config.h.  A listen or
 * origins list in a file replaces the default list. */
int llhls_edge_config_load_string(llhls_edge_config_t *c, const char *yaml, size_t len, const char *name, char *err,
                                  size_t errlen);
int llhls_edge_config_load_file(llhls_edge_config_t *c, const char *path, char *err, size_t errlen);
/* -c FILE, --listen ADDR:PORT (repeatable; replaces the configured list on
 * first use), --tls-cert FILE --tls-key FILE (apply to the --listen just
 * before them), --origin URL (repeatable, likewise), --threads N,
 * --cache-size SIZE, --log-level LEVEL, --access-log PATH, -h, -V.
 * Returns 0, 1 (help/version printed) or -LLHLS_ECONFIG with err set.
 * *config_path gets the -c file (or NULL), for reloads. */
int llhls_edge_config_parse_args(llhls_edge_config_t *c, int argc, char **argv, const char **config_path, char *err,
                                 size_t errlen);
void llhls_edge_config_usage(FILE *f, const char *argv0);
/* Parses "http://host[:port][/]" into o.  Returns 0 or -LLHLS_EINVAL. */
int llhls_edge_origin_parse(const char *url, llhls_edge_origin_t *o);

#endif
