/* The registry of held requests (see waiters.h).  One lock guards it: the
 * packager thread takes it once per committed part, HTTP threads once per
 * held request, and the timer thread when a deadline passes.  Waiters are
 * kept per stream and track in a small hash table, so an update touches
 * only the requests that wait on that track. */
#include "waiters.h"

#include "clock.h"
#include "error.h"
#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUCKETS 1024

typedef struct track_slot {
    struct track_slot *next;
    char stream[LLHLS_NAME_MAX];
    int track;
    llhls_position_t pos;
    int have_pos;
    llhls_waiter_t head;        /* circular list sentinel */
    uint32_t count;
} track_slot_t;

struct llhls_waiters {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t timer;
    int stop;
    llhls_metrics_t *metrics;
    uint32_t max_per_stream;
    int64_t next_deadline;      /* the timer thread sleeps until then */
    track_slot_t *buckets[BUCKETS];
};

static unsigned hash(const char *s, int track)
{
    unsigned h = 2166136261u ^ (unsigned)track;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % BUCKETS;
}

static track_slot_t *slot_get(llhls_waiters_t *ws, const char *stream, int track, int create)
{
    unsigned b = hash(stream, track);
    for (track_slot_t *s = ws->buckets[b]; s; s = s->next)
        if (s->track == track && strcmp(s->stream, stream) == 0)
            return s;
    if (!create)
        return NULL;
    track_slot_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        abort();
    snprintf(s->stream, sizeof(s->stream), "%s", stream);
    s->track = track;
    s->head.next = s->head.prev = &s->head;
    s->next = ws->buckets[b];
    ws->buckets[b] = s;
    return s;
}

static int satisfied(const llhls_waiter_t *w, const llhls_position_t *pos)
{
    if (pos->ended)
        return 1;
    if (w->kind == LLHLS_WAIT_PLAYLIST) {
        const char *why;
        return llhls_block_decide(&w->d, pos, w->part_target_us, &why) != LLHLS_BLOCK_WAIT;
    }
    if (!pos->has_parts)
        return 0;
    return pos->last_msn > w->msn || (pos->last_msn == w->msn && pos->last_part >= w->part);
}

static void unlink_waiter(llhls_waiters_t *ws, llhls_waiter_t *w)
{
    w->prev->next = w->next;
    w->next->prev = w->prev;
    w->next = w->prev = NULL;
    atomic_fetch_sub_explicit(&ws->metrics->waiting_requests, 1, memory_order_relaxed);
}

static void *timer_main(void *arg)
{
    llhls_waiters_t *ws = arg;
    pthread_mutex_lock(&ws->lock);
    while (!ws->stop) {
        int64_t now = llhls_mono_ms(), next = INT64_MAX;
        for (unsigned b = 0; b < BUCKETS; b++) {
            for (track_slot_t *s = ws->buckets[b]; s; s = s->next) {
                for (llhls_waiter_t *w = s->head.next, *n; w != &s->head; w = n) {
                    n = w->next;
                    if (w->deadline_ms <= now) {
                        unlink_waiter(ws, w);
                        s->count--;
                        w->state = LLHLS_WAITER_TIMED_OUT;
                        MHD_resume_connection(w->conn);
                    } else if (w->deadline_ms < next) {
                        next = w->deadline_ms;
                    }
                }
            }
        }
        ws->next_deadline = next;
        if (next == INT64_MAX) {
            pthread_cond_wait(&ws->cond, &ws->lock);
        } else {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            int64_t wait = next - now;
            ts.tv_sec += wait / 1000;
            ts.tv_nsec += (wait % 1000) * 1000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&ws->cond, &ws->lock, &ts);
        }
    }
    pthread_mutex_unlock(&ws->lock);
    return NULL;
}

