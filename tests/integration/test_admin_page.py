"""The admin page in headless Chromium against a real origin (with an
admin token), a real edge reporting to it and a real ffmpeg publisher: a
wrong credential is refused, signing in shows the stream with its bitrate
and resolution, the bitrate plot draws, the preview plays and shows its
latency, the edge appears with its viewers, and the stream is ended from the
page.  Screenshots go to tests/artifacts/."""
import json
import os
import shutil
import subprocess
import time

from conftest import SRC, Edge, Origin, publish, stop_publisher
from test_browser import WWW, need_browser

TOKEN = 'page-token-0123456789abcdef'


def test_the_admin_page_shows_and_controls_the_cdn():
    need_browser()
    node = shutil.which('node')
    assert node, 'node is not on PATH (scripts/setup installs it)'
    artifacts = os.path.join(SRC, 'tests', 'artifacts')
    os.makedirs(artifacts, exist_ok=True)
    o = Origin(args=['--www', WWW, '--admin-token', TOKEN])
    pub = edge = None
    try:
        assert o.get('/admin/').status == 200
        pub = publish(o.rtmp('live/adm'))
        o.wait_for('/live/adm/video.m3u8', lambda pl: len(pl.complete_segments()) >= 2, timeout=40)
        edge = Edge([o.url('')], args=['--report-url', o.url('/api/edges/report'), '--report-token', TOKEN,
                                       '--report-id', 'edge-page', '--report-interval', '1'])
        # One viewer at the edge, so that its report counts one.
        assert edge.get('/live/adm/video.m3u8').status == 200
        cmd = [node, os.path.join(SRC, 'tests', 'browser', 'admin.mjs'), '--url', o.url(''), '--token', TOKEN,
               '--stream', 'live/adm', '--edge', 'edge-page', '--shots', artifacts]
        p = subprocess.run(cmd, cwd=SRC, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=150)
        lines = [l for l in p.stdout.splitlines() if l.startswith('{')]
        assert p.returncode == 0 and lines, 'admin.mjs exited %d\n%s\n%s' % (p.returncode, p.stdout, p.stderr[-3000:])
        r = json.loads(lines[-1])
        detail = json.dumps(r, indent=1) + '\norigin log:\n' + o.log_text()[-2000:]
        print('admin page: %s' % json.dumps(r['steps']))
        s = r['steps']
        assert s['login_form_shown'] is True, detail
        assert 'Wrong credential' in s['wrong_credential_refused'], detail
        assert s['signed_in'] is True, detail
        assert s['stream_row']['resolution'] == '640×360' and s['stream_row']['state'] == 'live', detail
        assert 'bit/s' in s['stream_row']['bitrate'], detail
        assert s['plot_drawn'] >= 2, detail
        assert 0 < s['preview_latency'] < 10, detail
        assert s['edge_row']['state'] == 'up' and s['edge_row']['viewers'] >= 1, detail
        assert s['ended_from_page'] is True, detail
        assert o.playlist('/live/adm/video.m3u8').endlist
        assert pub.wait(timeout=15) != 0, 'the publisher was not disconnected when the stream ended'
        for name in ('refused', 'stream', 'ended'):
            assert os.path.getsize(os.path.join(artifacts, 'admin-%s.png' % name)) > 0
    finally:
        if edge:
            edge.stop()
        if pub:
            stop_publisher(pub)
        o.stop()
