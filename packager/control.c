/* Operator actions queued to the packager thread (see control.h).  A
 * request is shared by the asking thread and the packager, and freed by
 * whichever of the two is done with it last, so that a caller that stops
 * waiting never leaves the packager writing into freed memory. */
#include "control.h"

#include "error.h"
#include "index.h"
#include "packager.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct request {
    struct request *next;
    llhls_control_action_t action;
    char stream[LLHLS_NAME_MAX];
    int result;
    int done;
    int refs;
} request_t;

struct llhls_control {
    uv_async_t async;
    llhls_ingest_t *ing;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    request_t *queue;
    int closed;
};

static void unref(request_t *q)
{
    if (--q->refs == 0)
        free(q);
}

static int perform(llhls_control_t *c, const request_t *q)
{
    if (c->ing == NULL)
        return -LLHLS_ECANCELED;
    switch (q->action) {
    case LLHLS_CONTROL_END: return llhls_packager_end_stream(c->ing, q->stream);
    case LLHLS_CONTROL_KICK: return llhls_packager_kick(c->ing, q->stream);
    case LLHLS_CONTROL_DELETE: return llhls_packager_delete_stream(c->ing, q->stream);
    }
    return -LLHLS_EINVAL;
}

/* Takes the whole queue at once; the actions run without the lock held. */
static void on_async(uv_async_t *a)
{
    llhls_control_t *c = a->data;
    pthread_mutex_lock(&c->lock);
    request_t *q = c->queue;
    c->queue = NULL;
    pthread_mutex_unlock(&c->lock);
    /* The queue is newest first: do them in the order asked. */
    request_t *ordered = NULL;
    while (q) {
        request_t *next = q->next;
        q->next = ordered;
        ordered = q;
        q = next;
    }
    for (q = ordered; q;) {
        request_t *next = q->next;
        int r = perform(c, q);
        pthread_mutex_lock(&c->lock);
        q->result = r;
        q->done = 1;
        unref(q);
        pthread_cond_broadcast(&c->cond);
        pthread_mutex_unlock(&c->lock);
        q = next;
    }
}

int llhls_control_create(uv_loop_t *loop, llhls_ingest_t *ing, llhls_control_t **out)
{
    llhls_control_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return -LLHLS_ENOMEM;
    c->ing = ing;
    pthread_mutex_init(&c->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cond, &ca);
    pthread_condattr_destroy(&ca);
    uv_async_init(loop, &c->async, on_async);
    c->async.data = c;
    *out = c;
    return 0;
}

void llhls_control_set_ingest(llhls_control_t *c, llhls_ingest_t *ing)
{
    c->ing = ing;
}

void llhls_control_close(llhls_control_t *c)
{
    pthread_mutex_lock(&c->lock);
    c->closed = 1;
    for (request_t *q = c->queue, *next; q; q = next) {
        next = q->next;
        q->result = -LLHLS_ECANCELED;
        q->done = 1;
        unref(q);
    }
    c->queue = NULL;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    uv_close((uv_handle_t *)&c->async, NULL);
}

void llhls_control_free(llhls_control_t *c)
{
    if (c == NULL)
        return;
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
    free(c);
}

int llhls_control_run(llhls_control_t *c, llhls_control_action_t action, const char *stream, int timeout_ms)
{
    request_t *q = calloc(1, sizeof(*q));
    if (q == NULL)
        return -LLHLS_ENOMEM;
    q->action = action;
    snprintf(q->stream, sizeof(q->stream), "%s", stream);
    q->refs = 2;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&c->lock);
    if (c->closed) {
        pthread_mutex_unlock(&c->lock);
        free(q);
        return -LLHLS_ECANCELED;
    }
    q->next = c->queue;
    c->queue = q;
    pthread_mutex_unlock(&c->lock);
    uv_async_send(&c->async);
    pthread_mutex_lock(&c->lock);
    while (!q->done && pthread_cond_timedwait(&c->cond, &c->lock, &until) != ETIMEDOUT)
        ;
    int r = q->done ? q->result : -LLHLS_EAGAIN;
    unref(q);
    pthread_mutex_unlock(&c->lock);
    return r;
}
