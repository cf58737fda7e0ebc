"""Publishers come and go: a second one on a live name is refused, one that
comes back within the grace period continues with a discontinuity, one that
does not ends the stream, and a restart of the origin keeps serving."""
import time

from conftest import Origin, publish, stop_publisher
from hls import MediaPlaylist


def test_second_publisher_on_a_live_name_is_refused(origin):
    first = publish(origin.rtmp('live/dup'))
    try:
        origin.wait_for('/live/dup/video.m3u8', lambda p: len(p.segments) >= 1, timeout=30)
        second = publish(origin.rtmp('live/dup'), duration=5)
        rc = second.wait(20)
        err = second.stderr.read().decode()
        assert rc != 0, 'the second publisher was accepted'
        assert 'already live' in origin.log_text() or 'already' in origin.log_text()
        before = origin.playlist('/live/dup/video.m3u8').last_part()
        time.sleep(1)
        after = origin.playlist('/live/dup/video.m3u8').last_part()
        assert after > before, 'the first publisher stalled'
        assert first.poll() is None
    finally:
        stop_publisher(first)


def test_reconnect_within_grace_continues_with_a_discontinuity(origin):
    pub = publish(origin.rtmp('live/re'))
    pl = origin.wait_for('/live/re/video.m3u8', lambda p: len(p.complete_segments()) >= 2, timeout=30)
    stop_publisher(pub)
    last_before = origin.wait_for('/live/re/video.m3u8', lambda p: p.segments[-1].complete, timeout=10).last_msn
    pub = publish(origin.rtmp('live/re'))
    try:
        pl = origin.wait_for('/live/re/video.m3u8', lambda p: p.last_msn >= last_before + 2, timeout=30)
        after = [s for s in pl.segments if s.msn == last_before + 1][0]
        assert after.discontinuity
        assert after.map and after.map != pl.segments[0].map
        assert after.tags_before_parts.index('EXT-X-DISCONTINUITY') < after.tags_before_parts.index('EXT-X-MAP')
        assert not pl.endlist
        msns = [s.msn for s in pl.segments]
        assert msns == list(range(msns[0], msns[0] + len(msns)))
        apl = origin.playlist('/live/re/audio.m3u8')
        assert any(s.discontinuity for s in apl.segments)
    finally:
        stop_publisher(pub)


def test_stream_ends_with_endlist_after_the_grace_period():
    o = Origin(args=['--reconnect-grace', '2'])
    try:
        pub = publish(o.rtmp('live/end'))
        o.wait_for('/live/end/video.m3u8', lambda p: len(p.complete_segments()) >= 1, timeout=30)
        stop_publisher(pub)
        pl = o.wait_for('/live/end/video.m3u8', lambda p: p.endlist, timeout=10)
        assert not pl.preload_hints
        assert all(s.complete for s in pl.segments)
        # Directives are ignored once the playlist has ended.
        r = o.get('/live/end/video.m3u8?_HLS_msn=%d&_HLS_part=3' % (pl.last_msn + 2))
        assert r.status == 200 and r.elapsed < 0.5 and MediaPlaylist(r.text).endlist
    finally:
        o.close()


def test_restart_keeps_serving_what_was_stored():
    o = Origin(args=['--reconnect-grace', '1'])
    try:
        pub = publish(o.rtmp('live/keep'))
        o.wait_for('/live/keep/video.m3u8', lambda p: len(p.complete_segments()) >= 2, timeout=30)
        stop_publisher(pub)
        pl = o.wait_for('/live/keep/video.m3u8', lambda p: p.endlist, timeout=10)
        seg = pl.complete_segments()[-1]
        before = o.get('/live/keep/' + seg.uri).body
        o.restart()
        after = o.playlist('/live/keep/video.m3u8')
        assert after.endlist
        assert [s.msn for s in after.segments] == [s.msn for s in pl.segments]
        assert o.get('/live/keep/' + seg.uri).body == before
        assert o.get('/live/keep/index.m3u8').status == 200
    finally:
        o.close()


def test_kill_during_publish_then_restart_keeps_parts_and_continues():
    import signal
    o = Origin()
    try:
        pub = publish(o.rtmp('live/crash'))
        pl = o.wait_for('/live/crash/video.m3u8', lambda p: len(p.complete_segments()) >= 2, timeout=30)
        seg = pl.complete_segments()[-1]
        body = o.get('/live/crash/' + seg.uri).body
        o.stop(signal.SIGKILL)
        stop_publisher(pub)
        o.start()
        assert o.get('/live/crash/' + seg.uri).body == body
        pub = publish(o.rtmp('live/crash'))
        pl2 = o.wait_for('/live/crash/video.m3u8', lambda p: p.last_msn >= seg.msn + 3, timeout=30)
        stop_publisher(pub)
        assert any(s.discontinuity for s in pl2.segments if s.msn > seg.msn)
    finally:
        o.close()
