// Plays a page of the llhls player in headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core) and reports on one JSON line
// what a viewer got: whether playback started, how far the playhead moved
// while watched, stalls, latency behind live and dropped frames. The page
// keeps those figures in window.llhlsStats (www/player.js). With them goes
// the timeline of what hls.js loaded and buffered (`timeline`, the latest
// entries), so that a stall can be traced to the part behind it.
//
//   node tests/browser/play.mjs --url URL [--seconds 25] [--screenshot FILE] [--start-timeout 20]
//
// Exits 0 whenever it could report (the caller judges the figures), 1 when
// the browser could not be run at all, 2 on bad arguments.

import { launch } from './chromium.mjs';

function parseArgs(argv) {
    const opts = { url: null, seconds: 25, screenshot: null, startTimeout: 20 };
    for (let i = 0; i < argv.length; i++) {
        const name = argv[i];
        const value = argv[i + 1];
        if (value === undefined)
            throw new Error('missing value after ' + name);
        i++;
        if (name === '--url')
            opts.url = value;
        else if (name === '--seconds')
            opts.seconds = Number(value);
        else if (name === '--screenshot')
            opts.screenshot = value;
        else if (name === '--start-timeout')
            opts.startTimeout = Number(value);
        else
            throw new Error('unknown option ' + name);
    }
    if (!opts.url)
        throw new Error('--url is required');
    if (!(opts.seconds > 0) || !(opts.startTimeout > 0))
        throw new Error('--seconds and --start-timeout must be positive numbers');
    return opts;
}

