// Walks the admin page as an operator would, in headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core), and reports on one JSON line
// what was seen at each step: a wrong credential refused, signing in, the
// stream with its bitrate and resolution, the plot drawn, the preview's
// latency, the edge in the edges table, and the stream ended from the page.
//
//   node tests/browser/admin.mjs --url ORIGIN_URL --token TOKEN --stream APP/NAME
//        [--edge EDGE_ID] [--shots DIR]
//
// Exits 0 whenever it could report (the caller judges the steps), 1 when
// the browser could not be run at all, 2 on bad arguments.

import { launch } from './chromium.mjs';

function parseArgs(argv) {
    const opts = { url: null, token: null, stream: null, edge: null, shots: null };
    for (let i = 0; i < argv.length; i += 2) {
        const name = argv[i].replace(/^--/, '');
        if (!(name in opts) || argv[i + 1] === undefined)
            throw new Error('bad option ' + argv[i]);
        opts[name] = argv[i + 1];
    }
    if (!opts.url || !opts.token || !opts.stream)
        throw new Error('--url, --token and --stream are required');
    return opts;
}

async function run(opts) {
    const r = { steps: {}, errors: [] };
    const step = async (name, fn) => {
        try {
            r.steps[name] = (await fn()) ?? true;
        } catch (e) {
            r.steps[name] = false;
            r.errors.push(name + ': ' + (e && e.message ? e.message.split('\n')[0] : String(e)));
        }
    };
    const shot = async (page, name) => {
        if (opts.shots)
            await page.screenshot({ path: opts.shots + '/admin-' + name + '.png', fullPage: true });
    };
    const browser = await launch();
    try {
        const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
        page.on('pageerror', e => r.errors.push('page: ' + e.message));
        page.on('dialog', d => d.accept());
        const row = `#streams tr[data-stream="${opts.stream}"]`;

        await page.goto(opts.url + '/admin/', { waitUntil: 'load', timeout: 20000 });
        await step('login_form_shown', async () => {
            await page.waitForSelector('#login:not([hidden])', { timeout: 10000 });
            return page.isHidden('#main');
        });
        await step('wrong_credential_refused', async () => {
            await page.fill('#login-token', opts.token + '-wrong');
            await page.click('#login-submit');
            await page.waitForSelector('#login-error:not([hidden])', { timeout: 10000 });
            return (await page.textContent('#login-error')).trim();
        });
        await shot(page, 'refused');
        await step('signed_in', async () => {
            await page.fill('#login-token', opts.token);
            await page.click('#login-submit');
            await page.waitForSelector('#main:not([hidden])', { timeout: 10000 });
            return true;
        });
        await step('stream_row', async () => {
            await page.waitForFunction(sel => {
                const tr = document.querySelector(sel);
                return tr && /bit\/s/.test(tr.querySelector('.bitrate').textContent);
            }, row, { timeout: 20000 });
            return {
                resolution: await page.textContent(row + ' .resolution'),
                bitrate: await page.textContent(row + ' .bitrate'),
                state: await page.textContent(row + ' .state'),
            };
        });
        await step('plot_drawn', async () => {
            await page.click(row);
            await page.waitForSelector('#plot canvas', { timeout: 10000 });
            await page.waitForFunction(() => {
                const p = window.llhlsAdmin.plot;
                return p && p.data[1].some(v => v > 0);
            }, null, { timeout: 10000 });
            return page.evaluate(() => window.llhlsAdmin.plot.data[1].filter(v => v > 0).length);
        });
        await step('preview_latency', async () => {
            await page.click('#preview-start');
            await page.waitForFunction(() => /^\d+\.\d+ s$/.test(document.querySelector('#preview-latency').textContent),
                                       null, { timeout: 30000 });
            await page.waitForTimeout(3000);
            return parseFloat(await page.textContent('#preview-latency'));
        });
        await shot(page, 'stream');
        if (opts.edge) {
            await step('edge_row', async () => {
                const sel = `#edges tr[data-edge="${opts.edge}"]`;
                await page.waitForSelector(sel, { timeout: 20000 });
                await page.waitForFunction(s => /\d/.test(document.querySelector(s + ' .viewers').textContent), sel);
                return {
                    state: await page.textContent(sel + ' .state'),
                    viewers: Number(await page.textContent(sel + ' .viewers')),
                    totals: await page.textContent('#totals'),
                };
            });
        }
        await step('ended_from_page', async () => {
            await page.click('#end');
            await page.waitForFunction(sel => document.querySelector(sel + ' .state').textContent === 'ended', row,
                                       { timeout: 15000 });
            return true;
        });
        await shot(page, 'ended');
    } finally {
        await browser.close();
    }
    return r;
}

let opts;
try {
    opts = parseArgs(process.argv.slice(2));
} catch (e) {
    console.error('admin.mjs: ' + e.message);
    process.exit(2);
}
try {
    console.log(JSON.stringify(await run(opts)));
    process.exit(0);
} catch (e) {
    console.log(JSON.stringify({ steps: {}, errors: ['browser: ' + (e && e.message ? e.message : String(e))] }));
    process.exit(1);
}
