/* The admin surface of the origin: the JSON API under /api/ (docs/api.md)
 * and its credential check, over the store and the pieces of state the
 * store does not hold (stream history, edge reports, publisher control).
 * Called from libmicrohttpd's threads. */
#ifndef LLHLS_ADMIN_H
#define LLHLS_ADMIN_H

#include "store.h"

#include <microhttpd.h>

typedef struct llhls_admin llhls_admin_t;
typedef struct llhls_history llhls_history_t;   /* history.h */
typedef struct llhls_edges llhls_edges_t;       /* edges.h */
typedef struct llhls_control llhls_control_t;   /* packager/control.h */

typedef struct llhls_admin_params {
    llhls_store_t *store;
    llhls_history_t *history;
    llhls_edges_t *edges;
    llhls_control_t *control;   /* NULL: actions answer 503 */
    const char *token;          /* NULL or "": no bearer token */
    const char *user;           /* NULL or "": no basic auth */
    const char *password;
} llhls_admin_params_t;

int llhls_admin_create(const llhls_admin_params_t *p, llhls_admin_t **out);
void llhls_admin_destroy(llhls_admin_t *a);
/* The port publishers reach, once the RTMP server listens (any thread):
 * /api/session tells the page, which shows where to publish. */
void llhls_admin_set_rtmp_port(llhls_admin_t *a, int port);

/* Answers one request under /api/ (any method).  *state is per-request
 * storage, NULL at first, kept by the caller across the calls
 * libmicrohttpd makes for one request (a POST body arrives in pieces), and
 * passed to llhls_admin_request_done when the request ends. */
enum MHD_Result llhls_admin_handle(llhls_admin_t *a, struct MHD_Connection *c, const char *url, const char *method,
                                   const char *upload_data, size_t *upload_data_size, void **state);
void llhls_admin_request_done(void *state);

#endif
