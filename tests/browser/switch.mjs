// Plays a multivariant playlist with several renditions in the llhls player
// page (headless Chromium, Debian's /usr/bin/chromium driven by
// playwright-core), makes hls.js switch rendition every few seconds, and
// reports on one JSON line what a viewer got: the levels hls.js saw, each
// switch asked for and done (with the picture size the video element then
// decoded), the picture heights the element showed in turn, stalls, and how
// far the playhead moved.
//
//   node tests/browser/switch.mjs --url URL [--seconds 24] [--every 6] [--screenshot FILE]
//
// Exits 0 whenever it could report (the caller judges the figures), 1 when
// the browser could not be run at all, 2 on bad arguments.

import { launch } from './chromium.mjs';

function parseArgs(argv) {
    const opts = { url: null, seconds: 24, every: 6, screenshot: null };
    for (let i = 0; i < argv.length; i += 2) {
        const name = argv[i];
        const value = argv[i + 1];
        if (value === undefined)
            throw new Error('missing value after ' + name);
        if (name === '--url')
            opts.url = value;
        else if (name === '--seconds')
            opts.seconds = Number(value);
        else if (name === '--every')
            opts.every = Number(value);
        else if (name === '--screenshot')
            opts.screenshot = value;
        else
            throw new Error('unknown option ' + name);
    }
    if (!opts.url)
        throw new Error('--url is required');
    if (!(opts.seconds > 0) || !(opts.every > 0))
        throw new Error('--seconds and --every must be positive numbers');
    return opts;
}

async function run(opts) {
    const result = { started: false, levels: [], requested: [], switched: [], stalls: null, played_seconds: 0,
                     errors: [] };
    const browser = await launch();
    try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
        page.on('pageerror', e => result.errors.push('page: ' + e.message));
        page.on('response', r => {
            if (r.status() >= 400)
                result.errors.push('http: ' + r.status() + ' ' + r.url());
        });
        await page.goto(opts.url, { waitUntil: 'load', timeout: 20000 });
        await page.waitForFunction(() => window.llhlsStats && (window.llhlsStats.started || window.llhlsStats.fatal),
                                   null, { timeout: 30000, polling: 100 });
        result.started = await page.evaluate(() => Boolean(window.llhlsStats.started));
        if (!result.started)
            return result;
        // Every switch hls.js completes, with the picture size the element
        // shows a moment later: the new rendition really plays.
        await page.evaluate(() => {
            const hls = window.llhlsHls;
            const v = document.querySelector('video');
            window.llhlsSwitches = [];
            window.llhlsPictures = [v.videoHeight];
            setInterval(() => {
                const p = window.llhlsPictures;
                if (v.videoHeight && p[p.length - 1] !== v.videoHeight)
                    p.push(v.videoHeight);
            }, 100);
            hls.on(window.Hls.Events.LEVEL_SWITCHED, (_, d) => {
                const v = document.querySelector('video');
                const entry = { level: d.level, at: performance.now(), width: null, height: null };
                window.llhlsSwitches.push(entry);
                setTimeout(() => { entry.width = v.videoWidth; entry.height = v.videoHeight; }, 2500);
            });
        });
        result.levels = await page.evaluate(() => window.llhlsHls.levels.map(l => ({
            width: l.width, height: l.height, bitrate: l.bitrate, url: l.url[0] })));
        const first = await page.evaluate(() => ({ t: document.querySelector('video').currentTime,
                                                   stalls: window.llhlsStats.stalls }));
        const rounds = Math.floor(opts.seconds / opts.every);
        for (let i = 0; i < rounds; i++) {
            // nextLevel: a seamless switch at the next fragment boundary,
            // what an ABR controller does.
            const want = await page.evaluate(() => {
                const hls = window.llhlsHls;
                const next = (hls.currentLevel + 1) % hls.levels.length;
                hls.nextLevel = next;
                return next;
            });
            result.requested.push(want);
            await page.waitForTimeout(opts.every * 1000);
        }
        const last = await page.evaluate(() => ({ t: document.querySelector('video').currentTime,
                                                  stalls: window.llhlsStats.stalls,
                                                  errors: window.llhlsStats.errors,
                                                  switches: window.llhlsSwitches,
                                                  pictures: window.llhlsPictures }));
        result.played_seconds = Number((last.t - first.t).toFixed(3));
        result.stalls = last.stalls - first.stalls;
        result.switched = last.switches.map(s => ({ level: s.level, width: s.width, height: s.height }));
        result.pictures = last.pictures;
        result.errors.push(...last.errors);
        result.watched_seconds = rounds * opts.every;
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
    console.error('switch.mjs: ' + e.message);
    process.exit(2);
}
try {
    console.log(JSON.stringify(await run(opts)));
    process.exit(0);
} catch (e) {
    console.log(JSON.stringify({ started: false, errors: ['browser: ' + (e && e.message ? e.message : String(e))] }));
    process.exit(1);
}
