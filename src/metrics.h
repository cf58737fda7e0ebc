/* Counters and gauges for /metrics, updated with relaxed atomics from any
 * thread and rendered in the Prometheus text format. */
#ifndef LLHLS_METRICS_H
#define LLHLS_METRICS_H

#include "buf.h"

#include <stdatomic.h>
#include <stdint.h>

enum { LLHLS_STATUS_200, LLHLS_STATUS_206, LLHLS_STATUS_304, LLHLS_STATUS_400, LLHLS_STATUS_401,
       LLHLS_STATUS_404, LLHLS_STATUS_405, LLHLS_STATUS_503, LLHLS_STATUS_OTHER, LLHLS_STATUS_COUNT };

typedef struct llhls_metrics {
    atomic_uint_fast64_t rtmp_bytes_in;         /* audio and video payload received */
    atomic_uint_fast64_t publishes;             /* publishes accepted */
    atomic_uint_fast64_t publishes_refused;
    atomic_int_fast64_t streams_live;
    atomic_uint_fast64_t parts_written;
    atomic_uint_fast64_t part_bytes_written;
    atomic_uint_fast64_t segments_written;
    atomic_uint_fast64_t parts_served_fresh;    /* sent before their commit landed */
    atomic_uint_fast64_t store_evictions;       /* map-full evictions */
    atomic_uint_fast64_t http_requests[LLHLS_STATUS_COUNT];
    atomic_uint_fast64_t http_bytes_out;
    atomic_int_fast64_t waiting_requests;       /* blocked playlist and part requests */
} llhls_metrics_t;

/* Counts one HTTP response with the given status code. */
void llhls_metrics_count_status(llhls_metrics_t *m, unsigned status);

/* Appends the Prometheus text exposition of m to out; extra is appended
 * verbatim after it (per-stream gauges computed by the caller) when set. */
int llhls_metrics_render(const llhls_metrics_t *m, llhls_buf_t *out);

#endif
