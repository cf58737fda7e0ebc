// The admin page: streams, their bitrate and a live preview, and the edges,
// refreshed from the origin's JSON API (docs/api.md) every second.  The
// credential typed in is kept for the tab only (sessionStorage) and sent on
// every call; a 401 brings the sign-in form back.

const $ = sel => document.querySelector(sel);
const REFRESH_MS = 1000;
const HISTORY_MS = 2000;

const state = {
    auth: JSON.parse(sessionStorage.getItem('llhls-auth') || 'null'),
    selected: null,         // stream name shown in the detail panel
    streams: new Map(),
    plot: null,
    hls: null,
    timers: [],
};

class Unauthorized extends Error {}

function authHeader() {
    const a = state.auth;
    if (!a)
        return {};
    if (a.token)
        return { Authorization: 'Bearer ' + a.token };
    return { Authorization: 'Basic ' + btoa(a.user + ':' + a.password) };
}

async function api(path, options = {}) {
    const r = await fetch('/api/' + path, { ...options, headers: { ...authHeader(), ...(options.headers || {}) } });
    if (r.status === 401)
        throw new Unauthorized();
    const body = r.status === 204 ? null : await r.json().catch(() => null);
    if (!r.ok)
        throw new Error((body && body.error) || ('HTTP ' + r.status));
    return body;
}

// ---- formatting ----

function bits(bps) {
    if (bps === null || bps === undefined)
        return '–';
    if (bps >= 1e9)
        return (bps / 1e9).toFixed(2) + ' Gbit/s';
    if (bps >= 1e6)
        return (bps / 1e6).toFixed(1) + ' Mbit/s';
    return (bps / 1e3).toFixed(0) + ' kbit/s';
}

function duration(s) {
    if (!s)
        return '–';
    const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, sec = Math.floor(s % 60);
    return (h ? h + ':' + String(m).padStart(2, '0') : m) + ':' + String(sec).padStart(2, '0');
}

function cell(text, cls) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls)
        td.className = cls;
    return td;
}

function showError(text) {
    const e = $('#error');
    e.textContent = text || '';
    e.hidden = !text;
}

// ---- streams ----

function renderStreams(list) {
    const body = $('#streams tbody');
    body.replaceChildren();
    state.streams = new Map(list.map(s => [s.name, s]));
    for (const s of list) {
        const tr = document.createElement('tr');
        tr.dataset.stream = s.name;
        if (s.name === state.selected)
            tr.classList.add('selected');
        const v = s.video;
        tr.append(
            cell(s.name),
            cell(s.state, 'state ' + s.state),
            cell(v ? v.codec : (s.audio ? 'audio only' : '–')),
            cell(v && v.width ? v.width + '×' + v.height : '–', 'resolution'),
            cell(v && v.frame_rate ? v.frame_rate.toFixed(2) : '–'),
            cell(s.state === 'ended' ? '–' : bits(s.bitrate_bps), 'bitrate'),
            cell(duration(s.uptime_s)),
            cell(s.msn >= 0 ? s.msn + '.' + s.part : '–'),
            cell(s.publisher || '–'),
            cell(String(s.discontinuities)),
        );
        tr.addEventListener('click', () => select(s.name));
        body.append(tr);
    }
    const empty = $('#streams-empty');
    empty.hidden = list.length > 0;
    empty.textContent = 'No streams yet — publish to rtmp://' + location.hostname + ':1935/live/NAME';
    if (state.selected)
        renderDetail();
}

function renderDetail() {
    const s = state.streams.get(state.selected);
    $('#detail').hidden = !s;
    if (!s)
        return;
    $('#detail-title').textContent = s.name + ' — ' + s.state;
    $('#disconnect').disabled = s.state !== 'live';
    $('#end').disabled = s.state === 'ended';
    $('#delete').disabled = s.state !== 'ended';
    $('#open-player').href = '/player.html?src=' + encodeURIComponent(s.playlist);
}

