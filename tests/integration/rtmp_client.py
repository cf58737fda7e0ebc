"""A small RTMP publisher for the tests, written from Adobe's RTMP
specification (plain handshake, chunk stream, AMF0 commands).  It does on
purpose what a real encoder never does: every header field can be forged, so
that the tests can feed the origin malformed input byte by byte.

Also here: a reader of FLV files (to replay real H.264/AAC made by ffmpeg at
test time through this client)."""
import os
import socket
import struct
import subprocess
import time

# Message types (RTMP spec 5.4 and 7.1).
SET_CHUNK_SIZE = 1
ABORT = 2
ACK = 3
USER_CONTROL = 4
WINDOW_ACK_SIZE = 5
SET_PEER_BANDWIDTH = 6
AUDIO = 8
VIDEO = 9
DATA_AMF0 = 18
COMMAND_AMF0 = 20

CSID_CONTROL = 2
CSID_COMMAND = 3
CSID_AUDIO = 4
CSID_VIDEO = 6
CSID_DATA = 5

HANDSHAKE_SIZE = 1536


class ServerClosed(ConnectionError):
    """The server closed the connection (EOF or reset)."""


class AmfError(ValueError):
    pass


# ---- AMF0 ----

class EcmaArray(dict):
    """Encoded as an AMF0 ECMA array (type 8) rather than an object."""


class Undefined:
    pass


class RawAmf(bytes):
    """Bytes spliced into an AMF0 encoding as they are (for forged values)."""


def _amf_key(k):
    b = k.encode('utf-8')
    return struct.pack('>H', len(b)) + b


def amf_encode(v):
    if isinstance(v, RawAmf):
        return bytes(v)
    if v is None:
        return b'\x05'
    if isinstance(v, Undefined):
        return b'\x06'
    if isinstance(v, bool):
        return b'\x01' + (b'\x01' if v else b'\x00')
    if isinstance(v, (int, float)):
        return b'\x00' + struct.pack('>d', float(v))
    if isinstance(v, str):
        b = v.encode('utf-8')
        if len(b) > 0xFFFF:
            return b'\x0c' + struct.pack('>I', len(b)) + b
        return b'\x02' + struct.pack('>H', len(b)) + b
    if isinstance(v, EcmaArray):
        out = [b'\x08', struct.pack('>I', len(v))]
        for k, x in v.items():
            out += [_amf_key(k), amf_encode(x)]
        out.append(b'\x00\x00\x09')
        return b''.join(out)
    if isinstance(v, dict):
        out = [b'\x03']
        for k, x in v.items():
            out += [_amf_key(k), amf_encode(x)]
        out.append(b'\x00\x00\x09')
        return b''.join(out)
    if isinstance(v, (list, tuple)):
        return b'\x0a' + struct.pack('>I', len(v)) + b''.join(amf_encode(x) for x in v)
    raise TypeError('cannot encode %r as AMF0' % (v,))


def amf_encode_all(values):
    return b''.join(amf_encode(v) for v in values)


class _AmfReader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise AmfError('truncated AMF0 at byte %d' % self.pos)
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def string(self, long=False):
        n = struct.unpack('>I', self.take(4))[0] if long else struct.unpack('>H', self.take(2))[0]
        return self.take(n).decode('utf-8', 'replace')

    def properties(self, into, depth):
        while True:
            key = self.string()
            if key == '' and self.data[self.pos:self.pos + 1] == b'\x09':
                self.pos += 1
                return into
            into[key] = self.value(depth + 1)

    def value(self, depth=0):
        if depth > 64:
            raise AmfError('AMF0 nesting too deep')
        t = self.take(1)[0]
        if t == 0:
            return struct.unpack('>d', self.take(8))[0]
        if t == 1:
            return self.take(1) != b'\x00'
        if t == 2:
            return self.string()
        if t == 3:
            return self.properties({}, depth)
        if t in (5, 6):
            return None
        if t == 8:
            self.take(4)
            return self.properties(EcmaArray(), depth)
        if t == 10:
            n = struct.unpack('>I', self.take(4))[0]
            return [self.value(depth + 1) for _ in range(n)]
        if t == 11:
            ms = struct.unpack('>d', self.take(8))[0]
            self.take(2)
            return ms
        if t == 12:
            return self.string(long=True)
        raise AmfError('unknown AMF0 type %d' % t)


def amf_decode_all(data):
    r = _AmfReader(data)
    out = []
    while r.pos < len(data):
        out.append(r.value())
    return out


# ---- chunk stream ----

