/* Fresh parts (see fresh.h).  One lock guards the list of published parts
 * (one per track whose commit is being written: a handful at most) and the
 * pool of buffers given back; references are atomic. */
#include "fresh.h"

#include "error.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Buffers kept for reuse: enough for the video and audio of a couple of
 * streams, a few part sizes of memory at most. */
#define POOL_MAX 4

typedef struct entry {
    llhls_fresh_part_t pub;     /* first: readers get a pointer to it */
    struct entry *next;         /* in the published list */
    llhls_fresh_t *f;
    atomic_int refs;            /* the publisher's and every reader's */
    llhls_buf_t buf;            /* owns pub.bytes */
} entry_t;

struct llhls_fresh {
    pthread_mutex_t lock;
    entry_t *published;
    llhls_buf_t pool[POOL_MAX];
    size_t npool;
};

int llhls_fresh_create(llhls_fresh_t **out)
{
    llhls_fresh_t *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -LLHLS_ENOMEM;
    pthread_mutex_init(&f->lock, NULL);
    *out = f;
    return 0;
}

void llhls_fresh_destroy(llhls_fresh_t *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->npool; i++)
        llhls_buf_free(&f->pool[i]);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

/* The pooled buffer that best fits a part of about len bytes: the smallest
 * that holds it, else the largest.  Under the lock. */
static int pool_take(llhls_fresh_t *f, size_t len, llhls_buf_t *out)
{
    size_t best = f->npool;
    for (size_t i = 0; i < f->npool; i++) {
        if (best == f->npool) {
            best = i;
            continue;
        }
        size_t c = f->pool[i].cap, bc = f->pool[best].cap;
        int fits = c >= len, best_fits = bc >= len;
        if (fits ? !best_fits || c < bc : !best_fits && c > bc)
            best = i;
    }
    if (best == f->npool)
        return 0;
    *out = f->pool[best];
    f->pool[best] = f->pool[--f->npool];
    return 1;
}

static void unref(entry_t *e)
{
    if (atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) != 1)
        return;
    llhls_fresh_t *f = e->f;
    pthread_mutex_lock(&f->lock);
    if (e->buf.data && f->npool < POOL_MAX) {
        f->pool[f->npool++] = e->buf;
        e->buf.data = NULL;
    }
    pthread_mutex_unlock(&f->lock);
    llhls_buf_free(&e->buf);
    free(e);
}

const llhls_fresh_part_t *llhls_fresh_publish(llhls_fresh_t *f, const char *stream, int track,
                                              const llhls_segment_t *seg, uint32_t index, llhls_buf_t *bytes)
{
    entry_t *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    e->f = f;
    atomic_init(&e->refs, 1);
    snprintf(e->pub.stream, sizeof(e->pub.stream), "%s", stream);
    e->pub.track = track;
    e->pub.seg = *seg;
    e->pub.index = index;
    pthread_mutex_lock(&f->lock);
    if (bytes != NULL) {
        size_t max = bytes->max;
        e->buf = *bytes;
        llhls_buf_init(bytes, max);
        if (pool_take(f, e->buf.len, bytes)) {
            bytes->len = 0;
            bytes->max = max;
        }
        e->pub.bytes = e->buf.data;
        e->pub.len = e->buf.len;
    }
    e->next = f->published;
    f->published = e;
    pthread_mutex_unlock(&f->lock);
    return &e->pub;
}

void llhls_fresh_withdraw(llhls_fresh_t *f, const llhls_fresh_part_t *p)
{
    entry_t *e = (entry_t *)p;
    pthread_mutex_lock(&f->lock);
    for (entry_t **pp = &f->published; *pp; pp = &(*pp)->next) {
        if (*pp == e) {
            *pp = e->next;
            break;
        }
    }
    pthread_mutex_unlock(&f->lock);
    unref(e);
}

const llhls_fresh_part_t *llhls_fresh_get(llhls_fresh_t *f, const char *stream, int track)
{
    if (f == NULL)
        return NULL;
    entry_t *found = NULL;
    pthread_mutex_lock(&f->lock);
    for (entry_t *e = f->published; e; e = e->next) {
        if (e->pub.track == track && strcmp(e->pub.stream, stream) == 0) {
            atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
            found = e;
            break;
        }
    }
    pthread_mutex_unlock(&f->lock);
    return found ? &found->pub : NULL;
}

void llhls_fresh_release(const llhls_fresh_part_t *p)
{
    if (p)
        unref((entry_t *)p);
}

/* Whether record a lists more than b of the same segment. */
static int ahead(const llhls_segment_t *a, const llhls_segment_t *b)
{
    return a->nparts > b->nparts || (a->nparts == b->nparts && a->complete && !b->complete);
}

int llhls_fresh_merge(const llhls_fresh_part_t *p, llhls_segment_t **segs, size_t *n)
{
    if (p == NULL)
        return 0;
    if (*n > 0) {
        llhls_segment_t *last = &(*segs)[*n - 1];
        if (last->msn == p->seg.msn) {
            if (ahead(&p->seg, last))
                *last = p->seg;
            return 0;
        }
        if (last->msn > p->seg.msn)
            return 0;
    }
    llhls_segment_t *more = realloc(*segs, (*n + 1) * sizeof(**segs));
    if (more == NULL)
        return -LLHLS_ENOMEM;
    more[*n] = p->seg;
    *segs = more;
    (*n)++;
    return 0;
}

int llhls_fresh_newer(const llhls_fresh_part_t *p, llhls_segment_t *last, int have)
{
    if (p == NULL || (have && (last->msn > p->seg.msn || (last->msn == p->seg.msn && !ahead(&p->seg, last)))))
        return 0;
    *last = p->seg;
    return 1;
}
