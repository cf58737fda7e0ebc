"""The edge reports to the origin's admin API: a real origin, a real edge
and an ffmpeg publisher; a small HTTP server on 127.0.0.1 stands where the
report goes when the test needs to see every request as sent (the admin
page test has the edge report to the real origin).  Reports arrive at the
interval with the token, their figures match what the players did, a
missing receiver disturbs nothing, and SIGHUP changes the interval."""
import http.client
import http.server
import json
import signal
import threading
import time

import pytest

from conftest import Edge, Origin, publish, stop_publisher


class Receiver:
    """Takes POSTs on 127.0.0.1:PORT and keeps (time, headers, JSON body)."""

    def __init__(self, status=204):
        self.reports = []
        self.status = status
        self.hang = None  # an Event: answers wait for it
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get('Content-Length', 0))
                body = json.loads(self.rfile.read(n))
                outer.reports.append((time.monotonic(), dict(self.headers), body, self.path))
                if outer.hang is not None:
                    outer.hang.wait(30)
                self.send_response(outer.status)
                self.send_header('Content-Length', '0')
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self):
        return 'http://127.0.0.1:%d/api/edges/report' % self.port

    def wait(self, n, timeout=15):
        deadline = time.monotonic() + timeout
        while len(self.reports) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.reports

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope='module')
def live():
    o = Origin()
    p = publish(o.rtmp('live/rep'))
    try:
        o.wait_for('/live/rep/video.m3u8', lambda pl: len(pl.complete_segments()) >= 1, timeout=40)
        yield o
    finally:
        stop_publisher(p)
        o.stop()


def test_reports_carry_the_edge_figures(live, tmp_path):
    rx = Receiver()
    edge = Edge([live.url('')], args=['--report-url', rx.url(), '--report-token', 'tok-0123456789abcdef',
                                      '--report-id', 'edge-r', '--report-interval', '0.5'])
    conns = []
    try:
        # Three players on their own keep-alive connections, one of them
        # fetching a segment too.
        for i in range(3):
            c = http.client.HTTPConnection('127.0.0.1', edge.http_port, timeout=10)
            c.request('GET', '/live/rep/video.m3u8')
            r = c.getresponse()
            text = r.read().decode()
            assert r.status == 200
            conns.append(c)
        seg = [l for l in text.splitlines() if l.startswith('video/') and l.endswith('.m4s') and l.count('.') == 1][0]
        conns[0].request('GET', '/live/rep/' + seg)
        body = conns[0].getresponse().read()
        assert len(body) > 1000
        start = len(rx.reports)
        reports = rx.wait(start + 4)
        assert len(reports) >= start + 4, edge.log_text()
        gaps = [b[0] - a[0] for a, b in zip(reports[start:], reports[start + 1:])]
        assert all(0.3 < g < 1.0 for g in gaps), gaps
        _, headers, last, path = reports[-1]
        assert path == '/api/edges/report'
        assert headers['Authorization'] == 'Bearer tok-0123456789abcdef'
        assert headers['Content-Type'] == 'application/json'
        assert last['id'] == 'edge-r' and last['interval_ms'] == 500
        assert last['listen'] == 'http://127.0.0.1:%d' % edge.http_port
        assert last['viewers'] == {'live/rep': 3}, last
        assert last['connections'] >= 3 and last['requests_total'] >= 4
        assert last['origins'] == [{'url': live.url(''), 'up': True}]
        assert 0 <= last['hit_ratio'] <= 1 and last['held'] == 0 and last['uptime_s'] > 0
        # The segment went out within some report's interval.
        assert max(r[2]['egress_bps'] for r in reports[start - 2 if start >= 2 else 0:]) > 0
        assert any(r[2]['upstream_latency_ms'] > 0 for r in reports)
        m = edge.get('/metrics').text
        assert 'llhls_edge_viewers{stream="live/rep"} 3' in m, m
    finally:
        for c in conns:
            c.close()
        edge.stop()
        rx.close()


def test_a_missing_receiver_disturbs_nothing(live):
    edge = Edge([live.url('')], args=['--report-url', 'http://127.0.0.1:1/api/edges/report', '--report-interval',
                                      '0.5'])
    try:
        time.sleep(2.5)
        assert edge.get('/live/rep/video.m3u8').status == 200
        fails = [l for l in edge.log if 'report to' in l and 'failed' in l]
        # Said once, not at every interval.
        assert len(fails) == 1, edge.log_text()
    finally:
        edge.stop()


