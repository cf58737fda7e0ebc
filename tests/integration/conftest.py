"""Fixtures that start the real llhls-origin (bound to 127.0.0.1, port 0)
and real ffmpeg publishers, and always stop them."""
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from hls import MediaPlaylist  # noqa: E402

BUILD = os.path.abspath(os.environ.get('top_builddir', os.path.join(os.path.dirname(__file__), '..', '..')))
SRC = os.path.abspath(os.environ.get('top_srcdir', os.path.join(os.path.dirname(__file__), '..', '..')))
ORIGIN_BIN = os.path.join(BUILD, 'origin', 'llhls-origin')
EDGE_BIN = os.path.join(BUILD, 'edge', 'llhls-edge')
FFMPEG = shutil.which('ffmpeg') or '/usr/bin/ffmpeg'


class Response:
    def __init__(self, status, headers, body, elapsed):
        self.status = status
        self.headers = headers
        self.body = body
        self.elapsed = elapsed

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def text(self):
        return self.body.decode('utf-8', 'replace')


class Client:
    """HTTP requests to a server on 127.0.0.1:http_port: HTTP/1.1 with
    http.client, or HTTP/2 (h2c, prior knowledge) with curl when h2 is set."""
    h2 = False

    def get(self, path, headers=None, timeout=20, method='GET'):
        if self.h2:
            return curl_get('http://127.0.0.1:%d%s' % (self.http_port, path), headers, timeout, method,
                            ['--http2-prior-knowledge'])
        conn = http.client.HTTPConnection('127.0.0.1', self.http_port, timeout=timeout)
        t0 = time.monotonic()
        try:
            conn.request(method, path, headers=headers or {})
            r = conn.getresponse()
            body = r.read()
            return Response(r.status, r.getheaders(), body, time.monotonic() - t0)
        finally:
            conn.close()

    def url(self, path):
        return 'http://127.0.0.1:%d%s' % (self.http_port, path)

    def playlist(self, path, **kw):
        r = self.get(path, **kw)
        assert r.status == 200, '%s -> %d %s' % (path, r.status, r.text)
        return MediaPlaylist(r.text)

    def metric(self, name):
        text = self.get('/metrics').text
        for line in text.splitlines():
            if line.startswith(name + ' ') or line.startswith(name + '{'):
                return float(line.rsplit(' ', 1)[1])
        raise KeyError(name)

    def metric_all(self, name):
        """Every sample of a metric, by its labels."""
        out = {}
        for line in self.get('/metrics').text.splitlines():
            if line.startswith(name + ' ') or line.startswith(name + '{'):
                key, value = line.rsplit(' ', 1)
                out[key] = float(value)
        return out

    def wait_for(self, path, pred, timeout=30, interval=0.1):
        """Polls a media playlist until pred(playlist) holds; returns it."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            r = self.get(path)
            if r.status == 200:
                last = MediaPlaylist(r.text)
                if pred(last):
                    return last
            time.sleep(interval)
        raise AssertionError('timed out waiting on %s; last:\n%s\nlog:\n%s' %
                             (path, last.text if last else None, self.log_text()[-3000:]))


def curl_get(url, headers=None, timeout=20, method='GET', extra=()):
    """One request with curl; returns a Response (body not decoded)."""
    with tempfile.TemporaryDirectory() as d:
        hfile, bfile = os.path.join(d, 'h'), os.path.join(d, 'b')
        cmd = ['curl', '-s', '-X', method, '-D', hfile, '-o', bfile, '-w', '%{time_total} %{http_version}',
               '--max-time', str(timeout)] + list(extra)
        if method == 'HEAD':
            cmd[cmd.index('-X'):cmd.index('-X') + 2] = ['-I']
        for k, v in (headers or {}).items():
            cmd += ['-H', '%s: %s' % (k, v)]
        cmd.append(url)
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 5)
        if not os.path.exists(hfile):
            raise ConnectionError('curl %s failed: %s %s' % (url, out.returncode, out.stderr))
        blocks = open(hfile, 'rb').read().decode('latin-1').split('\r\n\r\n')
        head = [b for b in blocks if b.strip()][-1].split('\r\n')
        status = int(head[0].split()[1])
        hdrs = [tuple(x.strip() for x in l.split(':', 1)) for l in head[1:] if ':' in l]
        body = open(bfile, 'rb').read() if os.path.exists(bfile) else b''
        elapsed, version = out.stdout.split()
        r = Response(status, hdrs, body, float(elapsed))
        r.http_version = version
        return r


def stop_process(proc, sig=signal.SIGTERM, timeout=15):
    """Signals proc and waits for it; kills it if it does not stop in time.
    Returns its exit status."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


