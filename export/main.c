/* llhls-export: copies one stream out of the origin's store into a directory
 * as a plain fMP4 HLS package (init sections, one .m4s per segment, a VOD
 * media playlist per track and the multivariant playlist), readable by any
 * player without the origin.  It opens the store read-only, so it runs beside
 * a live origin; each segment is copied in a short read transaction of its
 * own so that the origin's eviction is never held back for long. */
#include "error.h"
#include "playlist.h"
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>

#define PATH_MAX_LEN 4096

typedef struct export {
    llhls_store_t *store;
    const char *name;
    const char *out;
    llhls_stream_info_t info;
    llhls_segment_t *segs[LLHLS_TRACKS];
    size_t nsegs[LLHLS_TRACKS];
} export_t;

static void usage(FILE *f, const char *argv0)
{
    fprintf(f,
            "Usage: %s [--force] STORE_DIR APP/NAME OUT_DIR\n"
            "Writes stream APP/NAME of the llhls-origin store in STORE_DIR (its store.path,\n"
            "read-only: the origin may keep running) to OUT_DIR as a VOD fMP4 HLS package:\n"
            "index.m3u8, video.m3u8 and audio.m3u8, video/init-N.mp4 and video/MSN.m4s.\n"
            "A stream still live is exported as far as it has gone.\n"
            "\n"
            "  -f, --force   write into OUT_DIR even if it is not empty\n"
            "  -h, --help    print this help and exit\n",
            argv0);
}

static int join(char *buf, const char *dir, const char *file)
{
    int n = snprintf(buf, PATH_MAX_LEN, "%s/%s", dir, file);
    return n < 0 || n >= PATH_MAX_LEN ? -LLHLS_EINVAL : 0;
}

static int write_file(const char *dir, const char *file, const struct iovec *iov, size_t n)
{
    char path[PATH_MAX_LEN];
    if (join(path, dir, file) != 0)
        return -LLHLS_EINVAL;
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        fprintf(stderr, "llhls-export: cannot write %s: %s\n", path, strerror(errno));
        return -LLHLS_EIO;
    }
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++)
        if (iov[i].iov_len && fwrite(iov[i].iov_base, 1, iov[i].iov_len, f) != iov[i].iov_len)
            r = -LLHLS_EIO;
    if (fclose(f) != 0)
        r = -LLHLS_EIO;
    if (r != 0)
        fprintf(stderr, "llhls-export: writing %s failed: %s\n", path, strerror(errno));
    return r;
}

static int make_dir(const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "llhls-export: cannot create %s: %s\n", path, strerror(errno));
        return -LLHLS_EIO;
    }
    return 0;
}

/* Whether dir holds anything but "." and "..": 1, 0, or -1 when it cannot be
 * read (a file of that name, for example). */
static int dir_has_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return errno == ENOENT ? 0 : -1;
    struct dirent *e;
    int any = 0;
    while (!any && (e = readdir(d)) != NULL)
        any = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return any;
}

/* Reads the stream record and every segment record in one snapshot. */
static int read_index(export_t *x)
{
    llhls_rtxn_t *r;
    int rc = llhls_store_read_begin(x->store, &r);
    if (rc != 0)
        return rc;
    rc = llhls_rtxn_get_stream(r, x->name, &x->info);
    for (int t = 0; rc == 0 && t < LLHLS_TRACKS; t++)
        if (x->info.tracks[t].present)
            rc = llhls_rtxn_get_segments(r, x->name, t, 0, &x->segs[t], &x->nsegs[t]);
    llhls_store_read_end(r);
    return rc;
}

/* Copies one segment (its parts, concatenated, exactly as the origin serves
 * /TRACK/MSN.m4s) and, the first time it is needed, its init section.
 * Returns 0, -LLHLS_ENOTFOUND when the origin evicted it meanwhile, or an
 * error. */
static int copy_segment(export_t *x, int t, const llhls_segment_t *seg, const char *dir, int write_init)
{
    llhls_rtxn_t *r;
    int rc = llhls_store_read_begin(x->store, &r);
    if (rc != 0)
        return rc;
    struct iovec iov[LLHLS_MAX_PARTS];
    char file[64];
    if (write_init) {
        const void *b;
        size_t len;
        rc = llhls_rtxn_get_init(r, x->name, t, seg->init_id, &b, &len);
        if (rc == 0) {
            iov[0].iov_base = (void *)b;
            iov[0].iov_len = len;
            snprintf(file, sizeof(file), "init-%" PRIu32 ".mp4", seg->init_id);
            rc = write_file(dir, file, iov, 1);
        }
    }
    for (uint32_t i = 0; rc == 0 && i < seg->nparts; i++) {
        const void *b;
        rc = llhls_rtxn_get_part(r, x->name, t, seg->msn, i, &b, &iov[i].iov_len);
        iov[i].iov_base = (void *)b;
    }
    if (rc == 0) {
        snprintf(file, sizeof(file), "%" PRIu64 ".m4s", seg->msn);
        rc = write_file(dir, file, iov, seg->nparts);
    }
    llhls_store_read_end(r);
    return rc;
}

static int init_written(const llhls_segment_t *segs, size_t upto, uint32_t init_id)
{
    for (size_t i = 0; i < upto; i++)
        if (segs[i].init_id == init_id)
            return 1;
    return 0;
}

/* Copies a track's complete segments and writes its VOD playlist.  Segments
 * the origin evicted while the export ran (the oldest of a live window) are
 * left out of the playlist; *count gets how many went in. */
