"""Recording (hls.record): a stream keeps every segment while live, becomes
a VOD playlist of the whole recording once it ends, survives a restart of
the origin, and llhls-export copies it out as a package ffmpeg plays.
Without recording, the window still evicts."""
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import BUILD, FFMPEG, Origin, publish, stop_publisher

EXPORT_BIN = os.path.join(BUILD, 'export', 'llhls-export')
# 1 s segments and a 3 s window: a 6 s publish outgrows the window twice.
SHORT = ['--segment-duration', '1', '--part-duration', '0.25', '--window', '3', '--reconnect-grace', '1']


def ffmpeg_errors(url):
    p = subprocess.run([FFMPEG, '-hide_banner', '-nostdin', '-v', 'error', '-i', url, '-f', 'null', '-'],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    return p.returncode, p.stderr.decode(errors='replace').strip()


def run_export(*args):
    return subprocess.run([EXPORT_BIN] + list(args), capture_output=True, timeout=120, text=True)


def vod_uris(origin, track):
    pl = origin.playlist('/live/rec/%s.m3u8' % track)
    return pl, [s.uri for s in pl.segments]


@pytest.fixture(scope='module')
def recorded():
    """An origin with --record that had live/rec published for ~6 s, then
    ended by the grace period."""
    o = Origin(args=SHORT + ['--record'])
    try:
        pub = publish(o.rtmp('live/rec'), duration=6, gop=30)
        # While live, the playlist lists only the window.
        live = o.wait_for('/live/rec/video.m3u8', lambda p: p.segments[-1].msn >= 4, timeout=40)
        assert live.segments[0].msn > 0, 'the live playlist lists more than its window'
        assert live.tag('EXT-X-PLAYLIST-TYPE') is None
        pub.wait(40)
        stop_publisher(pub)
        o.wait_for('/live/rec/video.m3u8', lambda p: p.endlist, timeout=20)
        o.wait_for('/live/rec/audio.m3u8', lambda p: p.endlist, timeout=5)
        yield o
    finally:
        o.close()


def check_vod(origin):
    for track in ('video', 'audio'):
        pl = origin.playlist('/live/rec/%s.m3u8' % track)
        assert pl.endlist
        assert pl.tag('EXT-X-PLAYLIST-TYPE') == 'VOD', pl.text
        for tag in ('EXT-X-PART', 'EXT-X-PRELOAD-HINT', 'EXT-X-SERVER-CONTROL', 'EXT-X-PART-INF',
                    'EXT-X-RENDITION-REPORT', 'EXT-X-SKIP'):
            assert '#' + tag not in pl.text, '%s in a VOD playlist' % tag
        msns = [s.msn for s in pl.segments]
        assert msns[0] == 0, 'the recording does not start at MSN 0: %r' % msns
        assert msns == list(range(msns[0], msns[0] + len(msns)))
        assert len(msns) >= 5, pl.text
        assert all(s.complete for s in pl.segments)
        uris = {s.map for s in pl.segments if s.map} | {s.uri for s in pl.segments}
        for uri in sorted(uris):
            r = origin.get('/live/rec/' + uri)
            assert r.status == 200, '%s -> %d' % (uri, r.status)
            assert len(r.body) > 0
    rc, err = ffmpeg_errors(origin.url('/live/rec/index.m3u8'))
    assert rc == 0 and err == '', err


def test_ended_recording_is_a_vod_playlist_from_msn_0(recorded):
    check_vod(recorded)
    # Directives mean nothing to a finished recording: the same playlist.
    whole = recorded.get('/live/rec/video.m3u8').text
    assert recorded.get('/live/rec/video.m3u8?_HLS_skip=YES').text == whole


def test_recording_is_served_after_a_restart(recorded):
    before = recorded.get('/live/rec/video.m3u8').text
    recorded.restart()
    assert recorded.get('/live/rec/video.m3u8').text == before
    check_vod(recorded)


def test_export_writes_a_package_ffmpeg_reads(recorded):
    out = tempfile.mkdtemp(prefix='llhls-export-')
    try:
        p = run_export(recorded.data_dir, 'live/rec', out)
        assert p.returncode == 0, p.stderr
        for track in ('video', 'audio'):
            pl, uris = vod_uris(recorded, track)
            files = sorted(f for f in os.listdir(os.path.join(out, track)) if f.endswith('.m4s'))
            assert len(files) == len(uris)
            with open(os.path.join(out, track + '.m3u8')) as f:
                text = f.read()
            assert '#EXT-X-PLAYLIST-TYPE:VOD' in text and text.rstrip().endswith('#EXT-X-ENDLIST')
            assert '#EXT-X-PART' not in text and 'PRELOAD-HINT' not in text
            assert text.count('#EXTINF:') == len(uris)
            # Each segment file holds what the origin serves at its URI.
            first = uris[0]
            with open(os.path.join(out, first), 'rb') as f:
                assert f.read() == recorded.get('/live/rec/' + first).body
        with open(os.path.join(out, 'index.m3u8')) as f:
            index = f.read()
        assert index == recorded.get('/live/rec/index.m3u8').text
        assert 'GROUP-ID="audio"' in index
        rc, err = ffmpeg_errors(os.path.join(out, 'index.m3u8'))
        assert rc == 0 and err == '', err

        # Clear errors: a directory that is not empty, unless --force.
        p = run_export(recorded.data_dir, 'live/rec', out)
        assert p.returncode == 1 and 'not empty' in p.stderr
        p = run_export('--force', recorded.data_dir, 'live/rec', out)
        assert p.returncode == 0, p.stderr
    finally:
        shutil.rmtree(out, ignore_errors=True)


def test_export_reports_missing_store_and_stream(recorded):
    base = tempfile.mkdtemp(prefix='llhls-export-')
    try:
        out = os.path.join(base, 'out')
        p = run_export(os.path.join(base, 'nothing-here'), 'live/rec', out)
        assert p.returncode == 1 and 'no llhls store in' in p.stderr
        assert not os.path.exists(os.path.join(base, 'nothing-here'))
        p = run_export(recorded.data_dir, 'live/absent', out)
        assert p.returncode == 1 and "no stream 'live/absent'" in p.stderr
        p = run_export(recorded.data_dir, 'noslash', out)
        assert p.returncode == 2
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_without_record_the_window_still_evicts():
    o = Origin(args=SHORT)
    try:
        pub = publish(o.rtmp('live/win'), duration=12, gop=30)
        # retain = 3 s window + 3 target durations: by MSN 8, segment 0 is
        # gone from the store, not only from the playlist.
        o.wait_for('/live/win/video.m3u8', lambda p: len(p.complete_segments()) >= 1 and p.segments[-1].msn >= 9,
                   timeout=40)
        assert o.get('/live/win/video/0.m4s').status == 404
        assert o.get('/live/win/audio/0.m4s').status == 404
        pub.wait(40)
        stop_publisher(pub)
        pl = o.wait_for('/live/win/video.m3u8', lambda p: p.endlist, timeout=20)
        assert pl.tag('EXT-X-PLAYLIST-TYPE') is None
        assert pl.segments[0].msn > 0
        assert '#EXT-X-SERVER-CONTROL' in pl.text
    finally:
        o.close()
