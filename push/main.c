/* llhls-push: publishes a media file over RTMP, in real time or as fast as
 * the network takes it, once, N times or forever, and to one or many stream
 * names at once, for testing an origin at bit rates that encoders at hand
 * cannot reach.  The input is loaded into memory first; each publish runs on
 * its own thread while the main thread prints the statistics. */
#include "error.h"
#include "publish.h"
#include "source.h"

#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define MAX_COUNT 1024
#define MIN_CHUNK 128
#define MAX_CHUNK 0xffffff
/* Large chunks cost the server less per byte (the llhls origin accepts up to
 * 16 MiB); other servers may want --chunk-size 65536 or less. */
#define DEFAULT_CHUNK (1 << 20)

typedef struct options {
    push_run_opts_t run;
    int count;
    int quiet;
    const char *input;
    const char *url;
} options_t;

static void usage(FILE *f, const char *argv0)
{
    fprintf(f,
            "Usage: %s [options] INPUT rtmp://HOST[:PORT]/APP/NAME\n"
            "Publishes the first video stream (H.264 or HEVC) and the first audio stream (AAC) of INPUT, any\n"
            "file or URL libavformat opens (mp4, mkv, flv, MPEG-TS, raw .h264/.hevc), over RTMP.\n"
            "\n"
            "Options:\n"
            "  -n, --count N          publish N copies at once, to NAME_1 ... NAME_N (one connection each);\n"
            "                         with N = 1 (the default) the stream is NAME itself\n"
            "      --fast             send as fast as the connection takes it (default: real time, paced by\n"
            "                         the timestamps)\n"
            "      --loop [N]         play the input N times (no N: forever); timestamps keep growing\n"
            "                         across passes\n"
            "      --duration SECONDS stop after this much media time\n"
            "      --hevc MODE        how HEVC is signalled: 'enhanced' (Enhanced RTMP, FourCC hvc1; the\n"
            "                         default) or 'legacy' (FLV codec id 12); H.264 is always codec id 7\n"
            "      --chunk-size BYTES outgoing RTMP chunk size, %d to %d (default %d; servers other than\n"
            "                         llhls may want 65536 or less)\n"
            "      --timeout SECONDS  give up when the server answers or reads nothing for this long\n"
            "                         (default 10)\n"
            "  -q, --quiet            no statistics line every second on stderr\n"
            "  -h, --help             print this help and exit\n"
            "  -V, --version          print the version and exit\n"
            "\n"
            "The summary of what was sent goes to stdout: per publish when N > 1, then the total.\n"
            "Exit status: 0 when every publish ran to its end, 1 on errors, 2 on bad usage.\n",
            argv0, MIN_CHUNK, MAX_CHUNK, DEFAULT_CHUNK);
}

static int parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0' || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_seconds(const char *s, uint64_t *ms)
{
    char *end;
    double v = s ? strtod(s, &end) : 0;
    if (s == NULL || *end != '\0' || !(v > 0 && v < 1e9))
        return -1;
    *ms = (uint64_t)(v * 1000 + 0.5);
    return 0;
}

enum { OPT_FAST = 256, OPT_LOOP, OPT_DURATION, OPT_HEVC, OPT_CHUNK, OPT_TIMEOUT };

