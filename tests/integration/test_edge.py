"""llhls-edge in front of real origins: one upstream fetch per object
however many players wait, HTTP/2 over TLS with ALPN, failover between
origins, a parent tier, config reload, and its own /metrics."""
import contextlib
import signal
import subprocess
import threading
import time

import pytest

from conftest import Edge, Origin, curl_get, publish, stop_publisher
from hls import MediaPlaylist

VIDEO = '/live/test/video.m3u8'


def next_part(pl):
    seg = pl.segments[-1]
    if seg.complete:
        return seg.msn + 1, 0
    return seg.msn, len(seg.parts)


@pytest.fixture(scope='module')
def edge(live):
    e = Edge([live.url('')], args=['--threads', '2'])
    yield e
    e.close()


def test_edge_serves_the_origins_url_space(live, edge):
    for path in ['/live/test/index.m3u8', VIDEO, '/live/test/audio.m3u8']:
        a, b = live.get(path), edge.get(path)
        assert a.status == b.status == 200
        assert b.header('Content-Type') == a.header('Content-Type')
    pl = edge.playlist(VIDEO)
    seg = pl.complete_segments()[-1]
    assert edge.get('/live/test/' + seg.uri).body == live.get('/live/test/' + seg.uri).body
    assert edge.get('/live/nope/index.m3u8').status == 404


def test_edge_speaks_h2c_and_sets_age_and_cors(live, edge):
    pl = edge.playlist(VIDEO)
    seg = pl.complete_segments()[-1]
    r = curl_get(edge.url('/live/test/' + seg.uri), extra=['--http2-prior-knowledge'])
    assert r.status == 200 and r.http_version == '2'
    time.sleep(1.1)
    again = curl_get(edge.url('/live/test/' + seg.uri), extra=['--http2-prior-knowledge'])
    assert int(again.header('Age')) >= 1
    assert again.header('Access-Control-Allow-Origin') == '*'
    assert 'Age' in again.header('Access-Control-Expose-Headers')
    assert 'immutable' in again.header('Cache-Control')


def test_edge_gzips_playlists_when_asked(edge):
    import gzip
    r = edge.get(VIDEO, headers={'Accept-Encoding': 'gzip'})
    assert r.header('Content-Encoding') == 'gzip'
    assert gzip.decompress(r.body).startswith(b'#EXTM3U')


def test_200_blocked_players_cause_one_upstream_request(live, edge):
    pl = edge.playlist(VIDEO)
    m, n = next_part(pl)
    n += 1  # far enough ahead that every request is held before the answer
    path = '%s?_HLS_msn=%d&_HLS_part=%d&token=player' % (VIDEO, m, n)
    before_origin = sum(live.metric_all('llhls_http_requests_total').values())
    before_fetches = edge.metric('llhls_edge_upstream_fetches_total')
    results = []
    barrier = threading.Barrier(200)

    def one(i):
        barrier.wait()
        # Unknown parameters differ per player and must not split the key.
        r = edge.get(path.replace('player', 'p%d' % i), timeout=30)
        results.append((r.status, time.monotonic(), r.body))
    threads = [threading.Thread(target=one, args=(i,)) for i in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(40)
    assert len(results) == 200
    assert all(s == 200 for s, _, _ in results)
    assert len({b for _, _, b in results}) == 1
    got = MediaPlaylist(results[0][2].decode())
    assert got.last_msn > m or (got.last_msn == m and len(got.segments[-1].parts) > n)
    assert edge.metric('llhls_edge_upstream_fetches_total') - before_fetches == 1
    after_origin = sum(live.metric_all('llhls_http_requests_total').values())
    # The metrics requests themselves: one before, counted after.
    assert after_origin - before_origin == 2, (before_origin, after_origin)
    times = [t for _, t, _ in results]
    print('200 held players answered within %.3f s of each other' % (max(times) - min(times)))


def test_edge_metrics(edge):
    text = edge.get('/metrics').text
    for name in ['llhls_edge_connections_total', 'llhls_edge_requests_total', 'llhls_edge_bytes_out_total',
                 'llhls_edge_cache_hits_total', 'llhls_edge_cache_misses_total', 'llhls_edge_cache_collapsed_total',
                 'llhls_edge_upstream_fetches_total', 'llhls_edge_held_requests', 'llhls_edge_origin_up']:
        assert '# TYPE %s ' % name in text, name
    assert edge.metric('llhls_edge_cache_collapsed_total') > 0


@pytest.fixture
def tls_pair(tmp_path):
    key, crt = tmp_path / 'edge.key', tmp_path / 'edge.crt'
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', str(key), '-out', str(crt),
                    '-days', '1', '-subj', '/CN=localhost'], check=True, capture_output=True, timeout=60)
    return str(crt), str(key)


