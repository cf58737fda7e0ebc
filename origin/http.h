/* The origin's HTTP side on libmicrohttpd: playlists rendered from the
 * store, init sections, parts and segments sent straight from the store's
 * map, blocking reloads and preload hints held through the waiters
 * registry, CORS, gzip and /metrics. */
#ifndef LLHLS_HTTP_H
#define LLHLS_HTTP_H

#include "admin.h"
#include "fresh.h"
#include "metrics.h"
#include "store.h"
#include "waiters.h"

typedef struct llhls_http llhls_http_t;

typedef struct llhls_http_params {
    llhls_store_t *store;
    llhls_fresh_t *fresh;       /* parts not yet in the store; may be NULL */
    llhls_waiters_t *waiters;
    llhls_metrics_t *metrics;
    const char *addr;           /* numeric IPv4 or IPv6 address */
    int port;                   /* 0: any free port */
    unsigned threads;
    unsigned max_connections;
    uint32_t segment_target_us; /* for the max-age of errors on unknown streams */
    const char *www_dir;        /* static pages (player, admin); NULL: none */
    llhls_admin_t *admin;       /* the API under /api/; NULL: 404 */
} llhls_http_params_t;

/* Starts serving.  Returns 0 or a negative error (logged). */
int llhls_http_start(const llhls_http_params_t *p, llhls_http_t **out);
/* The port actually bound. */
int llhls_http_port(llhls_http_t *h);
/* Stops accepting, answers held requests and stops the daemon. */
void llhls_http_stop(llhls_http_t *h);

#endif
