"""Renditions: publishes named NAME~LABEL are renditions of the stream NAME.
Its multivariant playlist lists each with measured figures and one shared
audio group; every media playlist reports where the others stand; the
renditions advance together and number their segments alike; an ended
rendition leaves the group; and it all works through an edge."""
import datetime
import json
import os
import re
import shutil
import subprocess
import time

import pytest

from conftest import SRC, Edge, Origin, publish, stop_publisher
from hls import attrs

GRACE = '1'
HI, LO = '/live/ev~hi', '/live/ev~lo'
SIZES = {HI: '640x360', LO: '320x180'}


def pdt(seg):
    return datetime.datetime.strptime(seg.pdt, '%Y-%m-%dT%H:%M:%S.%fZ').replace(
        tzinfo=datetime.timezone.utc).timestamp()


def stream_infs(text):
    """(attributes, URI) of every EXT-X-STREAM-INF of a multivariant playlist."""
    lines = text.splitlines()
    return [(attrs(l.split(':', 1)[1]), lines[i + 1]) for i, l in enumerate(lines)
            if l.startswith('#EXT-X-STREAM-INF:')]


def media_tags(text):
    return [attrs(l.split(':', 1)[1]) for l in text.splitlines() if l.startswith('#EXT-X-MEDIA:')]


def next_part(pl):
    m, n = pl.last_part()
    return m, n + 1


@pytest.fixture(scope='module')
def group():
    o = Origin(args=['--reconnect-grace', GRACE])
    pubs = []
    try:
        for path in (HI, LO):
            pubs.append(publish(o.rtmp(path[1:]), size=SIZES[path], gop=30))
        for path in (HI, LO):
            o.wait_for(path + '/video.m3u8', lambda pl: len(pl.complete_segments()) >= 2, timeout=40)
        yield o
    finally:
        for p in pubs:
            stop_publisher(p)
        o.stop()


def test_the_group_playlist_lists_every_rendition_with_measured_figures(group):
    r = group.get('/live/ev/index.m3u8')
    assert r.status == 200, r.text
    infs = stream_infs(r.text)
    assert [uri for _, uri in infs] == ['../ev~hi/video.m3u8', '../ev~lo/video.m3u8'], r.text
    for (a, uri), path in zip(infs, (HI, LO)):
        assert a['RESOLUTION'] == SIZES[path]
        assert a['FRAME-RATE'] == '30.000'
        codecs = a['CODECS'].split(',')
        assert codecs[0].startswith('avc1.') and codecs[1] == 'mp4a.40.2', a
        assert a['AUDIO'] == 'audio'
        # BANDWIDTH is measured: compare with the bytes the rendition's
        # complete segments (and the shared audio) really hold.
        total_bytes = total_s = 0
        for track in ('video', 'audio'):
            src = path if track == 'video' else HI
            pl = group.playlist('%s/%s.m3u8' % (src, track))
            for seg in pl.complete_segments()[-3:]:
                body = group.get('%s/%s' % (src, seg.uri)).body
                total_bytes += len(body)
                total_s += seg.duration if track == 'video' else 0
        measured = total_bytes * 8 / total_s
        assert int(a['BANDWIDTH']) >= int(a['AVERAGE-BANDWIDTH']) > 0
        assert measured / 3 < int(a['AVERAGE-BANDWIDTH']) < measured * 3, (a, measured)
    assert int(infs[0][0]['AVERAGE-BANDWIDTH']) > int(infs[1][0]['AVERAGE-BANDWIDTH'])
    audio = media_tags(r.text)
    assert len(audio) == 1, r.text
    assert audio[0]['TYPE'] == 'AUDIO' and audio[0]['GROUP-ID'] == 'audio'
    assert audio[0]['URI'] == '../ev~hi/audio.m3u8'


def test_a_rendition_playlist_alone_lists_that_rendition(group):
    r = group.get(LO + '/index.m3u8')
    assert r.status == 200
    infs = stream_infs(r.text)
    assert len(infs) == 1 and infs[0][1] == 'video.m3u8' and infs[0][0]['RESOLUTION'] == SIZES[LO]
    assert media_tags(r.text)[0]['URI'] == 'audio.m3u8'


def test_every_media_playlist_reports_the_other_renditions(group):
    expect = {
        HI + '/video.m3u8': ['audio.m3u8', '../ev~lo/video.m3u8'],
        HI + '/audio.m3u8': ['video.m3u8', '../ev~lo/video.m3u8'],
        LO + '/video.m3u8': ['audio.m3u8', '../ev~hi/video.m3u8', '../ev~hi/audio.m3u8'],
    }
    for path, uris in expect.items():
        pl = group.playlist(path)
        assert [rep['URI'] for rep in pl.rendition_reports] == uris, (path, pl.text)
        base = path.rsplit('/', 1)[0]
        for rep in pl.rendition_reports:
            # A report says where that playlist ended at this moment: the
            # playlist itself, read just after, is there or one part on.
            other = group.playlist(os.path.normpath(base + '/' + rep['URI']))
            m, n = other.last_part()
            rm, rn = int(rep['LAST-MSN']), int(rep['LAST-PART'])
            assert (rm, rn) <= (m, n), (path, rep, m, n)
            assert m - rm <= 1, (path, rep, m, n)


