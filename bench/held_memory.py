#!/usr/bin/env python3
"""Memory per held player: N HTTP/2 connections over TLS (h2load), each
holding one blocking playlist request at the edge, and the edge's resident
memory before and while they are held.  Prints KiB per connection
(target: under 64 KiB).

Usage: bench/held_memory.py [--connections N]   (run from `make bench`)
"""
import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'integration'))
sys.path.insert(0, HERE)
from conftest import Edge, Origin, publish, stop_publisher  # noqa: E402
from procs import rss_kib  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--connections', type=int, default=10000)
    args = ap.parse_args()
    n = args.connections
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    work = tempfile.mkdtemp(prefix='llhls-held-')
    # Long segments keep a request for two segments ahead held for tens of
    # seconds: time enough to open every connection.
    origin = Origin(args=['--segment-duration', '20', '--window', '120'])
    pub = publish(origin.rtmp('live/held'), size='320x180', gop=600, audio=False)
    edge = None
    try:
        pl = origin.wait_for('/live/held/video.m3u8', lambda p: len(p.segments) >= 1, timeout=60)
        key, crt = os.path.join(work, 'k.pem'), os.path.join(work, 'c.pem')
        # An ECDSA P-256 key, as an edge would have.
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
                        '-nodes', '-keyout', key, '-out', crt,
                        '-days', '1', '-subj', '/CN=localhost'], check=True, capture_output=True)
        conf = os.path.join(work, 'edge.yaml')
        with open(conf, 'w') as f:
            f.write('limits:\n  max_connections: %d\n  max_held: %d\n' % (n + 100, n + 100))
        edge = Edge([origin.url('')], args=['-c', conf, '--listen', '127.0.0.1:0', '--tls-cert', crt,
                                            '--tls-key', key, '--threads', '2'])
        https = [p for kind, p in edge.ports if kind == 'https'][0]
        edge.get('/live/held/video.m3u8')
        time.sleep(1)
        base = rss_kib(edge.proc.pid)
        url = 'https://127.0.0.1:%d/live/held/video.m3u8?_HLS_msn=%d' % (https, pl.last_msn + 2)
        # A thousand new connections a second: one h2load thread opening
        # all of them at once takes longer than h2o's 10 s TLS handshake
        # timeout to finish its side of the handshakes.
        h2load = subprocess.Popen(['h2load', '-c', str(n), '-n', str(n), '-m', '1', '-t', '1', '-r', '1000', url],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        peak, held_peak, held_rss = base, 0, 0
        while h2load.poll() is None:
            rss = rss_kib(edge.proc.pid)
            peak = max(peak, rss)
            try:
                held = int(edge.metric('llhls_edge_held_requests'))
            except Exception:
                held = 0
            held_peak = max(held_peak, held)
            if held == n:
                held_rss = max(held_rss, rss)
            time.sleep(0.5)
        out = h2load.stdout.read()
        ok = re.search(r'(\d+) succeeded, (\d+) failed', out)
        print('connections: %d, held at once: %d, answered: %s' % (n, held_peak, ok.group(0) if ok else out[-500:]))
        print('edge RSS: %d KiB before; %d KiB with all %d held: %.1f KiB per held connection' %
              (base, held_rss, n, (held_rss - base) / n if held_rss else float('nan')))
        print('          %d KiB at the peak, answering them all at once: %.1f KiB per connection' %
              (peak, (peak - base) / n))
    finally:
        stop_publisher(pub)
        if edge:
            edge.close()
        origin.close()


if __name__ == '__main__':
    main()