def test_sighup_applies_a_new_interval_and_url(live, tmp_path):
    rx = Receiver()
    conf = tmp_path / 'edge.yaml'
    conf.write_text('report:\n  url: %s\n  interval: 5s\n' % rx.url())
    edge = Edge([live.url('')], args=['-c', str(conf)])
    try:
        time.sleep(1.5)
        assert len(rx.reports) == 0
        conf.write_text('report:\n  url: %s\n  interval: 0.5s\n  id: renamed\n' % rx.url())
        hup = time.monotonic()
        edge.proc.send_signal(signal.SIGHUP)
        reports = rx.wait(3, timeout=10)
        assert len(reports) >= 3, edge.log_text()
        # The new interval applies at once, not when the old 5 s ran out.
        assert reports[0][0] - hup < 1.5, reports[0][0] - hup
        assert reports[-1][2]['id'] == 'renamed' and reports[-1][2]['interval_ms'] == 500
        conf.write_text('report:\n  url: ""\n')
        edge.proc.send_signal(signal.SIGHUP)
        time.sleep(1.2)
        n = len(rx.reports)
        time.sleep(1.5)
        assert len(rx.reports) == n, 'reports went on after report.url was emptied'
    finally:
        edge.stop()
        rx.close()


def test_a_refusing_receiver_is_logged_once_per_change(live):
    rx = Receiver(status=500)
    edge = Edge([live.url('')], args=['--report-url', rx.url(), '--report-interval', '0.5'])
    try:
        rx.wait(4)
        assert len(rx.reports) >= 4
        fails = [l for l in edge.log if 'report to' in l and 'failed' in l]
        assert len(fails) == 1 and '500' in fails[0], edge.log_text()
        rx.status = 204
        n = len(rx.reports)
        rx.wait(n + 3)
        time.sleep(0.3)
        again = [l for l in edge.log if 'report to' in l and 'accepted again' in l]
        assert len(again) == 1, edge.log_text()
        assert len([l for l in edge.log if 'report to' in l and 'failed' in l]) == 1
        assert edge.get('/live/rep/video.m3u8').status == 200
    finally:
        edge.stop()
        rx.close()


def test_sigterm_stops_with_a_report_in_flight(live):
    rx = Receiver()
    rx.hang = threading.Event()
    edge = Edge([live.url('')], args=['--report-url', rx.url(), '--report-interval', '0.5'])
    try:
        rx.wait(1)
        assert len(rx.reports) == 1
        # The receiver holds the first report: no second one is sent while
        # it is in flight.
        time.sleep(1.6)
        assert len(rx.reports) == 1
        t = time.monotonic()
        assert edge.stop() == 0, edge.log_text()
        assert time.monotonic() - t < 3
        assert any('stopped' in l for l in edge.log), edge.log_text()
    finally:
        rx.hang.set()
        edge.stop()
        rx.close()


def test_the_origin_lists_a_reporting_edge():
    token = 'report-token-0123456789abcdef'
    o = Origin(args=['--admin-token', token])
    p = publish(o.rtmp('live/listed'))
    edge = None
    c = None
    try:
        o.wait_for('/live/listed/video.m3u8', lambda pl: len(pl.complete_segments()) >= 1, timeout=40)
        edge = Edge([o.url('')], args=['--report-url', o.url('/api/edges/report'), '--report-token', token,
                                       '--report-id', 'edge-listed', '--report-interval', '0.5'])
        c = http.client.HTTPConnection('127.0.0.1', edge.http_port, timeout=10)
        c.request('GET', '/live/listed/video.m3u8')
        assert c.getresponse().read()
        deadline = time.monotonic() + 10
        listed = None
        while time.monotonic() < deadline:
            r = o.get('/api/edges', headers={'Authorization': 'Bearer ' + token})
            assert r.status == 200, r.text
            edges = [e for e in json.loads(r.text)['edges'] if e['id'] == 'edge-listed']
            if edges and edges[0].get('viewers') == {'live/listed': 1}:
                listed = edges[0]
                break
            time.sleep(0.2)
        assert listed is not None, edge.log_text()
        assert listed['gone'] is False and listed['listen'] == 'http://127.0.0.1:%d' % edge.http_port
        assert not [l for l in edge.log if 'report to' in l and 'failed' in l], edge.log_text()
    finally:
        if c:
            c.close()
        if edge:
            edge.stop()
        stop_publisher(p)
        o.stop()