def test_renditions_advance_within_one_part_target(group):
    pt = group.playlist(HI + '/video.m3u8').part_target
    worst = 0.0
    for _ in range(6):
        m, n = next_part(group.playlist(HI + '/video.m3u8'))
        hi = group.playlist('%s/video.m3u8?_HLS_msn=%d&_HLS_part=%d' % (HI, m, n + 2))
        seg = hi.segments[-1]
        hi_end = pdt(seg) + sum(p.duration for p in seg.parts)
        rep = [r for r in hi.rendition_reports if r['URI'] == '../ev~lo/video.m3u8'][0]
        lm, lp = int(rep['LAST-MSN']), int(rep['LAST-PART'])
        lo = group.playlist('%s/video.m3u8?_HLS_msn=%d&_HLS_part=%d' % (LO, lm, lp))
        lseg = [s for s in lo.segments if s.msn == lm][0]
        lo_end = pdt(lseg) + sum(p.duration for p in lseg.parts[:lp + 1])
        worst = max(worst, abs(hi_end - lo_end))
    assert worst <= pt + 0.05, worst


def test_segments_of_one_number_cover_the_same_time_in_every_rendition(group):
    hi = group.playlist(HI + '/video.m3u8')
    lo = group.playlist(LO + '/video.m3u8')
    common = {s.msn for s in hi.segments} & {s.msn for s in lo.segments}
    assert len(common) >= 2
    for msn in common:
        a = [s for s in hi.segments if s.msn == msn][0]
        b = [s for s in lo.segments if s.msn == msn][0]
        assert abs(pdt(a) - pdt(b)) < 0.5, (msn, a.pdt, b.pdt)


def test_a_late_rendition_joins_the_numbering_of_the_group(group):
    hi = group.wait_for(HI + '/video.m3u8', lambda pl: pl.last_msn >= 3, timeout=30)
    pub = publish(group.rtmp('live/ev~late'), size='160x90', gop=30)
    try:
        late = group.wait_for('/live/ev~late/video.m3u8', lambda pl: len(pl.complete_segments()) >= 1, timeout=30)
        first = late.segments[0]
        assert first.msn >= hi.last_msn, (first.msn, hi.last_msn)
        hi = group.playlist(HI + '/video.m3u8')
        same = [s for s in hi.segments if s.msn == first.msn]
        assert same, (first.msn, hi.text)
        # ffmpeg processes started apart cut at different moments; the
        # numbering is what must agree, to within half a segment.
        assert abs(pdt(same[0]) - pdt(first)) <= 1.0 + 0.1, (first.pdt, same[0].pdt)
        text = group.get('/live/ev/index.m3u8').text
        assert '../ev~late/video.m3u8' in text
    finally:
        stop_publisher(pub)
    # The grace period passes: the ended rendition leaves the group.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and '../ev~late/' in group.get('/live/ev/index.m3u8').text:
        time.sleep(0.2)
    text = group.get('/live/ev/index.m3u8').text
    assert '../ev~late/' not in text, text
    assert [uri for _, uri in stream_infs(text)] == ['../ev~hi/video.m3u8', '../ev~lo/video.m3u8']
    reports = [r['URI'] for r in group.playlist(HI + '/video.m3u8').rendition_reports]
    assert '../ev~late/video.m3u8' not in reports


def test_the_group_plays_through_an_edge(group):
    edge = Edge([group.url('')], h2=True)
    try:
        r = edge.get('/live/ev/index.m3u8')
        assert r.status == 200
        for _, uri in stream_infs(r.text):
            path = os.path.normpath('/live/ev/' + uri)
            pl = edge.playlist(path)
            seg = pl.complete_segments()[-1]
            media = edge.get(os.path.normpath(os.path.dirname(path) + '/' + seg.uri))
            assert media.status == 200 and len(media.body) > 1000
    finally:
        edge.stop()


def test_unknown_group_is_404(group):
    assert group.get('/live/nothing/index.m3u8').status == 404
    assert group.get('/live/ev~nothing/index.m3u8').status == 404


def test_hlsjs_switches_between_renditions_without_a_stall(group):
    from test_browser import WWW, need_browser
    need_browser()
    node = shutil.which('node')
    assert node, 'node is not on PATH (scripts/setup installs it)'
    artifacts = os.path.join(SRC, 'tests', 'artifacts')
    os.makedirs(artifacts, exist_ok=True)
    # The page comes from an origin that serves the pages; the group from
    # the origin under test (CORS).
    pages = Origin(args=['--www', WWW])
    try:
        url = pages.url('/player.html?src=' + group.url('/live/ev/index.m3u8'))
        cmd = [node, os.path.join(SRC, 'tests', 'browser', 'switch.mjs'), '--url', url, '--seconds', '24',
               '--every', '6', '--screenshot', os.path.join(artifacts, 'player-switch.png')]
        p = subprocess.run(cmd, cwd=SRC, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    finally:
        pages.stop()
    lines = [l for l in p.stdout.splitlines() if l.startswith('{')]
    assert p.returncode == 0 and lines, 'switch.mjs exited %d\n%s\n%s' % (p.returncode, p.stdout, p.stderr[-3000:])
    r = json.loads(lines[-1])
    detail = json.dumps(r, indent=1)
    print('hls.js renditions: %s' % detail)
    assert r['started'], detail
    assert sorted((l['width'], l['height']) for l in r['levels']) == [(320, 180), (640, 360)], detail
    # hls.js switched to each rendition as asked, and the picture followed:
    # four switches asked for, the picture changed size at least three
    # times (the last may still be in the buffer when watching stops).
    assert {s['level'] for s in r['switched']} == {0, 1}, detail
    changes = [h for h in r['pictures'] if h]
    assert len(changes) >= 4 and set(changes) == {180, 360}, detail
    assert r['stalls'] == 0, detail
    assert r['played_seconds'] >= r['watched_seconds'] - 2, detail