def basic_header(fmt, csid):
    """The 1-3 byte basic header (spec 5.3.1.1)."""
    if 2 <= csid <= 63:
        return bytes([(fmt << 6) | csid])
    if 64 <= csid <= 319:
        return bytes([fmt << 6, csid - 64])
    if 320 <= csid <= 65599:
        return bytes([(fmt << 6) | 1, (csid - 64) & 0xFF, (csid - 64) >> 8])
    raise ValueError('chunk stream id %d out of range' % csid)


def _u24(v):
    return struct.pack('>I', v)[1:]


def message_header0(ts, length, mtype, stream_id):
    """Format 0 message header (11 bytes) plus the extended timestamp when
    ts does not fit in 24 bits."""
    ext = ts >= 0xFFFFFF
    h = _u24(0xFFFFFF if ext else ts) + _u24(length) + bytes([mtype]) + struct.pack('<I', stream_id)
    return h + (struct.pack('>I', ts & 0xFFFFFFFF) if ext else b'')


def chunk_message(csid, mtype, stream_id, ts, payload, chunk_size, length=None):
    """Splits one message into chunks: format 0 first, then format 3
    continuations (which repeat the extended timestamp, as encoders do).
    length forges the message length field."""
    ext = ts >= 0xFFFFFF
    out = [basic_header(0, csid), message_header0(ts, len(payload) if length is None else length, mtype, stream_id)]
    pos = 0
    first = True
    while first or pos < len(payload):
        if not first:
            out.append(basic_header(3, csid))
            if ext:
                out.append(struct.pack('>I', ts & 0xFFFFFFFF))
        first = False
        out.append(payload[pos:pos + chunk_size])
        pos += chunk_size
    return b''.join(out)


class Message:
    def __init__(self, csid, mtype, stream_id, ts, payload):
        self.csid = csid
        self.type = mtype
        self.stream_id = stream_id
        self.ts = ts
        self.payload = payload

    def amf(self):
        return amf_decode_all(self.payload)

    def __repr__(self):
        return 'Message(type=%d, stream=%d, len=%d)' % (self.type, self.stream_id, len(self.payload))


class _InState:
    def __init__(self):
        self.ts = 0
        self.delta = 0
        self.length = 0
        self.type = 0
        self.stream_id = 0
        self.ext = False
        self.buf = b''