/* Returns 0 to run, 1 when done (help, version) or 2 on a usage error. */
static int parse_args(options_t *o, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"count", required_argument, NULL, 'n'},
        {"fast", no_argument, NULL, OPT_FAST},
        {"loop", optional_argument, NULL, OPT_LOOP},
        {"duration", required_argument, NULL, OPT_DURATION},
        {"hevc", required_argument, NULL, OPT_HEVC},
        {"chunk-size", required_argument, NULL, OPT_CHUNK},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    o->count = 1;
    o->run.loops = 1;
    o->run.enhanced = 1;
    o->run.chunk_size = DEFAULT_CHUNK;
    o->run.timeout_ms = 10000;
    int ch;
    unsigned long long v;
    uint64_t ms;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":n:qhV", longopts, NULL)) != -1) {
        switch (ch) {
        case 'n':
            if (parse_uint(optarg, MAX_COUNT, &v) < 0 || v == 0) {
                fprintf(stderr, "llhls-push: --count wants a number from 1 to %d, not '%s'\n", MAX_COUNT, optarg);
                return 2;
            }
            o->count = (int)v;
            break;
        case OPT_FAST: o->run.fast = 1; break;
        case OPT_LOOP: {
            /* "--loop 3" as well as "--loop=3": a number right after it is
             * its count when two arguments (input and URL) still follow. */
            const char *arg = optarg;
            if (arg == NULL && optind < argc && parse_uint(argv[optind], UINT32_MAX, &v) == 0 && argc - optind > 2)
                arg = argv[optind++];
            if (arg == NULL) {
                o->run.loops = 0;
            } else if (parse_uint(arg, UINT32_MAX, &v) < 0 || v == 0) {
                fprintf(stderr, "llhls-push: --loop wants a count of at least 1, not '%s'\n", arg);
                return 2;
            } else {
                o->run.loops = v;
            }
            break;
        }
        case OPT_DURATION:
            if (parse_seconds(optarg, &ms) < 0) {
                fprintf(stderr, "llhls-push: --duration wants a positive number of seconds, not '%s'\n", optarg);
                return 2;
            }
            o->run.duration_ms = ms;
            break;
        case OPT_HEVC:
            if (strcmp(optarg, "enhanced") == 0) {
                o->run.enhanced = 1;
            } else if (strcmp(optarg, "legacy") == 0) {
                o->run.enhanced = 0;
            } else {
                fprintf(stderr, "llhls-push: --hevc is 'legacy' or 'enhanced', not '%s'\n", optarg);
                return 2;
            }
            break;
        case OPT_CHUNK:
            if (parse_uint(optarg, MAX_CHUNK, &v) < 0 || v < MIN_CHUNK) {
                fprintf(stderr, "llhls-push: --chunk-size wants %d to %d bytes, not '%s'\n", MIN_CHUNK, MAX_CHUNK,
                        optarg);
                return 2;
            }
            o->run.chunk_size = (uint32_t)v;
            break;
        case OPT_TIMEOUT:
            if (parse_seconds(optarg, &ms) < 0 || ms > 3600000) {
                fprintf(stderr, "llhls-push: --timeout wants a positive number of seconds up to 3600, not '%s'\n",
                        optarg);
                return 2;
            }
            o->run.timeout_ms = (int)ms;
            break;
        case 'q': o->quiet = 1; break;
        case 'h': usage(stdout, argv[0]); return 1;
        case 'V': printf("llhls-push %s\n", PACKAGE_VERSION); return 1;
        case ':': fprintf(stderr, "llhls-push: %s needs a value (see --help)\n", argv[optind - 1]); return 2;
        default: fprintf(stderr, "llhls-push: unknown option '%s' (see --help)\n", argv[optind - 1]); return 2;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "llhls-push: %s (see --help)\n",
                argc - optind < 2 ? "an INPUT and an rtmp:// URL are needed" : "too many arguments");
        return 2;
    }
    o->input = argv[optind];
    o->url = argv[optind + 1];
    return 0;
}

static double mbit(uint64_t bytes, double seconds)
{
    return seconds > 0 ? bytes * 8 / seconds / 1e6 : 0;
}

