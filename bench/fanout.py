#!/usr/bin/env python3
"""Fan-out benchmark: h2load fetching one 8K-sized part from llhls-edge's
cache, against h2o serving the same bytes from a file, side by side in one
run, over h2c and over TLS.  Prints requests/s, throughput and the ratio
edge / h2o (target: >= 1.0), and requests per CPU-second of each server
with their ratio (what a request costs the server).

Each side runs --rounds times, alternating, and the medians are compared.
The publisher is stopped before the runs, so only the servers and h2load
share the machine.

Usage: bench/fanout.py [--seconds N] [--rounds N] [--threads N] [--load-threads N]
       (run from a build tree: `make bench`)
"""
import argparse
import collections
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'integration'))
sys.path.insert(0, HERE)
from conftest import Edge, Origin, FFMPEG, stop_process  # noqa: E402
from procs import cpu_seconds, free_port, process_tree  # noqa: E402


# One h2load run, or the median of several; per_cpu_s is requests per
# CPU-second of the server's processes.
Run = collections.namedtuple('Run', 'req_s gbit_s failed cipher per_cpu_s')


def h2load(url, seconds, clients, streams, server, threads):
    cmd = ['h2load', '-D', str(seconds), '-c', str(clients), '-m', str(streams), '-t', str(threads), url]
    before = sum(cpu_seconds(p) for p in server)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    used = sum(cpu_seconds(p) for p in server) - before
    m = re.search(r'finished in [\d.]+\w+, ([\d.]+) req/s, ([\d.]+)(\w+)/s', out)
    ok = re.search(r'requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed', out)
    if not m or not ok:
        raise RuntimeError('h2load said:\n' + out)
    unit = {'B': 1, 'KB': 1 << 10, 'MB': 1 << 20, 'GB': 1 << 30}[m.group(3)]
    cipher = re.search(r'^Cipher: (\S+)', out, re.M)
    done = int(ok.group(1))
    return Run(float(m.group(1)), float(m.group(2)) * unit * 8 / 1e9, int(ok.group(2)),
               cipher.group(1) if cipher else None, done / used if used > 0 else 0.0)


