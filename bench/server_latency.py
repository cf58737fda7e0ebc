#!/usr/bin/env python3
"""Server-added latency at 8K bitrates: from the moment the last byte of a
part's last video frame is written to the origin's RTMP socket, to the
moment a player blocked at the edge (HTTP/1.1 keep-alive, _HLS_msn and
_HLS_part for the next part) has read the playlist that lists that part.
Origin and edge on loopback; the 8K 60 fps ~100 Mbit/s clip of
bench/ingest_cpu.py is published in real time by a publisher that notes
when each frame went out.  Prints the median and p99 over every part
(target: median under 5 ms, p99 under 20 ms).

The part a frame belongs to is found from the playlist itself: each part's
DURATION, added from the first frame, lands on the first frame of the next
part.

Usage: bench/server_latency.py [--seconds N]   (run from a build tree: `make bench`)
"""
import argparse
import http.client
import os
import re
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'integration'))
sys.path.insert(0, HERE)
from conftest import Edge, Origin  # noqa: E402
from ingest_cpu import clip_8k60  # noqa: E402
import rtmp_client  # noqa: E402

PLAYLIST = '/live/lat/video.m3u8'
PART_RE = re.compile(r'#EXT-X-PART:DURATION=([0-9.]+),URI="video/(\d+)\.(\d+)\.m4s"')


class Publisher(threading.Thread):
    """Publishes the clip in a loop in real time; frames[] gets (ts_ms,
    time its last byte was written) for every video frame."""

    def __init__(self, port, tags, seconds):
        super().__init__(daemon=True)
        self.client = rtmp_client.RtmpClient('127.0.0.1', port, timeout=10)
        self.client.start_publish('live', 'lat', chunk_size=65536)
        self.tags = tags
        self.seconds = seconds
        self.frames = []
        self.lock = threading.Lock()
        self.error = None

    def run(self):
        try:
            media = [t for t in self.tags if t.type in (rtmp_client.AUDIO, rtmp_client.VIDEO)]
            video = [t.ts for t in media if t.type == rtmp_client.VIDEO]
            step = video[-1] + (video[-1] - video[-2])  # one loop of the clip, in ms
            t0 = time.monotonic()
            loop = 0
            while time.monotonic() - t0 < self.seconds:
                for tag in media:
                    if loop > 0 and tag.is_sequence_header:
                        continue
                    ts = tag.ts + loop * step
                    delay = t0 + ts / 1000.0 - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    if tag.type == rtmp_client.VIDEO:
                        self.client.send_video(ts, tag.body)
                        if not tag.is_sequence_header:
                            with self.lock:
                                self.frames.append((ts, time.monotonic()))
                    else:
                        self.client.send_audio(ts, tag.body)
                loop += 1
        except Exception as e:  # reported by the main thread
            self.error = e
        finally:
            self.client.close()

    def frames_copy(self):
        with self.lock:
            return list(self.frames)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--seconds', type=int, default=30)
    args = ap.parse_args()
    tags = rtmp_client.read_flv(clip_8k60())
    origin = Origin()
    edge = None
    try:
        edge = Edge([origin.url('')])
        pub = Publisher(origin.rtmp_port, tags, args.seconds)
        pub.start()
        conn = http.client.HTTPConnection('127.0.0.1', edge.http_port, timeout=30)
        msn, part = 0, 0
        seen = {}          # (msn, part) -> (duration s, time the playlist listing it was read)
        deadline = time.monotonic() + args.seconds
        while time.monotonic() < deadline and pub.is_alive():
            conn.request('GET', '%s?_HLS_msn=%d&_HLS_part=%d' % (PLAYLIST, msn, part))
            r = conn.getresponse()
            body = r.read().decode()
            got = time.monotonic()
            if r.status != 200:
                time.sleep(0.05)
                continue
            for m in PART_RE.finditer(body):
                key = (int(m.group(2)), int(m.group(3)))
                if key not in seen:
                    seen[key] = (float(m.group(1)), got)
            # The next part to wait for: after the newest listed.
            last = max(seen)
            segment_done = re.search(r'^video/%d\.m4s$' % last[0], body, re.M) is not None
            msn, part = (last[0] + 1, 0) if segment_done else (last[0], last[1] + 1)
        pub.join(timeout=10)
        if pub.error:
            raise pub.error
        frames = pub.frames_copy()
        if not seen or not frames:
            raise RuntimeError('nothing measured')
        # Walk the parts in order from the first frame.
        lat = []
        fi = 0
        for key in sorted(seen):
            duration, got = seen[key]
            if fi >= len(frames):
                break
            end_ms = frames[fi][0] + duration * 1000
            nxt = fi
            while nxt < len(frames) and frames[nxt][0] < end_ms - 4:
                nxt += 1
            if nxt == fi or nxt >= len(frames):
                break
            last_frame_sent = frames[nxt - 1][1]
            if key[0] > 0:  # the first segment includes start-up
                lat.append((got - last_frame_sent) * 1000)
            fi = nxt
        lat.sort()
        if len(lat) < 10:
            raise RuntimeError('too few parts measured (%d)' % len(lat))
        med = lat[len(lat) // 2]
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
        mbps = origin.metric('llhls_rtmp_bytes_in_total') * 8 / args.seconds / 1e6
        print('parts measured: %d, ~%.0f Mbit/s published, origin -> edge -> blocked player on loopback' % (len(lat), mbps))
        print('server-added latency: median %.1f ms, p99 %.1f ms, max %.1f ms (target: median < 5, p99 < 20)'
              % (med, p99, lat[-1]))
    finally:
        if edge:
            edge.close()
        origin.close()


if __name__ == '__main__':
    main()