def test_h2_over_tls_with_alpn(live, tls_pair):
    crt, key = tls_pair
    e = Edge([live.url('')], args=['--listen', '127.0.0.1:0', '--tls-cert', crt, '--tls-key', key])
    try:
        https = [p for kind, p in e.ports if kind == 'https']
        assert https, e.log_text()
        r = curl_get('https://127.0.0.1:%d%s' % (https[0], VIDEO), extra=['-k', '--http2'])
        assert r.status == 200 and r.http_version == '2'
        assert r.body.startswith(b'#EXTM3U')
    finally:
        e.close()


def test_a_tls_handshake_not_done_in_time_is_dropped(live, tls_pair, tmp_path):
    """A client that connects to the TLS listener and never says hello is
    closed after timeouts.tls_handshake, long before timeouts.client_idle
    (30 s); the edge goes on serving TLS."""
    import socket
    crt, key = tls_pair
    conf = tmp_path / 'edge.yaml'
    conf.write_text('origins:\n  - %s\ntimeouts:\n  tls_handshake: 1s\n' % live.url(''))
    e = Edge([], args=['-c', str(conf), '--listen', '127.0.0.1:0', '--tls-cert', crt, '--tls-key', key])
    try:
        https = [p for kind, p in e.ports if kind == 'https']
        assert https, e.log_text()
        s = socket.create_connection(('127.0.0.1', https[0]), timeout=10)
        try:
            t0 = time.monotonic()
            _, closed = read_until_closed(s, 8)
            elapsed = time.monotonic() - t0
        finally:
            s.close()
        assert closed, 'the connection stayed open'
        assert 0.9 <= elapsed <= 4, elapsed
        r = curl_get('https://127.0.0.1:%d%s' % (https[0], VIDEO), extra=['-k', '--http2'])
        assert r.status == 200 and r.http_version == '2'
    finally:
        e.close()


def test_parent_tier_edge_chain(live, edge):
    child = Edge([edge.url('')], h2=True)
    try:
        pl = child.playlist(VIDEO)
        seg = pl.complete_segments()[-1]
        assert child.get('/live/test/' + seg.uri).body == live.get('/live/test/' + seg.uri).body
        m, n = next_part(pl)
        r = child.get('%s?_HLS_msn=%d&_HLS_part=%d' % (VIDEO, m, n))
        assert r.status == 200
    finally:
        child.close()


def test_killed_origin_fails_over_with_no_player_visible_error():
    a, b = Origin(), Origin()
    pubs = [publish(a.rtmp('live/fo')), publish(b.rtmp('live/fo'))]
    e = None
    try:
        for o in (a, b):
            o.wait_for('/live/fo/video.m3u8', lambda p: len(p.complete_segments()) >= 1, timeout=30)
        e = Edge([a.url(''), b.url('')], args=['--threads', '1'])
        assert e.get('/live/fo/video.m3u8').status == 200
        a.stop(signal.SIGKILL)
        statuses = []
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            statuses.append(e.get('/live/fo/video.m3u8').status)
            time.sleep(0.2)
        assert statuses and all(s == 200 for s in statuses), statuses
        assert 'marked down' in e.log_text()
        text = e.get('/metrics').text
        assert 'llhls_edge_origin_up{origin="%s"} 0' % a.url('') in text
    finally:
        for p in pubs:
            stop_publisher(p)
        if e:
            e.close()
        a.close()
        b.close()


