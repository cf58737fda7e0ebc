/* Per-stream history of bitrate and part arrival (see history.h): a ring of
 * one-second buckets per stream, addressed by the second itself, so that
 * a second with no part is a zero without any work. */
#include "history.h"

#include "error.h"
#include "index.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct bucket {
    int64_t sec;                /* which second the bucket holds; older is stale */
    uint64_t bytes;
    uint32_t parts;
    uint32_t jitter_us;
} bucket_t;

typedef struct stream {
    char name[LLHLS_NAME_MAX];
    bucket_t ring[LLHLS_HISTORY_SECONDS];
    /* The last part counted per track, to count each once. */
    int have_last[LLHLS_TRACKS];
    uint64_t last_msn[LLHLS_TRACKS];
    uint32_t last_part[LLHLS_TRACKS];
    /* Jitter is measured on the video track, else on the audio. */
    int timing_track;
    int64_t last_arrival_ms;
    int64_t last_note_ms;
} stream_t;

struct llhls_history {
    pthread_mutex_t lock;
    stream_t *streams[LLHLS_HISTORY_STREAMS];
    size_t n;
};

int llhls_history_create(llhls_history_t **out)
{
    llhls_history_t *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return -LLHLS_ENOMEM;
    pthread_mutex_init(&h->lock, NULL);
    *out = h;
    return 0;
}

void llhls_history_destroy(llhls_history_t *h)
{
    if (h == NULL)
        return;
    for (size_t i = 0; i < h->n; i++)
        free(h->streams[i]);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

static stream_t *find(llhls_history_t *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++)
        if (strcmp(h->streams[i]->name, name) == 0)
            return h->streams[i];
    return NULL;
}

/* A new stream takes a free slot, else the slot of the stream silent for
 * longest. */
static stream_t *add(llhls_history_t *h, const char *name)
{
    stream_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    snprintf(s->name, sizeof(s->name), "%s", name);
    s->timing_track = -1;
    if (h->n < LLHLS_HISTORY_STREAMS) {
        h->streams[h->n++] = s;
        return s;
    }
    size_t oldest = 0;
    for (size_t i = 1; i < h->n; i++)
        if (h->streams[i]->last_note_ms < h->streams[oldest]->last_note_ms)
            oldest = i;
    free(h->streams[oldest]);
    h->streams[oldest] = s;
    return s;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static bucket_t *bucket_at(stream_t *s, int64_t sec)
{
    bucket_t *b = &s->ring[(uint64_t)sec % LLHLS_HISTORY_SECONDS];
    if (b->sec != sec) {
        memset(b, 0, sizeof(*b));
        b->sec = sec;
    }
    return b;
}

void llhls_history_note(llhls_history_t *h, const char *stream, int track, uint64_t msn, uint32_t part,
                        uint32_t bytes, uint32_t duration_us, int64_t now_ms)
{
    if (track < 0 || track >= LLHLS_TRACKS)
        return;
    pthread_mutex_lock(&h->lock);
    stream_t *s = find(h, stream);
    if (s == NULL && (s = add(h, stream)) == NULL) {
        pthread_mutex_unlock(&h->lock);
        return;
    }
    if (s->have_last[track] && s->last_msn[track] == msn && s->last_part[track] == part) {
        pthread_mutex_unlock(&h->lock);
        return;
    }
    s->have_last[track] = 1;
    s->last_msn[track] = msn;
    s->last_part[track] = part;
    s->last_note_ms = now_ms;
    bucket_t *b = bucket_at(s, floor_div(now_ms, 1000));
    b->bytes += bytes;
    b->parts++;
    if (s->timing_track < 0 || (track == LLHLS_TRACK_VIDEO && s->timing_track != LLHLS_TRACK_VIDEO)) {
        s->timing_track = track;
        s->last_arrival_ms = 0;
    }
    if (track == s->timing_track) {
        /* A part lasting D should come D after the one before it. */
        if (s->last_arrival_ms) {
            int64_t dev_us = (now_ms - s->last_arrival_ms) * 1000 - (int64_t)duration_us;
            if (dev_us < 0)
                dev_us = -dev_us;
            if (dev_us > UINT32_MAX)
                dev_us = UINT32_MAX;
            if ((uint32_t)dev_us > b->jitter_us)
                b->jitter_us = (uint32_t)dev_us;
        }
        s->last_arrival_ms = now_ms;
    }
    pthread_mutex_unlock(&h->lock);
}

int llhls_history_read(llhls_history_t *h, const char *stream, int64_t now_ms, llhls_history_series_t *out)
{
    memset(out, 0, sizeof(*out));
    int64_t last = floor_div(now_ms, 1000) - 1;
    int64_t first = last - LLHLS_HISTORY_SECONDS + 1;
    out->start_ms = first * 1000;
    pthread_mutex_lock(&h->lock);
    stream_t *s = find(h, stream);
    if (s == NULL) {
        pthread_mutex_unlock(&h->lock);
        return -LLHLS_ENOTFOUND;
    }
    for (int64_t sec = first; sec <= last; sec++) {
        const bucket_t *b = &s->ring[(uint64_t)sec % LLHLS_HISTORY_SECONDS];
        if (b->sec != sec)
            continue;
        size_t i = (size_t)(sec - first);
        out->bytes[i] = b->bytes;
        out->parts[i] = b->parts;
        out->jitter_us[i] = b->jitter_us;
    }
    pthread_mutex_unlock(&h->lock);
    return 0;
}

uint64_t llhls_history_bitrate(llhls_history_t *h, const char *stream, int64_t now_ms, uint32_t window_ms)
{
    if (window_ms < 1000)
        window_ms = 1000;
    int64_t now_sec = floor_div(now_ms, 1000);
    int64_t whole = window_ms / 1000;
    uint64_t bytes = 0;
    pthread_mutex_lock(&h->lock);
    stream_t *s = find(h, stream);
    if (s != NULL) {
        /* The whole seconds before this one, and this one so far. */
        for (int64_t sec = now_sec - whole; sec <= now_sec; sec++) {
            const bucket_t *b = &s->ring[(uint64_t)sec % LLHLS_HISTORY_SECONDS];
            if (b->sec == sec)
                bytes += b->bytes;
        }
    }
    pthread_mutex_unlock(&h->lock);
    int64_t span_ms = whole * 1000 + (now_ms - now_sec * 1000);
    return span_ms > 0 ? bytes * 8 * 1000 / (uint64_t)span_ms : 0;
}

void llhls_history_forget(llhls_history_t *h, const char *stream)
{
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < h->n; i++) {
        if (strcmp(h->streams[i]->name, stream) == 0) {
            free(h->streams[i]);
            h->streams[i] = h->streams[--h->n];
            break;
        }
    }
    pthread_mutex_unlock(&h->lock);
}
