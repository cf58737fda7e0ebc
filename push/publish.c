/* The run loop of one publish: metadata and sequence headers, then the
 * loaded messages in order, pass after pass.  Timestamps of pass k are those
 * of the input plus k times its length, so a player sees one continuous
 * stream.  In real time a message leaves when the monotonic clock reaches
 * its timestamp; meanwhile the connection answers the server. */
#include "publish.h"

#include "amf0.h"
#include "clock.h"
#include "error.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define FOURCC_HVC1 0x68766331u /* 'hvc1' as a number, as E-RTMP's onMetaData has it */

static int put_prop(llhls_buf_t *b, const char *key, double v)
{
    int rc = llhls_amf0_put_key(b, key);
    return rc ? rc : llhls_amf0_put_number(b, v);
}

static int build_metadata(const push_media_t *m, llhls_buf_t *b)
{
    double vcodec = m->hevc ? (m->enhanced ? FOURCC_HVC1 : 12) : 7;
    int rc = 0;
    rc |= llhls_amf0_put_cstring(b, "@setDataFrame");
    rc |= llhls_amf0_put_cstring(b, "onMetaData");
    rc |= llhls_amf0_put_ecma_array_begin(b, m->has_audio ? 10 : 6);
    rc |= put_prop(b, "width", m->width);
    rc |= put_prop(b, "height", m->height);
    rc |= put_prop(b, "framerate", m->fps);
    rc |= put_prop(b, "videocodecid", vcodec);
    rc |= put_prop(b, "videodatarate", m->video_kbps);
    if (m->has_audio) {
        rc |= put_prop(b, "audiocodecid", 10);
        rc |= put_prop(b, "audiosamplerate", m->audio_rate);
        rc |= put_prop(b, "audiochannels", m->audio_channels);
        rc |= llhls_amf0_put_key(b, "stereo");
        rc |= llhls_amf0_put_boolean(b, m->audio_channels == 2);
    }
    rc |= llhls_amf0_put_key(b, "encoder");
    rc |= llhls_amf0_put_cstring(b, "llhls-push " PACKAGE_VERSION);
    rc |= llhls_amf0_put_object_end(b);
    return rc ? -LLHLS_ENOMEM : 0;
}

/* The video end of sequence, in the signalling of the stream. */
static size_t end_of_sequence(const push_media_t *m, uint8_t *b)
{
    if (m->hevc && m->enhanced) {
        b[0] = 0x80 | 0x10 | 2; /* ExHeader, keyframe, SequenceEnd */
        memcpy(b + 1, "hvc1", 4);
        return 5;
    }
    b[0] = (uint8_t)(0x10 | (m->hevc ? 12 : 7));
    b[1] = 2;
    b[2] = b[3] = b[4] = 0;
    return 5;
}

static void count(push_job_t *j, const push_frame_t *f, uint64_t t)
{
    atomic_fetch_add_explicit(f->type == 9 ? &j->stats.video : &j->stats.audio, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&j->stats.media_bytes, f->len, memory_order_relaxed);
    atomic_store_explicit(&j->stats.media_ms, t, memory_order_relaxed);
}

/* Sends everything of the publish; returns 0 or a negative error. */
static int run(push_job_t *j, push_conn_t *c)
{
    const push_media_t *m = j->media;
    const push_run_opts_t *o = j->o;
    llhls_buf_t meta;
    llhls_buf_init(&meta, 0);
    int rc = build_metadata(m, &meta);
    if (rc == 0)
        rc = push_conn_send_data(c, meta.data, meta.len);
    llhls_buf_free(&meta);
    if (rc < 0)
        return rc;
    /* The configuration records are not counted as frames, but their bytes
     * are media bytes as the server sees them. */
    atomic_fetch_add_explicit(&j->stats.media_bytes, m->video_config.len, memory_order_relaxed);
    if ((rc = push_conn_queue(c, &m->video_config, 0)) < 0)
        return rc;
    if (m->has_audio) {
        atomic_fetch_add_explicit(&j->stats.media_bytes, m->audio_config.len, memory_order_relaxed);
        if ((rc = push_conn_queue(c, &m->audio_config, 0)) < 0)
            return rc;
    }
    int64_t start = llhls_mono_us();
    for (uint64_t pass = 0; o->loops == 0 || pass < o->loops; pass++) {
        uint64_t offset = pass * m->loop_ms;
        for (size_t i = 0; i < m->count; i++) {
            const push_frame_t *f = &m->frames[i];
            uint64_t t = offset + f->ts;
            if ((o->duration_ms && t >= o->duration_ms) || atomic_load_explicit(j->stop, memory_order_relaxed))
                return push_conn_flush(c);
            if (!o->fast) {
                int64_t due = start + (int64_t)t * 1000;
                int64_t wait;
                while ((wait = due - llhls_mono_us()) > 0) {
                    if ((rc = push_conn_flush(c)) < 0 || (rc = push_conn_serve(c, (int)((wait + 999) / 1000))) < 0)
                        return rc;
                    if (atomic_load_explicit(j->stop, memory_order_relaxed))
                        return 0;
                }
            }
            if ((rc = push_conn_queue(c, f, (uint32_t)t)) < 0)
                return rc;
            count(j, f, t);
        }
    }
    return push_conn_flush(c);
}

void *push_publish_run(void *arg)
{
    push_job_t *j = arg;
    push_conn_params_t p = {
        .url = j->url,
        .name = j->name,
        .enhanced = j->o->enhanced,
        .chunk_size = j->o->chunk_size,
        .timeout_ms = j->o->timeout_ms,
        .bytes = &j->stats.bytes,
    };
    push_conn_t *c = NULL;
    int64_t t0 = llhls_mono_us();
    int rc = push_conn_open(&p, &c, j->err, sizeof j->err);
    if (rc == 0) {
        rc = run(j, c);
        if (rc == 0) {
            uint8_t eos[8];
            size_t n = end_of_sequence(j->media, eos);
            atomic_fetch_add_explicit(&j->stats.media_bytes, n, memory_order_relaxed);
            rc = push_conn_finish(c, eos, n);
        }
        if (rc < 0)
            snprintf(j->err, sizeof j->err, "%s", push_conn_error(c));
        push_conn_close(c);
    }
    j->seconds = (llhls_mono_us() - t0) / 1e6;
    j->rc = rc;
    atomic_store(&j->done, 1);
    return NULL;
}