def test_config_reload_keeps_running_and_refuses_a_bad_file(live, tmp_path):
    conf = tmp_path / 'edge.yaml'
    conf.write_text('listen:\n  - address: 127.0.0.1:0\norigins:\n  - %s\nlog:\n  level: info\n' % live.url(''))
    e = Edge([], args=['-c', str(conf)])
    try:
        assert e.get(VIDEO).status == 200
        conf.write_text('listen:\n  - address: 127.0.0.1:0\norigins:\n  - %s\nlog:\n  level: loud\n' % live.url(''))
        e.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert 'reload refused' in e.log_text() and 'log.level' in e.log_text()
        assert e.get(VIDEO).status == 200
        conf.write_text('listen:\n  - address: 127.0.0.1:0\norigins:\n  - %s\nlog:\n  level: debug\n' % live.url(''))
        e.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert 'configuration reloaded' in e.log_text()
        assert e.get(VIDEO).status == 200
    finally:
        e.close()


def test_access_log_in_combined_format_with_request_time(live, tmp_path):
    log = tmp_path / 'access.log'
    e = Edge([live.url('')], args=['--access-log', str(log)])
    try:
        assert e.get(VIDEO, headers={'User-Agent': 'probe/1.0', 'Referer': 'http://page.example/'}).status == 200
    finally:
        e.close()
    import re
    lines = log.read_text().splitlines()
    assert lines, 'nothing logged'
    m = re.match(r'^127\.0\.0\.1 - - \[[^\]]+\] "GET /live/test/video\.m3u8 HTTP/1\.1" 200 \d+ '
                 r'"http://page\.example/" "probe/1\.0" [0-9.]+$', lines[-1])
    assert m, lines[-1]


def test_stops_gracefully_on_sigterm(live):
    e = Edge([live.url('')])
    assert e.get(VIDEO).status == 200
    t0 = time.monotonic()
    assert e.stop() == 0
    assert time.monotonic() - t0 < 6
    assert 'stopped' in e.log_text()


def test_connections_over_the_limit_are_closed_at_once(live, tmp_path):
    import socket
    conf = tmp_path / 'edge.yaml'
    conf.write_text('origins:\n  - %s\nlimits:\n  max_connections: 3\n  max_held_per_connection: 3\n' % live.url(''))
    e = Edge([], args=['-c', str(conf)])
    socks = []
    try:
        for _ in range(3):
            s = socket.create_connection(('127.0.0.1', e.http_port), timeout=5)
            socks.append(s)
        time.sleep(0.3)
        extra = socket.create_connection(('127.0.0.1', e.http_port), timeout=5)
        extra.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')
        try:
            got = extra.recv(100)
        except ConnectionResetError:
            got = b''
        assert got == b'', got
        extra.close()
        for s in socks:
            s.close()
        time.sleep(0.3)
        assert e.metric('llhls_edge_connections_refused_total') >= 1
        assert e.get('/healthz').status == 200
    finally:
        for s in socks:
            s.close()
        e.close()


def test_held_requests_per_connection_are_bounded(live, tmp_path):
    conf = tmp_path / 'edge.yaml'
    conf.write_text('origins:\n  - %s\nlimits:\n  max_held_per_connection: 3\n' % live.url(''))
    e = Edge([], args=['-c', str(conf)])
    try:
        pl = e.playlist(VIDEO)
        m, n = next_part(pl)
        # Six blocking requests for a part yet to come, multiplexed on one
        # HTTP/2 connection: three are held, three refused.
        url = e.url('%s?_HLS_msn=%d&_HLS_part=%d' % (VIDEO, m + 1, 0))
        out = subprocess.run(['h2load', '-n', '6', '-c', '1', '-m', '6', url], capture_output=True, text=True,
                             timeout=30).stdout
        assert 'status codes: 3 2xx, 0 3xx, 0 4xx, 3 5xx' in out, out
    finally:
        e.close()


