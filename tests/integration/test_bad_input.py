"""Malformed and hostile input, on the RTMP side and the HTTP side.  Every
case checks that the origin is still running, that a stream published by
ffmpeg at the same time keeps advancing and keeps serving the same bytes for
its earlier segments, and (for RTMP) that the log names the problem."""
import os
import re
import socket
import struct
import subprocess
import tempfile
import time
import urllib.parse

import pytest

from conftest import FFMPEG, ORIGIN_BIN, Origin, publish, stop_publisher
from rtmp_client import (AUDIO, COMMAND_AMF0, CSID_COMMAND, CSID_VIDEO, VIDEO, RtmpClient, ServerClosed,
                         amf_encode_all, basic_header, make_flv, message_header0, replay)

MAX_CHUNK_SIZE = 16 * 1024 * 1024
MAX_CHUNK_STREAMS = 64
HANDSHAKE_TIMEOUT = 10.0
CLOSE_WAIT = 5.0
VIDEO_PL = '/live/test/video.m3u8'


# ---- helpers ----

class Watch:
    """What a bystander sees of the live stream: taken before the bad input,
    checked after it."""

    def __init__(self, o, path=VIDEO_PL):
        self.o = o
        self.path = path
        self.log_start = len(o.log)
        pl = o.playlist(path)
        self.last = pl.last_part()
        self.saved = {}
        for seg in pl.complete_segments()[-2:]:
            uri = urllib.parse.urljoin(path, seg.uri)
            r = o.get(uri)
            assert r.status == 200, '%s -> %d' % (uri, r.status)
            self.saved[uri] = r.body
        assert self.saved, 'the live stream has no complete segment yet'

    def check(self):
        assert self.o.proc.poll() is None, 'llhls-origin died (exit %r); log:\n%s' % (
            self.o.proc.returncode, self.o.log_text()[-3000:])
        self.o.wait_for(self.path, lambda pl: pl.last_part() > self.last, timeout=10)
        for uri, body in self.saved.items():
            r = self.o.get(uri)
            assert r.status == 200, '%s -> %d after the bad input' % (uri, r.status)
            assert r.body == body, '%s changed after the bad input' % uri

    def new_log(self):
        return self.o.log[self.log_start:]

    def log_line(self, pattern, tags=('rtmp', 'packager'), levels=('warn', 'error'), timeout=5.0):
        """Waits for a log line at one of levels from one of tags whose
        message matches pattern (a regex, case-insensitive); returns it."""
        rx = re.compile(r'^\S+ (%s) (%s): (.*)$' % ('|'.join(levels), '|'.join(tags)))
        want = re.compile(pattern, re.I)
        deadline = time.monotonic() + timeout
        while True:
            for line in self.new_log():
                m = rx.match(line)
                if m and want.search(m.group(3)):
                    print('log line:', line)
                    return line
            if time.monotonic() > deadline:
                raise AssertionError('no %s line from %s matching /%s/; log since the bad input:\n%s' % (
                    '/'.join(levels), '/'.join(tags), pattern, '\n'.join(self.new_log()[-40:])))
            time.sleep(0.05)


@pytest.fixture
def watch(live):
    return Watch(live)


def client(o, timeout=5.0):
    return RtmpClient('127.0.0.1', o.rtmp_port, timeout=timeout)


def connected(o, app='live'):
    c = client(o)
    c.handshake()
    res, code = c.connect(app)
    assert res == '_result', 'connect to %s refused: %s' % (app, code)
    return c


def assert_closed(c, timeout=CLOSE_WAIT, what='the bad input'):
    took = c.wait_closed(timeout)
    assert took is not None, 'the connection was still open %.0f s after %s' % (timeout, what)
    return took


def uniq(prefix):
    return '%s%d' % (prefix, int(time.monotonic() * 1000) % 10000000)


@pytest.fixture(scope='module')
def flv_tags():
    d = tempfile.mkdtemp(prefix='llhls-flv-')
    path = os.path.join(d, 'sample.flv')
    tags = make_flv(path, seconds=3, ffmpeg=FFMPEG)
    os.unlink(path)
    os.rmdir(d)
    assert any(t.type == VIDEO and t.is_sequence_header for t in tags)
    assert any(t.type == AUDIO and t.is_sequence_header for t in tags)
    return tags