static void print_summary(FILE *f, const char *label, uint64_t bytes, uint64_t media, uint64_t video, uint64_t audio,
                          double seconds)
{
    fprintf(f, "%s%ssent %llu bytes (%llu media), %llu video frames, %llu audio frames in %.2f s (%.1f Mbit/s)\n",
            label ? label : "", label ? ": " : "", (unsigned long long)bytes, (unsigned long long)media,
            (unsigned long long)video, (unsigned long long)audio, seconds, mbit(bytes, seconds));
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct totals {
    uint64_t bytes, media, video, audio, media_ms;
} totals_t;

static void sum(const push_job_t *jobs, int n, totals_t *t)
{
    memset(t, 0, sizeof *t);
    for (int i = 0; i < n; i++) {
        t->bytes += atomic_load(&jobs[i].stats.bytes);
        t->media += atomic_load(&jobs[i].stats.media_bytes);
        t->video += atomic_load(&jobs[i].stats.video);
        t->audio += atomic_load(&jobs[i].stats.audio);
        uint64_t ms = atomic_load(&jobs[i].stats.media_ms);
        if (ms > t->media_ms)
            t->media_ms = ms;
    }
}

int main(int argc, char **argv)
{
    options_t o;
    int r = parse_args(&o, argc, argv);
    if (r != 0)
        return r == 1 ? 0 : 2;
    push_url_t url;
    char err[600];
    if (push_url_parse(o.url, &url, err, sizeof err) < 0) {
        fprintf(stderr, "llhls-push: %s\n", err);
        return 2;
    }
    push_media_t media;
    push_source_opts_t so = {
        .path = o.input,
        .enhanced = o.run.enhanced,
        .chunk_size = o.run.chunk_size,
        .max_ms = o.run.loops == 1 && o.run.duration_ms < UINT32_MAX ? (uint32_t)o.run.duration_ms : 0,
    };
    if (push_source_load(&so, &media, err, sizeof err) < 0) {
        fprintf(stderr, "llhls-push: %s\n", err);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    /* The publishing threads leave these signals to the main thread, which
     * waits for them between statistics lines. */
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    atomic_int stop = 0;
    push_job_t *jobs = calloc((size_t)o.count, sizeof *jobs);
    pthread_t *threads = calloc((size_t)o.count, sizeof *threads);
    if (jobs == NULL || threads == NULL) {
        fprintf(stderr, "llhls-push: out of memory\n");
        return 1;
    }
    for (int i = 0; i < o.count; i++) {
        push_job_t *j = &jobs[i];
        j->media = &media;
        j->url = &url;
        j->o = &o.run;
        j->stop = &stop;
        if (o.count > 1)
            snprintf(j->name, sizeof j->name, "%s_%d", url.name, i + 1);
        else
            snprintf(j->name, sizeof j->name, "%s", url.name);
        if (pthread_create(&threads[i], NULL, push_publish_run, j) != 0) {
            fprintf(stderr, "llhls-push: cannot start a thread\n");
            return 1;
        }
    }
    double t0 = mono(), last_t = t0;
    uint64_t last_bytes = 0;
    for (;;) {
        struct timespec one = {1, 0};
        int sig = sigtimedwait(&sigs, NULL, &one);
        if (sig == SIGINT || sig == SIGTERM)
            atomic_store(&stop, 1);
        int running = 0;
        for (int i = 0; i < o.count; i++)
            running += !atomic_load(&jobs[i].done);
        totals_t t;
        sum(jobs, o.count, &t);
        double now = mono();
        if (!o.quiet && running) {
            fprintf(stderr, "llhls-push: %.1f s, media %.1f s, %.1f Mbit/s, %llu frames, %llu bytes\n", now - t0,
                    t.media_ms / 1000.0, mbit(t.bytes - last_bytes, now - last_t),
                    (unsigned long long)(t.video + t.audio), (unsigned long long)t.bytes);
        }
        last_t = now;
        last_bytes = t.bytes;
        if (running == 0)
            break;
    }
    for (int i = 0; i < o.count; i++)
        pthread_join(threads[i], NULL);
    int failed = 0;
    double longest = 0;
    for (int i = 0; i < o.count; i++) {
        push_job_t *j = &jobs[i];
        if (j->rc < 0) {
            fprintf(stderr, "llhls-push: %s/%s: %s\n", url.app, j->name, j->err);
            failed++;
        }
        if (o.count > 1)
            print_summary(stdout, j->name, atomic_load(&j->stats.bytes), atomic_load(&j->stats.media_bytes),
                          atomic_load(&j->stats.video), atomic_load(&j->stats.audio), j->seconds);
        if (j->seconds > longest)
            longest = j->seconds;
    }
    totals_t t;
    sum(jobs, o.count, &t);
    print_summary(stdout, o.count > 1 ? "total" : NULL, t.bytes, t.media, t.video, t.audio, longest);
    fflush(stdout);
    free(jobs);
    free(threads);
    push_media_free(&media);
    return failed ? 1 : 0;
}