@pytest.mark.parametrize('h2', [False, True], ids=['http1', 'h2'])
def test_request_headers_over_the_bound_get_431(live, tmp_path, h2):
    conf = tmp_path / 'edge.yaml'
    conf.write_text('origins:\n  - %s\nlimits:\n  max_header_size: 4KiB\n' % live.url(''))
    e = Edge([], args=['-c', str(conf)], h2=h2)
    try:
        # A cookie of 3 KiB fits; two of them (6 KiB of headers) do not.
        fits = e.get(VIDEO, headers={'Cookie': 'a=' + 'x' * 3000})
        assert fits.status == 200 and fits.body.startswith(b'#EXTM3U')
        big = e.get(VIDEO, headers={'Cookie': 'a=' + 'x' * 3000, 'X-Token': 'y' * 3000})
        assert big.status == 431
        assert big.body == b'request headers too large\n'
        assert e.metric('llhls_edge_header_too_large_total') == 1
        # The edge, and its cache, go on serving.
        assert e.get(VIDEO).status == 200
    finally:
        e.close()


def test_part_past_the_end_and_part_zero_of_the_next_share_one_key(live, edge):
    pl = edge.playlist(VIDEO)  # the edge learns the segments' part counts
    seg = [s for s in pl.segments if s.complete and s.parts][-1]
    before = edge.metric('llhls_edge_upstream_fetches_total')
    a = edge.get('%s?_HLS_msn=%d&_HLS_part=%d' % (VIDEO, seg.msn, len(seg.parts)))
    b = edge.get('%s?_HLS_part=0&_HLS_msn=%d' % (VIDEO, seg.msn + 1))
    assert a.status == b.status == 200
    assert a.body == b.body
    assert edge.metric('llhls_edge_upstream_fetches_total') - before == 1


def h2_frame(ftype, flags, stream, payload=b''):
    return len(payload).to_bytes(3, 'big') + bytes([ftype, flags]) + stream.to_bytes(4, 'big') + payload


def h2_get(path):
    """HPACK for GET http://edge<path>: indexed :method and :scheme,
    literals without indexing for :authority and :path."""
    def lit(index, value):
        return bytes([index, len(value)]) + value
    return b'\x82\x86' + lit(1, b'edge') + lit(4, path)


def read_until_closed(s, seconds):
    """Reads s until the peer closes it or seconds pass: (bytes, closed)."""
    got = b''
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            return got, True
        if not chunk:
            return got, True
        got += chunk
    return got, False


def test_http2_rapid_reset_closes_the_connection(edge):
    import socket
    s = socket.create_connection(('127.0.0.1', edge.http_port), timeout=10)
    try:
        s.sendall(b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' + h2_frame(4, 0, 0) +
                  h2_frame(1, 0x5, 1, h2_get(b'/healthz')))
        time.sleep(0.3)  # the first request is answered: the connection is watched
        burst = b''.join(h2_frame(1, 0x5, sid, h2_get(b'/healthz')) + h2_frame(3, 0, sid, (8).to_bytes(4, 'big'))
                         for sid in range(3, 3 + 2 * 400, 2))
        try:
            s.sendall(burst)
        except (BrokenPipeError, ConnectionResetError):
            pass
        got, _ = read_until_closed(s, 5)
        # A GOAWAY (type 7) came, and then the end of the connection.
        pos, goaway = 0, False
        while pos + 9 <= len(got):
            n = int.from_bytes(got[pos:pos + 3], 'big')
            goaway |= got[pos + 3] == 7
            pos += 9 + n
        assert goaway, 'no GOAWAY among %d bytes' % len(got)
    finally:
        s.close()
    assert edge.metric('llhls_edge_rapid_reset_closes_total') >= 1
    assert 'rapid reset' in edge.log_text()
    assert edge.get('/healthz').status == 200


