"""8K at full rate through origin and edge: an 8K 120 fps HEVC stream (Enhanced
RTMP) and an 8K 60 fps H.264 stream, each near 100 Mbit/s, published in real
time by llhls-push from clips made once per run, played through an edge
over HTTP/2 with the LL-HLS rules holding: part durations and sizes, a new
part within a part target, independent segment starts, parts that add up
to their segment, server control, one preload hint, a multivariant playlist
that says what the stream is, and media that decodes at 7680x4320."""
import datetime
import json
import os
import subprocess
import time

import pytest

from conftest import BUILD, FFMPEG, Edge, Origin, stop_process
from hls import MediaPlaylist, attrs

PUSH_BIN = os.path.join(BUILD, 'push', 'llhls-push')
FFPROBE = FFMPEG.replace('ffmpeg', 'ffprobe')
SIZE = '7680x4320'

# One GOP of each: looped by llhls-push, so the stream goes on as long as
# the test wants.  A fixed quantiser keeps the encoders fast and puts the
# test pattern near 100 Mbit/s (about 13 s and 3 s to make on 2 cores).
CLIPS = {
    'hevc120': dict(rate=120, frames=60, codec=['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params',
                                                'keyint=60:min-keyint=60:scenecut=0:bframes=0:qp=37:log-level=error',
                                                '-tag:v', 'hvc1'],
                    push=['--hevc', 'enhanced'], fourcc='hvc1.', frame_rate='120.000'),
    'h264_60': dict(rate=60, frames=60, codec=['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '60',
                                               '-keyint_min', '60', '-sc_threshold', '0', '-qp', '36'],
                    push=[], fourcc='avc1.', frame_rate='60.000'),
}


def make_clip(path, c):
    secs = c['frames'] / c['rate']
    cmd = [FFMPEG, '-v', 'error', '-y', '-f', 'lavfi', '-i',
           'testsrc2=size=%s:rate=%d' % (SIZE, c['rate']),
           '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '%.3f' % secs,
           '-pix_fmt', 'yuv420p'] + c['codec'] + ['-c:a', 'aac', '-b:a', '128k', '-f', 'mp4', path]
    subprocess.run(cmd, check=True, timeout=300)


@pytest.fixture(scope='module')
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp('8k')
    out = {}
    for name, c in CLIPS.items():
        path = str(d / (name + '.mp4'))
        t0 = time.monotonic()
        make_clip(path, c)
        mbps = os.path.getsize(path) * 8 / (c['frames'] / c['rate']) / 1e6
        print('%s: %d frames made in %.1f s, %.0f Mbit/s' % (name, c['frames'], time.monotonic() - t0, mbps))
        assert 60 < mbps < 200, '%s came out at %.0f Mbit/s, not near 100' % (name, mbps)
        out[name] = path
    return out


@pytest.fixture(scope='module')
def cdn():
    o = Origin()
    e = Edge([o.url('')], h2=True)
    yield o, e
    e.stop()
    o.stop()


