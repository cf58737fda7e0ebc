// Debian's Chromium as the browser tests run it: headless, with nothing
// reaching outside the machine.
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.LLHLS_CHROMIUM || '/usr/bin/chromium';

// Without the background-networking flags Chromium keeps trying to reach
// outside hosts, which a closed test machine refuses; QUIC is off so that
// nothing but plain HTTP to the page's origin is attempted.
export const CHROMIUM_ARGS = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--autoplay-policy=no-user-gesture-required',
];

// Playwright gives each launch a new, empty profile directory and removes
// it on close, so no state carries over between runs.
export function launch() {
    return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}
