"""Every LL-HLS rule of DESIGN.md, one test each, checked over HTTP against
the real origin fed by ffmpeg (the module-scoped `srv` fixture)."""
import datetime
import gzip
import threading
import time

import pytest

from conftest import Edge
from hls import MediaPlaylist, attrs


@pytest.fixture(scope='module', params=['origin', 'edge-h2'])
def srv(request, live):
    """Every rule is checked at the origin, and again through an edge over
    HTTP/2 (h2c), which must not change what players see."""
    if request.param == 'origin':
        yield live
        return
    e = Edge([live.url('')], h2=True)
    try:
        e.publisher = live.publisher
        e.origin = live
        yield e
    finally:
        e.close()

VIDEO = '/live/test/video.m3u8'
AUDIO = '/live/test/audio.m3u8'
TRACKS = [VIDEO, AUDIO]


def next_part(pl):
    seg = pl.segments[-1]
    if seg.complete:
        return seg.msn + 1, 0
    return seg.msn, len(seg.parts)


def fresh_playlist(srv, path=VIDEO):
    """The playlist as of a moment ago, its last segment one still being
    written.  Through an edge a plain reload may be half a target duration
    old, and a blocking reload for a part that already exists may be answered
    from the edge's cache with the playlist of the moment that part appeared.
    So the live end is read at the origin, and the blocking reload for the
    part after it, which no one can have had answered yet, is asked of srv:
    it is answered the moment that part exists."""
    pl = getattr(srv, 'origin', srv).playlist(path)
    for _ in range(20):
        m, n = next_part(pl)
        pl = srv.playlist('%s?_HLS_msn=%d&_HLS_part=%d' % (path, m, n))
        if not pl.segments[-1].complete:
            return pl
    raise AssertionError('no segment in progress after 20 parts')


