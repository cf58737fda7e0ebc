/* The part store: one LMDB environment holding stream records, segment
 * records, part bytes and init sections in named databases whose keys
 * sort by stream, track and sequence number, so that a cursor walks a track in
 * playlist order.  Readers get pointers straight into the map; the single
 * writer evicts the oldest segments when the map fills.  docs/store.md
 * explains the layout and the durability choice. */
#include "store.h"

#include "error.h"
#include "log.h"

#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TAG "store"

#define SEGMENT_VERSION 1
/* Version 1 stored the window in microseconds; version 2 stores it in
 * milliseconds and adds a flags byte (bit 0: recording).  A version 2
 * record may end with the publisher's address and when it connected. */
#define STREAM_VERSION 2
#define STREAM_VERSION_US 1
#define SEGMENT_HEAD 32 /* fixed part of a segment record, before its part entries */
#define PART_ENTRY 9    /* duration_us, size, independent */
#define SEGMENT_MAX (SEGMENT_HEAD + PART_ENTRY * LLHLS_MAX_PARTS)
#define STREAM_MAX (8 + LLHLS_NAME_MAX + 29 + LLHLS_TRACKS * (2 + LLHLS_CODEC_MAX + 32) + 1 + LLHLS_PEER_MAX + 8)

/* name, NUL, track byte, then up to 12 bytes of big-endian numbers. */
#define KEY_MAX (LLHLS_NAME_MAX + 2 + 12)

/* Attempts of one write before giving up with -LLHLS_EMAPFULL.  Pages freed by
 * an eviction become reusable only a transaction or two later, so a write may
 * need more than one round. */
#define WRITE_ATTEMPTS 8

/* Generous: every HTTP connection may hold a read transaction. */
#define MAX_READERS 4096

struct llhls_store {
    MDB_env *env;
    MDB_dbi main, streams, segments, parts, inits, meta;
    size_t map_size;
};

struct llhls_wtxn {
    llhls_store_t *store;
    MDB_txn *txn;
    int err; /* sticky: the first failure, returned by every later call */
};

struct llhls_rtxn {
    llhls_store_t *store;
    MDB_txn *txn;
};

typedef struct key {
    unsigned char b[KEY_MAX];
    size_t prefix; /* bytes of name, NUL and track */
    size_t len;
} dbkey_t;

/* ---- bytes ---- */

static void put_be(unsigned char *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static uint64_t get_be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static unsigned char *put_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++, v >>= 8)
        p[i] = (unsigned char)v;
    return p + n;
}

static uint64_t get_le(const unsigned char **p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | (*p)[i];
    *p += n;
    return v;
}

/* ---- errors ---- */

static int lmdb_error(int rc, const char *what)
{
    if (rc == 0)
        return 0;
    if (rc == MDB_NOTFOUND)
        return -LLHLS_ENOTFOUND;
    /* Not logged: the writer evicts and retries, and says so then. */
    if (rc == MDB_MAP_FULL)
        return -LLHLS_EMAPFULL;
    LLHLS_ERROR(TAG, "%s: %s", what, mdb_strerror(rc));
    return -LLHLS_ESTORE;
}

/* ---- keys ---- */

static int stream_prefix(dbkey_t *k, const char *stream, int track)
{
    if (stream == NULL || track < 0 || track >= LLHLS_TRACKS)
        return -LLHLS_EINVAL;
    size_t n = strnlen(stream, LLHLS_NAME_MAX);
    if (n == 0 || n >= LLHLS_NAME_MAX)
        return -LLHLS_EINVAL;
    memcpy(k->b, stream, n);
    k->b[n] = 0;
    k->b[n + 1] = (unsigned char)track;
    k->prefix = k->len = n + 2;
    return 0;
}

static void key_add(dbkey_t *k, uint64_t v, int n)
{
    put_be(k->b + k->len, v, n);
    k->len += n;
}

static int key_make(dbkey_t *k, const char *stream, int track, uint64_t a, int an, uint32_t b, int bn)
{
    int rc = stream_prefix(k, stream, track);
    if (rc < 0)
        return rc;
    if (an)
        key_add(k, a, an);
    if (bn)
        key_add(k, b, bn);
    return 0;
}

static int has_prefix(const MDB_val *v, const unsigned char *prefix, size_t n)
{
    return v->mv_size >= n && memcmp(v->mv_data, prefix, n) == 0;
}

static MDB_val val_of(const dbkey_t *k)
{
    MDB_val v = {k->len, (void *)k->b};
    return v;
}

/* ---- records ---- */

static size_t segment_encode(unsigned char *out, const llhls_segment_t *seg)
{
    unsigned char *p = out;
    *p++ = SEGMENT_VERSION;
    *p++ = (unsigned char)((seg->discontinuity ? 1 : 0) | (seg->complete ? 2 : 0));
    p = put_le(p, seg->nparts, 2);
    p = put_le(p, seg->msn, 8);
    p = put_le(p, (uint64_t)seg->pdt_ms, 8);
    p = put_le(p, seg->duration_us, 4);
    p = put_le(p, seg->init_id, 4);
    p = put_le(p, seg->disc_seq, 4);
    for (unsigned i = 0; i < seg->nparts; i++) {
        p = put_le(p, seg->parts[i].duration_us, 4);
        p = put_le(p, seg->parts[i].size, 4);
        *p++ = seg->parts[i].independent;
    }
    return (size_t)(p - out);
}

