// The admin page: every stream with its live figures, per stream a bitrate
// plot and a low-latency preview with the buttons that end it, and the edges
// that report to the origin, all refreshed from the origin's JSON API
// (docs/api.md) every second.  The credential typed in is kept for the tab
// only (sessionStorage) and sent on every call; a 401 brings the sign-in
// form back.  Rows carry data-stream / data-edge so that tests find them.

const $ = sel => document.querySelector(sel);
const REFRESH_MS = 1000;
const HISTORY_MS = 2000;
const LATENCY_MS = 500;
const REQUEST_TIMEOUT_MS = 5000;
// The plot shows at least this much, even for a stream that began a moment
// ago, and otherwise starts where the stream's samples do.
const MIN_PLOT_SECONDS = 60;
const AUTH_KEY = 'llhls-auth';

const state = {
    auth: readAuth(),
    mode: null,             // what /api/session said: "token", "basic" or "loopback"
    rtmpPort: 1935,         // and where publishers connect
    selected: null,         // stream name shown in the detail panel
    streams: new Map(),
    viewers: new Map(),     // stream name -> viewers over the edges that are up
    rows: new Map(),        // stream name -> its <tr>
    plot: null,
    hls: null,
    running: false,
    updated: null,          // when the figures shown were fetched
    timers: [],
};

class Unauthorized extends Error {}
class Forbidden extends Error {}
class Unreachable extends Error {}

function readAuth() {
    try {
        return JSON.parse(sessionStorage.getItem(AUTH_KEY) || 'null');
    } catch (e) {
        return null;
    }
}

// btoa() takes Latin-1 only; a password may hold any character.
function base64(text) {
    let bin = '';
    for (const b of new TextEncoder().encode(text))
        bin += String.fromCharCode(b);
    return btoa(bin);
}

function authHeader() {
    const a = state.auth;
    if (!a)
        return {};
    if (a.token)
        return { Authorization: 'Bearer ' + a.token };
    return { Authorization: 'Basic ' + base64(a.user + ':' + a.password) };
}

