"""hls.js in headless Chromium plays a live stream from the origin's own
player page: playback starts, the playhead keeps moving for 20 s without a
stall, and the picture is less than 3 s behind the encoder's clock."""
import json
import os
import shutil
import subprocess

import pytest

from conftest import SRC, Edge, Origin, publish, stop_publisher

CHROMIUM = '/usr/bin/chromium'
PLAY = os.path.join(SRC, 'tests', 'browser', 'play.mjs')
WWW = os.path.join(SRC, 'www')
WATCH_SECONDS = 20


def need_browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip('%s is not installed (scripts/setup installs Debian\'s chromium)' % CHROMIUM)
    if not os.path.isdir(os.path.join(SRC, 'node_modules', 'playwright-core')):
        pytest.skip('node_modules/playwright-core is missing (scripts/setup runs npm ci)')
    # scripts/setup puts hls.js and uPlot beside the pages; do the same when
    # only npm ci ran.
    for pkg, name in (('hls.js', 'hls.min.js'), ('uplot', 'uPlot.iife.min.js'), ('uplot', 'uPlot.min.css')):
        lib = os.path.join(WWW, 'lib', name)
        if not os.path.exists(lib):
            dist = os.path.join(SRC, 'node_modules', pkg, 'dist', name)
            assert os.path.exists(dist), 'neither %s nor %s exists: run scripts/setup' % (lib, dist)
            os.makedirs(os.path.dirname(lib), exist_ok=True)
            shutil.copyfile(dist, lib)


def run_player(url, screenshot):
    node = shutil.which('node')
    assert node, 'node is not on PATH (scripts/setup installs it)'
    cmd = [node, PLAY, '--url', url, '--seconds', str(WATCH_SECONDS), '--screenshot', screenshot]
    p = subprocess.run(cmd, cwd=SRC, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=WATCH_SECONDS + 90)
    lines = [l for l in p.stdout.splitlines() if l.startswith('{')]
    assert p.returncode == 0 and lines, 'play.mjs exited %d\nstdout:\n%s\nstderr:\n%s' % (
        p.returncode, p.stdout, p.stderr[-3000:])
    return json.loads(lines[-1])


@pytest.mark.parametrize('via', ['origin', 'edge'])
def test_hlsjs_plays_live_stream_in_chromium_with_low_latency(via):
    need_browser()
    artifacts = os.path.join(SRC, 'tests', 'artifacts')
    os.makedirs(artifacts, exist_ok=True)
    screenshot = os.path.join(artifacts, 'player-%s.png' % via)
    o = Origin(args=['--www', WWW])
    pub = None
    edge = None
    try:
        page = o.get('/player.html')
        assert page.status == 200 and 'player.js' in page.text, \
            'the origin does not serve www/player.html: %d %s' % (page.status, page.text[:200])
        pub = publish(o.rtmp('live/browser'))
        o.wait_for('/live/browser/video.m3u8', lambda pl: len(pl.complete_segments()) >= 2, timeout=40)

        src = '/live/browser/index.m3u8'
        if via == 'edge':
            # The page from the origin, the stream from an edge: CORS.
            edge = Edge([o.url('')])
            src = edge.url(src)
        r = run_player(o.url('/player.html?src=' + src), screenshot)
        print('browser via %s: latency' % via + ' median %s s, max %s s over %d samples; played %.2f s of %d s; '
              'stalls %s; dropped %s of %s frames; started after %s s; codecs %s' % (
                  r['latency_median'], r['latency_max'], r['latency_samples'], r['played_seconds'],
                  WATCH_SECONDS, r['stalls'], r['dropped_frames'], r['total_frames'], r['start_seconds'],
                  r['codecs']))
        timeline = r.pop('timeline', [])
        detail = (json.dumps(r, indent=1) + '\nhls.js timeline, latest last (t since page load):\n' +
                  '\n'.join(json.dumps(e) for e in timeline) + '\norigin log:\n' + o.log_text()[-2000:])
        assert r['codecs'] == {'h264': True, 'aac': True}, 'Chromium cannot decode H.264/AAC from MSE\n' + detail
        assert r['started'], 'playback never started\n' + detail
        assert r['played_seconds'] >= WATCH_SECONDS - 2, 'the playhead fell behind the clock\n' + detail
        assert r['stalls'] == 0, 'playback stalled\n' + detail
        assert r['latency_samples'] >= WATCH_SECONDS * 2, 'too few latency samples\n' + detail
        assert r['latency_median'] < 3.0, 'latency too high\n' + detail
        assert os.path.getsize(screenshot) > 0
    finally:
        if pub is not None:
            stop_publisher(pub)
        if edge is not None:
            edge.close()
        o.close()
