/* The registry of edge reports (see edges.h).  A report is checked field
 * by field and kept as the JSON it came as, plus where and when it came
 * from; listing adds the age and the gone flag. */
#include "edges.h"

#include "error.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID_MAX 64
#define VIEWER_STREAMS_MAX 4096
#define ORIGINS_MAX 64
#define GONE_MIN_MS 10000
#define FORGET_MS (10 * 60 * 1000)

typedef struct edge {
    char id[ID_MAX + 1];
    char address[64];
    json_t *report;
    int64_t last_ms;
    int64_t interval_ms;
} edge_t;

struct llhls_edges {
    pthread_mutex_t lock;
    edge_t edges[LLHLS_EDGES_MAX];
    size_t n;
};

int llhls_edges_create(llhls_edges_t **out)
{
    llhls_edges_t *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return -LLHLS_ENOMEM;
    pthread_mutex_init(&e->lock, NULL);
    *out = e;
    return 0;
}

void llhls_edges_destroy(llhls_edges_t *e)
{
    if (e == NULL)
        return;
    for (size_t i = 0; i < e->n; i++)
        json_decref(e->edges[i].report);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

static int fail(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return -LLHLS_EINVAL;
}

/* Optional numbers: absent is fine, anything but a number >= 0 is not. */
static int check_numbers(json_t *o, char *why, size_t whylen)
{
    static const char *const names[] = {"interval_ms", "uptime_s", "connections", "requests_total", "egress_bps",
                                        "hit_ratio", "upstream_latency_ms", "held"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        json_t *v = json_object_get(o, names[i]);
        if (v && (!json_is_number(v) || json_number_value(v) < 0))
            return fail(why, whylen, "\"%s\" must be a number of at least 0", names[i]);
    }
    json_t *hr = json_object_get(o, "hit_ratio");
    if (hr && json_number_value(hr) > 1)
        return fail(why, whylen, "\"hit_ratio\" must be from 0 to 1");
    return 0;
}

static int check_report(json_t *o, char *why, size_t whylen)
{
    if (!json_is_object(o))
        return fail(why, whylen, "a report is a JSON object");
    json_t *id = json_object_get(o, "id");
    if (!json_is_string(id) || json_string_length(id) == 0 || json_string_length(id) > ID_MAX)
        return fail(why, whylen, "\"id\" must be a string of 1 to %d bytes", ID_MAX);
    for (const char *p = json_string_value(id); *p; p++)
        if ((unsigned char)*p < 0x20)
            return fail(why, whylen, "\"id\" holds a control character");
    json_t *listen = json_object_get(o, "listen");
    if (listen && (!json_is_string(listen) || json_string_length(listen) > 256))
        return fail(why, whylen, "\"listen\" must be a string of at most 256 bytes");
    int r = check_numbers(o, why, whylen);
    if (r != 0)
        return r;
    json_t *viewers = json_object_get(o, "viewers");
    if (viewers) {
        if (!json_is_object(viewers) || json_object_size(viewers) > VIEWER_STREAMS_MAX)
            return fail(why, whylen, "\"viewers\" must be an object of at most %d streams", VIEWER_STREAMS_MAX);
        const char *k;
        json_t *v;
        json_object_foreach(viewers, k, v) {
            if (!json_is_integer(v) || json_integer_value(v) < 0)
                return fail(why, whylen, "\"viewers\" of \"%.64s\" must be a whole number of at least 0", k);
        }
    }
    json_t *origins = json_object_get(o, "origins");
    if (origins) {
        if (!json_is_array(origins) || json_array_size(origins) > ORIGINS_MAX)
            return fail(why, whylen, "\"origins\" must be an array of at most %d objects", ORIGINS_MAX);
        size_t i;
        json_t *v;
        json_array_foreach(origins, i, v) {
            if (!json_is_object(v) || !json_is_string(json_object_get(v, "url")) ||
                !json_is_boolean(json_object_get(v, "up")))
                return fail(why, whylen, "\"origins\"[%zu] must be {\"url\": string, \"up\": boolean}", i);
        }
    }
    return 0;
}

static int64_t gone_after(const edge_t *d)
{
    int64_t g = 3 * d->interval_ms;
    return g < GONE_MIN_MS ? GONE_MIN_MS : g;
}

/* Drops the edges gone for longer than FORGET_MS. */
static void sweep(llhls_edges_t *e, int64_t now_ms)
{
    for (size_t i = 0; i < e->n;) {
        edge_t *d = &e->edges[i];
        if (now_ms - d->last_ms > gone_after(d) + FORGET_MS) {
            json_decref(d->report);
            *d = e->edges[--e->n];
            continue;
        }
        i++;
    }
}

int llhls_edges_report(llhls_edges_t *e, const char *body, size_t len, const char *peer, int64_t now_ms, char *why,
                       size_t whylen)
{
    if (len > LLHLS_EDGE_REPORT_MAX) {
        snprintf(why, whylen, "a report is at most %d bytes", LLHLS_EDGE_REPORT_MAX);
        return -LLHLS_ETOOBIG;
    }
    json_error_t jerr;
    json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (o == NULL)
        return fail(why, whylen, "not JSON: %s (line %d, column %d)", jerr.text, jerr.line, jerr.column);
    int r = check_report(o, why, whylen);
    if (r != 0) {
        json_decref(o);
        return r;
    }
    const char *id = json_string_value(json_object_get(o, "id"));
    json_t *iv = json_object_get(o, "interval_ms");
    pthread_mutex_lock(&e->lock);
    sweep(e, now_ms);
    edge_t *d = NULL;
    for (size_t i = 0; i < e->n && d == NULL; i++)
        if (strcmp(e->edges[i].id, id) == 0)
            d = &e->edges[i];
    if (d == NULL) {
        if (e->n == LLHLS_EDGES_MAX) {
            pthread_mutex_unlock(&e->lock);
            json_decref(o);
            snprintf(why, whylen, "already %d edges report here", LLHLS_EDGES_MAX);
            return -LLHLS_ETOOBIG;
        }
        d = &e->edges[e->n++];
        memset(d, 0, sizeof(*d));
        snprintf(d->id, sizeof(d->id), "%s", id);
    }
    json_decref(d->report);
    d->report = o;
    snprintf(d->address, sizeof(d->address), "%s", peer ? peer : "");
    d->last_ms = now_ms;
    d->interval_ms = iv ? (int64_t)json_number_value(iv) : 2000;
    pthread_mutex_unlock(&e->lock);
    return 0;
}

static int by_id(const void *a, const void *b)
{
    return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "id")),
                  json_string_value(json_object_get(*(json_t *const *)b, "id")));
}