async function api(path, options = {}) {
    let r;
    try {
        r = await fetch('/api/' + path, {
            ...options,
            cache: 'no-store',
            headers: { ...authHeader(), ...(options.headers || {}) },
            signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
    } catch (e) {
        const timedOut = e.name === 'TimeoutError';
        throw new Unreachable(timedOut ? 'no answer in ' + REQUEST_TIMEOUT_MS / 1000 + ' s' : e.message);
    }
    if (r.status === 401)
        throw new Unauthorized();
    const body = r.status === 204 ? null : await r.json().catch(() => null);
    if (r.status === 403)
        throw new Forbidden((body && body.error) || 'forbidden');
    if (!r.ok)
        throw new Error((body && body.error) || ('HTTP ' + r.status));
    return body;
}

// ---- formatting ----

function bits(bps) {
    if (bps === null || bps === undefined || !Number.isFinite(bps))
        return '–';
    if (bps >= 1e9)
        return (bps / 1e9).toFixed(2) + ' Gbit/s';
    if (bps >= 1e6)
        return (bps / 1e6).toFixed(1) + ' Mbit/s';
    if (bps >= 1e3)
        return (bps / 1e3).toFixed(0) + ' kbit/s';
    return bps.toFixed(0) + ' bit/s';
}

function duration(s) {
    if (!s || !Number.isFinite(s))
        return '–';
    const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
    const sec = String(Math.floor(s % 60)).padStart(2, '0');
    if (d)
        return d + 'd ' + h + 'h';
    return h ? h + ':' + String(m).padStart(2, '0') + ':' + sec : m + ':' + sec;
}

function plural(n, word) {
    return n + ' ' + word + (n === 1 ? '' : 's');
}

function num(v, digits, unit) {
    return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) + (unit || '') : '–';
}

function showError(text) {
    const e = $('#error');
    if (e.textContent !== (text || ''))
        e.textContent = text || '';
    e.hidden = !text;
}

// A row keeps its cells from one refresh to the next and only the text that
// changed is written, so that a row can be hovered, selected and copied from
// while the figures move.
function setCells(tr, cells) {
    while (tr.cells.length < cells.length)
        tr.insertCell();
    cells.forEach(([text, cls, title], i) => {
        const td = tr.cells[i];
        if (td.textContent !== text)
            td.textContent = text;
        const c = cls || '';
        if (td.className !== c)
            td.className = c;
        if ((td.title || '') !== (title || ''))
            td.title = title || '';
    });
}

function placeRows(body, rows) {
    const same = rows.length === body.rows.length && rows.every((tr, i) => body.rows[i] === tr);
    if (!same)
        body.replaceChildren(...rows);
}

// ---- streams ----

function streamCells(s) {
    const v = s.video, a = s.audio;
    const codecs = [v && v.codec, a && a.codec].filter(Boolean).join(', ') || '–';
    const codecTitle = [
        v ? 'video ' + v.codec + (v.bandwidth_peak ? ', peak ' + bits(v.bandwidth_peak) : '') : '',
        a ? 'audio ' + a.codec + ', ' + a.sample_rate + ' Hz, ' + plural(a.channels, 'channel') : '',
    ].filter(Boolean).join('\n');
    const group = s.rendition ? s.group + ' · ' + s.rendition : (s.group && s.group !== s.name ? s.group : '–');
    const live = s.state !== 'ended';
    const viewers = state.viewers.get(s.name);
    return [
        [s.name, 'name' + (s.record ? ' rec' : ''), s.record ? 'recorded: kept whole once it ends' : ''],
        [group, 'group'],
        [s.state, 'state ' + s.state],
        [codecs, 'codec', codecTitle],
        [v && v.width ? v.width + '×' + v.height : (a && !v ? 'audio only' : '–'), 'resolution'],
        [v && v.frame_rate ? num(v.frame_rate, v.frame_rate % 1 ? 2 : 0) : '–', 'num fps'],
        [live ? bits(s.bitrate_bps) : '–', 'num bitrate'],
        [duration(s.uptime_s), 'num uptime'],
        [s.msn >= 0 ? s.msn + '.' + s.part : '–', 'num msn'],
        [viewers === undefined ? '–' : String(viewers), 'num stream-viewers'],
        [s.publisher || '–', 'publisher'],
        [String(s.discontinuities ?? '–'), 'num disc'],
    ];
}

function renderStreams(data) {
    const list = data.streams;
    const body = $('#streams tbody');
    state.streams = new Map(list.map(s => [s.name, s]));
    const rows = [];
    for (const s of list) {
        let tr = state.rows.get(s.name);
        if (!tr) {
            tr = document.createElement('tr');
            tr.dataset.stream = s.name;
            tr.addEventListener('click', () => select(s.name));
            state.rows.set(s.name, tr);
        }
        tr.dataset.state = s.state;
        tr.classList.toggle('selected', s.name === state.selected);
        tr.classList.toggle('ended', s.state === 'ended');
        setCells(tr, streamCells(s));
        rows.push(tr);
    }
    for (const name of [...state.rows.keys()]) {
        if (!state.streams.has(name))
            state.rows.delete(name);
    }
    placeRows(body, rows);
    renderGroups(data.groups || []);
    const live = list.filter(s => s.state === 'live').length;
    $('#streams-count').textContent = list.length ? live + ' live of ' + list.length : '';
    const empty = $('#streams-empty');
    empty.hidden = list.length > 0;
    empty.textContent = 'No streams yet — publish to rtmp://' + location.hostname + ':' + state.rtmpPort + '/live/NAME';
    renderDetail();
}

// Renditions published as NAME~LABEL make a group, which players open
// through its own multivariant playlist.
function renderGroups(groups) {
    const p = $('#groups');
    const key = JSON.stringify(groups);
    if (p.dataset.key === key)
        return;
    p.dataset.key = key;
    p.hidden = groups.length === 0;
    const parts = ['Groups: '];
    groups.forEach((g, i) => {
        const a = document.createElement('a');
        a.href = '/player.html?src=' + encodeURIComponent(g.playlist);
        a.target = '_blank';
        a.rel = 'noopener';
        a.dataset.group = g.name;
        a.textContent = g.name;
        parts.push(...(i ? [' · '] : []), a, ' (' + plural(g.renditions.length, 'rendition') + ')');
    });
    p.replaceChildren(...parts);
}

function renderDetail() {
    const s = state.streams.get(state.selected);
    $('#detail').hidden = !s;
    if (!s) {
        if (state.selected) {
            // Deleted, or gone from the store: nothing left to show.
            state.selected = null;
            clearDetail();
        }
        return;
    }
    $('#detail-title').textContent = s.name;
    const st = $('#detail-state');
    st.textContent = s.state;
    st.className = 'state ' + s.state;
    const targets = 'segments ' + num(s.segment_target_ms / 1000, 1, ' s') + ', parts ' +
        num(s.part_target_ms / 1000, 3, ' s') + ', window ' + duration(s.window_ms / 1000) +
        (s.record ? ', recorded' : '');
    if ($('#detail-info').textContent !== targets)
        $('#detail-info').textContent = targets;
    $('#disconnect').disabled = !s.publisher;
    $('#end').disabled = s.state === 'ended';
    const del = $('#delete');
    del.hidden = s.state !== 'ended';
    del.textContent = s.record ? 'Delete recording' : 'Delete';
    $('#open-player').href = '/player.html?src=' + encodeURIComponent(s.playlist);
    const group = s.group && s.group !== s.name ? s.group : null;
    $('#open-group').hidden = !group;
    if (group)
        $('#open-group').href = '/player.html?src=' + encodeURIComponent('/' + group + '/index.m3u8');
}

function clearDetail() {
    stopPreview();
    if (state.plot) {
        state.plot.destroy();
        state.plot = null;
    }
    $('#plot-note').textContent = '';
    $('#action-result').textContent = '';
}

function select(name) {
    if (state.selected === name)
        return;
    state.selected = name;
    clearDetail();
    for (const [n, tr] of state.rows)
        tr.classList.toggle('selected', n === name);
    renderDetail();
    refreshHistory();
}

// The samples from where the stream's begin (a second or two before), but
// at least the last minute: five minutes of nothing squeeze a young
// stream into a sliver at the right edge.
function plotData(h) {
    const n = h.t_ms.length;
    let first = h.bitrate_bps.findIndex((b, i) => b > 0 || h.parts[i] > 0);
    if (first < 0)
        first = n;
    const from = Math.max(0, Math.min(first - 2, n - MIN_PLOT_SECONDS));
    // Before its first part the stream did not exist: a gap, not a zero.
    const before = (v, i) => (from + i < first - 1 ? null : v);
    return [
        h.t_ms.slice(from).map(ms => ms / 1000),
        h.bitrate_bps.slice(from).map((b, i) => before(b / 1e6, i)),
        h.jitter_ms.slice(from).map(before),
    ];
}

function plotWidth() {
    return Math.max(320, Math.floor($('#plot').clientWidth || 600));
}

function makePlot(data) {
    const grid = { stroke: '#263040', width: 1 };
    return new window.uPlot({
        width: plotWidth(),
        height: 240,
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, ms: { range: (u, min, max) => [0, Math.max(10, (max || 0) * 1.1)] } },
        series: [
            {},
            { label: 'bitrate', stroke: '#4ea1ff', width: 1.5, fill: 'rgba(78,161,255,0.12)', points: { show: false },
              value: (u, v) => (v === null || v === undefined ? '–' : v.toFixed(2) + ' Mbit/s') },
            { label: 'part jitter', stroke: '#e5b73b', width: 1, scale: 'ms', points: { show: false },
              value: (u, v) => (v === null || v === undefined ? '–' : v.toFixed(0) + ' ms') },
        ],
        axes: [
            { stroke: '#8a96a8', grid, ticks: grid },
            { stroke: '#8a96a8', grid, ticks: grid, size: 50 },
            { side: 1, scale: 'ms', stroke: '#8a96a8', grid: { show: false }, ticks: grid, size: 40 },
        ],
    }, data, $('#plot'));
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
        if (name === state.selected)
            $('#plot-note').textContent = 'history: ' + e.message;
        return;
    }
    if (name !== state.selected)
        return;
    const data = plotData(h);
    if (!state.plot)
        state.plot = makePlot(data);
    else
        state.plot.setData(data);
    const recent = h.parts.slice(-5).reduce((a, b) => a + b, 0);
    const jitter = Math.max(0, ...h.jitter_ms.slice(-60));
    const note = (recent ? recent + ' parts in the last 5 s' : 'no parts in the last 5 s') +
        ' · largest part jitter in the last minute ' + jitter.toFixed(0) + ' ms';
    $('#plot-note').textContent = note;
}