static int segment_decode(const MDB_val *v, llhls_segment_t *seg)
{
    const unsigned char *p = v->mv_data;
    if (v->mv_size < SEGMENT_HEAD || p[0] != SEGMENT_VERSION)
        goto bad;
    memset(seg, 0, sizeof(*seg));
    seg->discontinuity = p[1] & 1;
    seg->complete = (p[1] >> 1) & 1;
    p += 2;
    seg->nparts = (uint16_t)get_le(&p, 2);
    if (seg->nparts > LLHLS_MAX_PARTS || v->mv_size != SEGMENT_HEAD + (size_t)seg->nparts * PART_ENTRY)
        goto bad;
    seg->msn = get_le(&p, 8);
    seg->pdt_ms = (int64_t)get_le(&p, 8);
    seg->duration_us = (uint32_t)get_le(&p, 4);
    seg->init_id = (uint32_t)get_le(&p, 4);
    seg->disc_seq = (uint32_t)get_le(&p, 4);
    for (unsigned i = 0; i < seg->nparts; i++) {
        seg->parts[i].duration_us = (uint32_t)get_le(&p, 4);
        seg->parts[i].size = (uint32_t)get_le(&p, 4);
        seg->parts[i].independent = *p++;
    }
    return 0;
bad:
    LLHLS_ERROR(TAG, "malformed segment record (%zu bytes)", v->mv_size);
    return -LLHLS_ESTORE;
}

static unsigned char *put_str(unsigned char *p, const char *s, size_t max)
{
    size_t n = strnlen(s, max - 1);
    *p++ = (unsigned char)n;
    memcpy(p, s, n);
    return p + n;
}

static int get_str(const unsigned char **p, const unsigned char *end, char *out, size_t max)
{
    if (*p >= end)
        return -1;
    size_t n = **p;
    if (n >= max || (size_t)(end - *p) < n + 1)
        return -1;
    memcpy(out, *p + 1, n);
    out[n] = 0;
    *p += n + 1;
    return 0;
}

static size_t stream_encode(unsigned char *out, const llhls_stream_info_t *info)
{
    unsigned char *p = out;
    *p++ = STREAM_VERSION;
    *p++ = info->state;
    p = put_str(p, info->name, LLHLS_NAME_MAX);
    p = put_le(p, info->segment_target_us, 4);
    p = put_le(p, info->part_target_us, 4);
    p = put_le(p, info->window_ms, 4);
    p = put_le(p, (uint64_t)info->started_ms, 8);
    p = put_le(p, (uint64_t)info->updated_ms, 8);
    *p++ = info->record ? 1 : 0;
    for (int i = 0; i < LLHLS_TRACKS; i++) {
        const llhls_track_info_t *ti = &info->tracks[i];
        *p++ = ti->present;
        p = put_str(p, ti->codec, LLHLS_CODEC_MAX);
        p = put_le(p, ti->width, 4);
        p = put_le(p, ti->height, 4);
        p = put_le(p, ti->frame_rate_milli, 4);
        p = put_le(p, ti->sample_rate, 4);
        p = put_le(p, ti->channels, 4);
        p = put_le(p, ti->bandwidth_peak, 4);
        p = put_le(p, ti->bandwidth_avg, 4);
        p = put_le(p, ti->init_id, 4);
    }
    p = put_str(p, info->publisher, LLHLS_PEER_MAX);
    p = put_le(p, (uint64_t)info->published_ms, 8);
    return (size_t)(p - out);
}

static int stream_decode(const MDB_val *v, llhls_stream_info_t *info)
{
    const unsigned char *p = v->mv_data, *end = p + v->mv_size;
    memset(info, 0, sizeof(*info));
    if (v->mv_size < 2 || (p[0] != STREAM_VERSION && p[0] != STREAM_VERSION_US))
        goto bad;
    int version = p[0];
    info->state = p[1];
    p += 2;
    if (get_str(&p, end, info->name, LLHLS_NAME_MAX) < 0 || end - p < (version == STREAM_VERSION ? 29 : 28))
        goto bad;
    info->segment_target_us = (uint32_t)get_le(&p, 4);
    info->part_target_us = (uint32_t)get_le(&p, 4);
    uint32_t window = (uint32_t)get_le(&p, 4);
    /* A record written before windows were counted in milliseconds. */
    info->window_ms = version == STREAM_VERSION ? window : window / 1000;
    info->started_ms = (int64_t)get_le(&p, 8);
    info->updated_ms = (int64_t)get_le(&p, 8);
    if (version == STREAM_VERSION)
        info->record = *p++ & 1;
    for (int i = 0; i < LLHLS_TRACKS; i++) {
        llhls_track_info_t *ti = &info->tracks[i];
        if (p >= end)
            goto bad;
        ti->present = *p++;
        if (get_str(&p, end, ti->codec, LLHLS_CODEC_MAX) < 0 || end - p < 32)
            goto bad;
        ti->width = (uint32_t)get_le(&p, 4);
        ti->height = (uint32_t)get_le(&p, 4);
        ti->frame_rate_milli = (uint32_t)get_le(&p, 4);
        ti->sample_rate = (uint32_t)get_le(&p, 4);
        ti->channels = (uint32_t)get_le(&p, 4);
        ti->bandwidth_peak = (uint32_t)get_le(&p, 4);
        ti->bandwidth_avg = (uint32_t)get_le(&p, 4);
        ti->init_id = (uint32_t)get_le(&p, 4);
    }
    if (version == STREAM_VERSION && p < end) {
        if (get_str(&p, end, info->publisher, LLHLS_PEER_MAX) < 0 || end - p < 8)
            goto bad;
        info->published_ms = (int64_t)get_le(&p, 8);
    }
    return 0;
bad:
    LLHLS_ERROR(TAG, "malformed stream record (%zu bytes)", v->mv_size);
    return -LLHLS_ESTORE;
}

