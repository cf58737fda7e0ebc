#!/usr/bin/env python3
"""Ingest capacity: the total RTMP bitrate one llhls-origin core takes in,
with llhls-push sending 8 copies of the 8K 60 fps ~100 Mbit/s clip as fast
as the origin reads them.  The origin is pinned to one core and the pusher
to the other, so the figure is what one origin core sustains while it
packages every stream into parts and commits them to the store.  Prints
Gbit/s (target: >= 2).

Usage: bench/ingest_capacity.py [--publishes N] [--loops N]   (from `make bench`)
"""
import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'integration'))
sys.path.insert(0, HERE)
from conftest import Origin  # noqa: E402
from ingest_cpu import clip_8k60  # noqa: E402
from procs import cpu_seconds  # noqa: E402

PUSH = os.path.join(os.environ.get('top_builddir', os.path.join(HERE, '..')), 'push', 'llhls-push')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--publishes', type=int, default=8)
    ap.add_argument('--loops', type=int, default=10)
    args = ap.parse_args()
    clip = clip_8k60()
    cores = os.cpu_count() or 1
    origin = Origin(args=['--store-size', '32GiB'])
    try:
        if cores > 1:
            subprocess.run(['taskset', '-a', '-p', '-c', '0', str(origin.proc.pid)], check=True,
                           stdout=subprocess.DEVNULL)
        pin = ['taskset', '-c', '1'] if cores > 1 else []
        in0, c0, t0 = origin.metric('llhls_rtmp_bytes_in_total'), cpu_seconds(origin.proc.pid), time.monotonic()
        out = subprocess.run(pin + [PUSH, '-q', '--fast', '-n', str(args.publishes), '--loop', str(args.loops), clip,
                                    origin.rtmp('live/capacity')], capture_output=True, text=True, timeout=900)
        t1, c1 = time.monotonic(), cpu_seconds(origin.proc.pid)
        if out.returncode != 0:
            raise RuntimeError('llhls-push failed:\n' + out.stderr)
        in1 = origin.metric('llhls_rtmp_bytes_in_total')
        total = re.search(r'^total: .*', out.stdout, re.M)
        gbps = (in1 - in0) * 8 / (t1 - t0) / 1e9
        print('%d publishes of %s, %d loops each, %.1f GB in %.1f s' % (args.publishes, os.path.basename(clip),
                                                                         args.loops, (in1 - in0) / 1e9, t1 - t0))
        if total:
            print('llhls-push: ' + total.group(0))
        print('origin CPU: %.1f s over %.1f s (%.0f%% of its core)' % (c1 - c0, t1 - t0, 100 * (c1 - c0) / (t1 - t0)))
        print('ingest capacity: %.2f Gbit/s on one origin core (target >= 2)' % gbps)
    finally:
        origin.close()


if __name__ == '__main__':
    main()
