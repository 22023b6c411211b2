import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { findBinary, waitFor } from '@three-tier/processes';
import { counterMessage, routes, type ServiceInfo } from '@three-tier/shared';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startStack, type TestStack } from './helpers.js';

/** Debian's Chromium, headless, quiet: this machine's network is closed to everything but loopback. */
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

describe('GET /html in a real browser, through nginx', () => {
  let running: TestStack;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  before(async () => {
    const executablePath = findBinary('chromium', process.env);
    assert.ok(executablePath, 'chromium must be installed (npm test installs it as root)');
    running = await startStack('nginx');
    browser = await chromium.launch({ executablePath, args: chromiumArgs });
    page = await browser.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
  });
  after(async () => {
    await browser.close();
    await running.cleanup();
  });

  test('shows the count and the instance that served it, and its script runs under the strict CSP', async () => {
    const response = await page.goto(`${running.stack.url}${routes.html.path}`);
    assert.equal(response?.status(), 200);
    const message = (await page.textContent('#message')) ?? '';
    const hits = Number(/viewed (\d+) times/.exec(message)?.[1]);
    assert.equal(message, counterMessage(hits));
    const info = (await (await fetch(`${running.stack.url}/`)).json()) as ServiceInfo;
    assert.equal(await page.textContent('#hostname'), info.hostname);

    await page.click('#count');
    await waitFor(async () => ((await page.textContent('#message')) === counterMessage(hits + 1) ? true : undefined), {
      what: 'the count button to count a visit',
    });
    assert.match((await page.textContent('#status')) ?? '', new RegExp(`Counted by ${info.hostname}`));

    await page.fill('#ms', '40');
    await page.click('#burn');
    await waitFor(async () => (/burnt [\d.]+ ms of CPU/.test((await page.textContent('#status')) ?? '') ? true : undefined), {
      what: 'the burn button to report the CPU burnt',
    });
    assert.deepEqual(consoleErrors, [], 'no script or CSP error');
  });

  test('shows an error from the api, not a crash, for a bad request', async () => {
    await page.fill('#ms', '0');
    await page.click('#burn');
    await waitFor(async () => (/ms must be an integer/.test((await page.textContent('#status')) ?? '') ? true : undefined), {
      what: 'the problem detail in the status line',
    });
  });

  test('blocks any script the page did not ship: the CSP is enforced, not just sent', async () => {
    consoleErrors.length = 0;
    // Strings, evaluated in the page: this package compiles without the DOM's types.
    await page.evaluate(`{
      const script = document.createElement('script');
      script.textContent = 'window.injected = true';
      document.body.append(script);
    }`);
    assert.equal(await page.evaluate(`'injected' in window`), false);
    assert.ok(consoleErrors.some((error) => /Content Security Policy/.test(error)), consoleErrors.join('\n'));
  });
});
