// The llhls player page: plays the multivariant playlist named by ?src= with
// hls.js in low-latency mode and shows what a viewer of a live stream cares
// about (how far behind live, which rendition, how much is buffered, frames
// dropped, stalls), with keys to hide them, turn the sound on and pick a
// rendition. The same figures are kept in window.llhlsStats so that
// the browser tests read what the overlay shows.

const STATS_INTERVAL_MS = 250;
// Enough for ten minutes of samples at four a second; older ones are dropped
// so that a page left open for days does not grow without bound.
const MAX_LATENCY_SAMPLES = 2400;

const video = document.getElementById('video');
const overlay = document.getElementById('stats');
const errorBox = document.getElementById('error');
const unmuteButton = document.getElementById('unmute');

const stats = {
    src: null,
    state: 'loading', // loading | playing | waiting | error
    started: false,
    startedAt: null, // Date.now() when the first frame played
    currentTime: 0,
    latency: null, // seconds: wall clock minus the program date-time being shown
    hlsLatency: null, // seconds: hls.js's own estimate of the distance to the live edge
    targetLatency: null,
    rendition: null, // { height, width, bitrate }
    bufferAhead: 0, // seconds buffered past the playhead
    droppedFrames: 0,
    totalFrames: 0,
    stalls: 0,
    latencySamples: [], // the most recent samples, four a second while playing
    latencySampleTotal: 0, // samples ever taken, so a reader can tell which are new
    errors: [], // every hls.js error, fatal or not, as "type/details"
    fatal: null, // the text shown on the page once playback cannot go on
};
window.llhlsStats = stats;

function showError(text) {
    stats.state = 'error';
    stats.fatal = text;
    errorBox.textContent = text;
    errorBox.hidden = false;
}

function noteError(text) {
    stats.errors.push(text);
    if (stats.errors.length > 200)
        stats.errors.shift();
}

// The source is taken relative to the page, so "?src=/live/x/index.m3u8"
// works on the origin itself and a full URL works from anywhere (the origin
// answers with CORS headers).
function sourceUrl() {
    const src = new URLSearchParams(location.search).get('src');
    if (!src)
        return null;
    try {
        return new URL(src, location.href).href;
    } catch (e) {
        return null;
    }
}

function bufferAhead() {
    const t = video.currentTime;
    const ranges = video.buffered;
    for (let i = 0; i < ranges.length; i++) {
        // A small tolerance: the playhead often sits a few ms before the start
        // of the range it is about to play.
        if (ranges.start(i) <= t + 0.1 && t < ranges.end(i))
            return ranges.end(i) - t;
    }
    return 0;
}

// One stall is one interruption, however many signals report it: the video
// element's 'waiting' and hls.js's BUFFER_STALLED_ERROR often both fire for
// the same one. It ends when the playhead moves again.
let inStall = false;
let lastTime = -1;

function beginStall(reason) {
    if (!stats.started || inStall)
        return;
    inStall = true;
    stats.stalls++;
    stats.state = 'waiting';
    noteError('stall: ' + reason);
}

function endStall() {
    if (inStall) {
        inStall = false;
        if (stats.state === 'waiting')
            stats.state = 'playing';
    }
}

function fmt(v, digits) {
    return v === null || v === undefined || !isFinite(v) ? '–' : v.toFixed(digits);
}

function describeRendition(r) {
    if (!r)
        return '–';
    const size = r.height ? (r.width ? r.width + 'x' + r.height : r.height + 'p') : 'audio';
    const rate = r.bitrate ? (r.bitrate / 1e6).toFixed(2) + ' Mbit/s' : '';
    const which = r.count > 1 ? 'level ' + (r.level + 1) + '/' + r.count + (r.auto ? ' auto' : ' fixed') : '';
    return [size, rate, which].filter(Boolean).join('  ');
}

function sample(hls) {
    stats.currentTime = video.currentTime;
    if (lastTime >= 0 && video.currentTime > lastTime + 0.01 && !video.paused)
        endStall();
    lastTime = video.currentTime;

    stats.bufferAhead = bufferAhead();
    if (typeof video.getVideoPlaybackQuality === 'function') {
        const q = video.getVideoPlaybackQuality();
        stats.droppedFrames = q.droppedVideoFrames;
        stats.totalFrames = q.totalVideoFrames;
    }
    if (hls) {
        const date = hls.playingDate;
        stats.latency = stats.started && date ? (Date.now() - date.getTime()) / 1000 : null;
        stats.hlsLatency = hls.latency || null;
        stats.targetLatency = hls.targetLatency;
        const level = hls.levels && hls.currentLevel >= 0 ? hls.levels[hls.currentLevel] : null;
        stats.rendition = level ? { height: level.height || 0, width: level.width || 0, bitrate: level.bitrate || 0,
                                    level: hls.currentLevel, count: hls.levels.length, auto: hls.autoLevelEnabled }
                                : null;
        // Samples go on during a stall: the viewer falls behind live then.
        if (stats.latency !== null && !video.paused) {
            stats.latencySamples.push(stats.latency);
            stats.latencySampleTotal++;
            if (stats.latencySamples.length > MAX_LATENCY_SAMPLES)
                stats.latencySamples.shift();
        }
    }

    overlay.textContent = [
        'latency   ' + fmt(stats.latency, 2) + ' s  (hls.js ' + fmt(stats.hlsLatency, 2) + ' s, target ' +
            fmt(stats.targetLatency, 2) + ' s)',
        'rendition ' + describeRendition(stats.rendition),
        'buffer    ' + fmt(stats.bufferAhead, 2) + ' s ahead',
        'dropped   ' + stats.droppedFrames + ' of ' + stats.totalFrames + ' frames',
        'stalls    ' + stats.stalls,
        'state     ' + stats.state,
    ].join('\n');
}