def collect_parts(o, path, seconds):
    """Follows the playlist with blocking reloads for `seconds` and returns
    every segment seen, complete, keyed by msn (as the last playlist saw
    them)."""
    pl = o.playlist(path)
    seen = {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        m, n = next_part(pl)
        pl = o.playlist('%s?_HLS_msn=%d&_HLS_part=%d' % (path, m, n))
        for s in pl.segments:
            if s.parts:
                seen[s.msn] = s
    return {k: v for k, v in seen.items() if v.complete}


@pytest.mark.parametrize('path', TRACKS)
def test_part_durations_never_exceed_part_target(srv, path):
    segs = collect_parts(srv, path, 8)
    pl = srv.playlist(path)
    assert segs
    for s in segs.values():
        for p in s.parts:
            assert p.duration <= pl.part_target, (s.msn, p.uri, p.duration, pl.part_target)


@pytest.mark.parametrize('path', TRACKS)
def test_parts_are_at_least_85_percent_of_target_unless_independent_or_last(srv, path):
    segs = collect_parts(srv, path, 8)
    pt = srv.playlist(path).part_target
    for s in segs.values():
        for i, p in enumerate(s.parts):
            if p.independent or i == len(s.parts) - 1:
                continue
            assert p.duration >= 0.85 * pt, (s.msn, i, p.duration, pt)


@pytest.mark.parametrize('path', TRACKS)
def test_a_new_part_is_published_within_one_part_target(srv, path):
    pl = srv.playlist(path)
    pt = pl.part_target
    gaps = []
    m, n = next_part(pl)
    pl = srv.playlist('%s?_HLS_msn=%d&_HLS_part=%d' % (path, m, n))
    last = time.monotonic()
    for _ in range(15):
        m, n = next_part(pl)
        pl = srv.playlist('%s?_HLS_msn=%d&_HLS_part=%d' % (path, m, n))
        now = time.monotonic()
        gaps.append(now - last)
        last = now
    # One part target, plus scheduling slack on a busy two-core machine.
    assert max(gaps) <= pt + 0.15, gaps


def test_video_segments_start_with_an_independent_part(srv):
    segs = collect_parts(srv, VIDEO, 5)
    for s in srv.playlist(VIDEO).segments:
        if s.parts:
            assert s.parts[0].independent, s.msn
    for s in segs.values():
        assert s.parts[0].independent


def test_video_segment_first_frame_is_an_idr(srv, tmp_path):
    pl = srv.playlist(VIDEO)
    seg = pl.complete_segments()[-1]
    init = srv.get('/live/test/' + seg.map if seg.map else '/live/test/' + pl.segments[0].map)
    body = srv.get('/live/test/' + seg.uri)
    assert init.status == 200 and body.status == 200
    f = tmp_path / 'seg.mp4'
    f.write_bytes(init.body + body.body)
    import subprocess
    out = subprocess.run(['ffprobe', '-v', 'error', '-select_streams', 'v', '-show_frames', '-read_intervals',
                          '%+#1', '-show_entries', 'frame=key_frame,pict_type', '-of', 'csv', str(f)],
                         capture_output=True, text=True, timeout=30)
    assert out.stdout.splitlines()[0].startswith('frame,1,I'), out.stdout + out.stderr


@pytest.mark.parametrize('path', TRACKS)
def test_discontinuity_map_and_date_stand_before_the_first_part(srv, path):
    pl = srv.playlist(path)
    assert pl.segments[0].map, 'the first listed segment has EXT-X-MAP'
    for s in pl.segments:
        assert all(not t.startswith('LATE:') for t in s.tags_before_parts), (s.msn, s.tags_before_parts)
        assert 'EXT-X-PROGRAM-DATE-TIME' in s.tags_before_parts


@pytest.mark.parametrize('path', TRACKS)
def test_parts_listed_only_for_the_last_three_target_durations(srv, path):
    srv.wait_for(path, lambda pl: len(pl.complete_segments()) >= 6, timeout=30)
    pl = srv.playlist(path)
    td = pl.target_duration
    after = 0.0  # duration of the segments after the one looked at
    for s in reversed(pl.segments):
        length = s.duration if s.complete else sum(p.duration for p in s.parts)
        if after > 3 * td + 0.01:
            assert not s.parts, 'segment %d ends %.2f s before the end and lists parts' % (s.msn, after)
        if after + length <= 3 * td:
            assert s.parts, 'segment %d starts %.2f s before the end and lists no parts' % (s.msn, after + length)
        after += length
    assert not pl.segments[0].parts


@pytest.mark.parametrize('path', TRACKS)
def test_parts_stay_downloadable_three_target_durations_after_leaving(srv, path):
    pl = srv.playlist(path)
    td = pl.target_duration
    seg = [s for s in pl.segments if s.parts and s.complete][0]
    uri = '/live/test/' + seg.parts[0].uri
    first = srv.get(uri)
    assert first.status == 200
    # Wait until the segment's parts have left the playlist.
    srv.wait_for(path, lambda p: all(not s.parts for s in p.segments if s.msn == seg.msn), timeout=6 * td + 5)
    left = time.monotonic()
    while time.monotonic() - left < 3 * td:
        r = srv.get(uri)
        assert r.status == 200 and r.body == first.body
        time.sleep(0.5)


@pytest.mark.parametrize('path', TRACKS)
def test_parts_concatenated_equal_the_segment(srv, path):
    pl = srv.playlist(path)
    segs = [s for s in pl.segments if s.parts and s.complete]
    assert segs
    for s in segs:
        whole = srv.get('/live/test/' + s.uri)
        assert whole.status == 200
        joined = b''.join(srv.get('/live/test/' + p.uri).body for p in s.parts)
        assert joined == whole.body, s.msn
        assert abs(sum(p.duration for p in s.parts) - s.duration) < 0.01


@pytest.mark.parametrize('path', TRACKS)
def test_server_control_values(srv, path):
    pl = srv.playlist(path)
    sc = pl.server_control
    td, pt = pl.target_duration, pl.part_target
    assert sc['CAN-BLOCK-RELOAD'] == 'YES'
    assert float(sc['PART-HOLD-BACK']) >= 3 * pt
    assert float(sc['HOLD-BACK']) >= 3 * td
    assert float(sc['CAN-SKIP-UNTIL']) >= 6 * td


@pytest.mark.parametrize('path', TRACKS)
def test_program_date_time_in_every_playlist_and_close_to_now(srv, path):
    pl = srv.playlist(path)
    assert all(s.pdt for s in pl.segments)
    last = pl.segments[-1]
    t = datetime.datetime.strptime(last.pdt, '%Y-%m-%dT%H:%M:%S.%fZ').replace(tzinfo=datetime.timezone.utc)
    age = (datetime.datetime.now(datetime.timezone.utc) - t).total_seconds()
    assert -1 < age < pl.target_duration * 3, age


@pytest.mark.parametrize('path', TRACKS)
def test_exactly_one_preload_hint_for_the_next_part(srv, path):
    pl = srv.playlist(path)
    assert len(pl.preload_hints) == 1
    hint = pl.preload_hints[0]
    assert hint['TYPE'] == 'PART'
    m, n = next_part(pl)
    assert hint['URI'].endswith('/%d.%d.m4s' % (m, n)), (hint, m, n)


def test_rendition_report_for_every_other_rendition(srv):
    v = srv.playlist(VIDEO)
    a = srv.playlist(AUDIO)
    assert [r['URI'] for r in v.rendition_reports] == ['audio.m3u8']
    assert [r['URI'] for r in a.rendition_reports] == ['video.m3u8']
    rep = v.rendition_reports[0]
    assert int(rep['LAST-MSN']) >= 0 and int(rep['LAST-PART']) >= 0


def test_renditions_advance_within_one_part_target(srv):
    pt = srv.playlist(VIDEO).part_target

    def pdt(seg):
        return datetime.datetime.strptime(seg.pdt, '%Y-%m-%dT%H:%M:%S.%fZ').timestamp()
    worst = 0.0
    for _ in range(8):
        # One response is one moment of the server: the video playlist's end
        # against where its rendition report says audio stood then.
        m, n = next_part(srv.playlist(VIDEO))
        v = srv.playlist('%s?_HLS_msn=%d&_HLS_part=%d' % (VIDEO, m, n + 3))
        vs = v.segments[-1]
        v_end = pdt(vs) + sum(p.duration for p in vs.parts)
        rep = v.rendition_reports[0]
        am, ap = int(rep['LAST-MSN']), int(rep['LAST-PART'])
        a = srv.playlist('%s?_HLS_msn=%d&_HLS_part=%d' % (AUDIO, am, ap))
        seg = [s for s in a.segments if s.msn == am][0]
        a_end = pdt(seg) + sum(p.duration for p in seg.parts[:ap + 1])
        worst = max(worst, abs(v_end - a_end))
    assert worst <= pt + 0.05, worst


def test_multivariant_playlist_describes_the_stream(srv):
    r = srv.get('/live/test/index.m3u8')
    assert r.status == 200
    assert r.header('Content-Type') == 'application/vnd.apple.mpegurl'
    text = r.text
    assert '#EXT-X-INDEPENDENT-SEGMENTS' in text
    media = [attrs(l.split(':', 1)[1]) for l in text.splitlines() if l.startswith('#EXT-X-MEDIA:')]
    assert media and media[0]['TYPE'] == 'AUDIO' and media[0]['URI'] == 'audio.m3u8'
    inf = [l for l in text.splitlines() if l.startswith('#EXT-X-STREAM-INF:')]
    assert len(inf) == 1
    a = attrs(inf[0].split(':', 1)[1])
    assert a['RESOLUTION'] == '640x360'
    assert a['FRAME-RATE'] == '30.000'
    codecs = a['CODECS'].split(',')
    assert codecs[0].startswith('avc1.') and len(codecs[0]) == 11
    assert codecs[1] == 'mp4a.40.2'
    assert int(a['BANDWIDTH']) > 100000
    assert text.splitlines()[text.splitlines().index(inf[0]) + 1] == 'video.m3u8'


# ---- blocking reload ----

def test_blocking_reload_holds_until_the_part_is_listed(srv):
    pl = srv.playlist(VIDEO)
    waited = False
    for _ in range(3):
        # Through a cache the plain reload may be up to half a target
        # duration old, and the part already out: then the answer itself is
        # fresh, and the part after its end must be waited for.
        m, n = next_part(pl)
        n += 1
        r = srv.get('%s?_HLS_msn=%d&_HLS_part=%d' % (VIDEO, m, n))
        assert r.status == 200
        pl = MediaPlaylist(r.text)
        listed = {(s.msn, i) for s in pl.segments for i in range(len(s.parts))}
        assert (m, n) in listed or pl.last_msn > m
        if r.elapsed > 0.05:
            waited = True
            break
    assert waited, 'answered at once although the part did not exist'


def test_part_past_the_end_of_a_segment_means_part_zero_of_the_next(srv):
    pl = srv.playlist(VIDEO)
    full = pl.complete_segments()[-1]
    per_segment = len(full.parts)   # parts in a whole segment (all alike here)
    m = pl.segments[-1].msn if not pl.segments[-1].complete else pl.segments[-1].msn + 1
    # Part `per_segment` of M does not exist: M ends before it, so the
    # request is answered by part 0 of M+1.
    r = srv.get('%s?_HLS_msn=%d&_HLS_part=%d' % (VIDEO, m, per_segment))
    assert r.status == 200, r.text
    got = MediaPlaylist(r.text)
    seg_m = [s for s in got.segments if s.msn == m][0]
    assert seg_m.complete and len(seg_m.parts) == per_segment
    nxt = [s for s in got.segments if s.msn == m + 1]
    assert nxt and nxt[0].parts, 'answered before part 0 of the next segment existed'


def test_msn_alone_holds_until_the_segment_is_complete(srv):
    pl = srv.playlist(VIDEO)
    m = pl.segments[-1].msn
    if pl.segments[-1].complete:
        m += 1
    r = srv.get('%s?_HLS_msn=%d' % (VIDEO, m))
    assert r.status == 200
    got = MediaPlaylist(r.text)
    assert [s for s in got.segments if s.msn == m][0].complete


def test_part_without_msn_is_400(srv):
    r = srv.get(VIDEO + '?_HLS_part=1')
    assert r.status == 400


def test_msn_more_than_two_ahead_is_400_at_once(srv):
    pl = fresh_playlist(srv)
    r = srv.get('%s?_HLS_msn=%d' % (VIDEO, pl.last_msn + 3))
    assert r.status == 400 and r.elapsed < 0.5


def test_part_beyond_the_advance_limit_is_400_at_once(srv):
    pl = fresh_playlist(srv)
    m, n = next_part(pl)
    r = srv.get('%s?_HLS_msn=%d&_HLS_part=%d' % (VIDEO, m + 2, 100))
    assert r.status == 400 and r.elapsed < 0.5


def test_blocked_request_gets_503_after_three_target_durations(origin):
    from conftest import publish, stop_publisher
    pub = publish(origin.rtmp('live/short'), duration=4)
    try:
        pl = origin.wait_for('/live/short/video.m3u8', lambda p: len(p.complete_segments()) >= 1, timeout=20)
        stop_publisher(pub)
        # The publisher is gone (the grace period keeps the stream open):
        # a request two segments ahead can never be answered.
        origin.wait_for('/live/short/video.m3u8', lambda p: p.segments[-1].complete, timeout=10)
        pl = origin.playlist('/live/short/video.m3u8')
        td = pl.target_duration
        r = origin.get('/live/short/video.m3u8?_HLS_msn=%d' % (pl.last_msn + 2), timeout=6 * td + 5)
        assert r.status == 503
        assert 3 * td - 0.5 <= r.elapsed <= 3 * td + 1.5, r.elapsed
    finally:
        stop_publisher(pub)


def test_msn_already_present_returns_the_whole_playlist_at_once(srv):
    # The second segment of the window: still there if the window slides
    # once between the two requests.
    pl = fresh_playlist(srv)
    m = pl.segments[1].msn
    r = srv.get('%s?_HLS_msn=%d&_HLS_part=0' % (VIDEO, m))
    assert r.status == 200 and r.elapsed < 0.5
    got = MediaPlaylist(r.text)
    assert not got.skip and got.segments[0].msn <= m <= got.last_msn
    assert got.last_msn >= pl.last_msn


def test_msn_that_left_the_window_returns_the_playlist_at_once(srv):
    r = srv.get('%s?_HLS_msn=0' % VIDEO)
    assert r.status == 200 and r.elapsed < 0.5


# ---- delta updates and hints ----

@pytest.mark.parametrize('skip', ['YES', 'v2'])
def test_skip_answers_with_exactly_one_skip_tag(srv, skip):
    # The delta and the full playlist, both held for the same next part, are
    # answered from one moment of the playlist.
    m, n = next_part(srv.playlist(VIDEO))
    block = '%s?_HLS_msn=%d&_HLS_part=%d' % (VIDEO, m, n)
    got = {}
    threads = [threading.Thread(target=lambda k=k, q=q: got.__setitem__(k, srv.get(block + q)))
               for k, q in [('delta', '&_HLS_skip=' + skip), ('full', '')]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    r = got['delta']
    assert r.status == 200
    pl = MediaPlaylist(r.text)
    assert len(pl.skip) == 1
    assert pl.version >= 9
    full = MediaPlaylist(got['full'].text)
    assert pl.first_msn == full.first_msn and pl.last_msn == full.last_msn
    if skip == 'v2':
        assert 'RECENTLY-REMOVED-DATERANGES' in pl.skip[0]


def test_hinted_part_is_held_until_complete_then_sent_whole(srv):
    # The hint in a fresh playlist names a part that has only just begun,
    # so it is a wait of nearly a part's duration, not a race with one
    # about to close.
    hint = fresh_playlist(srv).preload_hints[0]['URI']
    r = srv.get('/live/test/' + hint)
    assert r.status == 200
    assert r.body[4:8] == b'moof'
    assert r.elapsed > 0.02
    again = srv.get('/live/test/' + hint)
    assert again.body == r.body


@pytest.mark.parametrize('path', ['/live/nope/index.m3u8', '/live/nope/video.m3u8', '/live/test/subtitles.m3u8',
                                  '/live/test/video/99999999.m4s', '/live/test/video/0.99.m4s',
                                  '/live/test/video/init-999.mp4', '/nothing', '/live/test/video/x.m4s'])
def test_unknown_resources_are_404(srv, path):
    assert srv.get(path).status == 404


# ---- delivery ----

def test_playlists_are_gzipped_on_request(srv):
    r = srv.get(VIDEO, headers={'Accept-Encoding': 'gzip'})
    assert r.header('Content-Encoding') == 'gzip'
    assert gzip.decompress(r.body).startswith(b'#EXTM3U')
    plain = srv.get(VIDEO)
    assert plain.header('Content-Encoding') is None and plain.body.startswith(b'#EXTM3U')


def max_age(r):
    cc = r.header('Cache-Control') or ''
    for item in cc.split(','):
        item = item.strip()
        if item.startswith('max-age='):
            return int(item[8:])
    return None


def test_cache_control(srv):
    pl = srv.playlist(VIDEO)
    td = pl.target_duration
    m, n = next_part(pl)
    blocking = srv.get('%s?_HLS_msn=%d&_HLS_part=%d' % (VIDEO, m, n))
    assert abs(max_age(blocking) - 6 * td) <= 1
    assert max_age(srv.get(VIDEO)) <= td / 2
    seg = pl.complete_segments()[-1]
    for uri in [seg.uri, seg.parts[0].uri if seg.parts else seg.uri, pl.segments[0].map]:
        r = srv.get('/live/test/' + uri)
        assert max_age(r) >= 3600 and 'immutable' in r.header('Cache-Control')
    assert max_age(srv.get('/live/nope/video.m3u8')) == td
    assert max_age(srv.get(VIDEO + '?_HLS_part=1')) == td


def test_cors_headers_expose_age(srv):
    r = srv.get(VIDEO, headers={'Origin': 'http://player.example'})
    assert r.header('Access-Control-Allow-Origin') == '*'
    assert 'Age' in r.header('Access-Control-Expose-Headers')
    pre = srv.get(VIDEO, method='OPTIONS', headers={'Origin': 'http://player.example',
                                                      'Access-Control-Request-Method': 'GET'})
    assert pre.status in (200, 204) and pre.header('Access-Control-Allow-Origin') == '*'


def test_metrics_in_prometheus_format(srv):
    if isinstance(srv, Edge):
        pytest.skip('the origin\'s metrics; the edge has its own (test_edge.py)')
    r = srv.get('/metrics')
    assert r.status == 200
    for name in ['llhls_streams_live', 'llhls_rtmp_bytes_in_total', 'llhls_parts_written_total',
                 'llhls_http_waiting_requests']:
        assert ('# TYPE %s ' % name) in r.text
    assert srv.metric('llhls_streams_live') == 1
    assert srv.metric('llhls_parts_written_total') > 10
    assert 'llhls_http_requests_total{code="200"}' in r.text


def test_many_blocked_requests_are_answered_in_the_same_turn(srv):
    pl = srv.playlist(VIDEO)
    m, n = next_part(pl)
    results = []

    def one():
        # HTTP/1.1 from threads even at the edge: fifty curl processes
        # would measure process start-up, not the server.
        import http.client
        c = http.client.HTTPConnection('127.0.0.1', srv.http_port, timeout=20)
        c.request('GET', '%s?_HLS_msn=%d&_HLS_part=%d' % (VIDEO, m, n))
        r = c.getresponse()
        r.read()
        results.append((r.status, time.monotonic()))
        c.close()
    threads = [threading.Thread(target=one) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(results) == 50 and all(s == 200 for s, _ in results)
    times = [t for _, t in results]
    assert max(times) - min(times) < 0.25