int llhls_waiters_create(llhls_waiters_t **out, llhls_metrics_t *metrics, uint32_t max_per_stream)
{
    llhls_waiters_t *ws = calloc(1, sizeof(*ws));
    if (ws == NULL)
        return -LLHLS_ENOMEM;
    ws->metrics = metrics;
    ws->max_per_stream = max_per_stream;
    ws->next_deadline = INT64_MAX;
    pthread_mutex_init(&ws->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ws->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&ws->timer, NULL, timer_main, ws) != 0) {
        free(ws);
        return -LLHLS_EIO;
    }
    *out = ws;
    return 0;
}

void llhls_waiters_destroy(llhls_waiters_t *ws)
{
    pthread_mutex_lock(&ws->lock);
    ws->stop = 1;
    pthread_cond_signal(&ws->cond);
    pthread_mutex_unlock(&ws->lock);
    pthread_join(ws->timer, NULL);
    for (unsigned b = 0; b < BUCKETS; b++) {
        while (ws->buckets[b]) {
            track_slot_t *s = ws->buckets[b];
            ws->buckets[b] = s->next;
            free(s);
        }
    }
    pthread_mutex_destroy(&ws->lock);
    pthread_cond_destroy(&ws->cond);
    free(ws);
}

void llhls_waiters_release_all(llhls_waiters_t *ws)
{
    pthread_mutex_lock(&ws->lock);
    for (unsigned b = 0; b < BUCKETS; b++) {
        for (track_slot_t *s = ws->buckets[b]; s; s = s->next) {
            while (s->head.next != &s->head) {
                llhls_waiter_t *w = s->head.next;
                unlink_waiter(ws, w);
                s->count--;
                w->state = LLHLS_WAITER_TIMED_OUT;
                MHD_resume_connection(w->conn);
            }
        }
    }
    pthread_mutex_unlock(&ws->lock);
}

int llhls_waiters_hold(llhls_waiters_t *ws, llhls_waiter_t *w)
{
    int r;
    pthread_mutex_lock(&ws->lock);
    track_slot_t *s = slot_get(ws, w->stream, w->track, 1);
    if (s->have_pos && satisfied(w, &s->pos)) {
        r = 0;
    } else if (s->count >= ws->max_per_stream) {
        r = -LLHLS_EBUSY;
    } else {
        w->state = LLHLS_WAITER_WAITING;
        w->next = &s->head;
        w->prev = s->head.prev;
        s->head.prev->next = w;
        s->head.prev = w;
        s->count++;
        atomic_fetch_add_explicit(&ws->metrics->waiting_requests, 1, memory_order_relaxed);
        /* Suspending under the lock: an update cannot resume the connection
         * before MHD has been told to suspend it. */
        MHD_suspend_connection(w->conn);
        if (w->deadline_ms < ws->next_deadline)
            pthread_cond_signal(&ws->cond);
        r = 1;
    }
    pthread_mutex_unlock(&ws->lock);
    return r;
}

void llhls_waiters_forget(llhls_waiters_t *ws, llhls_waiter_t *w)
{
    pthread_mutex_lock(&ws->lock);
    if (w->state == LLHLS_WAITER_WAITING && w->next) {
        track_slot_t *s = slot_get(ws, w->stream, w->track, 0);
        unlink_waiter(ws, w);
        if (s)
            s->count--;
        w->state = LLHLS_WAITER_IDLE;
    }
    pthread_mutex_unlock(&ws->lock);
}

void llhls_waiters_update(void *ctx, const char *stream, int track, const llhls_position_t *pos)
{
    llhls_waiters_t *ws = ctx;
    pthread_mutex_lock(&ws->lock);
    track_slot_t *s = slot_get(ws, stream, track, 1);
    s->pos = *pos;
    s->have_pos = 1;
    for (llhls_waiter_t *w = s->head.next, *n; w != &s->head; w = n) {
        n = w->next;
        if (satisfied(w, pos)) {
            unlink_waiter(ws, w);
            s->count--;
            w->state = LLHLS_WAITER_WOKEN;
            MHD_resume_connection(w->conn);
        }
    }
    pthread_mutex_unlock(&ws->lock);
}
