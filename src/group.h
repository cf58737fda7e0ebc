/* Renditions: several publishes of one event grouped as one stream.  A
 * publish named NAME~LABEL (live/event~8k, live/event~1080p) is rendition
 * LABEL of the group NAME, whose multivariant playlist (live/event/
 * index.m3u8) lists every rendition; a publish named NAME itself is one of
 * them too.  See docs/renditions.md. */
#ifndef LLHLS_GROUP_H
#define LLHLS_GROUP_H

#include "index.h"
#include "store.h"

#define LLHLS_GROUP_MAX 16      /* renditions in one group: more are not listed */
#define LLHLS_RENDITION_MARK '~'

/* Checks a publish name: "app" and "name" alone, each 1-64 of
 * [A-Za-z0-9_.-] not starting with '.', the name with at most one
 * LLHLS_RENDITION_MARK between two such parts.  Every stream name anywhere
 * (publishes, URLs, the admin API, the edge's viewer counts) passes it.
 * Returns 0 or -LLHLS_EINVAL with *why set. */
int llhls_publish_name_check(const char *app, const char *name, const char **why);

/* The group a stream belongs to: "live/event" for "live/event~8k" and for
 * "live/event" itself.  out has LLHLS_NAME_MAX bytes. */
void llhls_group_name(const char *stream, char *out);
/* The rendition label: "8k" for "live/event~8k", "" for "live/event". */
const char *llhls_group_label(const char *stream);
/* The stream's key within its application: "event~8k" for "live/event~8k". */
const char *llhls_group_key(const char *stream);

typedef struct llhls_group {
    size_t n;
    llhls_stream_info_t members[LLHLS_GROUP_MAX]; /* in name order: NAME first, then NAME~LABELs */
} llhls_group_t;

/* Reads the members of group from the store (one seek).  Returns 0 (n may
 * be 0) or a store error. */
int llhls_group_read(llhls_rtxn_t *r, const char *group, llhls_group_t *out);

/* The MSN that a rendition of stream's group starting at now_ms (wall
 * clock) gives its first segment, so that segments of one number cover the
 * same time in every rendition: of the group's other renditions not ended,
 * the one furthest on decides, and the first MSN is that of its segment
 * that began (or will begin, at the segment target) closest to now_ms.
 * Returns 1 with *msn set, 0 when no other rendition has segments, or a
 * store error. */
int llhls_group_align(llhls_rtxn_t *r, const char *stream, int64_t now_ms, uint32_t segment_target_us,
                      uint64_t *msn);

/* Whether a member belongs in the group's playlists now: one that ended is
 * left out while another is still live or idle, so that players never
 * switch to a rendition that stopped. */
int llhls_group_member_active(const llhls_group_t *g, size_t i);

#endif
