"""llhls-push, the publisher shipped with llhls: it reads a file with
libavformat and publishes it over RTMP to a real llhls-origin.  What the
origin makes of it (playlists, codec strings, decodable media, byte
counts) is what these tests check."""
import os
import re
import subprocess

import pytest

from conftest import BUILD, FFMPEG, Origin
from hls import attrs

PUSH_BIN = os.path.join(BUILD, 'push', 'llhls-push')
INPUT_SECONDS = 3


def ffmpeg(*args):
    subprocess.run([FFMPEG, '-hide_banner', '-nostdin', '-v', 'error', '-y'] + list(args), check=True, timeout=120)


@pytest.fixture(scope='session')
def media(tmp_path_factory):
    """3 s test inputs: H.264 + AAC in mp4, the same in MPEG-TS (Annex-B
    video, ADTS audio), HEVC + AAC in mp4 (hvc1) and the HEVC one in
    MPEG-TS; 30 fps with a keyframe every second."""
    d = tmp_path_factory.mktemp('push-media')
    src = ['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440',
           '-t', str(INPUT_SECONDS), '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '96k']
    out = {k: str(d / v) for k, v in [('h264', 'h264.mp4'), ('ts', 'h264.ts'), ('hevc', 'hevc.mp4'),
                                       ('hevc_ts', 'hevc.ts'), ('bad', 'bad.mp4')]}
    ffmpeg(*src, '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', out['h264'])
    ffmpeg('-i', out['h264'], '-c', 'copy', out['ts'])
    ffmpeg(*src, '-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'keyint=30:min-keyint=30:log-level=error',
           '-tag:v', 'hvc1', out['hevc'])
    ffmpeg('-i', out['hevc'], '-c', 'copy', out['hevc_ts'])
    with open(out['bad'], 'wb') as f:
        f.write(b'this is not a media file\n' * 100)
    return out


@pytest.fixture
def ended_origin():
    """An origin whose streams end (EXT-X-ENDLIST) half a second after their
    publisher leaves, with 1 s segments."""
    o = Origin(args=['--reconnect-grace', '500ms', '--segment-duration', '1'])
    yield o
    o.close()


def push(args, timeout=60):
    return subprocess.run([PUSH_BIN] + [str(a) for a in args], capture_output=True, text=True, timeout=timeout)


def summary(out):
    """(bytes, media bytes, video frames, audio frames) of a summary line."""
    m = re.search(r'sent (\d+) bytes \((\d+) media\), (\d+) video frames, (\d+) audio frames in [\d.]+ s '
                  r'\([\d.]+ Mbit/s\)', out)
    assert m, out
    return tuple(int(x) for x in m.groups())


def ended(o, name):
    return o.wait_for('/%s/video.m3u8' % name, lambda pl: pl.endlist, timeout=30)


def stream_inf(o, name):
    mv = o.get('/%s/index.m3u8' % name).text
    line = [l for l in mv.splitlines() if l.startswith('#EXT-X-STREAM-INF:')][0]
    return attrs(line.split(':', 1)[1])


def decode_playlist(o, name):
    """ffmpeg reads the whole multivariant playlist (video and audio) and
    decodes every frame; returns (exit code, stderr, decoded video frames)."""
    r = subprocess.run([FFMPEG, '-v', 'error', '-xerror', '-i', o.url('/%s/index.m3u8' % name),
                        '-map', '0:v', '-f', 'framemd5', '-'], capture_output=True, text=True, timeout=120)
    frames = len([l for l in r.stdout.splitlines() if l and not l.startswith('#')])
    return r.returncode, r.stderr, frames


def hevc_refused(o, r):
    """The reason to skip when the origin has no HEVC ingest yet."""
    log = o.log_text()
    if r.returncode != 0 and re.search(r'(HEVC|codec id 12|ExHeader|Enhanced|hvc1).*(not supported|unsupported)|'
                                       r'(not supported|unsupported).*(HEVC|hvc1)|'
                                       r'refusing video .*(codec|frame type)', log, re.I):
        return 'the origin does not ingest HEVC yet: ' + [l for l in log.splitlines() if 'refus' in l][-1]
    return None


def test_help_lists_every_option_and_version_matches_servers():
    r = push(['--help'])
    assert r.returncode == 0
    for opt in ['--count', '--fast', '--loop', '--duration', '--hevc', '--chunk-size', '--timeout', '--quiet',
                '--help', '--version', 'NAME_1']:
        assert opt in r.stdout, opt
    v = push(['-V'])
    assert v.returncode == 0 and re.match(r'llhls-push \S+\n$', v.stdout), v.stdout


def test_h264_mp4_publishes_decodable_parts(ended_origin, media):
    o = ended_origin
    r = push(['-q', media['h264'], o.rtmp('live/mp4')])
    assert r.returncode == 0, r.stderr
    b, mb, video, audio = summary(r.stdout)
    assert video == 30 * INPUT_SECONDS
    assert audio > 40 * INPUT_SECONDS  # 44.1 kHz AAC: ~43 frames a second
    pl = ended(o, 'live/mp4')
    assert any(s.parts for s in pl.segments)
    inf = stream_inf(o, 'live/mp4')
    assert inf['CODECS'].startswith('avc1.') and 'mp4a.40.2' in inf['CODECS']
    assert inf['RESOLUTION'] == '640x360'
    rc, err, frames = decode_playlist(o, 'live/mp4')
    assert rc == 0 and err == '', err
    assert frames == 30 * INPUT_SECONDS


def test_real_time_pacing_takes_the_input_length(origin, media):
    r = push([media['h264'], origin.rtmp('live/rt')])
    assert r.returncode == 0, r.stderr
    secs = float(re.search(r'in ([\d.]+) s', r.stdout).group(1))
    assert INPUT_SECONDS - 0.2 <= secs <= INPUT_SECONDS + 1.5, r.stdout
    # A statistics line a second on stderr, with the media time advancing.
    stats = re.findall(r'media ([\d.]+) s, [\d.]+ Mbit/s, \d+ frames, \d+ bytes', r.stderr)
    assert len(stats) >= 2, r.stderr
    assert float(stats[-1]) > float(stats[0])


def test_mpegts_input_is_converted_from_annexb(ended_origin, media):
    o = ended_origin
    r = push(['-q', '--fast', media['ts'], o.rtmp('live/ts')])
    assert r.returncode == 0, r.stderr
    ended(o, 'live/ts')
    inf = stream_inf(o, 'live/ts')
    assert inf['CODECS'].startswith('avc1.') and 'mp4a.40.2' in inf['CODECS']
    rc, err, frames = decode_playlist(o, 'live/ts')
    assert rc == 0 and err == '', err
    assert frames == 30 * INPUT_SECONDS


def test_loop_continues_timestamps_across_passes(ended_origin, media):
    o = ended_origin
    r = push(['-q', '--fast', '--loop', '2', media['h264'], o.rtmp('live/loop')])
    assert r.returncode == 0, r.stderr
    assert summary(r.stdout)[2] == 2 * 30 * INPUT_SECONDS
    pl = ended(o, 'live/loop')
    total = sum(s.duration for s in pl.complete_segments())
    assert total > INPUT_SECONDS + 2, pl.text
    assert not any(s.discontinuity for s in pl.segments), pl.text
    rc, err, frames = decode_playlist(o, 'live/loop')
    assert rc == 0 and err == '', err
    assert frames == 2 * 30 * INPUT_SECONDS


def test_duration_stops_after_that_much_media(origin, media):
    r = push(['-q', '--fast', '--loop', '--duration', '4.5', media['h264'], origin.rtmp('live/dur')])
    assert r.returncode == 0, r.stderr
    assert abs(summary(r.stdout)[2] - int(4.5 * 30)) <= 2, r.stdout


def test_count_publishes_numbered_streams(origin, media):
    r = push(['-q', '--fast', '-n', '3', media['h264'], origin.rtmp('live/many')])
    assert r.returncode == 0, r.stderr
    for i in (1, 2, 3):
        assert re.search(r'^many_%d: sent \d+ bytes' % i, r.stdout, re.M), r.stdout
        pl = origin.wait_for('/live/many_%d/video.m3u8' % i, lambda p: len(p.complete_segments()) >= 1, timeout=20)
        assert pl.segments
    assert re.search(r'^total: sent', r.stdout, re.M)
    assert origin.get('/live/many/video.m3u8').status == 404


def test_publish_to_a_live_name_reports_badname(origin, media):
    first = subprocess.Popen([PUSH_BIN, '-q', '--loop', media['h264'], origin.rtmp('live/taken')],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        origin.wait_for('/live/taken/video.m3u8', lambda p: p.segments, timeout=20)
        r = push(['-q', media['h264'], origin.rtmp('live/taken')])
        assert r.returncode != 0
        assert 'NetStream.Publish.BadName' in r.stderr, r.stderr
        assert 'live/taken' in r.stderr
    finally:
        first.terminate()
        out, err = first.communicate(timeout=20)
    # SIGTERM ends a publish cleanly, with its summary.
    assert first.returncode == 0, err
    assert summary(out)[2] > 0


def test_bad_input_exits_non_zero_with_a_message(origin, media, tmp_path):
    r = push(['-q', media['bad'], origin.rtmp('live/bad')])
    assert r.returncode == 1
    assert 'cannot open' in r.stderr and 'bad.mp4' in r.stderr, r.stderr
    r = push(['-q', str(tmp_path / 'missing.mp4'), origin.rtmp('live/bad')])
    assert r.returncode == 1 and 'No such file' in r.stderr, r.stderr
    audio_only = tmp_path / 'audio.m4a'
    ffmpeg('-f', 'lavfi', '-i', 'sine', '-t', '1', '-c:a', 'aac', str(audio_only))
    r = push(['-q', str(audio_only), origin.rtmp('live/bad')])
    assert r.returncode == 1 and 'no video stream' in r.stderr, r.stderr


def test_connection_refused_and_bad_url_are_reported(media):
    r = push(['-q', media['h264'], 'rtmp://127.0.0.1:1/live/x'])
    assert r.returncode == 1 and 'cannot connect to 127.0.0.1:1' in r.stderr, r.stderr
    r = push(['-q', media['h264'], 'http://127.0.0.1/live/x'])
    assert r.returncode == 2 and 'rtmp://' in r.stderr, r.stderr
    r = push(['-q', '--hevc', 'both', media['h264'], 'rtmp://127.0.0.1/live/x'])
    assert r.returncode == 2 and '--hevc' in r.stderr, r.stderr


def test_summary_bytes_match_what_the_origin_received(origin, media):
    before = origin.metric('llhls_rtmp_bytes_in_total')
    r = push(['-q', '--fast', '--loop', '2', media['h264'], origin.rtmp('live/bytes')])
    assert r.returncode == 0, r.stderr
    wire, media_bytes, video, audio = summary(r.stdout)
    got = origin.metric('llhls_rtmp_bytes_in_total') - before
    # The origin counts audio and video message bodies: exactly the media
    # bytes; the wire adds the handshake, commands and chunk headers.
    assert got == media_bytes
    overhead = wire - media_bytes
    assert 3073 < overhead < 3073 + 4096 + 16 * (video + audio), (wire, media_bytes)


@pytest.mark.parametrize('mode', ['enhanced', 'legacy'])
@pytest.mark.parametrize('kind', ['hevc', 'hevc_ts'])
def test_hevc_publishes_decodable_parts(ended_origin, media, mode, kind):
    o = ended_origin
    name = 'live/%s_%s' % (kind, mode)
    r = push(['-q', '--fast', '--hevc', mode, media[kind], o.rtmp(name)])
    why = hevc_refused(o, r)
    if why:
        pytest.skip(why)
    assert r.returncode == 0, r.stderr + o.log_text()[-2000:]
    ended(o, name)
    inf = stream_inf(o, name)
    assert inf['CODECS'].startswith('hvc1.'), inf
    rc, err, frames = decode_playlist(o, name)
    assert rc == 0 and err == '', err
    assert frames == 30 * INPUT_SECONDS
