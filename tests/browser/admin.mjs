// Walks the admin page as an operator would, in headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core), and reports on one JSON line
// what was seen at each step.
//
//   node tests/browser/admin.mjs --url ORIGIN_URL --token TOKEN --stream APP/NAME
//        [--stream2 APP/NAME] [--edge EDGE_ID] [--shots DIR]
//     a wrong credential refused, signing in, the stream with its bitrate
//     and resolution, the plot drawn, the preview's latency, the edge in the
//     edges table, the publisher of stream2 disconnected, the stream ended
//     from the page (its playlist then ends) and deleted.
//
//   node tests/browser/admin.mjs --url ORIGIN_URL --scenario states [--edge EDGE_ID] [--shots DIR]
//     an origin with no credential, seen from loopback: no sign-in form,
//     the empty streams table, the edge up then gone, then the origin
//     unreachable.  It prints a line "STOP edge" or "STOP origin" when the
//     caller is to stop that process, and goes on once it sees the effect.
//
//   node tests/browser/admin.mjs --url ORIGIN_URL --scenario basic --user USER --password PASSWORD [--shots DIR]
//     HTTP basic auth: a wrong password refused, signing in, and the
//     session kept for the tab across a reload.
//
// Exits 0 whenever it could report (the caller judges the steps), 1 when
// the browser could not be run at all, 2 on bad arguments.

import { launch } from './chromium.mjs';

function parseArgs(argv) {
    const opts = { url: null, token: null, stream: null, stream2: null, edge: null, shots: null, scenario: 'full',
                   user: null, password: null };
    for (let i = 0; i < argv.length; i += 2) {
        const name = argv[i].replace(/^--/, '');
        if (!(name in opts) || argv[i + 1] === undefined)
            throw new Error('bad option ' + argv[i]);
        opts[name] = argv[i + 1];
    }
    if (!['full', 'states', 'basic'].includes(opts.scenario))
        throw new Error('--scenario is full, states or basic');
    if (!opts.url || (opts.scenario === 'full' && (!opts.token || !opts.stream)) ||
        (opts.scenario === 'basic' && (!opts.user || !opts.password)))
        throw new Error('--url is required, --token and --stream for the full scenario, ' +
                        '--user and --password for basic');
    return opts;
}

function recorder(opts, r) {
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
    return { step, shot };
}

const stateOf = (page, sel) => page.evaluate(s => {
    const e = document.querySelector(s + ' .state');
    return e ? e.textContent : null;
}, sel);

async function full(page, opts, r) {
    const { step, shot } = recorder(opts, r);
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
        if (!(await page.isHidden('#main')))
            throw new Error('the main view shows with a wrong credential');
        return (await page.textContent('#login-error')).trim();
    });
    await shot(page, 'refused');
    await step('signed_in', async () => {
        await page.fill('#login-token', opts.token);
        await page.click('#login-submit');
        await page.waitForSelector('#main:not([hidden])', { timeout: 10000 });
        return page.evaluate(() => sessionStorage.getItem('llhls-auth') !== null &&
                                   document.querySelector('#login').hidden);
    });
    await step('stream_row', async () => {
        await page.waitForFunction(sel => {
            const tr = document.querySelector(sel);
            return tr && /bit\/s/.test(tr.querySelector('.bitrate').textContent);
        }, row, { timeout: 20000 });
        const cells = {};
        for (const c of ['resolution', 'bitrate', 'state', 'codec', 'fps', 'msn', 'publisher'])
            cells[c] = (await page.textContent(row + ' .' + c)).trim();
        return cells;
    });
    await step('plot_drawn', async () => {
        await page.click(row);
        await page.waitForSelector('#plot canvas', { timeout: 10000 });
        await page.waitForFunction(() => {
            const p = window.llhlsAdmin.plot;
            return p && p.data[1].filter(v => v > 0).length >= 2;
        }, null, { timeout: 10000 });
        // The canvas really has something drawn on it, not only the data.
        const inked = await page.evaluate(() => {
            const c = document.querySelector('#plot canvas');
            const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 3; i < px.length; i += 4)
                n += px[i] !== 0;
            return n;
        });
        if (inked === 0)
            throw new Error('the plot canvas is blank');
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
            await page.waitForFunction(s => Number(document.querySelector(s + ' .viewers').textContent) >= 1, sel,
                                       { timeout: 20000 });
            return {
                state: await page.textContent(sel + ' .state'),
                viewers: Number(await page.textContent(sel + ' .viewers')),
                stream_viewers: (await page.textContent(row + ' .stream-viewers')).trim(),
                totals: await page.textContent('#totals'),
                total_row: !(await page.isHidden('#edges-total')),
            };
        });
    }
    if (opts.stream2) {
        const row2 = `#streams tr[data-stream="${opts.stream2}"]`;
        await step('disconnected_from_page', async () => {
            await page.waitForSelector(row2, { timeout: 20000 });
            await page.click(row2);
            await page.waitForFunction(() => !document.querySelector('#disconnect').disabled, null, { timeout: 10000 });
            await page.click('#disconnect');
            await page.waitForFunction(sel => document.querySelector(sel + ' .state').textContent === 'idle', row2,
                                       { timeout: 15000 });
            return {
                state: await stateOf(page, row2),
                publisher: (await page.textContent(row2 + ' .publisher')).trim(),
                result: (await page.textContent('#action-result')).trim(),
            };
        });
        await page.click(row);
    }
    await step('ended_from_page', async () => {
        await page.waitForFunction(() => !document.querySelector('#end').disabled, null, { timeout: 10000 });
        await page.click('#end');
        await page.waitForFunction(sel => document.querySelector(sel + ' .state').textContent === 'ended', row,
                                   { timeout: 15000 });
        const playlist = await page.evaluate(async n => (await fetch('/' + n + '/video.m3u8')).text(), opts.stream);
        return {
            endlist: playlist.includes('#EXT-X-ENDLIST'),
            end_disabled: await page.isDisabled('#end'),
            delete_shown: !(await page.isHidden('#delete')),
        };
    });
    await shot(page, 'ended');
    await step('deleted_from_page', async () => {
        await page.click('#delete');
        await page.waitForFunction(sel => !document.querySelector(sel), row, { timeout: 15000 });
        return page.isHidden('#detail');
    });
    await step('signed_out', async () => {
        await page.click('#signout');
        await page.waitForSelector('#login:not([hidden])', { timeout: 5000 });
        return page.evaluate(() => sessionStorage.getItem('llhls-auth') === null &&
                                   document.querySelector('#main').hidden);
    });
}

