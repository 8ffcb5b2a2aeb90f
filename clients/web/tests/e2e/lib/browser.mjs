// Headless Debian Chromium for browser tests (scripts/ensure-chromium installs it), driven by
// playwright-core. Nothing leaves the machine: every host but 127.0.0.1 fails to resolve, and the
// browser's own background services (updates, sync, QUIC, component downloads) are off. Each
// launch gets a fresh profile, at tablet size.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ensureChromium = fileURLToPath(new URL('../../../scripts/ensure-chromium', import.meta.url));

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-domain-reliability',
  '--metrics-recording-only',
  '--lang=zh-CN',
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
];

export function chromiumPath() {
  return process.env.CHROMIUM ?? execFileSync(ensureChromium, { encoding: 'utf8' }).trim();
}

/**
 * A persistent context with a fresh profile directory (so service workers and IndexedDB behave
 * as in a real browser), 1280×800, zh-CN, China time. Returns `{ context, page, consoleErrors,
 * close }`; `consoleErrors` collects console errors and uncaught page errors.
 */
export async function launchTablet() {
  const profile = await mkdtemp(join(tmpdir(), 'fengqiao-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath(),
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    serviceWorkers: 'allow',
  });
  // Belt and braces: no request may leave the loopback interface.
  await context.route(/^(?!https?:\/\/127\.0\.0\.1[:/]|data:|blob:)/, (route) => route.abort('blockedbyclient'));
  const consoleErrors = [];
  // Chromium reports a request cut off by the network going away as a console error. Only the
  // tests take the network away (context.setOffline), and a request may be in flight at that moment
  // (a sync starting, a list refreshing): that report is the browser's, not the app's. The app
  // makes no request while it knows it is offline (core/api.js).
  const cutOffByTheTest = (m) => /^Failed to load resource: net::ERR_INTERNET_DISCONNECTED$/.test(m.text());
  const watch = (page) => {
    page.on('console', (m) => m.type() === 'error' && !cutOffByTheTest(m) && consoleErrors.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => consoleErrors.push(`page: ${e.message}`));
  };
  context.on('page', watch);
  const page = context.pages()[0] ?? (await context.newPage());
  watch(page);
  return {
    context,
    page,
    consoleErrors,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
