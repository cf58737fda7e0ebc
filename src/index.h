/* The stream index: what the packager knows about a stream and its segments,
 * stored in LMDB by the store and read by the playlist renderer and the
 * blocking-request logic.  Plain data, transparent structs. */
#ifndef LLHLS_INDEX_H
#define LLHLS_INDEX_H

#include <stddef.h>
#include <stdint.h>

#define LLHLS_NAME_MAX 132      /* "app/name": two names of up to 64, a slash, a NUL */
#define LLHLS_MAX_PARTS 128     /* parts in one segment, hard bound */
#define LLHLS_CODEC_MAX 48      /* "avc1.64002a", "mp4a.40.2", ... NUL included */
#define LLHLS_PEER_MAX 64       /* "[v6 address]:port" and its NUL */

typedef enum { LLHLS_TRACK_VIDEO = 0, LLHLS_TRACK_AUDIO = 1, LLHLS_TRACKS = 2 } llhls_track_t;

/* "video" or "audio": used in URIs ("video.m3u8", "video/12.3.m4s"). */
const char *llhls_track_name(int track);
/* Parses "video"/"audio" of length n; returns the track or -1. */
int llhls_track_parse(const char *s, size_t n);

typedef enum {
    LLHLS_STREAM_LIVE = 0,  /* a publisher is sending */
    LLHLS_STREAM_IDLE = 1,  /* the publisher left; within the grace period */
    LLHLS_STREAM_ENDED = 2, /* over: playlists carry EXT-X-ENDLIST */
} llhls_stream_state_t;

typedef struct llhls_part_meta {
    uint32_t duration_us;
    uint32_t size;          /* bytes of moof+mdat */
    uint8_t independent;    /* starts with a sync sample */
} llhls_part_meta_t;

/* One segment of one track. A segment is stored as soon as its first part
 * exists and rewritten as each further part is added; complete is set once
 * its last part is known. */
typedef struct llhls_segment {
    uint64_t msn;
    int64_t pdt_ms;         /* wall clock (Unix ms) of its first sample */
    uint32_t duration_us;   /* sum of its parts */
    uint32_t init_id;       /* which init section (EXT-X-MAP) it needs */
    uint32_t disc_seq;      /* discontinuities seen up to and including this one */
    uint8_t discontinuity;  /* EXT-X-DISCONTINUITY before it */
    uint8_t complete;
    uint16_t nparts;
    llhls_part_meta_t parts[LLHLS_MAX_PARTS];
} llhls_segment_t;

typedef struct llhls_track_info {
    uint8_t present;
    char codec[LLHLS_CODEC_MAX]; /* RFC 6381 codec string */
    uint32_t width, height;      /* video */
    uint32_t frame_rate_milli;   /* video frames per 1000 s: 29970 for 29.97 */
    uint32_t sample_rate;        /* audio */
    uint32_t channels;           /* audio */
    uint32_t bandwidth_peak;     /* bits/s, highest segment bitrate seen */
    uint32_t bandwidth_avg;      /* bits/s, average over the window */
    uint32_t init_id;            /* current init section */
} llhls_track_info_t;

typedef struct llhls_stream_info {
    char name[LLHLS_NAME_MAX];   /* "app/name" */
    uint8_t state;               /* llhls_stream_state_t */
    uint32_t segment_target_us;  /* configured segment duration */
    uint32_t part_target_us;     /* PART-TARGET */
    uint32_t window_ms;          /* how much the live playlist lists: up to 24 h */
    uint8_t record;              /* every segment kept; a VOD playlist once ended */
    int64_t started_ms;          /* wall clock of the first publish */
    int64_t updated_ms;          /* wall clock of the last change of state */
    int64_t published_ms;        /* wall clock the current publish began; 0: none connected */
    char publisher[LLHLS_PEER_MAX]; /* "1.2.3.4:5678" of the publisher connected, else "" */
    llhls_track_info_t tracks[LLHLS_TRACKS];
} llhls_stream_info_t;

/* Where a track's playlist currently ends: derived from its newest segment. */
typedef struct llhls_position {
    uint8_t has_parts;      /* zero: nothing published yet */
    uint8_t last_complete;  /* last_msn is complete */
    uint8_t ended;          /* stream ended: no more parts ever */
    uint64_t last_msn;      /* MSN of the newest segment */
    uint32_t last_part;     /* index of its newest part */
} llhls_position_t;

/* Fills pos from the newest segment of a track (NULL: none yet). */
void llhls_position_from_segment(llhls_position_t *pos, const llhls_segment_t *newest, int ended);

#endif