// ---- preview ----

function stopPreview() {
    if (state.hls) {
        state.hls.destroy();
        state.hls = null;
    }
    const video = $('#preview');
    video.removeAttribute('src');
    $('#preview-latency').textContent = '–';
    $('#preview-detail').textContent = '';
    $('#preview-start').textContent = 'Start preview';
}

function startPreview() {
    const s = state.streams.get(state.selected);
    if (!s)
        return;
    const Hls = window.Hls;
    if (!Hls || !Hls.isSupported()) {
        $('#preview-detail').textContent = 'hls.js cannot play in this browser';
        return;
    }
    stopPreview();
    const video = $('#preview');
    const hls = new Hls({ lowLatencyMode: true, backBufferLength: 10 });
    state.hls = hls;
    hls.on(Hls.Events.MANIFEST_PARSED, () => video.play().catch(() => { video.controls = true; }));
    hls.on(Hls.Events.ERROR, (_, d) => {
        if (!d.fatal)
            return;
        $('#preview-latency').textContent = '–';
        $('#preview-detail').textContent = 'error: ' + d.details;
        if (state.hls === hls) {
            hls.destroy();
            state.hls = null;
            $('#preview-start').textContent = 'Start preview';
        }
    });
    hls.attachMedia(video);
    hls.loadSource(s.playlist);
    $('#preview-start').textContent = 'Stop preview';
}

