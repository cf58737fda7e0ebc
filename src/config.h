/* llhls-origin's configuration: an embedded default, then an optional YAML
 * file (-c FILE, libyaml), then command-line flags, each overriding the one
 * before.  Errors name the file, the line and the key. */
#ifndef LLHLS_CONFIG_H
#define LLHLS_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define LLHLS_ADDR_MAX 64
#define LLHLS_PATH_MAX 1024
#define LLHLS_SECRET_MAX 256

typedef struct llhls_config {
    /* rtmp: */
    char rtmp_addr[LLHLS_ADDR_MAX];     /* rtmp.listen, "0.0.0.0:1935" */
    int rtmp_port;
    uint32_t rtmp_max_connections;      /* rtmp.max_connections, 1000 */
    uint32_t rtmp_max_message_size;     /* rtmp.max_message_size, 32 MiB */
    uint32_t rtmp_idle_timeout_ms;      /* rtmp.idle_timeout, 30 s */
    /* http: */
    char http_addr[LLHLS_ADDR_MAX];     /* http.listen, "0.0.0.0:8080" */
    int http_port;
    uint32_t http_threads;              /* http.threads, 2 */
    uint32_t http_max_connections;      /* http.max_connections, 10000 */
    uint32_t http_max_waiting;          /* http.max_waiting_per_stream, 5000 */
    char www_dir[LLHLS_PATH_MAX];       /* http.www: pages; "" means the installed ones */
    /* store: */
    char data_dir[LLHLS_PATH_MAX];      /* store.path, "./llhls-data" */
    uint64_t store_size;                /* store.size, 4 GiB */
    /* hls: */
    uint32_t segment_target_us;         /* hls.segment_duration, 2.0 s */
    uint32_t part_target_us;            /* hls.part_duration, 0.33334 s */
    uint32_t window_ms;                 /* hls.window, 60 s, at most 24 h */
    int record;                         /* hls.record, off: keep every segment, VOD once ended */
    uint32_t grace_ms;                  /* hls.reconnect_grace, 10 s */
    /* log: */
    int log_level;                      /* log.level, info */
    /* admin: the credential of /api/ and /admin/; none: loopback peers only */
    char admin_token[LLHLS_SECRET_MAX];    /* admin.token: Authorization: Bearer */
    char admin_user[LLHLS_SECRET_MAX];     /* admin.user and admin.password: basic auth */
    char admin_password[LLHLS_SECRET_MAX];
} llhls_config_t;

/* The YAML text compiled into the binary: what llhls-origin does with no
 * arguments at all. */
extern const char llhls_config_embedded[];

/* Fills c from the embedded default.  Cannot fail. */
void llhls_config_default(llhls_config_t *c);

/* Applies a YAML document on top of c.  name is used in messages ("file").
 * Unknown keys, wrong types and out-of-range values are errors.  On error
 * returns -LLHLS_ECONFIG with err set to "name:LINE: key.path: what is
 * wrong", and c may be partly updated (callers load into a copy). */
int llhls_config_load_string(llhls_config_t *c, const char *yaml, size_t len, const char *name, char *err,
                             size_t errlen);
int llhls_config_load_file(llhls_config_t *c, const char *path, char *err, size_t errlen);

/* Parses the command line: -c FILE first (wherever it stands), then every
 * flag in order.  Returns 0 to run, 1 when --help or --version printed
 * something and the program should exit 0, or -LLHLS_ECONFIG with err set. */
int llhls_config_parse_args(llhls_config_t *c, int argc, char **argv, char *err, size_t errlen);

/* Prints --help to f. */
void llhls_config_usage(FILE *f, const char *argv0);

/* Splits "ADDR:PORT" ("[::1]:80" too; ":8080" means 0.0.0.0).  Returns 0 or
 * -LLHLS_EINVAL. */
int llhls_config_parse_listen(const char *s, char *addr, size_t addrlen, int *port);
/* Parses "4GiB", "512MiB", "100MB", "1048576".  Returns 0 or -LLHLS_EINVAL. */
int llhls_config_parse_size(const char *s, uint64_t *out);
/* Parses seconds "2", "0.33334", "1.5s", "500ms" into microseconds. */
int llhls_config_parse_duration(const char *s, uint64_t *us);
/* Checks a credential or a name sent in HTTP headers: min to max bytes of
 * printable ASCII without spaces (and without ':' when no_colon).  Returns
 * 0 or -LLHLS_ECONFIG with why set ("expected ..."). */
int llhls_config_check_token(const char *s, size_t min, size_t max, int no_colon, char *why, size_t whylen);
/* Parses a plain decimal count (no sign, no spaces).  Returns 0 or
 * -LLHLS_EINVAL. */
int llhls_config_parse_count(const char *s, uint64_t *out);
/* Formats for messages and --help, into buf (returned): "2 s", "0.33334 s";
 * "4GiB", "100MB", "1536B" (the largest unit that divides exactly). */
const char *llhls_config_format_duration(uint64_t us, char *buf, size_t len);
const char *llhls_config_format_size(uint64_t bytes, char *buf, size_t len);

#endif
