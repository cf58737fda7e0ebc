/* Renders LL-HLS playlists (RFC 8216bis) from the stream index: the
 * multivariant playlist and one media playlist per track, with parts,
 * preload hint, rendition report, server control and delta updates.
 * Pure functions: no I/O, no clock. */
#ifndef LLHLS_PLAYLIST_H
#define LLHLS_PLAYLIST_H

#include "buf.h"
#include "index.h"

typedef enum { LLHLS_SKIP_NONE = 0, LLHLS_SKIP_YES = 1, LLHLS_SKIP_V2 = 2 } llhls_skip_t;

typedef struct llhls_rendition_report {
    const char *uri;        /* relative to the media playlist, e.g. "audio.m3u8" */
    llhls_position_t pos;
} llhls_rendition_report_t;

typedef struct llhls_media_playlist {
    const llhls_stream_info_t *stream;
    int track;                           /* llhls_track_t */
    const llhls_segment_t *segs;         /* every stored segment, oldest first */
    size_t nsegs;
    const llhls_rendition_report_t *reports;
    size_t nreports;
    int skip;                            /* llhls_skip_t */
} llhls_media_playlist_t;

/* TARGETDURATION in whole seconds: the configured segment target rounded up,
 * or the longest complete segment listed rounded to the nearest second (the
 * RFC 8216bis bound on EXTINF), whichever is larger; at least 1. */
uint32_t llhls_playlist_target_duration(const llhls_stream_info_t *st, const llhls_segment_t *segs, size_t nsegs);

/* Appends the media playlist to out.  Lists the newest segments that fit in
 * stream->window_ms (always at least one), EXT-X-PART lines for those within
 * the last three target durations, one EXT-X-PRELOAD-HINT (unless ended),
 * and EXT-X-ENDLIST when the stream ended.  skip is ignored once ended.  A
 * recording (stream->record) that ended is rendered as VOD instead: every
 * complete segment given, EXT-X-PLAYLIST-TYPE:VOD and EXT-X-ENDLIST, and no
 * part, hint, report, skip or server control.  Returns 0 or a buf error. */
int llhls_playlist_render_media(llhls_buf_t *out, const llhls_media_playlist_t *pl);

/* Appends the multivariant playlist of one stream: its video variant with
 * its audio as the audio group.  Bandwidth figures come from the track
 * info; a stream with no video lists its audio playlist alone. */
int llhls_playlist_render_multivariant(llhls_buf_t *out, const llhls_stream_info_t *st);

/* One rendition of a stream in a multivariant playlist: its stream record,
 * and the directory of its playlists relative to the multivariant playlist
 * ("" for the same directory, "../event~8k/" for a sibling). */
typedef struct llhls_variant {
    const llhls_stream_info_t *stream;
    const char *dir;
} llhls_variant_t;

/* Appends a multivariant playlist with one EXT-X-STREAM-INF per variant
 * that has video, in the order given (players start from the first), and
 * one audio group: the audio of the first variant that has some, counted
 * into every variant's BANDWIDTH.  With no video anywhere, the audio
 * playlist is the one variant. */
int llhls_playlist_render_variants(llhls_buf_t *out, const llhls_variant_t *vars, size_t n);

/* Playlist URIs and media URIs, relative to the stream's directory
 * (/APP/NAME/): "video.m3u8", "video/init-3.mp4", "video/41.m4s" (segment),
 * "video/41.2.m4s" (part 2 of segment 41). */

#endif