function select(name) {
    if (state.selected === name)
        return;
    state.selected = name;
    stopPreview();
    if (state.plot) {
        state.plot.destroy();
        state.plot = null;
    }
    document.querySelectorAll('#streams tbody tr').forEach(tr => tr.classList.toggle('selected', tr.dataset.stream === name));
    renderDetail();
    refreshHistory();
}

async function refreshHistory() {
    const name = state.selected;
    if (!name)
        return;
    let h;
    try {
        h = await api('streams/' + name + '/history');
    } catch (e) {
        if (e instanceof Unauthorized)
            return signOut(true);
        $('#plot-note').textContent = e.message;
        return;
    }
    if (name !== state.selected)
        return;
    // Seconds, and Mbit/s; the last minutes only once the stream has some.
    const t = h.t_ms.map(ms => ms / 1000);
    const mbps = h.bitrate_bps.map(b => b / 1e6);
    const jitter = h.jitter_ms;
    const data = [t, mbps, jitter];
    if (!state.plot) {
        const width = Math.max(320, $('#plot').clientWidth || 600);
        state.plot = new window.uPlot({
            width, height: 240,
            series: [
                {},
                { label: 'Mbit/s', stroke: '#4ea1ff', width: 1.5, fill: 'rgba(78,161,255,0.12)' },
                { label: 'jitter ms', stroke: '#e5b73b', width: 1, scale: 'ms' },
            ],
            axes: [
                { stroke: '#8a96a8', grid: { stroke: '#263040' } },
                { stroke: '#8a96a8', grid: { stroke: '#263040' } },
                { side: 1, scale: 'ms', stroke: '#8a96a8', grid: { show: false } },
            ],
        }, data, $('#plot'));
    } else {
        state.plot.setData(data);
    }
    const last = h.parts.slice(-5).reduce((a, b) => a + b, 0);
    $('#plot-note').textContent = last ? last + ' parts in the last 5 s' : 'no parts in the last 5 s';
}

// ---- preview ----

function stopPreview() {
    if (state.hls) {
        state.hls.destroy();
        state.hls = null;
    }
    $('#preview-latency').textContent = '–';
    $('#preview-start').textContent = 'Start preview';
}

function startPreview() {
    const s = state.streams.get(state.selected);
    if (!s || !window.Hls || !window.Hls.isSupported())
        return;
    stopPreview();
    const video = $('#preview');
    const hls = new window.Hls({ lowLatencyMode: true, backBufferLength: 10 });
    state.hls = hls;
    hls.loadSource(s.playlist);
    hls.attachMedia(video);
    hls.on(window.Hls.Events.MANIFEST_PARSED, () => video.play().catch(() => {}));
    hls.on(window.Hls.Events.ERROR, (_, d) => {
        if (d.fatal)
            $('#preview-latency').textContent = 'error: ' + d.details;
    });
    $('#preview-start').textContent = 'Stop preview';
}

function showLatency() {
    const hls = state.hls;
    if (!hls)
        return;
    // How far the picture is behind the origin's clock: the wall-clock
    // date of the frame on screen comes from EXT-X-PROGRAM-DATE-TIME.
    const date = hls.playingDate;
    const l = date ? (Date.now() - date.getTime()) / 1000 : hls.latency;
    if (Number.isFinite(l) && l > 0)
        $('#preview-latency').textContent = l.toFixed(2) + ' s';
}

// ---- edges ----

