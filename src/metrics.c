/* Prometheus text rendering of the process counters.  The counters are plain
 * relaxed atomics: a scrape may see one counter a moment ahead of another,
 * which Prometheus tolerates. */
#include "metrics.h"

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

void llhls_metrics_count_status(llhls_metrics_t *m, unsigned status)
{
    int i;
    switch (status) {
    case 200: i = LLHLS_STATUS_200; break;
    case 206: i = LLHLS_STATUS_206; break;
    case 304: i = LLHLS_STATUS_304; break;
    case 400: i = LLHLS_STATUS_400; break;
    case 401: i = LLHLS_STATUS_401; break;
    case 404: i = LLHLS_STATUS_404; break;
    case 405: i = LLHLS_STATUS_405; break;
    case 503: i = LLHLS_STATUS_503; break;
    default: i = LLHLS_STATUS_OTHER; break;
    }
    atomic_fetch_add_explicit(&m->http_requests[i], 1, memory_order_relaxed);
}

static int metric(llhls_buf_t *out, const char *name, const char *type, const char *help, long long v)
{
    return llhls_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %lld\n", name, help, name, type, name, v);
}

int llhls_metrics_render(const llhls_metrics_t *m, llhls_buf_t *out)
{
    static const char *codes[LLHLS_STATUS_COUNT] = {"200", "206", "304", "400", "401", "404", "405", "503", "other"};
    int r = 0;
    r |= metric(out, "llhls_rtmp_bytes_in_total", "counter", "Audio and video bytes received from publishers.",
                (long long)LOAD(m->rtmp_bytes_in));
    r |= metric(out, "llhls_publishes_total", "counter", "Publishes accepted.", (long long)LOAD(m->publishes));
    r |= metric(out, "llhls_publishes_refused_total", "counter", "Publish attempts refused.",
                (long long)LOAD(m->publishes_refused));
    r |= metric(out, "llhls_streams_live", "gauge", "Streams with a publisher.", (long long)LOAD(m->streams_live));
    r |= metric(out, "llhls_parts_written_total", "counter", "LL-HLS parts written to the store.",
                (long long)LOAD(m->parts_written));
    r |= metric(out, "llhls_part_bytes_written_total", "counter", "Bytes of parts written to the store.",
                (long long)LOAD(m->part_bytes_written));
    r |= metric(out, "llhls_segments_written_total", "counter", "Segments completed.",
                (long long)LOAD(m->segments_written));
    r |= metric(out, "llhls_parts_served_fresh_total", "counter",
                "Parts and segments sent from memory while their commit was still being written.",
                (long long)LOAD(m->parts_served_fresh));
    r |= metric(out, "llhls_store_evictions_total", "counter", "Evictions forced by a full store.",
                (long long)LOAD(m->store_evictions));
    r |= metric(out, "llhls_http_waiting_requests", "gauge", "Blocked playlist and preload-hint requests held.",
                (long long)LOAD(m->waiting_requests));
    r |= metric(out, "llhls_http_bytes_out_total", "counter", "Bytes of HTTP response bodies queued.",
                (long long)LOAD(m->http_bytes_out));
    r |= llhls_buf_printf(out, "# HELP llhls_http_requests_total HTTP responses by status code.\n"
                               "# TYPE llhls_http_requests_total counter\n");
    for (int i = 0; i < LLHLS_STATUS_COUNT; i++)
        r |= llhls_buf_printf(out, "llhls_http_requests_total{code=\"%s\"} %llu\n", codes[i],
                              (unsigned long long)LOAD(m->http_requests[i]));
    return r ? -1 : 0;
}
