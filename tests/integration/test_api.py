"""The admin JSON API of the origin (docs/api.md) against a real origin
and real ffmpeg publishers: every endpoint, the credential check, the
actions (end, disconnect, delete) and what they do to playlists and
publishers, edge reports, and bad input."""
import base64
import json
import time

import pytest

from conftest import Origin, publish, stop_publisher

TOKEN = 'test-token-0123456789abcdef'
AUTH = {'Authorization': 'Bearer ' + TOKEN}


def api(o, path, method='GET', body=None, headers=None):
    h = dict(AUTH)
    h.update(headers or {})
    import http.client
    conn = http.client.HTTPConnection('127.0.0.1', o.http_port, timeout=20)
    try:
        data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
        if data is not None:
            h['Content-Type'] = 'application/json'
        conn.request(method, '/api/' + path, body=data, headers=h)
        r = conn.getresponse()
        text = r.read().decode()
        return r.status, (json.loads(text) if text else None), r
    finally:
        conn.close()


def wait_until(pred, timeout=20, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return pred()


@pytest.fixture(scope='module')
def srv():
    o = Origin(args=['--admin-token', TOKEN, '--reconnect-grace', '2'])
    yield o
    o.stop()


@pytest.fixture(scope='module')
def live(srv):
    p = publish(srv.rtmp('live/api'), size='640x360')
    srv.wait_for('/live/api/video.m3u8', lambda pl: len(pl.complete_segments()) >= 2, timeout=40)
    yield srv
    stop_publisher(p)


def test_without_or_with_a_wrong_credential_nothing_is_seen(srv):
    for headers in ({'Authorization': ''}, {'Authorization': 'Bearer wrong-token-0123456789'},
                    {'Authorization': 'Bearer ' + TOKEN + 'x'}, {'Authorization': 'Basic b3BzOnNlY3JldA=='}):
        status, body, r = api(srv, 'streams', headers=headers)
        assert status == 401, (headers, status, body)
        assert r.getheader('WWW-Authenticate') == 'Bearer realm="llhls"'
        assert set(body) == {'error'} and 'credential' in body['error']


def test_session_says_how_the_caller_got_in(srv):
    status, body, r = api(srv, 'session')
    assert status == 200 and body['auth'] == 'token' and body['version']
    assert body['rtmp_port'] == srv.rtmp_port
    assert r.getheader('Cache-Control') == 'no-store'
    assert r.getheader('Content-Type').startswith('application/json')


def test_basic_auth_when_configured(tmp_path):
    conf = tmp_path / 'origin.yaml'
    conf.write_text('admin:\n  user: ops\n  password: pass-word-1\n')
    o = Origin(args=['-c', str(conf)])
    try:
        good = 'Basic ' + base64.b64encode(b'ops:pass-word-1').decode()
        bad = 'Basic ' + base64.b64encode(b'ops:pass-word-2').decode()
        assert api(o, 'session', headers={'Authorization': good})[1]['auth'] == 'basic'
        assert api(o, 'session', headers={'Authorization': bad})[0] == 401
        assert api(o, 'session', headers={'Authorization': 'Bearer ' + TOKEN})[0] == 401
    finally:
        o.stop()


def test_without_a_configured_credential_loopback_is_let_in():
    o = Origin()
    try:
        status, body, _ = api(o, 'session', headers={'Authorization': ''})
        assert status == 200 and body['auth'] == 'loopback'
        assert 'loopback peers only' in o.log_text()
    finally:
        o.stop()


def test_streams_list_a_live_stream_with_its_figures(live):
    status, body, _ = api(live, 'streams')
    assert status == 200
    s = [x for x in body['streams'] if x['name'] == 'live/api'][0]
    assert s['state'] == 'live' and s['app'] == 'live' and s['key'] == 'api'
    assert s['video']['codec'].startswith('avc1.') and (s['video']['width'], s['video']['height']) == (640, 360)
    assert s['video']['frame_rate'] == 30.0
    assert s['audio']['codec'] == 'mp4a.40.2' and s['audio']['sample_rate'] == 48000
    assert s['publisher'].startswith('127.0.0.1:')
    assert s['uptime_s'] > 1 and s['msn'] >= 1 and s['part'] >= 0
    assert 100000 < s['bitrate_bps'] < 20000000
    assert s['playlist'] == '/live/api/index.m3u8'
    assert s['part_target_ms'] == 333 and s['segment_target_ms'] == 2000
    one = api(live, 'streams/live/api')[1]
    assert one['name'] == 'live/api'
    # The same stream; its bandwidth figures move each time a segment
    # completes, which may fall between the two requests.
    moving = ('bandwidth_avg', 'bandwidth_peak')
    assert all(one['video'][k] > 0 and s['video'][k] > 0 for k in moving), (one['video'], s['video'])
    assert {k: v for k, v in one['video'].items() if k not in moving} == \
        {k: v for k, v in s['video'].items() if k not in moving}


def test_history_has_a_sample_per_second_with_bitrate(live):
    status, h, _ = api(live, 'streams/live/api/history')
    assert status == 200 and h['interval_ms'] == 1000
    assert len(h['t_ms']) == len(h['bitrate_bps']) == len(h['parts']) == len(h['jitter_ms']) == 300
    assert all(b - a == 1000 for a, b in zip(h['t_ms'], h['t_ms'][1:]))
    assert abs(h['t_ms'][-1] / 1000 - time.time()) < 3
    recent = [b for b in h['bitrate_bps'][-4:]]
    assert sum(1 for b in recent if b > 100000) >= 2, recent
    assert sum(h['parts'][-4:]) >= 6
    assert max(h['jitter_ms'][-4:]) < 500


def test_groups_list_renditions(srv):
    p = publish(srv.rtmp('live/grp~lo'), size='320x180')
    try:
        srv.wait_for('/live/grp~lo/video.m3u8', lambda pl: len(pl.segments) >= 1, timeout=30)
        body = api(srv, 'streams')[1]
        g = [x for x in body['groups'] if x['name'] == 'live/grp'][0]
        assert g == {'name': 'live/grp', 'playlist': '/live/grp/index.m3u8', 'renditions': ['live/grp~lo']}
        s = [x for x in body['streams'] if x['name'] == 'live/grp~lo'][0]
        assert (s['group'], s['rendition'], s['key']) == ('live/grp', 'lo', 'grp~lo')
    finally:
        stop_publisher(p)


def test_disconnect_drops_the_publisher_and_the_stream_waits(srv):
    p = publish(srv.rtmp('live/kick'))
    try:
        srv.wait_for('/live/kick/video.m3u8', lambda pl: len(pl.segments) >= 1, timeout=30)
        status, body, _ = api(srv, 'streams/live/kick/disconnect', 'POST')
        assert status == 200 and body == {'name': 'live/kick', 'state': 'idle'}
        assert p.wait(timeout=15) != 0, 'ffmpeg kept publishing after the disconnect'
        s = api(srv, 'streams/live/kick')[1]
        assert s['state'] in ('idle', 'ended') and s['publisher'] == ''
        status, body, _ = api(srv, 'streams/live/kick/disconnect', 'POST')
        assert status == 409 and 'no publisher' in body['error']
    finally:
        stop_publisher(p)


def test_end_stops_the_stream_now_and_the_publisher_with_it(srv):
    p = publish(srv.rtmp('live/bye'))
    try:
        srv.wait_for('/live/bye/video.m3u8', lambda pl: len(pl.segments) >= 1, timeout=30)
        status, body, _ = api(srv, 'streams/live/bye/end', 'POST')
        assert status == 200 and body == {'name': 'live/bye', 'state': 'ended'}
        assert srv.playlist('/live/bye/video.m3u8').endlist
        assert api(srv, 'streams/live/bye')[1]['state'] == 'ended'
        assert p.wait(timeout=15) != 0
        status, body, _ = api(srv, 'streams/live/bye/end', 'POST')
        assert status == 409 and 'already ended' in body['error']
        # An ended stream may be deleted; then it is gone everywhere.
        status, body, _ = api(srv, 'streams/live/bye', 'DELETE')
        assert status == 200 and body == {'name': 'live/bye', 'deleted': True}
        assert api(srv, 'streams/live/bye')[0] == 404
        assert srv.get('/live/bye/video.m3u8').status == 404
    finally:
        stop_publisher(p)


def test_delete_of_a_live_stream_is_refused(live):
    status, body, _ = api(live, 'streams/live/api', 'DELETE')
    assert status == 409 and 'live' in body['error']
    assert live.get('/live/api/video.m3u8').status == 200


def test_edge_reports_are_listed_then_gone(srv):
    report = {'id': 'edge-t', 'listen': 'https://edge-t:443', 'interval_ms': 1000, 'uptime_s': 5,
              'connections': 12, 'requests_total': 100, 'egress_bps': 2.5e9, 'hit_ratio': 0.99,
              'upstream_latency_ms': 3.5, 'held': 10, 'viewers': {'live/api': 11},
              'origins': [{'url': 'http://127.0.0.1:1', 'up': True}]}
    status, body, _ = api(srv, 'edges/report', 'POST', report)
    assert status == 204 and body is None
    edges = api(srv, 'edges')[1]
    e = [x for x in edges['edges'] if x['id'] == 'edge-t'][0]
    assert e['connections'] == 12 and e['viewers'] == {'live/api': 11} and e['gone'] is False
    assert e['address'].startswith('127.0.0.1:') and e['age_s'] < 2
    assert edges['total']['viewers'] >= 11 and edges['total']['edges_up'] >= 1
    # No report for 10 s (three 1 s intervals, at least 10 s): gone.
    gone = wait_until(lambda: [x for x in api(srv, 'edges')[1]['edges'] if x['id'] == 'edge-t' and x['gone']],
                      timeout=15, interval=0.5)
    assert gone, 'the edge was not marked gone'


@pytest.mark.parametrize('body,want', [
    (b'{"connections": 3}', '"id"'),
    (b'nonsense', 'not JSON'),
    (b'{"id": "x", "viewers": {"a": -1}}', 'whole number'),
])
def test_bad_edge_reports_get_400_with_a_reason(srv, body, want):
    status, resp, _ = api(srv, 'edges/report', 'POST', body)
    assert status == 400 and want in resp['error'], resp


def test_oversized_report_is_413(srv):
    status, resp, _ = api(srv, 'edges/report', 'POST', b'{"id":"x","pad":"' + b'a' * 70000 + b'"}')
    assert status == 413 and '64 KiB' in resp['error']


def test_unknown_paths_and_methods(srv):
    assert api(srv, 'nothing')[0] == 404
    assert api(srv, 'streams/live/none')[0] == 404
    assert api(srv, 'streams/live/none/history')[0] == 404
    assert api(srv, 'streams/..%2f/x')[0] == 404
    assert api(srv, 'streams/live/none/end', 'POST')[0] == 404
    status, body, r = api(srv, 'streams', 'POST', b'{}')
    assert status == 405 and r.getheader('Allow') == 'GET, HEAD'
    status, body, r = api(srv, 'edges/report')
    assert status == 405 and r.getheader('Allow') == 'POST'
    status, body, r = api(srv, 'streams/live/api/end')
    assert status == 405 and r.getheader('Allow') == 'POST'


def test_the_admin_page_url_leads_to_the_page(srv):
    r = srv.get('/admin')
    assert r.status == 302 and r.header('Location') == '/admin/'