def help_text():
    p = subprocess.run([ORIGIN_BIN, '--help'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10)
    return p.stdout.decode('utf-8', 'replace')


@pytest.fixture(scope='module')
def tight():
    """A second origin with small limits from a config file (messages up to
    1 MiB, 3 s idle timeout), with its own ffmpeg publisher on live/test."""
    d = tempfile.mkdtemp(prefix='llhls-tight-')
    conf = os.path.join(d, 'origin.yaml')
    with open(conf, 'w') as f:
        f.write('rtmp:\n  max_message_size: 1MiB\n  idle_timeout: 3\n')
    o = Origin(args=['-c', conf])
    pub = publish(o.rtmp('live/test'))
    try:
        o.wait_for(VIDEO_PL, lambda pl: len(pl.complete_segments()) >= 2, timeout=40)
        o.publisher = pub
        yield o
    finally:
        stop_publisher(pub)
        o.close()
        os.unlink(conf)
        os.rmdir(d)


def stream_lists_parts(o, stream, timeout=15):
    return o.wait_for('/%s/video.m3u8' % stream, lambda pl: any(s.parts for s in pl.segments), timeout=timeout)


# ---- the client itself, against the real server ----

def test_client_publishes_real_media(live, watch, flv_tags):
    name = uniq('ok')
    with client(live) as c:
        c.start_publish('bad', name, chunk_size=4096)
        replay(c, flv_tags, media_only=False)
        pl = stream_lists_parts(live, 'bad/' + name)
        assert pl.segments[0].parts[0].independent
    watch.check()


def test_client_publishes_with_extended_timestamps(live, watch, flv_tags):
    name = uniq('ext')
    with client(live) as c:
        c.start_publish('bad', name, chunk_size=300)
        replay(c, flv_tags, ts_offset=0x1000000 + 5000)
        stream_lists_parts(live, 'bad/' + name)
    watch.check()


# ---- handshake ----

@pytest.mark.parametrize('first', [b'\x07' + os.urandom(1536), b'\xc5' + os.urandom(3072),
                                   b'GET / HTTP/1.1\r\nHost: x\r\n\r\n' + b'\x00' * 1600],
                         ids=['version7', 'random', 'http'])
def test_garbage_handshake_is_closed(live, watch, first):
    with client(live) as c:
        try:
            c.send_raw(first)
        except ServerClosed:
            pass
        assert_closed(c)
    watch.log_line(r'handshake|version')
    watch.check()


def test_truncated_handshake_is_closed_after_timeout(live, watch):
    flag = re.search(r'(--[a-z-]*handshake[a-z-]*)', help_text())
    o, timeout = live, HANDSHAKE_TIMEOUT
    if flag:
        timeout = 2.0
        o = Origin(args=[flag.group(1), '2'])
    try:
        w = Watch(o) if o is not live else watch
        with client(o) as c:
            c.send_raw(b'\x03' + os.urandom(100))
            took = assert_closed(c, timeout + 5, 'a truncated handshake')
            assert took >= timeout * 0.5, 'closed after %.1f s, before the handshake timeout' % took
        w.log_line(r'handshake.*(time|slow)|(time|slow).*handshake', levels=('info', 'warn', 'error'))
    finally:
        if o is not live:
            o.close()
    watch.check()


def test_idle_connection_is_closed_after_idle_timeout(tight):
    w = Watch(tight)
    c = connected(tight)
    took = assert_closed(c, 3 + 5, 'silence')
    c.close()
    assert took >= 1.5, 'closed after %.1f s of silence, before the 3 s idle timeout' % took
    # Timeouts are what idle clients and port scanners do: info is enough.
    w.log_line(r'idle', levels=('info', 'warn', 'error'))
    w.check()


# ---- chunk stream ----

@pytest.mark.parametrize('size', [0, MAX_CHUNK_SIZE + 1, 0x7FFFFFFF], ids=['zero', 'over-max', 'huge'])
def test_bad_set_chunk_size_is_closed(live, watch, size):
    with connected(live) as c:
        c.set_chunk_size(size, apply=False)
        try:
            c.command('createStream', 2, None)
        except ServerClosed:
            pass
        assert_closed(c)
    watch.log_line(r'chunk size')
    watch.check()


def test_message_over_max_message_size_is_closed(tight):
    w = Watch(tight)
    with connected(tight) as c:
        c.create_stream()
        # A format 0 header announcing a 2 MiB video message (over 1 MiB).
        hdr = basic_header(0, CSID_VIDEO) + message_header0(0, 2 * 1024 * 1024, VIDEO, c.stream_id)
        try:
            c.send_raw(hdr + b'\x17' + b'\x00' * 127)
        except ServerClosed:
            pass
        assert_closed(c)
    w.log_line(r'message.*(size|large|long|length|bound|limit|max)')
    w.check()


def test_too_many_chunk_streams_is_closed(live, watch):
    with connected(live) as c:
        try:
            # The first chunk of a 1000-byte command on each of 100 chunk
            # stream ids (1, 2 and 3 byte basic headers), none finished.
            for csid in list(range(3, 60)) + list(range(64, 84)) + list(range(320, 343)):
                c.send_raw(basic_header(0, csid) + message_header0(0, 1000, COMMAND_AMF0, 0) + b'\x05' * 128)
        except ServerClosed:
            pass
        assert_closed(c)
    watch.log_line(r'chunk stream')
    watch.check()


def test_unknown_message_type_is_survived(live, watch):
    with connected(live) as c:
        c.send_message(CSID_COMMAND, 99, 0, 0, b'\x01\x02\x03\x04hello')
        try:
            # Either the connection goes on or it is closed; both are fine,
            # but the server must not fall over.
            c.create_stream(timeout=3)
        except (ServerClosed, socket.timeout, TimeoutError):
            pass
    watch.log_line(r'type 99\b')
    watch.check()


# ---- AMF ----

def test_deeply_nested_amf_in_connect_is_closed(live, watch):
    nested = None
    for _ in range(100):
        nested = {'k': nested}
    with client(live) as c:
        c.handshake()
        c.command('connect', 1, {'app': 'live', 'deep': nested})
        try:
            vals = c.wait_command(lambda v: v[0] in ('_result', '_error'), timeout=CLOSE_WAIT)
            assert vals[0] == '_error', 'connect with AMF nested 100 deep was accepted'
        except ServerClosed:
            pass
        assert_closed(c)
    watch.log_line(r'depth|nest|deep')
    watch.check()


def test_truncated_amf_in_connect_is_closed(live, watch):
    # An object whose key announces 50 bytes and the message ends after 5.
    payload = amf_encode_all(['connect', 1]) + b'\x03' + struct.pack('>H', 50) + b'appxx'
    with client(live) as c:
        c.handshake()
        c.send_message(CSID_COMMAND, COMMAND_AMF0, 0, 0, payload)
        try:
            vals = c.wait_command(lambda v: v[0] in ('_result', '_error'), timeout=CLOSE_WAIT)
            assert vals[0] == '_error', 'a truncated connect was accepted'
        except ServerClosed:
            pass
        assert_closed(c)
    watch.log_line(r'truncat|malformed|incomplete|short|ends')
    watch.check()


# ---- publish ----

@pytest.mark.parametrize('name', ['../etc', 'a' * 200, '', '~8k', 'event~', 'event~8k~hi', 'event~.8k'],
                         ids=['dotdot', 'long', 'empty', 'no-group', 'no-label', 'two-labels', 'dot-label'])
def test_publish_to_invalid_name_is_refused(live, watch, name):
    with connected(live) as c:
        c.create_stream()
        code = c.publish(name)
        assert code in (None, 'NetStream.Publish.BadName'), 'publish to %r answered %r' % (name, code)
        if code is not None:
            assert c.last_status.get('level') == 'error'
    line = watch.log_line(r'refused|invalid|bad name|overlong|too long')
    assert 'publish' in line.lower() or 'name' in line.lower()
    assert live.get('/live/%s/video.m3u8' % urllib.parse.quote(name, safe='')).status in (400, 404)
    watch.check()


def test_second_publisher_is_refused_first_goes_on(live, watch):
    with connected(live) as c:
        c.create_stream()
        code = c.publish('test')
        assert code is not None and code != 'NetStream.Publish.Start', 'a second publisher on live/test: %r' % code
        assert code.startswith('NetStream.Publish.'), code
        assert c.last_status.get('level') == 'error'
    assert live.publisher.poll() is None, 'the first publisher (ffmpeg) was disconnected'
    watch.log_line(r'live/test.*(already|busy|in use)')
    watch.check()
    assert live.publisher.poll() is None


def test_media_before_publish_is_refused(live, watch, flv_tags):
    with connected(live) as c:
        sid = c.create_stream()
        try:
            for t in flv_tags[:10]:
                if t.type == VIDEO:
                    c.send_video(t.ts, t.body, stream_id=sid)
            c.wait_closed(1.0)
        except ServerClosed:
            pass
    watch.log_line(r'(before|without|no|not)\b.{0,30}publish')
    watch.check()


def test_video_before_sequence_header_is_dropped_then_stream_works(live, watch, flv_tags):
    name = uniq('noseq')
    frames = [t for t in flv_tags if t.type in (AUDIO, VIDEO) and not t.is_sequence_header]
    headers = [t for t in flv_tags if t.is_sequence_header]
    with client(live) as c:
        c.start_publish('bad', name)
        for t in [t for t in frames if t.type == VIDEO][:5]:
            c.send_video(t.ts, t.body)
        watch.log_line(r'before the AVC sequence header|before.*sequence header.*dropped|AVC.*dropped')
        # The encoder goes on forward in time with its headers, then media.
        replay(c, headers + frames, ts_offset=200)
        stream_lists_parts(live, 'bad/' + name)
    watch.check()


def publish_and_send(o, tags_before, body, kind):
    name = uniq('corrupt')
    c = client(o)
    c.start_publish('bad', name)
    replay(c, tags_before)
    try:
        (c.send_video if kind == 'video' else c.send_audio)(40, body)
    except ServerClosed:
        pass
    return c


def test_corrupt_avc_sequence_header_is_closed(live, watch):
    # avcC version 1, profile 100, one SPS announced as 500 bytes, 3 present.
    bad = b'\x17\x00\x00\x00\x00' + b'\x01\x64\x00\x1f\xff\xe1\x01\xf4\x67\x64\x00'
    with publish_and_send(live, [], bad, 'video') as c:
        assert_closed(c)
    watch.log_line(r'AVC')
    watch.check()


def test_corrupt_aac_sequence_header_is_closed(live, watch):
    # AudioSpecificConfig cut after its first byte.
    bad = b'\xaf\x00\xf8'
    with publish_and_send(live, [], bad, 'audio') as c:
        assert_closed(c)
    watch.log_line(r'AAC')
    watch.check()


def test_sorenson_video_is_refused(live, watch):
    bad = b'\x12' + os.urandom(64)
    with publish_and_send(live, [], bad, 'video') as c:
        assert_closed(c)
    watch.log_line(r'codec( id)?\W*2\b|sorenson|h\.?263')
    watch.check()


def test_truncated_video_tag_is_refused(live, watch, flv_tags):
    headers = [t for t in flv_tags if t.is_sequence_header]
    with publish_and_send(live, headers, b'\x17', 'video') as c:
        c.wait_closed(2.0)
    watch.log_line(r'truncat|short|too small|length')
    watch.check()


# ---- HTTP ----

@pytest.mark.parametrize('query', ['_HLS_msn=abc', '_HLS_msn=-1', '_HLS_msn=99999999999999999999', '_HLS_part=1',
                                   '_HLS_skip=maybe', '_HLS_msn=1e3', '_HLS_msn=%2B5', '_HLS_msn=999999999'],
                         ids=['msn-abc', 'msn-negative', 'msn-overflow', 'part-without-msn', 'skip-maybe',
                              'msn-exponent', 'msn-plus', 'msn-far-future'])
def test_bad_directives_are_400(live, watch, query):
    r = live.get(VIDEO_PL + '?' + query, timeout=5)
    assert r.status == 400, '%s -> %d %r' % (query, r.status, r.body[:200])
    assert r.elapsed < 1.0, '400 took %.1f s' % r.elapsed
    assert 0 < len(r.body) < 200 and r.header('Content-Type').startswith('text/plain'), r.body
    watch.check()


def test_part_beyond_advance_limit_is_400(live, watch):
    pl = live.playlist(VIDEO_PL)
    msn, part = pl.last_part()
    r = live.get('%s?_HLS_msn=%d&_HLS_part=%d' % (VIDEO_PL, msn, part + 40), timeout=5)
    assert r.status == 400, '-> %d %r' % (r.status, r.body[:200])
    assert r.elapsed < 1.0
    watch.check()


@pytest.mark.parametrize('path', ['/live/nosuch/video.m3u8', '/live/nosuch/index.m3u8', '/live/test/subtitles.m3u8',
                                  '/live/test/video/init-99.mp4', '/live/test/video/abc.m4s',
                                  '/live/test/video/1.x.m4s', '/live/test/text/1.0.m4s', '/nothing',
                                  '/live/test/', '/live/../../etc/passwd', '/live/test/video.m3u8x'])
def test_unknown_resources_are_404(live, watch, path):
    r = live.get(path, timeout=5)
    assert r.status == 404, '%s -> %d %r' % (path, r.status, r.body[:200])
    assert r.elapsed < 1.0
    watch.check()


def test_part_far_ahead_is_404_at_once(live, watch):
    msn = live.playlist(VIDEO_PL).last_msn
    r = live.get('/live/test/video/%d.0.m4s' % (msn + 50), timeout=5)
    assert r.status == 404, r.status
    assert r.elapsed < 1.0
    watch.check()


@pytest.mark.parametrize('method', ['POST', 'PUT', 'DELETE'])
def test_other_methods_are_405(live, watch, method):
    r = live.get(VIDEO_PL, method=method, timeout=5)
    assert r.status == 405, '%s -> %d' % (method, r.status)
    watch.check()