def median(runs):
    """The run with the median request rate, with the median cost per
    request and the failures summed over all."""
    mid = sorted(runs, key=lambda r: r.req_s)[len(runs) // 2]
    per_cpu_s = sorted(r.per_cpu_s for r in runs)[len(runs) // 2]
    return mid._replace(failed=sum(r.failed for r in runs), per_cpu_s=per_cpu_s)


def main():
    if shutil.which('h2o') is None or shutil.which('h2load') is None:
        sys.exit('bench/fanout.py needs h2o and h2load: apt-get install h2o nghttp2-client '
                 '(h2o is the reference it is compared with)')
    ap = argparse.ArgumentParser()
    ap.add_argument('--seconds', type=int, default=8)
    ap.add_argument('--clients', type=int, default=32)
    ap.add_argument('--streams', type=int, default=4)
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--threads', type=int, default=2, help='server threads, the same on both sides')
    # Two h2load threads on two cores: the load gets whatever CPU the
    # server leaves it, so a server that costs less serves more.  With one,
    # h2load alone is the limit and both sides measure the same.
    ap.add_argument('--load-threads', type=int, default=2, help='h2load threads')
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix='llhls-bench-')
    # h2o started as root serves files as nobody.
    os.chmod(work, 0o755)
    procs = []
    origin = edge = None
    try:
        # A real part of 8K size: a short 80 Mbit/s clip, published and
        # packaged by the origin; the largest part it lists is the object.
        clip = os.path.join(work, 'clip.flv')
        subprocess.run([FFMPEG, '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=3840x2160:rate=30', '-t', '3',
                        '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', '-b:v', '80M', '-f', 'flv', clip],
                       check=True, timeout=300)
        origin = Origin()
        pub = subprocess.Popen([FFMPEG, '-v', 'error', '-re', '-stream_loop', '-1', '-i', clip, '-c', 'copy', '-f',
                                'flv', origin.rtmp('live/bench')], stdin=subprocess.DEVNULL)
        procs.append(pub)
        pl = origin.wait_for('/live/bench/video.m3u8', lambda p: len(p.complete_segments()) >= 1, timeout=60)
        part = max((p for s in pl.complete_segments() for p in s.parts),
                   key=lambda p: len(origin.get('/live/bench/' + p.uri).body))
        path = '/live/bench/' + part.uri
        body = origin.get(path).body
        print('object: %s, %.2f MB' % (path, len(body) / 1e6))

        key, crt = os.path.join(work, 'k.pem'), os.path.join(work, 'c.pem')
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt,
                        '-days', '1', '-subj', '/CN=localhost'], check=True, capture_output=True)
        edge = Edge([origin.url('')], args=['--listen', '127.0.0.1:0', '--tls-cert', crt, '--tls-key', key,
                                            '--threads', str(args.threads), '--cache-size', '512MiB'])
        https = [p for kind, p in edge.ports if kind == 'https'][0]
        assert edge.get(path).body == body  # warm the cache
        # The publisher and the packager would share the two cores with
        # the runs; the part stays in the edge's cache and the origin's store.
        stop_process(pub, signal.SIGINT, 10)

        docroot = os.path.join(work, 'www')
        os.makedirs(os.path.dirname(docroot + path), exist_ok=True)
        with open(docroot + path, 'wb') as f:
            f.write(body)
        for d, _, files in os.walk(work):
            os.chmod(d, 0o755)
            for name in files:
                os.chmod(os.path.join(d, name), 0o644)
        hp, hs = free_port(), free_port()
        conf = os.path.join(work, 'h2o.conf')
        with open(conf, 'w') as f:
            f.write('num-threads: %d\nlisten:\n  host: 127.0.0.1\n  port: %d\nlisten:\n  host: 127.0.0.1\n  port: %d\n'
                    '  ssl:\n    certificate-file: %s\n    key-file: %s\nhosts:\n  default:\n    paths:\n'
                    '      /:\n        file.dir: %s\naccess-log: /dev/null\n' % (args.threads, hp, hs, crt, key, docroot))
        h2o_log = open(os.path.join(work, 'h2o.log'), 'w')
        h2o = subprocess.Popen(['h2o', '-c', conf], stdout=h2o_log, stderr=subprocess.STDOUT)
        procs.append(h2o)
        time.sleep(1)
        if h2o.poll() is not None:
            raise RuntimeError('h2o did not start:\n' + open(os.path.join(work, 'h2o.log')).read())
        check = subprocess.run(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:%d%s' % (hp, path)],
                               capture_output=True, text=True).stdout
        if check != '200':
            raise RuntimeError('h2o answered %s for %s' % (check, path))

        edge_pids, h2o_pids = process_tree(edge.proc.pid), process_tree(h2o.pid)
        rows = []
        for label, url_edge, url_h2o in [
                ('h2c', 'http://127.0.0.1:%d%s' % (edge.http_port, path), 'http://127.0.0.1:%d%s' % (hp, path)),
                ('h2 over TLS', 'https://127.0.0.1:%d%s' % (https, path), 'https://127.0.0.1:%d%s' % (hs, path))]:
            # Alternating rounds, the median of each side: two cores shared
            # by the load and the server make single runs noisy.
            es, hs_ = [], []
            for _ in range(args.rounds):
                es.append(h2load(url_edge, args.seconds, args.clients, args.streams, edge_pids, args.load_threads))
                hs_.append(h2load(url_h2o, args.seconds, args.clients, args.streams, h2o_pids, args.load_threads))
            rows.append((label, median(es), median(hs_)))
        # Two readings: requests per second (what the players get), and
        # requests per CPU-second of the server process (what serving them
        # costs; on two cores h2load can be the limit of the first).
        print('%-12s %11s %11s %11s %11s %7s %11s %11s %7s' % ('', 'edge req/s', 'edge Gbit/s', 'h2o req/s',
                                                           'h2o Gbit/s', 'ratio', 'edge req/cpu-s',
                                                           'h2o req/cpu-s', 'ratio'))
        for label, e, h in rows:
            print('%-12s %11.1f %11.2f %11.1f %11.2f %7.2f %14.1f %13.1f %7.2f'
                  % (label, e.req_s, e.gbit_s, h.req_s, h.gbit_s, e.req_s / h.req_s, e.per_cpu_s, h.per_cpu_s,
                     e.per_cpu_s / h.per_cpu_s if h.per_cpu_s else 0))
            if e.cipher or h.cipher:
                # Each side's own default choice, as a player would get it.
                print('  cipher: edge %s, h2o %s' % (e.cipher, h.cipher))
            if e.failed or h.failed:
                print('  failed requests: edge %d, h2o %d' % (e.failed, h.failed))
    finally:
        for p in procs:
            stop_process(p, signal.SIGINT, 10)
        if edge:
            edge.close()
        if origin:
            origin.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