function showLatency() {
    const hls = state.hls;
    if (!hls)
        return;
    const s = state.streams.get(state.selected);
    if (s && s.state === 'ended') {
        $('#preview-detail').textContent = 'the stream ended';
        return;
    }
    // How far the picture is behind the origin's clock: the wall-clock
    // date of the frame on screen comes from EXT-X-PROGRAM-DATE-TIME; hls.js's
    // own figure (distance to the live edge) stands in until one is known.
    const date = hls.playingDate;
    const l = date ? (Date.now() - date.getTime()) / 1000 : hls.latency;
    if (Number.isFinite(l) && l > 0)
        $('#preview-latency').textContent = l.toFixed(2) + ' s';
    const level = hls.levels && hls.currentLevel >= 0 ? hls.levels[hls.currentLevel] : null;
    const video = $('#preview');
    const q = video.getVideoPlaybackQuality ? video.getVideoPlaybackQuality() : null;
    $('#preview-detail').textContent = [
        'hls.js ' + num(hls.latency, 2, ' s') + ' (target ' + num(hls.targetLatency, 2, ' s') + ')',
        level && level.height ? level.width + '×' + level.height : '',
        q ? q.droppedVideoFrames + ' dropped' : '',
    ].filter(Boolean).join(' · ');
}

// ---- edges ----

function edgeCells(e) {
    const viewers = Object.values(e.viewers || {}).reduce((a, b) => a + b, 0);
    const origins = e.origins || [];
    const up = origins.filter(o => o.up).length;
    const originTitle = origins.map(o => o.url + (o.up ? ' up' : ' down')).join('\n');
    const address = e.listen ? e.listen : e.address;
    return [
        [e.id, 'name'],
        [address || '–', 'address', 'report from ' + (e.address || '?')],
        [e.gone ? 'gone' : 'up', 'state ' + (e.gone ? 'gone' : 'up')],
        [String(e.connections ?? '–'), 'num connections'],
        [String(viewers), 'num viewers',
         Object.entries(e.viewers || {}).map(([k, n]) => k + ': ' + n).join('\n')],
        [bits(e.egress_bps), 'num egress'],
        [num(e.hit_ratio * 100, 1, ' %'), 'num hit'],
        [num(e.upstream_latency_ms, 1, ' ms'), 'num upstream'],
        [String(e.held ?? '–'), 'num held'],
        [origins.length ? up + ' of ' + origins.length + ' up' : '–', 'origins' + (up < origins.length ? ' bad' : ''),
         originTitle],
        [duration(e.uptime_s), 'num uptime'],
        [num(e.age_s, 0, ' s ago'), 'num age'],
    ];
}

