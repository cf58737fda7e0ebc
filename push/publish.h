/* One publish of the loaded input over one RTMP connection: the run loop
 * that paces (or not) the messages, loops the input with continuing
 * timestamps and counts what went out.  Each runs on its own thread. */
#ifndef LLHLS_PUSH_PUBLISH_H
#define LLHLS_PUSH_PUBLISH_H

#include "rtmp_client.h"
#include "source.h"

#include <stdatomic.h>
#include <stdint.h>

typedef struct push_run_opts {
    int fast;             /* as fast as the socket takes it, else real time */
    uint64_t loops;       /* passes over the input; 0: forever */
    uint64_t duration_ms; /* stop after this much media time; 0: no limit */
    uint32_t chunk_size;
    int timeout_ms;
    int enhanced;
} push_run_opts_t;

typedef struct push_stats {
    atomic_uint_fast64_t bytes;        /* written to the socket, headers and all */
    atomic_uint_fast64_t media_bytes;  /* audio and video message bodies */
    atomic_uint_fast64_t video, audio; /* frames */
    atomic_uint_fast64_t media_ms;     /* timestamp of the last message queued */
} push_stats_t;

typedef struct push_job {
    const push_media_t *media;
    const push_url_t *url;
    const push_run_opts_t *o;
    atomic_int *stop; /* set to end every publish early, cleanly */
    char name[300];   /* the stream name published */
    push_stats_t stats;
    int rc; /* 0 or the negative error that ended the publish */
    char err[600];
    double seconds;  /* from the publish's start to its end */
    atomic_int done; /* set once the publish is over */
} push_job_t;

/* Runs the publish to its end (input done, duration reached, stop set, or
 * an error); fills job->rc, err, stats and seconds.  A pthread start
 * routine: arg is the job. */
void *push_publish_run(void *arg);

#endif
