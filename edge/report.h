/* The edge's report to its origin's admin API (docs/api.md, POST
 * /api/edges/report): every report.interval, a small JSON summary of the
 * edge (connections, viewers per stream, egress, cache hit ratio, upstream
 * latency, origin health), posted from worker 0's loop, one at a time.  A
 * failure is logged when the state changes and never touches serving. */
#ifndef LLHLS_EDGE_REPORT_H
#define LLHLS_EDGE_REPORT_H

#include "edge.h"

typedef struct llhls_report llhls_report_t;

/* Starts reporting on worker w's loop (before that loop runs); does
 * nothing while report.url is empty.  Returns NULL on OOM. */
llhls_report_t *llhls_report_start(llhls_worker_t *w);
/* Takes report.* from a reloaded configuration (any thread). */
void llhls_report_configure(llhls_report_t *r, const llhls_edge_config_t *c);
/* Stops the timer (on the loop's thread, or once the loop stopped). */
void llhls_report_stop(llhls_report_t *r);

#endif