function median(values) {
    if (values.length === 0)
        return null;
    const v = [...values].sort((a, b) => a - b);
    const mid = v.length >> 1;
    return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

function round(v, digits = 3) {
    return v === null || v === undefined ? null : Number(v.toFixed(digits));
}

// Installed before the page's scripts run: as soon as the player sets
// window.llhlsHls, every fragment or part loaded and appended, and every
// error, is noted with the time and what is buffered; so is every playlist
// loaded, with the part it asked for and how long it was held, and every
// line hls.js logs.
function recordTimeline() {
    const timeline = [];
    window.llhlsTimeline = timeline;
    const ranges = r => {
        const out = [];
        for (let i = 0; r && i < r.length; i++)
            out.push([+r.start(i).toFixed(3), +r.end(i).toFixed(3)]);
        return out;
    };
    const note = entry => {
        const video = document.querySelector('video');
        entry.at = Date.now();
        if (video) {
            entry.playhead = +video.currentTime.toFixed(3);
            entry.buffered = ranges(video.buffered);
        }
        timeline.push(entry);
        if (timeline.length > 3000)
            timeline.shift();
    };
    const media = (data, what) => {
        const f = data.part || data.frag;
        return {
            what, type: data.frag ? data.frag.type : data.type, sn: data.frag ? data.frag.sn : null,
            part: data.part ? data.part.index : null,
            start: f ? +f.start.toFixed(3) : null, duration: f ? +f.duration.toFixed(3) : null,
        };
    };
    // hls.js's own log, through a subclass that hands every player a logger
    // writing into the timeline.
    const log = level => (...args) => note({ what: level, text: args.map(String).join(' ').slice(0, 400) });
    const logger = { debug: () => {}, log: log('log'), info: log('info'), warn: log('warn'), error: log('error') };
    let Hls;
    Object.defineProperty(window, 'Hls', {
        configurable: true,
        get: () => Hls,
        set: H => {
            Hls = class extends H {
                constructor(config) {
                    super({ ...config, debug: logger });
                }
            };
        },
    });
    let hls;
    Object.defineProperty(window, 'llhlsHls', {
        configurable: true,
        get: () => hls,
        set: h => {
            hls = h;
            h.on('hlsFragLoaded', (e, d) => note(media(d, 'loaded')));
            h.on('hlsBufferAppended', (e, d) => {
                const entry = media(d, 'appended');
                entry.ranges = {};
                for (const k in d.timeRanges || {})
                    entry.ranges[k] = ranges(d.timeRanges[k]);
                note(entry);
            });
            const playlist = (e, d) => {
                const parts = d.details.partList || [];
                const last = parts[parts.length - 1];
                note({
                    what: 'playlist', type: e === 'hlsLevelLoaded' ? 'main' : 'audio',
                    last: last ? last.fragment.sn + '.' + last.index : d.details.endSN,
                    directives: d.deliveryDirectives ? [d.deliveryDirectives.msn, d.deliveryDirectives.part] : null,
                    waited: d.stats ? +((d.stats.loading.end - d.stats.loading.start) / 1000).toFixed(3) : null,
                });
            };
            h.on('hlsLevelLoaded', playlist);
            h.on('hlsAudioTrackLoaded', playlist);
            const snapshot = () => {
                const out = [];
                for (const c of h.networkControllers || []) {
                    if (!('loadingParts' in c))
                        continue;
                    // The main controller has getLevelDetails(); the audio one keeps its track in levels[trackId].
                    let details = c.getLevelDetails ? c.getLevelDetails() : null;
                    if (!details && c.levels && c.levels[c.trackId])
                        details = c.levels[c.trackId].details;
                    const f = x => x ? { sn: x.sn, start: x.start, end: x.end, dur: x.duration } : null;
                    out.push({
                        name: c.logPrefix || c.constructor.name, state: c.state, loadingParts: c.loadingParts,
                        nextLoadPosition: c.nextLoadPosition, fragPrevious: f(c.fragPrevious), fragCurrent: f(c.fragCurrent),
                        frags: details ? details.fragments.slice(-3).map(f) : null,
                        hint: details && details.fragmentHint ? f(details.fragmentHint) : null,
                        parts: details && details.partList ? details.partList.slice(-10).map(p => [p.fragment.sn + '.' + p.index, +p.start.toFixed(5), +p.duration.toFixed(5), p.loaded ? 1 : 0]) : null,
                        tracker: c.fragmentTracker && c.fragPrevious ? c.fragmentTracker.getState(c.fragPrevious) : null,
                    });
                }
                return out;
            };
            h.on('hlsError', (e, d) => {
                note({ what: 'error', details: d.details, reason: d.reason || null });
                if (d.details === 'bufferStalledError') {
                    note({ what: 'snapshot', controllers: snapshot() });
                    setTimeout(() => note({ what: 'snapshot', controllers: snapshot() }), 700);
                }
            });
        },
    });
}

const readStats = page => page.evaluate(() => {
    const s = window.llhlsStats;
    if (!s)
        return null;
    // A copy, so that later samples do not change what was read; the
    // playhead is read now rather than at the page's last sample.
    const copy = JSON.parse(JSON.stringify(s));
    const video = document.querySelector('video');
    if (video)
        copy.currentTime = video.currentTime;
    return copy;
});

async function run(opts) {
    const result = {
        started: false,
        start_seconds: null, // from page load to the first frame played
        played_seconds: 0,
        watched_seconds: opts.seconds,
        stalls: null,
        latency_median: null,
        latency_max: null,
        latency_samples: 0,
        hls_latency: null,
        rendition: null,
        dropped_frames: null,
        total_frames: null,
        codecs: null,
        errors: [],
        timeline: [],
    };
    const browser = await launch();
    try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
        page.on('pageerror', e => result.errors.push('page: ' + e.message));
        page.on('console', m => {
            if (m.type() === 'error')
                result.errors.push('console: ' + m.text());
        });
        page.on('response', r => {
            if (r.status() >= 400)
                result.errors.push('http: ' + r.status() + ' ' + r.url());
        });
        // Every request for a playlist or media, when sent and when done.
        const requested = new Map();
        const network = [];
        const stream = r => /\.(m3u8|m4s|mp4)(\?|$)/.test(r.url());
        page.on('request', r => {
            if (stream(r))
                requested.set(r, Date.now());
        });
        const finished = why => r => {
            if (!requested.has(r))
                return;
            const path = new URL(r.url());
            network.push({ at: requested.get(r), what: 'request', url: path.pathname.replace(/.*\//, '') + path.search,
                           took: (Date.now() - requested.get(r)) / 1000, end: why === 'ok' ? 'ok' : r.failure() ? r.failure().errorText : why });
            requested.delete(r);
        };
        page.on('requestfinished', finished('ok'));
        page.on('requestfailed', finished('failed'));
        page.on('requestfailed', r => {
            // Aborted requests are hls.js cancelling a load it no longer needs.
            const why = r.failure() ? r.failure().errorText : '';
            if (why !== 'net::ERR_ABORTED')
                result.errors.push('request: ' + r.url() + ' ' + why);
        });

        await page.addInitScript(recordTimeline);
        const loadedAt = Date.now();
        await page.goto(opts.url, { waitUntil: 'load', timeout: opts.startTimeout * 1000 });
        result.codecs = await page.evaluate(() => ({
            h264: MediaSource.isTypeSupported('video/mp4; codecs="avc1.64001f"'),
            aac: MediaSource.isTypeSupported('audio/mp4; codecs="mp4a.40.2"'),
        }));
        try {
            await page.waitForFunction(() => window.llhlsStats && (window.llhlsStats.started || window.llhlsStats.fatal),
                                       null, { timeout: opts.startTimeout * 1000, polling: 100 });
        } catch (e) {
            result.errors.push('playback did not start within ' + opts.startTimeout + ' s');
        }
        let first = await readStats(page);
        result.started = Boolean(first && first.started);
        if (result.started) {
            result.start_seconds = round((first.startedAt - loadedAt) / 1000, 2);
            await page.waitForTimeout(opts.seconds * 1000);
            const last = await readStats(page);
            // Only the samples taken while watched; the page keeps the latest ones.
            const taken = last.latencySampleTotal - first.latencySampleTotal;
            const watched = taken > 0 ? last.latencySamples.slice(-taken) : [];
            result.played_seconds = round(last.currentTime - first.currentTime);
            result.latency_median = round(median(watched));
            result.latency_max = round(watched.length ? Math.max(...watched) : null);
            result.latency_samples = watched.length;
            first = last;
        }
        if (first) {
            result.stalls = first.stalls;
            result.hls_latency = round(first.hlsLatency);
            result.rendition = first.rendition;
            result.dropped_frames = first.droppedFrames;
            result.total_frames = first.totalFrames;
            result.errors.push(...first.errors);
            if (first.fatal)
                result.errors.push('fatal: ' + first.fatal);
        } else {
            result.errors.push('window.llhlsStats is missing: the player script did not run');
        }
        for (const [r, at] of requested)
            network.push({ at, what: 'request', url: r.url().replace(/.*\//, ''), end: 'pending' });
        const timeline = [...await page.evaluate(() => window.llhlsTimeline || []), ...network];
        timeline.sort((a, b) => a.at - b.at);
        result.timeline = timeline.map(({ at, ...e }) => ({ t: (at - loadedAt) / 1000, ...e }));
        if (opts.screenshot)
            await page.screenshot({ path: opts.screenshot });
    } finally {
        await browser.close();
    }
    return result;
}

let opts;
try {
    opts = parseArgs(process.argv.slice(2));
} catch (e) {
    console.error('play.mjs: ' + e.message);
    console.error('usage: node tests/browser/play.mjs --url URL [--seconds 25] [--screenshot FILE] [--start-timeout 20]');
    process.exit(2);
}
try {
    const result = await run(opts);
    // A pipe takes stdout asynchronously: exit only once the line is out.
    process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0));
} catch (e) {
    console.log(JSON.stringify({ started: false, errors: ['browser: ' + (e && e.message ? e.message : String(e))] }));
    process.exit(1);
}
