"""Thousands of players waiting on the same live edge at once: 2,000
HTTP/1.1 connections, each holding a blocking playlist request (or a request
for the preload-hinted part) before the part exists.  All must be answered
together when it is published, and the waiting-requests gauge must count
them while they are held and drop back to zero after."""
import asyncio
import resource
import time
import urllib.parse

import pytest

from hls import MediaPlaylist

N = 2000
VIDEO_PL = '/live/test/video.m3u8'
SPREAD = 3.0        # every answer within this many seconds of the first


@pytest.fixture(scope='module', autouse=True)
def enough_descriptors():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = N + 512
    if soft < want:
        if hard != resource.RLIM_INFINITY and hard < want:
            pytest.fail('RLIMIT_NOFILE hard limit %d is below the %d descriptors this test needs' % (hard, want))
        resource.setrlimit(resource.RLIMIT_NOFILE, (want if hard == resource.RLIM_INFINITY else min(hard, 4 * want),
                                                    hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


# ---- a minimal HTTP/1.1 client on asyncio streams ----

async def read_response(reader):
    head = await reader.readuntil(b'\r\n\r\n')
    lines = head.decode('latin-1').split('\r\n')
    status = int(lines[0].split(' ', 2)[1])
    headers = {}
    for line in lines[1:]:
        if ':' in line:
            k, v = line.split(':', 1)
            headers[k.strip().lower()] = v.strip()
    if 'content-length' in headers:
        body = await reader.readexactly(int(headers['content-length']))
    elif headers.get('transfer-encoding', '').lower() == 'chunked':
        parts = []
        while True:
            size = int((await reader.readuntil(b'\r\n')).split(b';')[0], 16)
            if size == 0:
                await reader.readuntil(b'\r\n')
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b''.join(parts)
    else:
        body = await reader.read()
    return status, headers, body


def request(path):
    return ('GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: llhls-capacity\r\n\r\n' % path).encode()


async def get(port, path, timeout=15):
    reader, writer = await asyncio.wait_for(asyncio.open_connection('127.0.0.1', port), timeout)
    try:
        writer.write(request(path))
        await writer.drain()
        return await asyncio.wait_for(read_response(reader), timeout)
    finally:
        writer.close()


async def gauge(port):
    status, _, body = await get(port, '/metrics', timeout=5)
    assert status == 200
    for line in body.decode().splitlines():
        if line.startswith('llhls_http_waiting_requests '):
            return float(line.split()[1])
    raise AssertionError('/metrics has no llhls_http_waiting_requests:\n' + body.decode())


async def open_many(port, n):
    sem = asyncio.Semaphore(200)

    async def one():
        async with sem:
            return await asyncio.wait_for(asyncio.open_connection('127.0.0.1', port), 15)
    return await asyncio.gather(*[one() for _ in range(n)])


def next_part(pl):
    """(M, N): one past the newest listed part."""
    msn, part = pl.last_part()
    return msn, part + 1


def lists(pl, msn, part):
    """Whether pl lists part N of segment M (N past the end of M meaning the
    first part of a later segment)."""
    for seg in pl.segments:
        if seg.msn == msn and len(seg.parts) > part:
            return True
        if seg.msn > msn and seg.parts and any(s.complete for s in pl.segments if s.msn == msn):
            return True
    return False


async def fresh_playlist(port):
    """Waits for a part to be published and returns the playlist at once,
    so that the next part is a whole part target away."""
    status, _, body = await get(port, VIDEO_PL)
    assert status == 200
    m, n = next_part(MediaPlaylist(body.decode()))
    status, _, body = await get(port, '%s?_HLS_msn=%d&_HLS_part=%d' % (VIDEO_PL, m, n))
    assert status == 200, body
    return MediaPlaylist(body.decode())


async def hold_on(port, conns, path_fn):
    path = await path_fn()
    req = request(path)
    for _, w in conns:
        w.write(req)
    await asyncio.gather(*[w.drain() for _, w in conns])
    t_sent = time.monotonic()

    async def answer(reader):
        status, headers, body = await read_response(reader)
        return status, headers, body, time.monotonic()

    tasks = [asyncio.ensure_future(asyncio.wait_for(answer(r), 20)) for r, _ in conns]
    peak = 0.0
    samples = []
    while not all(t.done() for t in tasks):
        try:
            g = await gauge(port)
        except Exception as e:       # noqa: BLE001 -- reported with the samples
            samples.append(repr(e))
            await asyncio.sleep(0.02)
            continue
        samples.append(g)
        peak = max(peak, g)
        await asyncio.sleep(0.01)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    return path, t_sent, results, peak, samples


async def gauge_settles(port, timeout=5.0):
    deadline = time.monotonic() + timeout
    g = None
    while time.monotonic() < deadline:
        g = await gauge(port)
        if g == 0:
            return g
        await asyncio.sleep(0.1)
    return g


def check_answers(results, t_sent):
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, '%d of %d requests failed, e.g. %r' % (len(errors), len(results), errors[:3])
    statuses = {}
    for status, _, _, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    assert statuses == {200: len(results)}, 'statuses: %r' % statuses
    times = [t for _, _, _, t in results]
    print('%d answers from %.3f s to %.3f s after the requests' % (len(times), min(times) - t_sent,
                                                                  max(times) - t_sent))
    assert min(times) > t_sent
    assert max(times) - min(times) <= SPREAD, 'answers spread over %.2f s' % (max(times) - min(times))
    return times


def test_2000_blocking_playlist_requests(live):
    port = live.http_port
    target = {}

    async def path_fn():
        pl = await fresh_playlist(port)
        target['part_target'] = pl.part_target
        target['mn'] = next_part(pl)
        return '%s?_HLS_msn=%d&_HLS_part=%d' % ((VIDEO_PL,) + target['mn'])

    async def run():
        conns = await open_many(port, N)
        try:
            out = await hold_on(port, conns, path_fn)
        finally:
            for _, w in conns:
                w.close()
        return out + (await gauge_settles(port),)

    path, t_sent, results, peak, samples, settled = asyncio.run(run())
    msn, part = target['mn']
    times = check_answers(results, t_sent)
    for _, _, body, _ in results:
        pl = MediaPlaylist(body.decode())
        assert lists(pl, msn, part), 'an answer to %s does not list part %d.%d:\n%s' % (path, msn, part, pl.text)
    # The part was due within about one part target of the requests.
    assert max(times) - t_sent <= SPREAD + 2 * target['part_target'], \
        'the last answer came %.2f s after the requests' % (max(times) - t_sent)
    print('llhls_http_waiting_requests peaked at %r over %d samples, then %r' % (peak, len(samples), settled))
    assert peak >= N, 'llhls_http_waiting_requests peaked at %r while %d were held; samples %r' % (peak, N, samples)
    assert settled == 0, 'llhls_http_waiting_requests is %r after every request was answered' % settled
    assert live.proc.poll() is None


def test_2000_preload_hint_requests(live):
    port = live.http_port
    target = {}

    async def path_fn():
        pl = await fresh_playlist(port)
        hints = [h for h in pl.preload_hints if h.get('TYPE') == 'PART']
        assert len(hints) == 1, pl.text
        target['uri'] = urllib.parse.urljoin(VIDEO_PL, hints[0]['URI'])
        return target['uri']

    async def run():
        conns = await open_many(port, N)
        try:
            out = await hold_on(port, conns, path_fn)
        finally:
            for _, w in conns:
                w.close()
        after = await get(port, target['uri'])
        return out + (await gauge_settles(port), after)

    path, t_sent, results, peak, samples, settled, after = asyncio.run(run())
    check_answers(results, t_sent)
    bodies = {body for _, _, body, _ in results}
    assert len(bodies) == 1, '%d different bodies for %s' % (len(bodies), path)
    body = bodies.pop()
    assert len(body) > 0
    assert after[0] == 200 and after[2] == body, 'the part fetched afterwards differs from the held answers'
    print('llhls_http_waiting_requests peaked at %r over %d samples, then %r' % (peak, len(samples), settled))
    assert peak >= N, 'llhls_http_waiting_requests peaked at %r while %d were held; samples %r' % (peak, N, samples)
    assert settled == 0, 'llhls_http_waiting_requests is %r after every request was answered' % settled
    assert live.proc.poll() is None