@contextlib.contextmanager
def own_origin(name):
    """An origin of the test's own, publishing live/<name> (ready once a
    segment is complete), and an edge in front of it."""
    o = Origin()
    pub = publish(o.rtmp('live/' + name))
    e = None
    try:
        o.wait_for('/live/%s/video.m3u8' % name, lambda p: len(p.complete_segments()) >= 1, timeout=30)
        e = Edge([o.url('')])
        yield o, e
    finally:
        stop_publisher(pub)
        if e:
            e.close()
        o.close()


def test_playlists_stale_if_error_when_every_origin_is_down():
    with own_origin('stale') as (o, e):
        good = e.get('/live/stale/video.m3u8')
        assert good.status == 200
        o.stop(signal.SIGKILL)
        time.sleep(1.5)  # past the playlist's max-age
        for _ in range(3):
            r = e.get('/live/stale/video.m3u8')
            assert r.status == 200 and r.body == good.body
            time.sleep(1.1)
        assert 'serving the last good copy' in e.log_text()
        # Media never cached before has nothing to stand in for it.
        assert e.get('/live/stale/video/999.0.m4s').status == 502


def test_sighup_reloads_the_tls_certificate(live, tmp_path):
    import ssl

    def make_cert(cn):
        key, crt = tmp_path / (cn + '.key'), tmp_path / (cn + '.crt')
        subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', str(key), '-out',
                        str(crt), '-days', '1', '-subj', '/CN=' + cn], check=True, capture_output=True, timeout=60)
        return key.read_bytes(), crt.read_bytes()
    key_a, crt_a = make_cert('first')
    key_b, crt_b = make_cert('second')
    key, crt = tmp_path / 'edge.key', tmp_path / 'edge.crt'
    key.write_bytes(key_a)
    crt.write_bytes(crt_a)
    e = Edge([live.url('')], args=['--listen', '127.0.0.1:0', '--tls-cert', str(crt), '--tls-key', str(key)])
    try:
        port = [p for kind, p in e.ports if kind == 'https'][0]
        served = ssl.get_server_certificate(('127.0.0.1', port)).encode()
        assert ssl.PEM_cert_to_DER_cert(served.decode()) == ssl.PEM_cert_to_DER_cert(crt_a.decode())
        key.write_bytes(key_b)
        crt.write_bytes(crt_b)
        e.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert 'TLS certificate applied' in e.log_text()
        served = ssl.get_server_certificate(('127.0.0.1', port))
        assert ssl.PEM_cert_to_DER_cert(served) == ssl.PEM_cert_to_DER_cert(crt_b.decode())
        r = curl_get('https://127.0.0.1:%d%s' % (port, VIDEO), extra=['-k', '--http2'])
        assert r.status == 200
    finally:
        e.close()


def test_msn_far_ahead_is_refused_at_the_edge_without_asking_the_origin(live, edge):
    pl = edge.playlist(VIDEO)  # the edge learns where the playlist ends
    before = edge.metric('llhls_edge_upstream_fetches_total')
    r = edge.get('%s?_HLS_msn=%d&_HLS_part=0&token=x' % (VIDEO, pl.last_msn + 50))
    assert r.status == 400 and r.elapsed < 0.5
    assert 'more than two segments' in r.text
    assert r.header('cache-control') == 'max-age=%d' % pl.target_duration
    assert edge.metric('llhls_edge_upstream_fetches_total') == before
    assert edge.metric('llhls_edge_refused_ahead_total') >= 1