/* ---- open, close ---- */

static int open_dbs(llhls_store_t *s)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc != 0)
        return lmdb_error(rc, "begin");
    if ((rc = mdb_dbi_open(txn, NULL, 0, &s->main)) != 0 ||
        (rc = mdb_dbi_open(txn, "streams", MDB_CREATE, &s->streams)) != 0 ||
        (rc = mdb_dbi_open(txn, "segments", MDB_CREATE, &s->segments)) != 0 ||
        (rc = mdb_dbi_open(txn, "parts", MDB_CREATE, &s->parts)) != 0 ||
        (rc = mdb_dbi_open(txn, "inits", MDB_CREATE, &s->inits)) != 0 ||
        (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta)) != 0) {
        mdb_txn_abort(txn);
        return lmdb_error(rc, "open databases");
    }
    return lmdb_error(mdb_txn_commit(txn), "commit");
}

int llhls_store_open(llhls_store_t **out, const char *dir, size_t map_size)
{
    *out = NULL;
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        LLHLS_ERROR(TAG, "cannot create %s: %s", dir, strerror(errno));
        return -LLHLS_EIO;
    }
    llhls_store_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -LLHLS_ENOMEM;
    int rc = mdb_env_create(&s->env);
    if (rc != 0) {
        free(s);
        return lmdb_error(rc, "create environment");
    }
    if ((rc = mdb_env_set_maxdbs(s->env, 8)) != 0 || (rc = mdb_env_set_maxreaders(s->env, MAX_READERS)) != 0 ||
        (map_size > 0 && (rc = mdb_env_set_mapsize(s->env, map_size)) != 0)) {
        rc = lmdb_error(rc, "configure environment");
        goto fail;
    }
    /* MDB_NOTLS: HTTP threads hand read transactions between connections.
     * MDB_NOMETASYNC: one fdatasync per commit instead of two; an OS crash
     * may undo the last commit but never corrupts the file. */
    rc = mdb_env_open(s->env, dir, MDB_NOTLS | MDB_NOMETASYNC, 0644);
    if (rc != 0) {
        LLHLS_ERROR(TAG, "cannot open store in %s: %s", dir, mdb_strerror(rc));
        rc = -LLHLS_ESTORE;
        goto fail;
    }
    /* A crashed process leaves its reader slots behind; they would pin old
     * pages forever and defeat eviction. */
    int dead = 0;
    mdb_reader_check(s->env, &dead);
    MDB_envinfo ei;
    mdb_env_info(s->env, &ei);
    s->map_size = ei.me_mapsize;
    if ((rc = open_dbs(s)) < 0)
        goto fail;
    *out = s;
    return 0;
fail:
    mdb_env_close(s->env);
    free(s);
    return rc;
}

int llhls_store_open_readonly(llhls_store_t **out, const char *dir)
{
    *out = NULL;
    char path[4096];
    struct stat sb;
    /* LMDB would create a fresh data file in an empty directory; a reader
     * must not, and must say the store is missing instead. */
    if ((size_t)snprintf(path, sizeof(path), "%s/data.mdb", dir) >= sizeof(path))
        return -LLHLS_EINVAL;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return -LLHLS_ENOTFOUND;
    llhls_store_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -LLHLS_ENOMEM;
    int rc = mdb_env_create(&s->env);
    if (rc != 0) {
        free(s);
        return lmdb_error(rc, "create environment");
    }
    MDB_txn *txn = NULL;
    if ((rc = mdb_env_set_maxdbs(s->env, 8)) != 0) {
        rc = lmdb_error(rc, "configure environment");
        goto fail;
    }
    if ((rc = mdb_env_open(s->env, dir, MDB_RDONLY | MDB_NOTLS, 0644)) != 0) {
        LLHLS_ERROR(TAG, "cannot open store in %s: %s", dir, mdb_strerror(rc));
        rc = -LLHLS_ESTORE;
        goto fail;
    }
    MDB_envinfo ei;
    mdb_env_info(s->env, &ei);
    s->map_size = ei.me_mapsize;
    if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0) {
        rc = lmdb_error(rc, "begin read");
        goto fail;
    }
    /* A store no origin ever wrote to lacks the named databases. */
    if ((rc = mdb_dbi_open(txn, NULL, 0, &s->main)) != 0 || (rc = mdb_dbi_open(txn, "streams", 0, &s->streams)) != 0 ||
        (rc = mdb_dbi_open(txn, "segments", 0, &s->segments)) != 0 ||
        (rc = mdb_dbi_open(txn, "parts", 0, &s->parts)) != 0 || (rc = mdb_dbi_open(txn, "inits", 0, &s->inits)) != 0 ||
        (rc = mdb_dbi_open(txn, "meta", 0, &s->meta)) != 0) {
        mdb_txn_abort(txn);
        rc = rc == MDB_NOTFOUND ? -LLHLS_ENOTFOUND : lmdb_error(rc, "open databases");
        goto fail;
    }
    if ((rc = mdb_txn_commit(txn)) != 0) {
        rc = lmdb_error(rc, "commit");
        goto fail;
    }
    *out = s;
    return 0;