class RtmpClient:
    """One connection to an RTMP server.  Blocking socket; every wait is
    bounded by timeout seconds."""

    def __init__(self, host, port, timeout=5.0):
        self.host = host
        self.port = port
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rbuf = b''
        self.in_chunk_size = 128
        self.out_chunk_size = 128
        self.instate = {}
        self.closed = False
        self.stream_id = 0
        self.app = None
        self.txn = 1
        self.received = []      # every message read, in order

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- bytes --

    def send_raw(self, data):
        if self.closed:
            raise ServerClosed('connection already closed by the server')
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError) as e:
            self.closed = True
            raise ServerClosed(str(e))

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout('timed out')
        self.sock.settimeout(left)
        try:
            b = self.sock.recv(65536)
        except ConnectionResetError as e:
            self.closed = True
            raise ServerClosed(str(e))
        if not b:
            self.closed = True
            raise ServerClosed('EOF')
        self.rbuf += b

    def recv_exact(self, n, timeout=None):
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while len(self.rbuf) < n:
            self._fill(deadline)
        b, self.rbuf = self.rbuf[:n], self.rbuf[n:]
        return b

    def wait_closed(self, timeout):
        """Reads (and drops) whatever comes until the server closes the
        connection.  Returns the seconds it took, or None if the connection
        was still open after timeout seconds."""
        t0 = time.monotonic()
        if self.closed:
            return 0.0
        deadline = t0 + timeout
        while True:
            self.rbuf = b''
            try:
                self._fill(deadline)
            except ServerClosed:
                return time.monotonic() - t0
            except (socket.timeout, TimeoutError):
                return None

    # -- handshake --

    def handshake(self, version=3):
        c1 = struct.pack('>II', int(time.time()) & 0xFFFFFFFF, 0) + os.urandom(HANDSHAKE_SIZE - 8)
        self.send_raw(bytes([version]) + c1)
        s0s1 = self.recv_exact(1 + HANDSHAKE_SIZE)
        if s0s1[0] != 3:
            raise ValueError('server answered with RTMP version %d' % s0s1[0])
        s1 = s0s1[1:]
        # C2 echoes S1: its time, the time S1 was read, its random bytes.
        self.send_raw(s1[:4] + struct.pack('>I', int(time.time()) & 0xFFFFFFFF) + s1[8:])
        s2 = self.recv_exact(HANDSHAKE_SIZE)
        return s1, s2

    # -- writing messages --

    def send_message(self, csid, mtype, stream_id, ts, payload, chunk_size=None, length=None):
        self.send_raw(chunk_message(csid, mtype, stream_id, ts, payload, chunk_size or self.out_chunk_size, length))

    def set_chunk_size(self, size, apply=True):
        """Sends Set Chunk Size; apply=False leaves the writer's size as it
        was (for sizes the server must refuse)."""
        self.send_message(CSID_CONTROL, SET_CHUNK_SIZE, 0, 0, struct.pack('>I', size & 0xFFFFFFFF))
        if apply:
            self.out_chunk_size = size

    def command(self, name, txn, *args, stream_id=0, csid=CSID_COMMAND):
        self.send_message(csid, COMMAND_AMF0, stream_id, 0, amf_encode_all([name, txn] + list(args)))

    def send_video(self, ts, body, stream_id=None):
        self.send_message(CSID_VIDEO, VIDEO, self.stream_id if stream_id is None else stream_id, ts, body)

    def send_audio(self, ts, body, stream_id=None):
        self.send_message(CSID_AUDIO, AUDIO, self.stream_id if stream_id is None else stream_id, ts, body)

    def send_data(self, ts, body, stream_id=None):
        self.send_message(CSID_DATA, DATA_AMF0, self.stream_id if stream_id is None else stream_id, ts, body)

    # -- reading messages --

    def read_message(self, timeout=None):
        """Reads chunks until one message is whole; handles Set Chunk Size
        from the server.  Raises ServerClosed or socket.timeout."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            b0 = self.recv_exact(1, deadline - time.monotonic())[0]
            fmt, csid = b0 >> 6, b0 & 0x3F
            if csid == 0:
                csid = 64 + self.recv_exact(1, deadline - time.monotonic())[0]
            elif csid == 1:
                b = self.recv_exact(2, deadline - time.monotonic())
                csid = 64 + b[0] + 256 * b[1]
            st = self.instate.setdefault(csid, _InState())
            hlen = (11, 7, 3, 0)[fmt]
            h = self.recv_exact(hlen, deadline - time.monotonic()) if hlen else b''
            if fmt <= 2:
                t = struct.unpack('>I', b'\x00' + h[0:3])[0]
                st.ext = t == 0xFFFFFF
            if fmt <= 1:
                st.length = struct.unpack('>I', b'\x00' + h[3:6])[0]
                st.type = h[6]
            if fmt == 0:
                st.stream_id = struct.unpack('<I', h[7:11])[0]
            if st.ext:
                t = struct.unpack('>I', self.recv_exact(4, deadline - time.monotonic()))[0]
            if fmt == 0:
                st.ts = t
                st.delta = 0
            elif fmt in (1, 2):
                st.delta = t
                if not st.buf:
                    st.ts = (st.ts + t) & 0xFFFFFFFF
            elif not st.buf:
                st.ts = (st.ts + st.delta) & 0xFFFFFFFF
            n = min(self.in_chunk_size, st.length - len(st.buf))
            st.buf += self.recv_exact(n, deadline - time.monotonic())
            if len(st.buf) < st.length:
                continue
            msg = Message(csid, st.type, st.stream_id, st.ts, st.buf)
            st.buf = b''
            if msg.type == SET_CHUNK_SIZE and len(msg.payload) >= 4:
                self.in_chunk_size = struct.unpack('>I', msg.payload[:4])[0] & 0x7FFFFFFF
            self.received.append(msg)
            return msg

    def wait_command(self, pred, timeout=None):
        """Reads messages until an AMF0 command for which pred(values)
        holds; returns its values."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            msg = self.read_message(deadline - time.monotonic())
            if msg.type != COMMAND_AMF0:
                continue
            vals = msg.amf()
            if vals and pred(vals):
                return vals

    # -- commands --

    def connect(self, app, extra=None, timeout=None):
        """Sends connect and returns the reply: ('_result' or '_error', the
        info object's code)."""
        self.app = app
        obj = {'app': app, 'type': 'nonprivate', 'flashVer': 'FMLE/3.0 (compatible; llhls-tests)',
               'tcUrl': 'rtmp://%s:%d/%s' % (self.host, self.port, app)}
        if extra:
            obj.update(extra)
        self.command('connect', 1, obj)
        vals = self.wait_command(lambda v: v[0] in ('_result', '_error') and v[1] == 1, timeout)
        info = vals[3] if len(vals) > 3 and isinstance(vals[3], dict) else {}
        return vals[0], info.get('code')

    def create_stream(self, timeout=None):
        self.txn += 1
        txn = self.txn
        self.command('createStream', txn, None)
        vals = self.wait_command(lambda v: v[0] in ('_result', '_error') and v[1] == txn, timeout)
        if vals[0] != '_result':
            raise ValueError('createStream refused: %r' % (vals,))
        self.stream_id = int(vals[3])
        return self.stream_id

    def publish(self, name, kind='live', timeout=None):
        """Sends publish and returns the code of the onStatus that answers
        it (e.g. 'NetStream.Publish.Start'), or None when the server closed
        the connection instead."""
        self.last_status = None
        try:
            self.command('publish', 0, None, name, kind, stream_id=self.stream_id, csid=CSID_VIDEO + 2)
            vals = self.wait_command(lambda v: v[0] == 'onStatus', timeout)
        except ServerClosed:
            return None
        info = vals[3] if len(vals) > 3 and isinstance(vals[3], dict) else {}
        self.last_status = info
        return info.get('code')

    def start_publish(self, app, name, chunk_size=None):
        """Handshake, connect, createStream and publish; asserts it starts."""
        self.handshake()
        if chunk_size:
            self.set_chunk_size(chunk_size)
        res, code = self.connect(app)
        if res != '_result':
            raise ValueError('connect refused: %s %s' % (res, code))
        self.create_stream()
        code = self.publish(name)
        if code != 'NetStream.Publish.Start':
            raise ValueError('publish %s/%s refused: %s' % (app, name, code))
        return code


