"""HEVC over RTMP, in both signallings encoders use: legacy FLV (codec id 12,
the AVC tag layout around an hvcC) and Enhanced RTMP (ExVideoTagHeader with
the FourCC hvc1).  libx265 encodes with ffmpeg; the tag bodies are built here
from the packets ffprobe reads back, since FFmpeg 5.1's FLV muxer writes no
HEVC.  The playlists must name the stream hvc1.*, and what they point to must
decode with ffmpeg, through the playlist and as init + segments."""
import json
import subprocess
import time

import pytest

from conftest import FFMPEG, Origin
from hls import attrs
from rtmp_client import AUDIO, VIDEO, FlvTag, RtmpClient, replay

FFPROBE = FFMPEG[:-len('ffmpeg')] + 'ffprobe' if FFMPEG.endswith('ffmpeg') else 'ffprobe'


def make_media(path, seconds, size='640x360', rate='30', pix_fmt='yuv420p'):
    """HEVC (1 s GOP, x265's B-frames and open GOPs) and AAC in an mp4."""
    subprocess.run([FFMPEG, '-hide_banner', '-nostdin', '-loglevel', 'error', '-y',
                    '-f', 'lavfi', '-i', 'testsrc2=size=%s:rate=%s' % (size, rate),
                    '-f', 'lavfi', '-i', 'sine=sample_rate=48000', '-t', str(seconds),
                    '-pix_fmt', pix_fmt, '-c:v', 'libx265', '-preset', 'ultrafast',
                    '-x265-params', 'keyint=%s:min-keyint=%s:info=0:log-level=error' % (rate, rate),
                    '-tag:v', 'hvc1', '-c:a', 'aac', '-ar', '48000', str(path)],
                   check=True, timeout=120)


def hexdump_bytes(text):
    """The bytes of ffprobe's -show_data hex dump."""
    out = bytearray()
    for line in text.strip().splitlines():
        hexpart = line.split(':', 1)[1][:41]
        out += bytes.fromhex(hexpart.replace(' ', ''))
    return bytes(out)


def probe(path):
    streams = json.loads(subprocess.run([FFPROBE, '-v', 'error', '-show_streams', '-show_data', '-of', 'json',
                                         str(path)], check=True, capture_output=True, timeout=60).stdout)['streams']
    packets = json.loads(subprocess.run([FFPROBE, '-v', 'error', '-show_packets', '-show_data', '-of', 'json',
                                         str(path)], check=True, capture_output=True, timeout=120).stdout)['packets']
    return streams, packets


def si24(v):
    return (v & 0xFFFFFF).to_bytes(3, 'big')


def flv_tags(path, signalling):
    """The FLV tags an encoder would send for the mp4 at path."""
    streams, packets = probe(path)
    video = next(s for s in streams if s['codec_type'] == 'video')
    audio = next(s for s in streams if s['codec_type'] == 'audio')
    hvcc = hexdump_bytes(video['extradata'])
    asc = hexdump_bytes(audio['extradata'])
    assert hvcc[0] == 1
    if signalling == 'legacy':
        tags = [FlvTag(VIDEO, 0, bytes([0x1C, 0, 0, 0, 0]) + hvcc)]
    else:
        tags = [FlvTag(VIDEO, 0, bytes([0x90]) + b'hvc1' + hvcc)]
    tags.append(FlvTag(AUDIO, 0, bytes([0xAF, 0]) + asc))
    media = []
    for n, p in enumerate(packets):
        data = hexdump_bytes(p['data'])
        if p['codec_type'] == 'audio':
            ms = round(float(p['pts_time']) * 1000)
            media.append((ms, n, FlvTag(AUDIO, ms, bytes([0xAF, 1]) + data)))
            continue
        # x265's first decode times are negative (B-frames): RTMP's clock
        # cannot go below 0, so the video moves a little later.
        dts = round(float(p['dts_time']) * 1000) + 100
        pts = round(float(p['pts_time']) * 1000) + 100
        key = 'K' in p['flags']
        frame_type = 1 if key else 2
        if signalling == 'legacy':
            body = bytes([frame_type << 4 | 12, 1]) + si24(pts - dts) + data
        elif pts == dts:
            body = bytes([0x80 | frame_type << 4 | 3]) + b'hvc1' + data  # CodedFramesX
        else:
            body = bytes([0x80 | frame_type << 4 | 1]) + b'hvc1' + si24(pts - dts) + data
        media.append((dts, n, FlvTag(VIDEO, dts, body)))
    media.sort(key=lambda t: (t[0], t[1]))
    return tags + [t for _, _, t in media], hvcc


def expected_codec(hvcc):
    """ISO/IEC 14496-15 Annex E, from the record's header (the server reads
    the SPS instead, so the two must agree)."""
    space = 'ABC'[(hvcc[1] >> 6) - 1] if hvcc[1] >> 6 else ''
    compat = int('{:032b}'.format(int.from_bytes(hvcc[2:6], 'big'))[::-1], 2)
    cons = list(hvcc[6:12])
    while cons and cons[-1] == 0:
        cons.pop()
    s = 'hvc1.%s%d.%X.%s%d' % (space, hvcc[1] & 0x1F, compat, 'H' if hvcc[1] & 0x20 else 'L', hvcc[12])
    return s + ''.join('.%02X' % c for c in cons)