fail:
    mdb_env_close(s->env);
    free(s);
    return rc;
}

void llhls_store_close(llhls_store_t *s)
{
    if (s == NULL)
        return;
    mdb_env_close(s->env);
    free(s);
}

/* ---- writing ---- */

static int sticky(llhls_wtxn_t *t, int rc)
{
    if (rc < 0 && t->err == 0)
        t->err = rc;
    return rc;
}

/* Copy-on-write needs room for the old and the new pages of a value at once,
 * so a value over half the map could never be stored however much is evicted.
 * Refusing it up front keeps eviction from emptying the store for nothing. */
static int check_size(llhls_wtxn_t *t, size_t len)
{
    if (len > t->store->map_size / 2) {
        LLHLS_ERROR(TAG, "value of %zu bytes cannot fit a map of %zu bytes", len, t->store->map_size);
        return -LLHLS_ETOOBIG;
    }
    return 0;
}

static int put(llhls_wtxn_t *t, MDB_dbi dbi, const dbkey_t *k, const void *bytes, size_t len)
{
    MDB_val kv = val_of(k), dv = {len, (void *)bytes};
    return lmdb_error(mdb_put(t->txn, dbi, &kv, &dv, 0), "put");
}

int llhls_wtxn_put_stream(llhls_wtxn_t *t, const llhls_stream_info_t *info)
{
    if (t->err)
        return t->err;
    size_t n = strnlen(info->name, LLHLS_NAME_MAX);
    if (n == 0 || n >= LLHLS_NAME_MAX)
        return sticky(t, -LLHLS_EINVAL);
    unsigned char buf[STREAM_MAX];
    size_t len = stream_encode(buf, info);
    MDB_val kv = {n, (void *)info->name}, dv = {len, buf};
    return sticky(t, lmdb_error(mdb_put(t->txn, t->store->streams, &kv, &dv, 0), "put stream"));
}

int llhls_wtxn_put_init(llhls_wtxn_t *t, const char *stream, int track, uint32_t init_id, const void *bytes, size_t len)
{
    if (t->err)
        return t->err;
    dbkey_t k;
    int rc = key_make(&k, stream, track, init_id, 4, 0, 0);
    if (rc == 0)
        rc = check_size(t, len);
    if (rc == 0)
        rc = put(t, t->store->inits, &k, bytes, len);
    return sticky(t, rc);
}

int llhls_wtxn_put_segment(llhls_wtxn_t *t, const char *stream, int track, const llhls_segment_t *seg)
{
    if (t->err)
        return t->err;
    if (seg->nparts > LLHLS_MAX_PARTS)
        return sticky(t, -LLHLS_EINVAL);
    dbkey_t k;
    int rc = key_make(&k, stream, track, seg->msn, 8, 0, 0);
    if (rc == 0) {
        unsigned char buf[SEGMENT_MAX];
        rc = put(t, t->store->segments, &k, buf, segment_encode(buf, seg));
    }
    return sticky(t, rc);
}

int llhls_wtxn_put_part(llhls_wtxn_t *t, const char *stream, int track, const llhls_segment_t *seg, uint32_t index,
                        const void *bytes, size_t len)
{
    if (t->err)
        return t->err;
    if (seg->nparts > LLHLS_MAX_PARTS || index >= seg->nparts)
        return sticky(t, -LLHLS_EINVAL);
    dbkey_t k;
    int rc = key_make(&k, stream, track, seg->msn, 8, index, 4);
    if (rc == 0)
        rc = check_size(t, len);
    if (rc == 0)
        rc = put(t, t->store->parts, &k, bytes, len);
    if (rc < 0)
        return sticky(t, rc);
    return llhls_wtxn_put_segment(t, stream, track, seg);
}

typedef struct evicted {
    size_t segments, parts, inits, bytes;
} evicted_t;

/* Deletes the keys of dbi that start with prefix and sort before limit (all of
 * them when limit is NULL).  Seeking afresh after each delete keeps the walk
 * independent of where LMDB leaves a cursor after mdb_cursor_del; the range
 * always starts at the prefix since everything before the limit goes. */