def test_edge_answers_503_itself_after_three_target_durations():
    """The origin stops answering (SIGSTOP): a player held at the edge still
    gets the spec's 503 after three target durations, from the edge."""
    with own_origin('frozen') as (o, e):
        pl = e.playlist('/live/frozen/video.m3u8')
        td = pl.target_duration
        o.proc.send_signal(signal.SIGSTOP)
        try:
            m, n = next_part(pl)
            r = e.get('/live/frozen/video.m3u8?_HLS_msn=%d&_HLS_part=%d' % (m, n + 1), timeout=6 * td + 5)
        finally:
            o.proc.send_signal(signal.SIGCONT)
        assert r.status == 503
        assert 3 * td - 0.5 <= r.elapsed <= 3 * td + 1.5, r.elapsed
        assert r.header('cache-control') == 'max-age=%d' % td
        assert e.metric('llhls_edge_held_expired_total') == 1
        assert e.metric('llhls_edge_held_requests') == 0


def test_a_player_that_stops_reading_is_cut_off(live, tmp_path):
    """A player grants a 16-byte HTTP/2 window and never more: after
    timeouts.client_send the edge closes its connection."""
    import socket
    conf = tmp_path / 'edge.yaml'
    conf.write_text('origins:\n  - %s\ntimeouts:\n  client_send: 1s\n' % live.url(''))
    e = Edge([], args=['-c', str(conf)])
    s = socket.create_connection(('127.0.0.1', e.http_port), timeout=10)
    try:
        seg = live.playlist(VIDEO).complete_segments()[-1]
        path = ('/live/test/' + seg.uri).encode()
        settings = (4).to_bytes(2, 'big') + (16).to_bytes(4, 'big')  # SETTINGS_INITIAL_WINDOW_SIZE
        s.sendall(b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' + h2_frame(4, 0, 0, settings) + h2_frame(4, 1, 0) +
                  h2_frame(1, 0x5, 1, h2_get(path)))
        t0 = time.monotonic()
        _, closed = read_until_closed(s, 8)
        elapsed = time.monotonic() - t0
        assert closed, 'the connection stayed open'
        assert 0.9 <= elapsed <= 4, elapsed
        assert e.metric('llhls_edge_stalled_closes_total') == 1
        assert e.get(VIDEO).status == 200
    finally:
        s.close()
        e.close()


def test_sighup_applies_origins_and_limits_on_open_connections(live, tmp_path):
    """A reload moves the edge to another origin and changes its limits;
    a keep-alive connection opened before it is served after it."""
    import http.client
    import socket
    probe = socket.socket()
    probe.bind(('127.0.0.1', 0))
    dead = 'http://127.0.0.1:%d' % probe.getsockname()[1]
    probe.close()  # nothing listens there now
    conf = tmp_path / 'edge.yaml'
    conf.write_text('origins:\n  - %s\n' % dead)
    e = Edge([], args=['-c', str(conf)])
    conn = http.client.HTTPConnection('127.0.0.1', e.http_port, timeout=10)
    try:
        conn.request('GET', VIDEO)
        r = conn.getresponse()
        r.read()
        assert r.status == 502
        conf.write_text('origins:\n  - %s\ncache:\n  size: 64MiB\nlimits:\n  max_held_per_connection: 2\n'
                        'timeouts:\n  client_idle: 40s\n' % live.url(''))
        e.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        log = e.log_text()
        assert 'configuration reloaded' in log
        assert 'timeouts.client_idle changed; it takes effect at the next restart' in log
        conn.request('GET', VIDEO)
        r = conn.getresponse()
        body = r.read()
        assert r.status == 200 and body.startswith(b'#EXTM3U')
        up = e.metric_all('llhls_edge_origin_up')
        assert list(up.values()) == [1.0] and ':%d"' % live.http_port in list(up)[0], up
        pl = MediaPlaylist(body.decode())
        m, n = next_part(pl)
        url = e.url('%s?_HLS_msn=%d&_HLS_part=%d' % (VIDEO, m + 1, 0))
        out = subprocess.run(['h2load', '-n', '4', '-c', '1', '-m', '4', url], capture_output=True, text=True,
                             timeout=30).stdout
        assert 'status codes: 2 2xx, 0 3xx, 0 4xx, 2 5xx' in out, out
    finally:
        conn.close()
        e.close()
