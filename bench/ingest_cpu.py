#!/usr/bin/env python3
"""Ingest cost: CPU seconds of llhls-origin per minute of an 8K 60 fps
~100 Mbit/s H.264 stream, side by side in one run with nginx and its RTMP
module (Debian's libnginx-mod-rtmp) ingesting the same stream into HLS.
Both get the same clip at the same time from their own ffmpeg publisher.
Prints CPU-s per minute for each and the ratio origin / nginx (target:
<= 1.0).

The clip is made once with ffmpeg (testsrc2 at 7680x4320, x264
ultrafast) and kept in ~/.cache/llhls-bench.

Usage: bench/ingest_cpu.py [--seconds N]   (run from a build tree: `make bench`)
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'integration'))
sys.path.insert(0, HERE)
from conftest import FFMPEG, Origin, stop_process  # noqa: E402
from procs import cpu_seconds, free_port  # noqa: E402

RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so'
CACHE = os.path.join(os.path.expanduser('~'), '.cache', 'llhls-bench')


def clip_8k60(seconds=4, bitrate='100M'):
    """An 8K 60 fps H.264 clip with AAC, made once."""
    os.makedirs(CACHE, exist_ok=True)
    path = os.path.join(CACHE, '8k60-h264-%s-%ds.flv' % (bitrate, seconds))
    if not os.path.exists(path):
        print('making %s (once; a minute or two)' % path, flush=True)
        tmp = path + '.part'
        subprocess.run([FFMPEG, '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=7680x4320:rate=60',
                        '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', str(seconds),
                        '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '60', '-b:v', bitrate, '-maxrate', bitrate,
                        '-bufsize', bitrate, '-c:a', 'aac', '-b:a', '128k', '-f', 'flv', tmp], check=True)
        os.rename(tmp, path)
    return path


def start_nginx(work):
    port = free_port()
    hls = os.path.join(work, 'hls')
    os.makedirs(hls)
    conf = os.path.join(work, 'nginx.conf')
    with open(conf, 'w') as f:
        f.write('load_module %s;\ndaemon off;\nmaster_process off;\nworker_processes 1;\n'
                'pid %s/nginx.pid;\nerror_log %s/error.log warn;\nevents { worker_connections 256; }\n'
                'rtmp {\n  server {\n    listen 127.0.0.1:%d;\n    chunk_size 4096;\n'
                '    application live {\n      live on;\n      record off;\n      hls on;\n      hls_path %s;\n'
                '      hls_fragment 2s;\n      hls_playlist_length 60s;\n    }\n  }\n}\n'
                % (RTMP_MODULE, work, work, port, hls))
    proc = subprocess.Popen(['nginx', '-p', work, '-c', conf, '-e', os.path.join(work, 'error.log')],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    time.sleep(0.5)
    if proc.poll() is not None:
        raise RuntimeError('nginx did not start:\n' + open(os.path.join(work, 'error.log')).read())
    return proc, port, hls


def main():
    if shutil.which('nginx') is None or not os.path.exists(RTMP_MODULE):
        sys.exit('bench/ingest_cpu.py needs nginx and its RTMP module: apt-get install nginx libnginx-mod-rtmp '
                 '(nginx-rtmp is the reference it is compared with)')
    ap = argparse.ArgumentParser()
    ap.add_argument('--seconds', type=int, default=60)
    args = ap.parse_args()
    clip = clip_8k60()
    work = tempfile.mkdtemp(prefix='llhls-ingest-')
    procs = []
    origin = nginx = None
    try:
        origin = Origin()
        nginx, nport, hls = start_nginx(work)
        for url in [origin.rtmp('live/bench'), 'rtmp://127.0.0.1:%d/live/bench' % nport]:
            procs.append(subprocess.Popen([FFMPEG, '-v', 'error', '-re', '-stream_loop', '-1', '-i', clip, '-c', 'copy',
                                           '-f', 'flv', url], stdin=subprocess.DEVNULL))
        time.sleep(5)  # both past their first segment
        for p in procs:
            if p.poll() is not None:
                raise RuntimeError('a publisher stopped (exit %s)' % p.returncode)
        o0, n0, t0 = cpu_seconds(origin.proc.pid), cpu_seconds(nginx.pid), time.monotonic()
        in0 = origin.metric('llhls_rtmp_bytes_in_total')
        time.sleep(args.seconds)
        o1, n1, t1 = cpu_seconds(origin.proc.pid), cpu_seconds(nginx.pid), time.monotonic()
        in1 = origin.metric('llhls_rtmp_bytes_in_total')
        minutes = (t1 - t0) / 60
        pl = origin.playlist('/live/bench/video.m3u8')
        ts = [n for n in os.listdir(hls) if n.endswith('.ts')]
        if len(pl.complete_segments()) < 2 or len(ts) < 2:
            raise RuntimeError('a server made no media: origin %d segments, nginx %d files'
                               % (len(pl.complete_segments()), len(ts)))
        mbps = (in1 - in0) * 8 / (t1 - t0) / 1e6
        o, n = (o1 - o0) / minutes, (n1 - n0) / minutes
        print('stream: %s, %.1f Mbit/s received by the origin, measured over %.0f s' % (os.path.basename(clip), mbps,
                                                                                         t1 - t0))
        print('%-28s %12s' % ('', 'CPU-s/minute'))
        print('%-28s %12.2f' % ('llhls-origin (LL-HLS, CMAF)', o))
        print('%-28s %12.2f' % ('nginx-rtmp (HLS, MPEG-TS)', n))
        print('ratio origin / nginx: %.2f (target <= 1.0)' % (o / n if n else float('inf')))
    finally:
        for p in procs:
            stop_process(p, signal.SIGINT, 10)
        if nginx:
            stop_process(nginx, signal.SIGQUIT, 10)
        if origin:
            origin.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