static int delete_range(MDB_txn *txn, MDB_dbi dbi, const dbkey_t *prefix, const dbkey_t *limit, size_t *count,
                        size_t *bytes)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, dbi, &c);
    if (rc != 0)
        return lmdb_error(rc, "cursor");
    MDB_val kv = {prefix->prefix, (void *)prefix->b}, dv;
    rc = mdb_cursor_get(c, &kv, &dv, MDB_SET_RANGE);
    while (rc == 0 && has_prefix(&kv, prefix->b, prefix->prefix)) {
        if (limit != NULL) {
            size_t n = kv.mv_size < limit->len ? kv.mv_size : limit->len;
            int cmp = memcmp(kv.mv_data, limit->b, n);
            if (cmp > 0 || (cmp == 0 && kv.mv_size >= limit->len))
                break;
        }
        if (bytes != NULL)
            *bytes += dv.mv_size;
        if ((rc = mdb_cursor_del(c, 0)) != 0)
            break;
        (*count)++;
        kv.mv_size = prefix->prefix;
        kv.mv_data = (void *)prefix->b;
        rc = mdb_cursor_get(c, &kv, &dv, MDB_SET_RANGE);
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : lmdb_error(rc, "delete");
}

static int evict_track(llhls_wtxn_t *t, const char *stream, int track, uint64_t before, evicted_t *ev)
{
    llhls_store_t *s = t->store;
    dbkey_t prefix, limit;
    int rc = key_make(&limit, stream, track, before, 8, 0, 0);
    if (rc < 0)
        return rc;
    prefix = limit;
    prefix.len = prefix.prefix;
    if ((rc = delete_range(t->txn, s->segments, &prefix, &limit, &ev->segments, NULL)) < 0)
        return rc;
    if ((rc = delete_range(t->txn, s->parts, &prefix, &limit, &ev->parts, &ev->bytes)) < 0)
        return rc;

    /* Init sections older than the oldest remaining segment's are stale.  With
     * no segment left, the stream's current init section is kept: the
     * packager writes it once per codec configuration, not once per segment. */
    uint32_t keep_from = 0;
    MDB_cursor *c;
    if ((rc = mdb_cursor_open(t->txn, s->segments, &c)) != 0)
        return lmdb_error(rc, "cursor");
    MDB_val kv = {prefix.prefix, prefix.b}, dv;
    rc = mdb_cursor_get(c, &kv, &dv, MDB_SET_RANGE);
    if (rc == 0 && has_prefix(&kv, prefix.b, prefix.prefix)) {
        /* An unreadable record keeps every init section rather than stop
         * the eviction that frees the map. */
        llhls_segment_t *seg = malloc(sizeof(*seg));
        rc = seg == NULL ? -LLHLS_ENOMEM : 0;
        if (seg != NULL && segment_decode(&dv, seg) == 0)
            keep_from = seg->init_id;
        free(seg);
    } else if (rc == 0 || rc == MDB_NOTFOUND) {
        MDB_val sk = {strlen(stream), (void *)stream};
        llhls_stream_info_t info;
        rc = mdb_get(t->txn, s->streams, &sk, &dv);
        if (rc != 0)
            rc = rc == MDB_NOTFOUND ? 0 : lmdb_error(rc, "get stream");
        else if ((rc = stream_decode(&dv, &info)) == 0)
            keep_from = info.tracks[track].init_id;
    } else {
        rc = lmdb_error(rc, "read segments");
    }
    mdb_cursor_close(c);
    if (rc < 0)
        return rc;
    if (keep_from == 0)
        return 0;
    key_make(&limit, stream, track, keep_from, 4, 0, 0);
    return delete_range(t->txn, s->inits, &prefix, &limit, &ev->inits, NULL);
}

int llhls_wtxn_evict_before(llhls_wtxn_t *t, const char *stream, int track, uint64_t before)
{
    if (t->err)
        return t->err;
    evicted_t ev = {0, 0, 0, 0};
    return sticky(t, evict_track(t, stream, track, before, &ev));
}

int llhls_wtxn_delete_stream(llhls_wtxn_t *t, const char *stream)
{
    if (t->err)
        return t->err;
    dbkey_t prefix;
    int rc = stream_prefix(&prefix, stream, 0);
    if (rc < 0)
        return sticky(t, rc);
    /* "name\0" covers every track of the stream and nothing else. */
    prefix.prefix = prefix.len = prefix.prefix - 1;
    size_t n = 0;
    llhls_store_t *s = t->store;
    MDB_dbi dbis[3] = {s->segments, s->parts, s->inits};
    for (int i = 0; i < 3 && rc == 0; i++)
        rc = delete_range(t->txn, dbis[i], &prefix, NULL, &n, NULL);
    if (rc == 0) {
        MDB_val kv = {strlen(stream), (void *)stream};
        rc = mdb_del(t->txn, s->streams, &kv, NULL);
        rc = rc == MDB_NOTFOUND ? 0 : lmdb_error(rc, "delete stream");
    }
    return sticky(t, rc);
}

/* One (stream, track) with segments, and where its oldest quarter ends. */
typedef struct group {
    char stream[LLHLS_NAME_MAX];
    int track;
    size_t count;
    uint64_t before;
} group_t;