function renderEdges(data) {
    const body = $('#edges tbody');
    const old = new Map([...body.rows].map(tr => [tr.dataset.edge, tr]));
    const rows = [];
    const viewers = new Map();
    for (const e of data.edges) {
        let tr = old.get(e.id);
        if (!tr) {
            tr = document.createElement('tr');
            tr.dataset.edge = e.id;
        }
        tr.dataset.state = e.gone ? 'gone' : 'up';
        tr.classList.toggle('gone', !!e.gone);
        setCells(tr, edgeCells(e));
        rows.push(tr);
        if (!e.gone) {
            for (const [name, n] of Object.entries(e.viewers || {}))
                viewers.set(name, (viewers.get(name) || 0) + n);
        }
    }
    placeRows(body, rows);
    state.viewers = viewers;
    $('#edges-empty').hidden = data.edges.length > 0;
    const t = data.total;
    const gone = data.edges.filter(e => e.gone).length;
    $('#edges-count').textContent = data.edges.length ? t.edges_up + ' up' + (gone ? ', ' + gone + ' gone' : '') : '';
    const foot = $('#edges-total');
    foot.hidden = data.edges.length === 0;
    setCells(foot.rows[0], [
        ['CDN total', 'name'], ['', ''], [plural(t.edges_up, 'edge') + ' up', ''],
        [String(t.connections), 'num'], [String(t.viewers), 'num total-viewers'], [bits(t.egress_bps), 'num'],
        ['', ''], ['', ''], ['', ''], ['', ''], ['', ''], ['', ''],
    ]);
    const live = [...state.streams.values()].filter(s => s.state === 'live').length;
    $('#totals').textContent = plural(live, 'stream') + ' live · ' + plural(t.edges_up, 'edge') + ' up · ' +
        plural(t.viewers, 'viewer') + ' · ' + plural(t.connections, 'connection') + ' · egress ' + bits(t.egress_bps);
}

// ---- the loop ----

function modeText() {
    if (state.mode === 'loopback')
        return 'no credential needed (loopback)';
    return 'signed in (' + (state.mode || 'token') + ')';
}

async function refresh() {
    try {
        const [streams, edges] = await Promise.all([api('streams'), api('edges')]);
        if (!state.running)
            return;
        renderStreams(streams);
        renderEdges(edges);
        showError('');
        state.updated = new Date().toLocaleTimeString();
        $('#status').textContent = modeText() + ' · updated ' + state.updated;
    } catch (e) {
        if (e instanceof Unauthorized)
            return signOut(true);
        if (!state.running)
            return;
        showError(e instanceof Unreachable ? 'Origin unreachable (' + e.message + '); retrying every second.'
                                           : 'The origin answered with an error: ' + e.message);
        $('#status').textContent = 'retrying…' + (state.updated ? ' figures from ' + state.updated : '');
        document.body.classList.add('stale');
        return;
    }
    document.body.classList.remove('stale');
}

// One request at a time: a slow origin gets the next refresh a second after
// the last answer, not a pile of them.
function every(ms, fn) {
    const loop = { id: null, stopped: false };
    loop.stop = () => {
        loop.stopped = true;
        clearTimeout(loop.id);
    };
    const tick = async () => {
        try {
            await fn();
        } catch (e) {
            console.error(e);
        }
        if (!loop.stopped)
            loop.id = setTimeout(tick, ms);
    };
    state.timers.push(loop);
    tick();
}

