/* The edge's report to its origin's admin API (docs/api.md, POST
 * /api/edges/report): every report.interval, a small JSON summary of the
 * edge (connections, viewers per stream, egress, cache hit ratio, upstream
 * latency, origin health), posted from worker 0's loop, one at a time.  A
 * failure is logged when the state changes and never touches serving. */
#ifndef LLHLS_EDGE_REPORT_H
#define LLHLS_EDGE_REPORT_H

#include "edge.h"

typedef struct llhls_report llhls_report_t;

/* Sets up reporting on worker w's loop (call before that loop runs); it
 * stays idle while report.url is empty.  Returns NULL on OOM.  The report
 * is never freed: it lives as long as the process. */
llhls_report_t *llhls_report_start(llhls_worker_t *w);
/* Takes report.* from a reloaded configuration (any thread, r may be
 * NULL): a new url, token or id goes into the next report, a new interval
 * restarts the timer at once, an empty url stops reporting. */
void llhls_report_configure(llhls_report_t *r, const llhls_edge_config_t *c);
/* Stops reporting and cancels a report in flight (any thread, while the
 * loop still runs; r may be NULL).  Later configure calls do nothing. */
void llhls_report_stop(llhls_report_t *r);

#endif