# ---- FLV files ----

class FlvTag:
    def __init__(self, ttype, ts, body):
        self.type = ttype      # 8 audio, 9 video, 18 script data
        self.ts = ts
        self.body = body

    @property
    def is_sequence_header(self):
        if self.type == VIDEO:
            return len(self.body) >= 2 and (self.body[0] & 0x0F) == 7 and self.body[1] == 0
        if self.type == AUDIO:
            return len(self.body) >= 2 and (self.body[0] >> 4) == 10 and self.body[1] == 0
        return False

    @property
    def keyframe(self):
        return self.type == VIDEO and len(self.body) >= 1 and (self.body[0] >> 4) == 1


def read_flv(path):
    """Returns the tags of an FLV file, in order."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:3] != b'FLV':
        raise ValueError('not an FLV file')
    pos = struct.unpack('>I', data[5:9])[0] + 4
    tags = []
    while pos + 11 <= len(data):
        ttype = data[pos] & 0x1F
        size = struct.unpack('>I', b'\x00' + data[pos + 1:pos + 4])[0]
        ts = struct.unpack('>I', b'\x00' + data[pos + 4:pos + 7])[0] | (data[pos + 7] << 24)
        body = data[pos + 11:pos + 11 + size]
        if len(body) < size:
            break
        tags.append(FlvTag(ttype, ts, body))
        pos += 11 + size + 4
    return tags


def make_flv(path, seconds=3, ffmpeg='ffmpeg'):
    """Encodes a short H.264/AAC FLV with ffmpeg (1 s GOP)."""
    cmd = [ffmpeg, '-hide_banner', '-nostdin', '-loglevel', 'error', '-y',
           '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30', '-f', 'lavfi', '-i', 'sine=sample_rate=48000',
           '-t', str(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
           '-g', '30', '-keyint_min', '30', '-sc_threshold', '0', '-bf', '0',
           '-c:a', 'aac', '-ar', '48000', '-f', 'flv', path]
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, timeout=60)
    return read_flv(path)


def replay(client, tags, ts_offset=0, media_only=True, pace=0.0):
    """Sends FLV tags through a publishing client.  pace > 0 sleeps so that
    media goes out at pace x real time (1.0 = real time)."""
    t0 = time.monotonic()
    first = None
    for tag in tags:
        if pace and tag.type in (AUDIO, VIDEO):
            first = tag.ts if first is None else first
            due = t0 + (tag.ts - first) / 1000.0 / pace
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        ts = (tag.ts + ts_offset) & 0xFFFFFFFF
        if tag.type == VIDEO:
            client.send_video(ts, tag.body)
        elif tag.type == AUDIO:
            client.send_audio(ts, tag.body)
        elif not media_only:
            client.send_data(ts, tag.body)
