/* Rendition groups (see group.h): the naming convention and the members of
 * a group as the store holds them. */
#include "group.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

static int name_part_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || s[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.'))
            return 0;
    }
    return 1;
}

int llhls_publish_name_check(const char *app, const char *name, const char **why)
{
    if (!name_part_ok(app)) {
        *why = "the application name must be 1-64 characters of A-Z a-z 0-9 _ . - not starting with '.'";
        return -LLHLS_EINVAL;
    }
    /* NAME~LABEL is rendition LABEL of NAME (src/group.h): each side is a
     * plain name. */
    const char *mark = strchr(name, LLHLS_RENDITION_MARK);
    char base[72];
    if (mark && (size_t)(mark - name) < sizeof(base)) {
        memcpy(base, name, (size_t)(mark - name));
        base[mark - name] = 0;
    }
    if (strlen(name) > 64 || (mark ? !name_part_ok(base) || !name_part_ok(mark + 1) : !name_part_ok(name))) {
        *why = "the stream name must be 1-64 characters of A-Z a-z 0-9 _ . - not starting with '.', "
               "with at most one '~' before a rendition label";
        return -LLHLS_EINVAL;
    }
    return 0;
}

void llhls_group_name(const char *stream, char *out)
{
    const char *slash = strchr(stream, '/');
    const char *mark = strchr(slash ? slash : stream, LLHLS_RENDITION_MARK);
    size_t n = mark ? (size_t)(mark - stream) : strnlen(stream, LLHLS_NAME_MAX - 1);
    if (n >= LLHLS_NAME_MAX)
        n = LLHLS_NAME_MAX - 1;
    memcpy(out, stream, n);
    out[n] = 0;
}

const char *llhls_group_label(const char *stream)
{
    const char *slash = strchr(stream, '/');
    const char *mark = strchr(slash ? slash : stream, LLHLS_RENDITION_MARK);
    return mark ? mark + 1 : "";
}

const char *llhls_group_key(const char *stream)
{
    const char *slash = strchr(stream, '/');
    return slash ? slash + 1 : stream;
}

typedef struct scan {
    const char *group;
    size_t glen;
    llhls_group_t *out;
} scan_t;

static int collect(const llhls_stream_info_t *info, void *ctx)
{
    scan_t *s = ctx;
    /* Names sort as "live/event", "live/event-2", ..., "live/event~8k":
     * stop at the first name past the group's. */
    if (strncmp(info->name, s->group, s->glen) != 0)
        return 1;
    char c = info->name[s->glen];
    if (c != 0 && c != LLHLS_RENDITION_MARK)
        return 0;
    if (s->out->n < LLHLS_GROUP_MAX)
        s->out->members[s->out->n++] = *info;
    return 0;
}

int llhls_group_read(llhls_rtxn_t *r, const char *group, llhls_group_t *out)
{
    out->n = 0;
    scan_t s = {.group = group, .glen = strlen(group), .out = out};
    int rc = llhls_rtxn_each_stream_from(r, group, collect, &s);
    return rc < 0 ? rc : 0;
}

int llhls_group_member_active(const llhls_group_t *g, size_t i)
{
    if (g->members[i].state != LLHLS_STREAM_ENDED)
        return 1;
    for (size_t k = 0; k < g->n; k++)
        if (g->members[k].state != LLHLS_STREAM_ENDED)
            return 0;
    return 1;
}

int llhls_group_align(llhls_rtxn_t *r, const char *stream, int64_t now_ms, uint32_t segment_target_us,
                      uint64_t *msn)
{
    char name[LLHLS_NAME_MAX];
    llhls_group_name(stream, name);
    llhls_group_t *g = malloc(sizeof(*g));
    if (g == NULL)
        return -LLHLS_ENOMEM;
    int rc = llhls_group_read(r, name, g);
    llhls_segment_t best = {0}, last;
    int have = 0;
    for (size_t i = 0; rc == 0 && i < g->n; i++) {
        const llhls_stream_info_t *m = &g->members[i];
        if (strcmp(m->name, stream) == 0 || m->state == LLHLS_STREAM_ENDED)
            continue;
        int track = m->tracks[LLHLS_TRACK_VIDEO].present ? LLHLS_TRACK_VIDEO : LLHLS_TRACK_AUDIO;
        if (llhls_rtxn_get_last_segment(r, m->name, track, &last) != 0)
            continue;
        if (!have || last.msn > best.msn)
            best = last;
        have = 1;
    }
    free(g);
    if (rc != 0 || !have)
        return rc;
    /* Its segment began at pdt_ms; the next begins when it ends, known
     * once complete, else expected at the segment target. */
    uint32_t len_us = best.duration_us;
    if (!best.complete && len_us < segment_target_us)
        len_us = segment_target_us;
    int64_t next_ms = best.pdt_ms + len_us / 1000;
    *msn = now_ms - best.pdt_ms <= next_ms - now_ms ? best.msn : best.msn + 1;
    return 1;
}