// Keys for the viewer: s shows or hides the figures, m toggles the sound,
// l steps to the next rendition and a gives the choice back to hls.js.
// current() is the hls.js instance, or null once it is gone.
function watchKeys(current) {
    document.addEventListener('keydown', ev => {
        if (ev.ctrlKey || ev.metaKey || ev.altKey)
            return;
        const hls = current();
        if (ev.key === 's') {
            overlay.hidden = !overlay.hidden;
        } else if (ev.key === 'm') {
            setMuted(!video.muted);
        } else if (ev.key === 'l' && hls && hls.levels && hls.levels.length > 1) {
            // nextLevel switches at the next fragment boundary, without a stall.
            hls.nextLevel = (Math.max(hls.currentLevel, 0) + 1) % hls.levels.length;
        } else if (ev.key === 'a' && hls) {
            hls.nextLevel = -1;
        }
    });
}

// Browsers play by themselves only when muted; the sound is one click away.
function setMuted(muted) {
    video.muted = muted;
    unmuteButton.hidden = !muted;
}

function watchVideo() {
    unmuteButton.addEventListener('click', () => setMuted(false));
    video.addEventListener('click', () => setMuted(!video.muted));
    video.addEventListener('playing', () => {
        if (!stats.started) {
            stats.started = true;
            stats.startedAt = Date.now();
        }
        endStall();
        stats.state = 'playing';
    });
    video.addEventListener('waiting', () => beginStall('video waiting at ' + video.currentTime.toFixed(2)));
    video.addEventListener('error', () => {
        const err = video.error;
        showError('The browser could not play this stream: ' + (err ? err.message || 'media error ' + err.code : 'media error'));
    });
}

function start() {
    const src = sourceUrl();
    stats.src = src;
    if (!src) {
        showError('No stream given. Open this page as player.html?src=URL, where URL is a multivariant playlist ' +
                  '(for example player.html?src=/live/NAME/index.m3u8).');
        return;
    }
    watchVideo();
    const Hls = window.Hls;
    if (!Hls) {
        showError('hls.js did not load from lib/hls.min.js (scripts/setup copies it there).');
        return;
    }
    if (!Hls.isSupported()) {
        // Safari on iOS has no MediaSource but plays LL-HLS natively.
        if (video.canPlayType('application/vnd.apple.mpegurl')) {
            video.src = src;
            watchKeys(() => null);
            setInterval(() => sample(null), STATS_INTERVAL_MS);
            return;
        }
        showError('This browser supports neither MediaSource Extensions nor native HLS.');
        return;
    }

    const hls = new Hls({ lowLatencyMode: true, backBufferLength: 30 });
    window.llhlsHls = hls;
    // The overlay keeps its last figures once hls.js is destroyed.
    let live = hls;
    let mediaRecoveries = 0;
    hls.on(Hls.Events.ERROR, (event, data) => {
        const text = data.type + '/' + data.details + (data.reason ? ' (' + data.reason + ')' : '');
        noteError((data.fatal ? 'fatal ' : '') + text);
        if (data.details === Hls.ErrorDetails.BUFFER_STALLED_ERROR)
            beginStall('hls.js buffer stalled');
        if (!data.fatal)
            return;
        // A decoder hiccup can often be cleared by re-creating the source
        // buffers; try that once before giving up.
        if (data.type === Hls.ErrorTypes.MEDIA_ERROR && mediaRecoveries++ < 1) {
            hls.recoverMediaError();
            return;
        }
        const status = data.response && data.response.code ? ' — HTTP ' + data.response.code : '';
        const url = data.url || (data.context && data.context.url) || '';
        showError('Playback failed: ' + text + status + (url ? '\n' + url : ''));
        live = null;
        hls.destroy();
        sample(null);
    });
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
        // Autoplay of a muted video is allowed; a refusal still leaves the
        // controls for the viewer to start it.
        const p = video.play();
        if (p && p.catch)
            p.catch(e => { video.controls = true; noteError('play(): ' + e.message); });
    });
    watchKeys(() => live);
    hls.attachMedia(video);
    hls.loadSource(src);
    setInterval(() => sample(live), STATS_INTERVAL_MS);
}

start();
