/* Small helpers over the index types. */
#include "index.h"

#include <string.h>

const char *llhls_track_name(int track)
{
    return track == LLHLS_TRACK_VIDEO ? "video" : "audio";
}

int llhls_track_parse(const char *s, size_t n)
{
    if (n == 5 && memcmp(s, "video", 5) == 0)
        return LLHLS_TRACK_VIDEO;
    if (n == 5 && memcmp(s, "audio", 5) == 0)
        return LLHLS_TRACK_AUDIO;
    return -1;
}

void llhls_position_from_segment(llhls_position_t *pos, const llhls_segment_t *newest, int ended)
{
    memset(pos, 0, sizeof(*pos));
    pos->ended = ended != 0;
    if (newest == NULL || newest->nparts == 0)
        return;
    pos->has_parts = 1;
    pos->last_msn = newest->msn;
    pos->last_part = newest->nparts - 1u;
    pos->last_complete = newest->complete;
}