static int collect_groups(MDB_txn *txn, MDB_dbi dbi, group_t **out, size_t *n)
{
    group_t *g = NULL;
    size_t cap = 0;
    *n = 0;
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, dbi, &c);
    if (rc != 0)
        return lmdb_error(rc, "cursor");
    MDB_val kv, dv;
    for (rc = mdb_cursor_get(c, &kv, &dv, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &kv, &dv, MDB_NEXT)) {
        const unsigned char *k = kv.mv_data;
        size_t nl = strnlen((const char *)k, kv.mv_size);
        if (nl == 0 || nl >= LLHLS_NAME_MAX || kv.mv_size != nl + 10)
            continue;
        if (*n == 0 || g[*n - 1].track != k[nl + 1] || strlen(g[*n - 1].stream) != nl ||
            memcmp(g[*n - 1].stream, k, nl) != 0) {
            if (*n == cap) {
                cap = cap ? cap * 2 : 16;
                group_t *ng = realloc(g, cap * sizeof(*g));
                if (ng == NULL) {
                    free(g);
                    mdb_cursor_close(c);
                    return -LLHLS_ENOMEM;
                }
                g = ng;
            }
            memcpy(g[*n].stream, k, nl);
            g[*n].stream[nl] = 0;
            g[*n].track = k[nl + 1];
            g[*n].count = 0;
            (*n)++;
        }
        group_t *cur = &g[*n - 1];
        cur->count++;
        /* The newest msn so far: the cut when every segment must go. */
        cur->before = get_be(k + nl + 2, 8);
    }
    mdb_cursor_close(c);
    if (rc != MDB_NOTFOUND) {
        free(g);
        return lmdb_error(rc, "scan segments");
    }
    *out = g;
    return 0;
}

/* Finds, for each group, the msn of its first segment to keep. */
static int find_cuts(MDB_txn *txn, MDB_dbi dbi, group_t *g, size_t n)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, dbi, &c);
    if (rc != 0)
        return lmdb_error(rc, "cursor");
    for (size_t i = 0; i < n; i++) {
        size_t drop = g[i].count / 4 ? g[i].count / 4 : 1;
        if (drop >= g[i].count) {
            g[i].before++; /* past the newest: all of them */
            continue;
        }
        dbkey_t k;
        stream_prefix(&k, g[i].stream, g[i].track);
        MDB_val kv = val_of(&k), dv;
        rc = mdb_cursor_get(c, &kv, &dv, MDB_SET_RANGE);
        for (size_t j = 0; j < drop && rc == 0; j++)
            rc = mdb_cursor_get(c, &kv, &dv, MDB_NEXT);
        if (rc == 0 && has_prefix(&kv, k.b, k.prefix) && kv.mv_size == k.prefix + 8) {
            g[i].before = get_be((const unsigned char *)kv.mv_data + k.prefix, 8);
        } else if (rc == 0 || rc == MDB_NOTFOUND) {
            g[i].before = 0; /* the tree changed under the count: drop nothing */
            rc = 0;
        } else {
            break;
        }
    }
    mdb_cursor_close(c);
    return lmdb_error(rc, "scan segments");
}

/* Drops the oldest quarter (at least one) of the segments of every track of
 * every stream, in a transaction of its own. */
static int evict_quarter(llhls_store_t *s, evicted_t *ev)
{
    llhls_wtxn_t t = {s, NULL, 0};
    group_t *g = NULL;
    size_t n = 0;
    int rc = mdb_txn_begin(s->env, NULL, 0, &t.txn);
    if (rc != 0)
        return lmdb_error(rc, "begin");
    if ((rc = collect_groups(t.txn, s->segments, &g, &n)) < 0)
        goto out;
    if ((rc = find_cuts(t.txn, s->segments, g, n)) < 0)
        goto out;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = evict_track(&t, g[i].stream, g[i].track, g[i].before, ev);
out:
    free(g);
    if (rc < 0) {
        mdb_txn_abort(t.txn);
        return rc;
    }
    rc = lmdb_error(mdb_txn_commit(t.txn), "commit eviction");
    if (rc == 0)
        LLHLS_WARN(TAG, "store full: evicted %zu segments, %zu parts (%zu bytes), %zu init sections from %zu tracks",
                   ev->segments, ev->parts, ev->bytes, ev->inits, n);
    return rc;
}

/* LMDB reuses a page only two commits after the one that freed it: the
 * previous snapshot must survive an OS crash that loses the newest meta page.
 * Rather than evict a second time to get there, commit a one-key change (the
 * count of evictions, kept for the record) so the retry can use what the
 * eviction freed.  Failure here is harmless: the retry then evicts again. */
static void advance_past_eviction(llhls_store_t *s)
{
    MDB_txn *txn;
    if (mdb_txn_begin(s->env, NULL, 0, &txn) != 0)
        return;
    static const char name[] = "evictions";
    MDB_val kv = {sizeof(name) - 1, (void *)name}, dv;
    uint64_t count = 0;
    if (mdb_get(txn, s->meta, &kv, &dv) == 0 && dv.mv_size == 8) {
        const unsigned char *p = dv.mv_data;
        count = get_le(&p, 8);
    }
    unsigned char buf[8];
    put_le(buf, count + 1, 8);
    dv.mv_size = sizeof(buf);
    dv.mv_data = buf;
    if (mdb_put(txn, s->meta, &kv, &dv, 0) != 0)
        mdb_txn_abort(txn);
    else
        mdb_txn_commit(txn); /* frees txn whatever the outcome */
}