// The caller stops a process when told; this waits for its effect.
function tell(what) {
    console.log('STOP ' + what);
}

async function states(page, opts, r) {
    const { step, shot } = recorder(opts, r);
    await page.goto(opts.url + '/admin/', { waitUntil: 'load', timeout: 20000 });
    await step('loopback_without_login', async () => {
        await page.waitForSelector('#main:not([hidden])', { timeout: 10000 });
        return { login_hidden: await page.isHidden('#login'), status: (await page.textContent('#status')).trim() };
    });
    await step('streams_empty', async () => {
        await page.waitForSelector('#streams-empty:not([hidden])', { timeout: 10000 });
        return (await page.textContent('#streams-empty')).trim();
    });
    if (opts.edge) {
        const sel = `#edges tr[data-edge="${opts.edge}"]`;
        await step('edge_up', async () => {
            await page.waitForFunction(s => {
                const tr = document.querySelector(s);
                return tr && tr.querySelector('.state').textContent === 'up';
            }, sel, { timeout: 20000 });
            return { edges_empty_hidden: await page.isHidden('#edges-empty'),
                     totals: await page.textContent('#totals') };
        });
        await shot(page, 'empty');
        tell('edge');
        await step('edge_gone', async () => {
            await page.waitForFunction(s => document.querySelector(s + ' .state').textContent === 'gone', sel,
                                       { timeout: 30000 });
            return { state: await stateOf(page, sel), totals: await page.textContent('#totals') };
        });
        await shot(page, 'gone');
    } else {
        await step('edges_empty', async () => (await page.textContent('#edges-empty')).trim());
        await shot(page, 'empty');
    }
    tell('origin');
    await step('origin_unreachable', async () => {
        await page.waitForSelector('#error:not([hidden])', { timeout: 15000 });
        return (await page.textContent('#error')).trim();
    });
    await shot(page, 'unreachable');
}

async function basic(page, opts, r) {
    const { step, shot } = recorder(opts, r);
    await page.goto(opts.url + '/admin/', { waitUntil: 'load', timeout: 20000 });
    await step('wrong_password_refused', async () => {
        await page.waitForSelector('#login:not([hidden])', { timeout: 10000 });
        await page.fill('#login-user', opts.user);
        await page.fill('#login-password', opts.password + 'x');
        await page.click('#login-submit');
        await page.waitForSelector('#login-error:not([hidden])', { timeout: 10000 });
        return (await page.textContent('#login-error')).trim();
    });
    await step('signed_in', async () => {
        await page.fill('#login-password', opts.password);
        await page.click('#login-submit');
        await page.waitForFunction(() => /updated/.test(document.querySelector('#status').textContent), null,
                                   { timeout: 10000 });
        return (await page.textContent('#status')).trim();
    });
    await shot(page, 'basic');
    await step('kept_across_reload', async () => {
        await page.reload({ waitUntil: 'load' });
        await page.waitForSelector('#main:not([hidden])', { timeout: 10000 });
        return page.isHidden('#login');
    });
}

async function run(opts) {
    const r = { steps: {}, errors: [] };
    const browser = await launch();
    try {
        const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
        page.on('pageerror', e => r.errors.push('page: ' + e.message));
        page.on('dialog', d => {
            r.dialogs = (r.dialogs || 0) + 1;
            d.accept();
        });
        await ({ full, states, basic })[opts.scenario](page, opts, r);
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