static int export_track(export_t *x, int t, size_t *count)
{
    const char *track = llhls_track_name(t);
    char dir[PATH_MAX_LEN];
    int rc = join(dir, x->out, track);
    if (rc != 0 || (rc = make_dir(dir)) != 0)
        return rc;
    llhls_segment_t *segs = x->segs[t];
    size_t n = 0, lost = 0;
    for (size_t i = 0; i < x->nsegs[t]; i++) {
        if (!segs[i].complete)
            continue;
        rc = copy_segment(x, t, &segs[i], dir, !init_written(segs, n, segs[i].init_id));
        if (rc == -LLHLS_ENOTFOUND && n == 0) {
            lost++;
            continue;
        }
        if (rc != 0) {
            fprintf(stderr, "llhls-export: %s segment %" PRIu64 ": %s\n", track, segs[i].msn, llhls_strerror(rc));
            return rc;
        }
        if (n != i)
            segs[n] = segs[i];
        n++;
    }
    if (lost)
        fprintf(stderr, "llhls-export: %s: %zu oldest segments left the window during the export\n", track, lost);
    if (n == 0) {
        *count = 0;
        return 0;
    }
    /* The renderer's VOD form: every segment given, no low-latency tags. */
    llhls_stream_info_t vod = x->info;
    vod.record = 1;
    vod.state = LLHLS_STREAM_ENDED;
    llhls_media_playlist_t pl = {.stream = &vod, .track = t, .segs = segs, .nsegs = n};
    llhls_buf_t text;
    llhls_buf_init(&text, 0);
    rc = llhls_playlist_render_media(&text, &pl);
    char file[32];
    snprintf(file, sizeof(file), "%s.m3u8", track);
    struct iovec iov = {text.data, text.len};
    if (rc == 0)
        rc = write_file(x->out, file, &iov, 1);
    llhls_buf_free(&text);
    *count = n;
    return rc;
}

static int run(export_t *x)
{
    int rc = read_index(x);
    if (rc == -LLHLS_ENOTFOUND) {
        fprintf(stderr, "llhls-export: no stream '%s' in the store\n", x->name);
        return rc;
    }
    if (rc != 0) {
        fprintf(stderr, "llhls-export: reading '%s' failed: %s\n", x->name, llhls_strerror(rc));
        return rc;
    }
    if (make_dir(x->out) != 0)
        return -LLHLS_EIO;
    size_t counts[LLHLS_TRACKS] = {0, 0};
    for (int t = 0; t < LLHLS_TRACKS; t++) {
        if (x->info.tracks[t].present && (rc = export_track(x, t, &counts[t])) != 0)
            return rc;
        /* A track with nothing to play would make the package unplayable. */
        if (counts[t] == 0)
            x->info.tracks[t].present = 0;
    }
    if (counts[LLHLS_TRACK_VIDEO] == 0 && counts[LLHLS_TRACK_AUDIO] == 0) {
        fprintf(stderr, "llhls-export: stream '%s' has no complete segment to export\n", x->name);
        return -LLHLS_ENOTFOUND;
    }
    llhls_buf_t text;
    llhls_buf_init(&text, 0);
    rc = llhls_playlist_render_multivariant(&text, &x->info);
    struct iovec iov = {text.data, text.len};
    if (rc == 0)
        rc = write_file(x->out, "index.m3u8", &iov, 1);
    llhls_buf_free(&text);
    if (rc == 0)
        printf("%s: %zu video and %zu audio segments written to %s\n", x->name, counts[LLHLS_TRACK_VIDEO],
               counts[LLHLS_TRACK_AUDIO], x->out);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"force", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int force = 0, ch;
    while ((ch = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
        if (ch == 'f') {
            force = 1;
        } else if (ch == 'h') {
            usage(stdout, argv[0]);
            return 0;
        } else {
            usage(stderr, argv[0]);
            return 2;
        }
    }
    if (argc - optind != 3) {
        usage(stderr, argv[0]);
        return 2;
    }
    export_t x;
    memset(&x, 0, sizeof(x));
    const char *store_dir = argv[optind];
    x.name = argv[optind + 1];
    x.out = argv[optind + 2];
    if (strlen(x.name) >= LLHLS_NAME_MAX || strchr(x.name, '/') == NULL) {
        fprintf(stderr, "llhls-export: '%s' is not a stream name of the form APP/NAME\n", x.name);
        return 2;
    }
    int has = dir_has_entries(x.out);
    if (has < 0) {
        fprintf(stderr, "llhls-export: %s is not a directory that can be read\n", x.out);
        return 1;
    }
    if (has && !force) {
        fprintf(stderr, "llhls-export: %s is not empty (use --force to write into it)\n", x.out);
        return 1;
    }
    int rc = llhls_store_open_readonly(&x.store, store_dir);
    if (rc == -LLHLS_ENOTFOUND) {
        fprintf(stderr, "llhls-export: no llhls store in %s\n", store_dir);
        return 1;
    }
    if (rc != 0) {
        fprintf(stderr, "llhls-export: cannot open the store in %s: %s\n", store_dir, llhls_strerror(rc));
        return 1;
    }
    rc = run(&x);
    for (int t = 0; t < LLHLS_TRACKS; t++)
        free(x.segs[t]);
    llhls_store_close(x.store);
    return rc == 0 ? 0 : 1;
}