class Server(Client):
    """A process of ours whose stderr is collected line by line; on_line
    reads each line and returns True once the server is ready."""

    def spawn(self, cmd, on_line):
        self.proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        ready = threading.Event()

        def reader(proc):
            for raw in proc.stderr:
                line = raw.decode('utf-8', 'replace').rstrip('\n')
                self.log.append(line)
                if on_line(line):
                    ready.set()
            ready.set()

        self.reader = threading.Thread(target=reader, args=(self.proc,), daemon=True)
        self.reader.start()
        return ready.wait(15)

    def stop(self, sig=signal.SIGTERM):
        if self.proc is None:
            return None
        code = stop_process(self.proc, sig)
        self.reader.join(5)
        return code

    def log_text(self):
        return '\n'.join(self.log)


class Origin(Server):
    """One llhls-origin process with its own data directory."""

    def __init__(self, data_dir=None, args=()):
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix='llhls-test-')
        self.args = list(args)
        self.proc = None
        self.log = []
        self.start()

    def start(self):
        cmd = [ORIGIN_BIN, '--rtmp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--data', self.data_dir] + self.args
        self.rtmp_port = self.http_port = None

        def on_line(line):
            m = re.search(r'listening: rtmp \S+:(\d+)', line)
            if m:
                self.rtmp_port = int(m.group(1))
            m = re.search(r'listening: http \S+:(\d+)', line)
            if m:
                self.http_port = int(m.group(1))
                return True
            return False

        if not self.spawn(cmd, on_line) or self.http_port is None or self.rtmp_port is None:
            self.stop()
            raise RuntimeError('llhls-origin did not start:\n' + '\n'.join(self.log))

    def restart(self, sig=signal.SIGTERM):
        self.stop(sig)
        self.start()

    def close(self):
        self.stop()
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def rtmp(self, name):
        return 'rtmp://127.0.0.1:%d/%s' % (self.rtmp_port, name)


class Edge(Server):
    """One llhls-edge process in front of the given origin URLs."""

    def __init__(self, origins, args=(), h2=False):
        self.origins = list(origins)
        self.args = list(args)
        self.h2 = h2
        self.log = []
        self.start()

    def start(self):
        cmd = [EDGE_BIN, '--listen', '127.0.0.1:0']
        for o in self.origins:
            cmd += ['--origin', o]
        cmd += self.args
        self.http_port = None
        self.ports = []

        def on_line(line):
            m = re.search(r'listening: (https?) \S+:(\d+)', line)
            if m:
                self.ports.append((m.group(1), int(m.group(2))))
                if self.http_port is None:
                    self.http_port = int(m.group(2))
            return 'origin:' in line

        if not self.spawn(cmd, on_line) or self.http_port is None:
            self.stop()
            raise RuntimeError('llhls-edge did not start:\n' + '\n'.join(self.log))

    close = Server.stop


def publish(url, size='640x360', rate='30', gop=None, duration=None, audio=True, sample_rate=48000,
            vcodec_args=(), realtime=True, extra_input=(), bitrate=None):
    """Starts ffmpeg publishing a test pattern (and a tone) to url."""
    fps = eval(str(rate).replace('/', '*1.0/'))
    g = gop if gop is not None else int(round(fps * 2))
    cmd = [FFMPEG, '-hide_banner', '-nostdin', '-loglevel', 'error']
    if realtime:
        cmd += ['-re']
    cmd += ['-f', 'lavfi', '-i', 'testsrc2=size=%s:rate=%s' % (size, rate)]
    if audio:
        cmd += ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=%d' % sample_rate]
    cmd += list(extra_input)
    if duration:
        cmd += ['-t', str(duration)]
    cmd += ['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
            '-g', str(g), '-keyint_min', str(g), '-sc_threshold', '0']
    if bitrate:
        cmd += ['-b:v', bitrate]
    cmd += list(vcodec_args)
    if audio:
        cmd += ['-c:a', 'aac', '-b:a', '128k', '-ar', str(sample_rate)]
    cmd += ['-f', 'flv', url]
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stop_publisher(p):
    stop_process(p, signal.SIGINT, 10)


@pytest.fixture
def origin():
    o = Origin()
    yield o
    o.close()


@pytest.fixture(scope='module')
def live():
    """An origin with one stream, live/test, published for the whole module:
    640x360 at 30 fps, 2 s GOP, AAC 48 kHz.  Ready once three segments are
    complete."""
    o = Origin()
    pub = publish(o.rtmp('live/test'))
    try:
        o.wait_for('/live/test/video.m3u8', lambda pl: len(pl.complete_segments()) >= 3, timeout=40)
        o.wait_for('/live/test/audio.m3u8', lambda pl: len(pl.complete_segments()) >= 3, timeout=10)
        o.publisher = pub
        yield o
    finally:
        stop_publisher(pub)
        o.close()