static int write_once(llhls_store_t *s, llhls_store_write_cb fn, void *ctx)
{
    llhls_wtxn_t t = {s, NULL, 0};
    int rc = mdb_txn_begin(s->env, NULL, 0, &t.txn);
    if (rc != 0)
        return lmdb_error(rc, "begin");
    rc = fn(&t, ctx);
    /* A full map wins over whatever fn made of it: it is the one failure a
     * retry can fix. */
    if (t.err == -LLHLS_EMAPFULL)
        rc = t.err;
    else if (rc == 0)
        rc = t.err;
    if (rc != 0) {
        mdb_txn_abort(t.txn);
        return rc;
    }
    return lmdb_error(mdb_txn_commit(t.txn), "commit");
}

int llhls_store_write(llhls_store_t *s, llhls_store_write_cb fn, void *ctx)
{
    for (int attempt = 1;; attempt++) {
        int rc = write_once(s, fn, ctx);
        if (rc != -LLHLS_EMAPFULL)
            return rc;
        if (attempt == WRITE_ATTEMPTS)
            break;
        evicted_t ev = {0, 0, 0, 0};
        if ((rc = evict_quarter(s, &ev)) < 0)
            return rc;
        if (ev.segments == 0 && ev.parts == 0 && ev.inits == 0)
            break; /* nothing left to drop */
        advance_past_eviction(s);
    }
    LLHLS_ERROR(TAG, "store full: a write failed after evicting");
    return -LLHLS_EMAPFULL;
}

/* ---- reading ---- */

int llhls_store_read_begin(llhls_store_t *s, llhls_rtxn_t **out)
{
    *out = NULL;
    llhls_rtxn_t *r = malloc(sizeof(*r));
    if (r == NULL)
        return -LLHLS_ENOMEM;
    r->store = s;
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &r->txn);
    if (rc != 0) {
        free(r);
        return lmdb_error(rc, "begin read");
    }
    *out = r;
    return 0;
}

void llhls_store_read_end(llhls_rtxn_t *r)
{
    if (r == NULL)
        return;
    mdb_txn_abort(r->txn);
    free(r);
}

int llhls_rtxn_get_stream(llhls_rtxn_t *r, const char *stream, llhls_stream_info_t *out)
{
    size_t n = strnlen(stream, LLHLS_NAME_MAX);
    if (n == 0 || n >= LLHLS_NAME_MAX)
        return -LLHLS_ENOTFOUND;
    MDB_val kv = {n, (void *)stream}, dv;
    int rc = mdb_get(r->txn, r->store->streams, &kv, &dv);
    if (rc != 0)
        return lmdb_error(rc, "get stream");
    return stream_decode(&dv, out);
}

int llhls_rtxn_each_stream(llhls_rtxn_t *r, int (*fn)(const llhls_stream_info_t *info, void *ctx), void *ctx)
{
    return llhls_rtxn_each_stream_from(r, "", fn, ctx);
}

int llhls_rtxn_each_stream_from(llhls_rtxn_t *r, const char *from,
                                int (*fn)(const llhls_stream_info_t *info, void *ctx), void *ctx)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(r->txn, r->store->streams, &c);
    if (rc != 0)
        return lmdb_error(rc, "cursor");
    llhls_stream_info_t info;
    MDB_val kv = {strnlen(from, LLHLS_NAME_MAX), (void *)from}, dv;
    int ret = 0;
    rc = mdb_cursor_get(c, &kv, &dv, kv.mv_size ? MDB_SET_RANGE : MDB_FIRST);
    for (; rc == 0 && ret == 0; rc = mdb_cursor_get(c, &kv, &dv, MDB_NEXT)) {
        if ((ret = stream_decode(&dv, &info)) < 0)
            break;
        ret = fn(&info, ctx);
    }
    mdb_cursor_close(c);
    if (ret != 0)
        return ret;
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : lmdb_error(rc, "scan streams");
}

int llhls_rtxn_get_segments(llhls_rtxn_t *r, const char *stream, int track, uint64_t from_msn, llhls_segment_t **out,
                            size_t *n)
{
    *out = NULL;
    *n = 0;
    dbkey_t k;
    if (key_make(&k, stream, track, from_msn, 8, 0, 0) < 0)
        return 0;
    MDB_cursor *c;
    int rc = mdb_cursor_open(r->txn, r->store->segments, &c);
    if (rc != 0)
        return lmdb_error(rc, "cursor");
    llhls_segment_t *segs = NULL;
    size_t cap = 0, cnt = 0;
    int err = 0;
    MDB_val kv = val_of(&k), dv;
    for (rc = mdb_cursor_get(c, &kv, &dv, MDB_SET_RANGE); rc == 0 && has_prefix(&kv, k.b, k.prefix);
         rc = mdb_cursor_get(c, &kv, &dv, MDB_NEXT)) {
        if (cnt == cap) {
            cap = cap ? cap * 2 : 8;
            llhls_segment_t *ns = realloc(segs, cap * sizeof(*segs));
            if (ns == NULL) {
                err = -LLHLS_ENOMEM;
                break;
            }
            segs = ns;
        }
        if ((err = segment_decode(&dv, &segs[cnt])) < 0)
            break;
        cnt++;
    }
    mdb_cursor_close(c);
    if (err == 0 && rc != 0 && rc != MDB_NOTFOUND)
        err = lmdb_error(rc, "scan segments");
    if (err < 0) {
        free(segs);
        return err;
    }
    *out = segs;
    *n = cnt;
    return 0;
}

