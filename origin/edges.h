/* The edges' reports: the last report each edge posted to the origin
 * (docs/api.md, POST /api/edges/report), and whether it is gone: no report
 * for three of its intervals, at least 10 s.  Gone edges are listed for
 * 10 minutes more.  Thread-safe; times are passed in (wall clock, ms). */
#ifndef LLHLS_EDGES_H
#define LLHLS_EDGES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define LLHLS_EDGES_MAX 256             /* edges listed at once */
#define LLHLS_EDGE_REPORT_MAX (64 << 10)  /* bytes of one report */

typedef struct llhls_edges llhls_edges_t;

int llhls_edges_create(llhls_edges_t **out);
void llhls_edges_destroy(llhls_edges_t *e);

/* Takes a report posted from peer.  Returns 0, or -LLHLS_EINVAL with why
 * set to a sentence naming what is wrong, or -LLHLS_ETOOBIG (too many
 * edges, or too large). */
int llhls_edges_report(llhls_edges_t *e, const char *body, size_t len, const char *peer, int64_t now_ms, char *why,
                       size_t whylen);

/* {"now_ms", "edges": [...], "total": {...}}: a new reference. */
json_t *llhls_edges_json(llhls_edges_t *e, int64_t now_ms);

#endif
