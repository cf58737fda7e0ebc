"""What players get is real, decodable media: init sections and parts
decode with ffmpeg, codec strings, resolutions and frame rates come from the
stream, and the part rules hold across frame rates and audio rates."""
import subprocess
import time

import pytest

from conftest import FFMPEG, Origin, publish, stop_publisher
from hls import attrs


def fetch_all(o, base, pl):
    """init + every complete segment of a media playlist, concatenated."""
    out = o.get(base + pl.segments[0].map).body
    for s in pl.complete_segments():
        r = o.get(base + s.uri)
        assert r.status == 200
        out += r.body
    return out


def decode(path):
    r = subprocess.run([FFMPEG, '-v', 'error', '-xerror', '-i', str(path), '-f', 'null', '-'], capture_output=True,
                       text=True, timeout=120)
    return r.returncode, r.stderr


@pytest.mark.parametrize('track', ['video', 'audio'])
def test_init_and_parts_decode_without_errors(live, tmp_path, track):
    pl = live.playlist('/live/test/%s.m3u8' % track)
    f = tmp_path / ('all-%s.mp4' % track)
    f.write_bytes(fetch_all(live, '/live/test/', pl))
    rc, err = decode(f)
    assert rc == 0 and err == '', err
    # The parts of the newest segment, init first, decode too.
    seg = [s for s in pl.segments if s.parts][-1]
    g = tmp_path / ('parts-%s.mp4' % track)
    g.write_bytes(live.get('/live/test/' + pl.segments[0].map).body +
                  b''.join(live.get('/live/test/' + p.uri).body for p in seg.parts))
    rc, err = decode(g)
    assert rc == 0 and err == '', err


def probe(path, stream):
    r = subprocess.run(['ffprobe', '-v', 'error', '-select_streams', stream, '-count_packets', '-show_entries',
                        'stream=codec_name,width,height,sample_rate,nb_read_packets', '-of', 'default=nw=1',
                        str(path)], capture_output=True, text=True, timeout=60)
    return dict(l.split('=', 1) for l in r.stdout.split())


RATES = [('24000/1001', '23.976', 48000), ('30000/1001', '29.970', 44100), ('60000/1001', '59.940', 48000),
         ('120', '120.000', 44100), ('25', '25.000', 48000)]


@pytest.mark.parametrize('rate,label,sr', RATES, ids=[r[1] for r in RATES])
def test_part_rules_hold_across_frame_rates(origin, tmp_path, rate, label, sr):
    name = 'live/r' + label.replace('.', '_')
    pub = publish(origin.rtmp(name), size='320x180', rate=rate, sample_rate=sr)
    try:
        base = '/' + name + '/'
        for track in ['video', 'audio']:
            pl = origin.wait_for(base + track + '.m3u8', lambda p: len(p.complete_segments()) >= 3, timeout=40)
            pt = pl.part_target
            for s in pl.segments:
                for i, p in enumerate(s.parts):
                    assert p.duration <= pt, (track, s.msn, i, p.duration)
                    if not (p.independent or i == len(s.parts) - 1) or (track == 'audio' and i == 0):
                        if i != len(s.parts) - 1:
                            assert p.duration >= 0.85 * pt, (track, s.msn, i, p.duration)
                if track == 'video' and s.parts:
                    assert s.parts[0].independent
        mv = origin.get(base + 'index.m3u8').text
        inf = attrs([l for l in mv.splitlines() if l.startswith('#EXT-X-STREAM-INF:')][0].split(':', 1)[1])
        assert inf['FRAME-RATE'] == label
        assert inf['RESOLUTION'] == '320x180'
        vpl = origin.playlist(base + 'video.m3u8')
        f = tmp_path / 'v.mp4'
        f.write_bytes(fetch_all(origin, base, vpl))
        rc, err = decode(f)
        assert rc == 0, err
        apl = origin.playlist(base + 'audio.m3u8')
        a = tmp_path / 'a.mp4'
        a.write_bytes(fetch_all(origin, base, apl))
        assert probe(a, 'a')['sample_rate'] == str(sr)
    finally:
        stop_publisher(pub)


def test_codec_string_follows_the_profile(origin):
    pub = publish(origin.rtmp('live/baseline'), size='320x240', vcodec_args=['-profile:v', 'baseline',
                                                                             '-level', '3.0'])
    try:
        origin.wait_for('/live/baseline/video.m3u8', lambda p: len(p.segments) >= 1, timeout=30)
        mv = origin.get('/live/baseline/index.m3u8').text
        assert 'CODECS="avc1.42c01e,mp4a.40.2"' in mv or 'CODECS="avc1.42401e,mp4a.40.2"' in mv, mv
        assert 'RESOLUTION=320x240' in mv
    finally:
        stop_publisher(pub)


def test_long_gop_gives_longer_segments_and_target_duration(origin):
    pub = publish(origin.rtmp('live/gop'), size='320x180', rate='30', gop=150)
    try:
        pl = origin.wait_for('/live/gop/video.m3u8', lambda p: len(p.complete_segments()) >= 2, timeout=40)
        assert pl.target_duration == 5
        for s in pl.complete_segments():
            assert abs(s.duration - 5.0) < 0.1, s.duration
            assert round(s.duration) <= pl.target_duration
    finally:
        stop_publisher(pub)


@pytest.fixture(scope='module')
def clip_8k(tmp_path_factory):
    """Two seconds of 7680x4320 at 30 fps, made once (x264 ultrafast)."""
    path = tmp_path_factory.mktemp('8k') / '8k.flv'
    subprocess.run([FFMPEG, '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=7680x4320:rate=30', '-f', 'lavfi',
                    '-i', 'sine=sample_rate=48000', '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast',
                    '-tune', 'zerolatency', '-g', '30', '-b:v', '60M', '-c:a', 'aac', '-f', 'flv', str(path)],
                   check=True, timeout=300)
    return path


def test_8k_stream_is_ingested_and_described(origin, clip_8k, tmp_path):
    pub = subprocess.Popen([FFMPEG, '-v', 'error', '-re', '-stream_loop', '-1', '-i', str(clip_8k), '-c', 'copy',
                            '-t', '8', '-f', 'flv', origin.rtmp('live/8k')], stdin=subprocess.DEVNULL)
    try:
        pl = origin.wait_for('/live/8k/video.m3u8', lambda p: len(p.complete_segments()) >= 2, timeout=40)
        mv = origin.get('/live/8k/index.m3u8').text
        assert 'RESOLUTION=7680x4320' in mv
        for s in pl.segments:
            for p in s.parts:
                assert p.duration <= pl.part_target
        seg = pl.complete_segments()[-1]
        whole = origin.get('/live/8k/' + seg.uri)
        assert whole.status == 200 and len(whole.body) > 1000000
        f = tmp_path / '8k.mp4'
        f.write_bytes(origin.get('/live/8k/' + pl.segments[0].map).body + whole.body)
        assert probe(f, 'v')['width'] == '7680'
    finally:
        stop_publisher(pub)