def publish_tags(o, name, tags):
    c = RtmpClient('127.0.0.1', o.rtmp_port, timeout=10)
    try:
        c.start_publish('live', name, chunk_size=60000)
        replay(c, tags, pace=8.0)
        time.sleep(0.5)
    finally:
        c.close()


def decode_errors(args):
    r = subprocess.run([FFMPEG, '-nostdin', '-v', 'error', '-xerror'] + args + ['-f', 'null', '-'],
                       capture_output=True, text=True, timeout=180)
    return r.returncode, r.stderr


@pytest.fixture
def origin_short_grace():
    o = Origin(args=['--reconnect-grace', '1', '--segment-duration', '1'])
    yield o
    o.close()


@pytest.mark.parametrize('signalling', ['legacy', 'enhanced'])
def test_hevc_publish_plays_in_both_signallings(origin_short_grace, tmp_path, signalling):
    o = origin_short_grace
    src = tmp_path / 'src.mp4'
    make_media(src, 5)
    tags, hvcc = flv_tags(src, signalling)
    name = 'hevc_' + signalling
    publish_tags(o, name, tags)
    base = '/live/%s/' % name
    # Once the publisher's grace is over the playlist ends, and ffmpeg reads
    # it to the end rather than following it live.
    o.wait_for(base + 'video.m3u8', lambda pl: pl.endlist and len(pl.complete_segments()) >= 4, timeout=30)

    master = o.get(base + 'index.m3u8').text
    stream_inf = next(line for line in master.splitlines() if line.startswith('#EXT-X-STREAM-INF:'))
    a = attrs(stream_inf.split(':', 1)[1])
    codecs = a['CODECS'].split(',')
    want = expected_codec(hvcc)
    assert want.startswith('hvc1.1.6.L')
    assert want in codecs, master
    assert 'mp4a.40.2' in codecs
    assert a['RESOLUTION'] == '640x360'
    assert abs(float(a['FRAME-RATE']) - 30.0) < 0.01

    pl = o.playlist(base + 'video.m3u8')
    init = o.get(base + pl.segments[0].map).body
    assert b'hvc1' in init and b'hvcC' in init and b'avc1' not in init
    whole = init + b''.join(o.get(base + s.uri).body for s in pl.complete_segments())
    f = tmp_path / 'video.mp4'
    f.write_bytes(whole)
    rc, err = decode_errors(['-i', str(f)])
    assert rc == 0 and err == '', err
    # Through the playlists, as a player would read them.
    rc, err = decode_errors(['-i', o.url(base + 'index.m3u8')])
    assert rc == 0 and err == '', err
    probe_out = subprocess.run([FFPROBE, '-v', 'error', '-select_streams', 'v', '-show_entries',
                                'stream=codec_name,codec_tag_string,width,height', '-of', 'json', str(f)],
                               check=True, capture_output=True, text=True, timeout=60).stdout
    st = json.loads(probe_out)['streams'][0]
    assert (st['codec_name'], st['codec_tag_string'], st['width'], st['height']) == ('hevc', 'hvc1', 640, 360)


def test_hevc_main10_codec_string(origin_short_grace, tmp_path):
    o = origin_short_grace
    src = tmp_path / 'src10.mp4'
    make_media(src, 3, size='1280x720', rate='60', pix_fmt='yuv420p10le')
    tags, hvcc = flv_tags(src, 'enhanced')
    publish_tags(o, 'main10', tags)
    o.wait_for('/live/main10/video.m3u8', lambda pl: pl.endlist, timeout=30)
    master = o.get('/live/main10/index.m3u8').text
    want = expected_codec(hvcc)
    assert want.startswith('hvc1.2.4.L')
    assert want in master, master
    rc, err = decode_errors(['-i', o.url('/live/main10/index.m3u8')])
    assert rc == 0 and err == '', err


def test_codec_change_from_h264_to_hevc_is_a_discontinuity(origin_short_grace, tmp_path):
    o = origin_short_grace
    from rtmp_client import make_flv
    h264 = [t for t in make_flv(str(tmp_path / 'h264.flv'), seconds=3, ffmpeg=FFMPEG) if t.type in (AUDIO, VIDEO)]
    src = tmp_path / 'src.mp4'
    make_media(src, 3)
    hevc, hvcc = flv_tags(src, 'enhanced')
    last = max(t.ts for t in h264) + 40
    # The HEVC part goes on from where the H.264 stopped; the audio sequence
    # header is the same and stays out.
    for t in hevc:
        t.ts += last
    hevc = [t for t in hevc if not (t.type == AUDIO and t.body[1] == 0)]
    publish_tags(o, 'switch', h264 + hevc)
    o.wait_for('/live/switch/video.m3u8', lambda pl: pl.endlist, timeout=30)
    text = o.get('/live/switch/video.m3u8').text
    assert '#EXT-X-DISCONTINUITY' in text
    maps = [line for line in text.splitlines() if line.startswith('#EXT-X-MAP')]
    assert len(set(maps)) >= 2
    assert expected_codec(hvcc) in o.get('/live/switch/index.m3u8').text