json_t *llhls_edges_json(llhls_edges_t *e, int64_t now_ms)
{
    json_t *out = json_object(), *list = json_array();
    json_t *items[LLHLS_EDGES_MAX];
    size_t n = 0;
    double connections = 0, viewers = 0, egress = 0;
    int up = 0;
    pthread_mutex_lock(&e->lock);
    sweep(e, now_ms);
    for (size_t i = 0; i < e->n; i++) {
        edge_t *d = &e->edges[i];
        json_t *item = json_deep_copy(d->report);
        int gone = now_ms - d->last_ms > gone_after(d);
        json_object_set_new(item, "address", json_string(d->address));
        json_object_set_new(item, "last_report_ms", json_integer(d->last_ms));
        json_object_set_new(item, "age_s", json_real((double)(now_ms - d->last_ms) / 1000.0));
        json_object_set_new(item, "gone", json_boolean(gone));
        if (!gone) {
            up++;
            connections += json_number_value(json_object_get(d->report, "connections"));
            egress += json_number_value(json_object_get(d->report, "egress_bps"));
            const char *k;
            json_t *v;
            json_object_foreach(json_object_get(d->report, "viewers"), k, v)
                viewers += (double)json_integer_value(v);
        }
        items[n++] = item;
    }
    pthread_mutex_unlock(&e->lock);
    qsort(items, n, sizeof(items[0]), by_id);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, items[i]);
    json_object_set_new(out, "now_ms", json_integer(now_ms));
    json_object_set_new(out, "edges", list);
    json_t *total = json_object();
    json_object_set_new(total, "edges_up", json_integer(up));
    json_object_set_new(total, "connections", json_integer((json_int_t)connections));
    json_object_set_new(total, "viewers", json_integer((json_int_t)viewers));
    json_object_set_new(total, "egress_bps", json_real(egress));
    json_object_set_new(out, "total", total);
    return out;
}