function stopTimers() {
    for (const t of state.timers) {
        if (t.stop)
            t.stop();
        else
            clearInterval(t);
    }
    state.timers = [];
}

function start(mode) {
    state.mode = mode;
    state.running = true;
    $('#login').hidden = true;
    $('#main').hidden = false;
    $('#signout').hidden = mode === 'loopback';
    showError('');
    stopTimers();
    every(REFRESH_MS, refresh);
    every(HISTORY_MS, refreshHistory);
    state.timers.push(setInterval(showLatency, LATENCY_MS));
}

function signOut(wrong) {
    state.running = false;
    stopTimers();
    stopPreview();
    state.auth = null;
    sessionStorage.removeItem(AUTH_KEY);
    $('#main').hidden = true;
    $('#signout').hidden = true;
    $('#login').hidden = false;
    const err = $('#login-error');
    err.hidden = !wrong;
    err.textContent = wrong ? 'Wrong credential: the origin refused it.' : '';
    $('#status').textContent = 'signed out';
    $('#totals').textContent = '';
}

// true: signed in; false: the credential (or its absence) was refused;
// null: the origin could not be asked, and another try is scheduled.
async function trySession() {
    try {
        const s = await api('session');
        state.rtmpPort = s && s.rtmp_port ? s.rtmp_port : 1935;
        start(s && s.auth);
        return true;
    } catch (e) {
        if (e instanceof Unauthorized)
            return false;
        if (e instanceof Forbidden) {
            $('#login').hidden = true;
            showError('The origin has no admin credential configured, so its API answers on loopback only (' +
                      e.message + '). Give it admin.token (or --admin-token) to use this page from here.');
            return null;
        }
        showError((e instanceof Unreachable ? 'Origin unreachable (' : 'The origin answered with an error (') +
                  e.message + '); retrying.');
        $('#status').textContent = 'retrying…';
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
    if (!token && !user) {
        const err = $('#login-error');
        err.textContent = 'Give the token, or a user and password.';
        err.hidden = false;
        return;
    }
    state.auth = token ? { token } : { user, password };
    $('#login-submit').disabled = true;
    const ok = await trySession();
    $('#login-submit').disabled = false;
    if (ok) {
        sessionStorage.setItem(AUTH_KEY, JSON.stringify(state.auth));
        $('#login-error').hidden = true;
        $('#login-password').value = '';
    } else if (ok === false) {
        signOut(true);
    }
});

$('#signout').addEventListener('click', () => signOut(false));

async function act(path, method, question, done) {
    const name = state.selected;
    if (!name || !window.confirm(question))
        return;
    const out = $('#action-result');
    try {
        const r = await api(path, { method });
        out.textContent = done(r);
        out.className = 'ok';
        await refresh();
    } catch (e) {
        if (e instanceof Unauthorized)
            return signOut(true);
        out.textContent = name + ': ' + e.message;
        out.className = 'bad';
    }
}

$('#preview-start').addEventListener('click', () => (state.hls ? stopPreview() : startPreview()));
$('#end').addEventListener('click', () => act('streams/' + state.selected + '/end', 'POST',
    'End ' + state.selected + ' now?\nPlayers get the end of the playlist and the publisher is disconnected.',
    r => r.name + ' ended'));
$('#disconnect').addEventListener('click', () => act('streams/' + state.selected + '/disconnect', 'POST',
    'Disconnect the publisher of ' + state.selected + '?\nThe encoder may reconnect within the grace period.',
    r => r.name + ': publisher disconnected, waiting for it to come back'));
$('#delete').addEventListener('click', () => act('streams/' + state.selected, 'DELETE',
    'Delete ' + state.selected + ' and everything stored of it?\nThis cannot be undone.',
    r => r.name + ' deleted'));

// The plot follows the width of its panel.
new ResizeObserver(() => {
    if (state.plot) {
        const w = plotWidth();
        if (w !== state.plot.width)
            state.plot.setSize({ width: w, height: 240 });
    }
}).observe($('#plot'));

$('#report-url').textContent = location.origin + '/api/edges/report';

// The page's state, for the browser tests to read.
window.llhlsAdmin = state;
boot();