@pytest.fixture(scope='module', params=list(CLIPS))
def stream(request, clips, cdn):
    o, e = cdn
    name = request.param
    c = CLIPS[name]
    p = subprocess.Popen([PUSH_BIN, '-q', '--loop'] + c['push'] + [clips[name], o.rtmp('live/' + name)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = '/live/%s/' % name
        pl = e.wait_for(base + 'video.m3u8', lambda pl: len(pl.complete_segments()) >= 2, timeout=60)
        yield dict(name=name, c=c, o=o, e=e, base=base, pl=pl, push=p)
    finally:
        stop_process(p)


def pdt(seg):
    return datetime.datetime.strptime(seg.pdt, '%Y-%m-%dT%H:%M:%S.%fZ').timestamp()


def test_multivariant_playlist_says_what_the_stream_is(stream):
    text = stream['e'].get(stream['base'] + 'index.m3u8').text
    inf = [attrs(l.split(':', 1)[1]) for l in text.splitlines() if l.startswith('#EXT-X-STREAM-INF:')]
    assert len(inf) == 1, text
    a = inf[0]
    assert a['RESOLUTION'] == SIZE and a['FRAME-RATE'] == stream['c']['frame_rate'], a
    assert a['CODECS'].startswith(stream['c']['fourcc']) and a['CODECS'].endswith(',mp4a.40.2'), a
    assert 50e6 < int(a['AVERAGE-BANDWIDTH']) <= int(a['BANDWIDTH']) < 300e6, a


def test_parts_follow_the_rules_and_hold_megabytes(stream):
    e, base = stream['e'], stream['base']
    pl = e.playlist(base + 'video.m3u8')
    pt = pl.part_target
    sc = pl.server_control
    assert sc['CAN-BLOCK-RELOAD'] == 'YES' and float(sc['PART-HOLD-BACK']) >= 3 * pt
    assert len(pl.preload_hints) == 1 and pl.preload_hints[0]['TYPE'] == 'PART'
    checked = 0
    for seg in pl.segments:
        if not seg.parts:
            continue
        assert seg.parts[0].independent, 'segment %d starts without an independent part' % seg.msn
        for i, part in enumerate(seg.parts):
            assert part.duration <= pt + 1e-6, (seg.msn, i, part.duration, pt)
            last = i == len(seg.parts) - 1 and seg.complete
            if not part.independent and not last:
                assert part.duration >= 0.85 * pt - 1e-6, (seg.msn, i, part.duration, pt)
    seg = pl.complete_segments()[-1]
    sizes = []
    whole = b''
    for part in seg.parts:
        r = e.get(base + part.uri)
        assert r.status == 200
        sizes.append(len(r.body))
        whole += r.body
        checked += 1
    assert e.get(base + seg.uri).body == whole, 'parts of segment %d do not add up to it' % seg.msn
    full = [s for s, p in zip(sizes, seg.parts) if p.duration >= 0.85 * pt]
    assert full and min(full) > 1_000_000, sizes
    assert checked >= 3


def test_a_new_part_comes_within_a_part_target(stream):
    e, base = stream['e'], stream['base']
    pl = e.playlist(base + 'video.m3u8')
    pt = pl.part_target
    waits = []
    for _ in range(6):
        m, n = pl.last_part()
        t0 = time.monotonic()
        r = e.get('%svideo.m3u8?_HLS_msn=%d&_HLS_part=%d' % (base, m, n + 1))
        waits.append(time.monotonic() - t0)
        assert r.status == 200, r.text
        pl = MediaPlaylist(r.text)
        assert pl.last_part() > (m, n)
    # Each blocked request is answered when the next part exists: within
    # a part target, plus slack for an 8K part crossing two servers.
    assert max(waits) < pt + 0.5, waits


def test_a_hinted_part_comes_from_memory_before_its_commit(stream):
    """The request for the preload-hinted part is woken when the part is
    published, while its megabytes are still being written to the store:
    it is answered from memory, with the bytes the store then keeps."""
    o, base = stream['o'], stream['base']
    served = []
    for _ in range(4):
        before = o.metric('llhls_parts_served_fresh_total')
        hint = o.playlist(base + 'video.m3u8').preload_hints[0]['URI']
        r = o.get(base + hint)
        assert r.status == 200 and len(r.body) > 100_000, (hint, r.status)
        served.append(o.metric('llhls_parts_served_fresh_total') - before)
        assert o.get(base + hint).body == r.body, 'part %s changed once stored' % hint
    assert sum(served) >= 2, served


def test_media_decodes_at_8k(stream, tmp_path):
    e, base = stream['e'], stream['base']
    pl = e.playlist(base + 'video.m3u8')
    fetched = time.time()
    seg = pl.complete_segments()[-1]
    init = [s.map for s in pl.segments if s.map and s.msn <= seg.msn][-1]
    data = e.get(base + init).body + e.get(base + seg.uri).body
    f = tmp_path / 'seg.mp4'
    f.write_bytes(data)
    out = subprocess.run([FFPROBE, '-v', 'error', '-count_frames', '-select_streams', 'v', '-show_entries',
                          'stream=codec_name,width,height,nb_read_frames', '-of', 'json', str(f)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stderr == '', out.stderr
    st = json.loads(out.stdout)['streams'][0]
    assert (st['width'], st['height']) == (7680, 4320)
    assert st['codec_name'] == ('hevc' if stream['name'].startswith('hevc') else 'h264')
    rate = stream['c']['rate']
    assert abs(int(st['nb_read_frames']) - seg.duration * rate) <= 2, (st, seg.duration)
    # The playlist's clock keeps up with the wall clock: the stream is live
    # (the segment in progress began at most one segment ago).
    assert 0 <= fetched - pdt(pl.segments[-1]) < seg.duration + 1
    assert stream['push'].poll() is None, 'llhls-push stopped: ' + stream['push'].stderr.read().decode()[-500:]
