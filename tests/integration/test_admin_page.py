"""The admin page in headless Chromium against a real origin, a real edge
reporting to it and real ffmpeg publishers.

With an admin token: a wrong credential is refused, signing in shows the
stream with its bitrate and resolution, the bitrate plot draws, the preview
plays and shows its latency, the edge appears with its viewers, a publisher
is disconnected, the stream is ended and then deleted from the page.

With no credential, seen from loopback: no sign-in form, the empty streams
table, an edge that stops reporting shown gone, and the origin unreachable
once it stops.

With a user and password: HTTP basic auth, a wrong password refused, and
the session kept for the tab.  Screenshots go to tests/artifacts/admin-*.png."""
import json
import os
import shutil
import subprocess
import threading

from conftest import SRC, Edge, Origin, publish, stop_publisher
from test_browser import WWW, need_browser

TOKEN = 'page-token-0123456789abcdef'
ADMIN = os.path.join(SRC, 'tests', 'browser', 'admin.mjs')


def artifacts():
    d = os.path.join(SRC, 'tests', 'artifacts')
    os.makedirs(d, exist_ok=True)
    return d


def admin_mjs(args, on_stop=None, timeout=150):
    """Runs admin.mjs; on_stop(what) is called for each "STOP what" line it
    prints.  Returns its report."""
    node = shutil.which('node')
    assert node, 'node is not on PATH (scripts/setup installs it)'
    p = subprocess.Popen([node, ADMIN] + args, cwd=SRC, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    timer = threading.Timer(timeout, p.kill)
    timer.start()
    lines = []
    try:
        for line in p.stdout:
            line = line.rstrip('\n')
            if line.startswith('STOP ') and on_stop:
                on_stop(line[5:])
            lines.append(line)
        err = p.stderr.read()
        p.wait()
    finally:
        timer.cancel()
        if p.poll() is None:
            p.kill()
            p.wait()
    reports = [l for l in lines if l.startswith('{')]
    assert p.returncode == 0 and reports, 'admin.mjs exited %d\n%s\n%s' % (p.returncode, '\n'.join(lines), err[-3000:])
    return json.loads(reports[-1])


def test_the_admin_page_shows_and_controls_the_cdn():
    need_browser()
    o = Origin(args=['--www', WWW, '--admin-token', TOKEN])
    pub = pub2 = edge = None
    try:
        assert o.get('/admin/').status == 200
        pub = publish(o.rtmp('live/adm'))
        pub2 = publish(o.rtmp('live/adm2'), size='320x180')
        o.wait_for('/live/adm/video.m3u8', lambda pl: len(pl.complete_segments()) >= 2, timeout=40)
        o.wait_for('/live/adm2/video.m3u8', lambda pl: len(pl.complete_segments()) >= 1, timeout=20)
        edge = Edge([o.url('')], args=['--report-url', o.url('/api/edges/report'), '--report-token', TOKEN,
                                       '--report-id', 'edge-page', '--report-interval', '1'])
        # One viewer at the edge, so that its report counts one.
        assert edge.get('/live/adm/video.m3u8').status == 200
        r = admin_mjs(['--url', o.url(''), '--token', TOKEN, '--stream', 'live/adm', '--stream2', 'live/adm2',
                       '--edge', 'edge-page', '--shots', artifacts()])
        detail = json.dumps(r, indent=1) + '\norigin log:\n' + o.log_text()[-2000:]
        print('admin page: %s' % json.dumps(r['steps']))
        s = r['steps']
        assert s['login_form_shown'] is True, detail
        assert 'Wrong credential' in s['wrong_credential_refused'], detail
        assert s['signed_in'] is True, detail
        row = s['stream_row']
        assert row['resolution'] == '640×360' and row['state'] == 'live', detail
        assert row['bitrate'].endswith('bit/s') and float(row['bitrate'].split()[0]) > 0, detail
        assert row['codec'].startswith('avc1.') and 'mp4a.40.2' in row['codec'], detail
        assert row['fps'] == '30' and row['publisher'].startswith('127.0.0.1:'), detail
        assert s['plot_drawn'] >= 2, detail
        assert 0 < s['preview_latency'] < 10, detail
        e = s['edge_row']
        assert e['state'] == 'up' and e['viewers'] >= 1 and e['total_row'], detail
        assert e['stream_viewers'] == str(e['viewers']) and '1 edge up' in e['totals'], detail
        d = s['disconnected_from_page']
        assert d['state'] == 'idle' and d['publisher'] == '–' and 'disconnected' in d['result'], detail
        assert pub2.wait(timeout=15) != 0, 'the publisher of live/adm2 was not disconnected'
        ended = s['ended_from_page']
        assert ended['endlist'] and ended['end_disabled'] and ended['delete_shown'], detail
        assert pub.wait(timeout=15) != 0, 'the publisher was not disconnected when the stream ended'
        assert s['deleted_from_page'] is True, detail
        assert o.get('/api/streams/live/adm', headers={'Authorization': 'Bearer ' + TOKEN}).status == 404
        assert s['signed_out'] is True, detail
        assert r.get('dialogs') == 3, 'every action asks first\n' + detail
        assert not [x for x in r['errors'] if x.startswith('page:')], detail
        for name in ('refused', 'stream', 'ended'):
            assert os.path.getsize(os.path.join(artifacts(), 'admin-%s.png' % name)) > 0
    finally:
        if edge:
            edge.stop()
        for p in (pub, pub2):
            if p:
                stop_publisher(p)
        o.close()


def test_the_admin_page_shows_empty_gone_and_unreachable_states():
    need_browser()
    o = Origin(args=['--www', WWW])
    edge = Edge([o.url('')], args=['--report-url', o.url('/api/edges/report'), '--report-id', 'edge-gone',
                                   '--report-interval', '1'])
    stopped = []

    def on_stop(what):
        stopped.append(what)
        (edge if what == 'edge' else o).stop()

    try:
        r = admin_mjs(['--url', o.url(''), '--scenario', 'states', '--edge', 'edge-gone', '--shots', artifacts()],
                      on_stop)
        detail = json.dumps(r, indent=1) + '\norigin log:\n' + o.log_text()[-2000:]
        print('admin page states: %s' % json.dumps(r['steps']))
        s = r['steps']
        assert stopped == ['edge', 'origin'], detail
        assert s['loopback_without_login']['login_hidden'] is True, detail
        assert 'loopback' in s['loopback_without_login']['status'], detail
        # The origin's own RTMP port (a free one here), not the default.
        assert s['streams_empty'].startswith('No streams yet — publish to rtmp://127.0.0.1:%d/live/NAME'
                                             % o.rtmp_port), detail
        assert s['edge_up']['edges_empty_hidden'] is True and '1 edge up' in s['edge_up']['totals'], detail
        assert s['edge_gone']['state'] == 'gone' and '0 edges up' in s['edge_gone']['totals'], detail
        assert s['origin_unreachable'].startswith('Origin unreachable'), detail
        assert not [x for x in r['errors'] if x.startswith('page:')], detail
        for name in ('empty', 'gone', 'unreachable'):
            assert os.path.getsize(os.path.join(artifacts(), 'admin-%s.png' % name)) > 0
    finally:
        edge.stop()
        o.close()


def test_the_admin_page_signs_in_with_basic_auth(tmp_path):
    need_browser()
    conf = tmp_path / 'origin.yaml'
    conf.write_text('admin:\n  user: "ops"\n  password: "pw-0123456789:abc"\n')
    o = Origin(args=['-c', str(conf), '--www', WWW])
    try:
        r = admin_mjs(['--url', o.url(''), '--scenario', 'basic', '--user', 'ops', '--password', 'pw-0123456789:abc',
                       '--shots', artifacts()])
        detail = json.dumps(r, indent=1) + '\norigin log:\n' + o.log_text()[-2000:]
        print('admin page basic auth: %s' % json.dumps(r['steps']))
        s = r['steps']
        assert 'Wrong credential' in s['wrong_password_refused'], detail
        assert s['signed_in'].startswith('signed in (basic)'), detail
        assert s['kept_across_reload'] is True, detail
        assert not [x for x in r['errors'] if x.startswith('page:')], detail
    finally:
        o.close()