int llhls_rtxn_get_last_segment(llhls_rtxn_t *r, const char *stream, int track, llhls_segment_t *out)
{
    dbkey_t k;
    if (stream_prefix(&k, stream, track) < 0)
        return -LLHLS_ENOTFOUND;
    /* Seek to the first key of the next track and step back once. */
    dbkey_t next = k;
    next.b[next.prefix - 1]++;
    MDB_cursor *c;
    int rc = mdb_cursor_open(r->txn, r->store->segments, &c);
    if (rc != 0)
        return lmdb_error(rc, "cursor");
    MDB_val kv = val_of(&next), dv;
    rc = mdb_cursor_get(c, &kv, &dv, MDB_SET_RANGE);
    if (rc == 0)
        rc = mdb_cursor_get(c, &kv, &dv, MDB_PREV);
    else if (rc == MDB_NOTFOUND)
        rc = mdb_cursor_get(c, &kv, &dv, MDB_LAST);
    if (rc == 0 && !has_prefix(&kv, k.b, k.prefix))
        rc = MDB_NOTFOUND;
    if (rc == 0)
        rc = segment_decode(&dv, out);
    else
        rc = lmdb_error(rc, "last segment");
    mdb_cursor_close(c);
    return rc;
}

int llhls_rtxn_get_next_segment(llhls_rtxn_t *r, const char *stream, int track, uint64_t from_msn,
                                llhls_segment_t *out)
{
    dbkey_t k;
    if (key_make(&k, stream, track, from_msn, 8, 0, 0) < 0)
        return -LLHLS_ENOTFOUND;
    MDB_cursor *c;
    int rc = mdb_cursor_open(r->txn, r->store->segments, &c);
    if (rc != 0)
        return lmdb_error(rc, "cursor");
    MDB_val kv = val_of(&k), dv;
    rc = mdb_cursor_get(c, &kv, &dv, MDB_SET_RANGE);
    if (rc == 0 && !has_prefix(&kv, k.b, k.prefix))
        rc = MDB_NOTFOUND;
    if (rc == 0)
        rc = segment_decode(&dv, out);
    else
        rc = lmdb_error(rc, "next segment");
    mdb_cursor_close(c);
    return rc;
}

int llhls_rtxn_get_segment(llhls_rtxn_t *r, const char *stream, int track, uint64_t msn, llhls_segment_t *out)
{
    dbkey_t k;
    if (key_make(&k, stream, track, msn, 8, 0, 0) < 0)
        return -LLHLS_ENOTFOUND;
    MDB_val kv = val_of(&k), dv;
    int rc = mdb_get(r->txn, r->store->segments, &kv, &dv);
    if (rc != 0)
        return lmdb_error(rc, "get segment");
    return segment_decode(&dv, out);
}

static int get_bytes(llhls_rtxn_t *r, MDB_dbi dbi, const dbkey_t *k, const void **bytes, size_t *len)
{
    MDB_val kv = val_of(k), dv;
    int rc = mdb_get(r->txn, dbi, &kv, &dv);
    if (rc != 0)
        return lmdb_error(rc, "get");
    *bytes = dv.mv_data;
    *len = dv.mv_size;
    return 0;
}

int llhls_rtxn_get_part(llhls_rtxn_t *r, const char *stream, int track, uint64_t msn, uint32_t part, const void **bytes,
                        size_t *len)
{
    dbkey_t k;
    if (key_make(&k, stream, track, msn, 8, part, 4) < 0)
        return -LLHLS_ENOTFOUND;
    return get_bytes(r, r->store->parts, &k, bytes, len);
}

int llhls_rtxn_get_init(llhls_rtxn_t *r, const char *stream, int track, uint32_t init_id, const void **bytes,
                        size_t *len)
{
    dbkey_t k;
    if (key_make(&k, stream, track, init_id, 4, 0, 0) < 0)
        return -LLHLS_ENOTFOUND;
    return get_bytes(r, r->store->inits, &k, bytes, len);
}

void llhls_store_usage(llhls_store_t *s, size_t *used, size_t *size)
{
    MDB_envinfo ei;
    MDB_stat st;
    mdb_env_info(s->env, &ei);
    mdb_env_stat(s->env, &st);
    *size = ei.me_mapsize;
    /* The file's high-water mark, refined below into the pages the trees hold
     * now, so that pages an eviction freed count as available. */
    *used = (ei.me_last_pgno + 1) * (size_t)st.ms_psize;
    MDB_txn *txn;
    if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) != 0)
        return;
    size_t pages = 2; /* the two meta pages */
    MDB_dbi dbis[6] = {s->main, s->streams, s->segments, s->parts, s->inits, s->meta};
    for (int i = 0; i < 6; i++) {
        if (mdb_stat(txn, dbis[i], &st) != 0) {
            mdb_txn_abort(txn);
            return;
        }
        pages += st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
    }
    mdb_txn_abort(txn);
    *used = pages * (size_t)st.ms_psize;
}