function renderEdges(data) {
    const body = $('#edges tbody');
    body.replaceChildren();
    for (const e of data.edges) {
        const tr = document.createElement('tr');
        tr.dataset.edge = e.id;
        const viewers = Object.values(e.viewers || {}).reduce((a, b) => a + b, 0);
        tr.append(
            cell(e.id),
            cell(e.listen || e.address),
            cell(e.gone ? 'gone' : 'up', 'state ' + (e.gone ? 'gone' : 'up')),
            cell(String(e.connections ?? '–')),
            cell(String(viewers), 'viewers'),
            cell(bits(e.egress_bps)),
            cell(e.hit_ratio !== undefined ? (e.hit_ratio * 100).toFixed(1) + ' %' : '–'),
            cell(e.upstream_latency_ms !== undefined ? e.upstream_latency_ms.toFixed(1) + ' ms' : '–'),
            cell(e.age_s.toFixed(0) + ' s ago'),
        );
        body.append(tr);
    }
    $('#edges-empty').hidden = data.edges.length > 0;
    const t = data.total;
    $('#totals').textContent = t.edges_up + ' edge' + (t.edges_up === 1 ? '' : 's') + ' up · ' + t.viewers +
        ' viewers · ' + t.connections + ' connections · egress ' + bits(t.egress_bps);
}

// ---- the loop ----

async function refresh() {
    try {
        const [streams, edges] = await Promise.all([api('streams'), api('edges')]);
        renderStreams(streams.streams);
        renderEdges(edges);
        showError('');
        $('#status').textContent = 'updated ' + new Date().toLocaleTimeString();
    } catch (e) {
        if (e instanceof Unauthorized)
            return signOut(true);
        showError('Origin unreachable: ' + e.message);
        $('#status').textContent = 'retrying…';
    }
}

function start() {
    $('#login').hidden = true;
    $('#main').hidden = false;
    refresh();
    state.timers.push(setInterval(refresh, REFRESH_MS));
    state.timers.push(setInterval(refreshHistory, HISTORY_MS));
    state.timers.push(setInterval(showLatency, 500));
}

function signOut(wrong) {
    state.timers.forEach(clearInterval);
    state.timers = [];
    stopPreview();
    state.auth = null;
    sessionStorage.removeItem('llhls-auth');
    $('#main').hidden = true;
    $('#login').hidden = false;
    const err = $('#login-error');
    err.hidden = !wrong;
    err.textContent = wrong ? 'Wrong credential: the origin refused it.' : '';
    $('#status').textContent = 'signed out';
}

async function trySession() {
    try {
        await api('session');
        start();
        return true;
    } catch (e) {
        if (e instanceof Unauthorized)
            return false;
        showError('Origin unreachable: ' + e.message);
        setTimeout(boot, 2000);
        return null;
    }
}

async function boot() {
    const ok = await trySession();
    if (ok === false)
        signOut(state.auth !== null);
}

$('#login').addEventListener('submit', async ev => {
    ev.preventDefault();
    const token = $('#login-token').value.trim();
    const user = $('#login-user').value.trim();
    const password = $('#login-password').value;
    state.auth = token ? { token } : { user, password };
    const ok = await trySession();
    if (ok) {
        sessionStorage.setItem('llhls-auth', JSON.stringify(state.auth));
    } else if (ok === false) {
        signOut(true);
    }
});

async function act(path, method, question) {
    if (!window.confirm(question))
        return;
    try {
        await api(path, { method });
        await refresh();
    } catch (e) {
        if (e instanceof Unauthorized)
            return signOut(true);
        showError(e.message);
    }
}

$('#preview-start').addEventListener('click', () => (state.hls ? stopPreview() : startPreview()));
$('#end').addEventListener('click', () => act('streams/' + state.selected + '/end', 'POST',
    'End ' + state.selected + ' now? Players get the end of the playlist and the publisher is disconnected.'));
$('#disconnect').addEventListener('click', () => act('streams/' + state.selected + '/disconnect', 'POST',
    'Disconnect the publisher of ' + state.selected + '? It may reconnect within the grace period.'));
$('#delete').addEventListener('click', () => act('streams/' + state.selected, 'DELETE',
    'Delete ' + state.selected + ' and everything stored of it?'));

// The page's state, for the browser tests to read.
window.llhlsAdmin = state;
boot();
