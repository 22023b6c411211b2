import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { after, afterEach, before, describe, test } from 'node:test';
import { waitFor, type NodeService, type RedisServer } from '@three-tier/processes';
import { counterMessage, faultRoutes, pollsToLeave } from '@three-tier/shared';
import type { Browser } from 'playwright-core';
import { startStack, type TestStack } from './helpers.js';
import { instanceAt, launchChromium, LivePage } from '@three-tier/demo';

/** axe-core's rules for WCAG 2.x A and AA: labels, names, roles, contrast. */
const axeSource = await readFile(fileURLToPath(import.meta.resolve('axe-core/axe.min.js')), 'utf8');

/** What axe finds wrong with the page as it is now, one line per failing element. */
async function accessibilityViolations(live: LivePage): Promise<string[]> {
  // Evaluated over the DevTools protocol, which the page's CSP does not govern: the page itself
  // could not load it.
  await live.page.evaluate(axeSource);
  const violations = await live.page.evaluate<{ id: string; help: string; nodes: { target: string[]; failureSummary: string }[] }[]>(
    `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }).then((result) => result.violations)`,
  );
  return violations.flatMap((violation) => violation.nodes.map((node) => `${violation.id} (${violation.help}) at ${node.target.join(' ')}: ${node.failureSummary}`));
}

/** axe's findings in light and dark at the current width: none expected, in whatever state the page is in. */
async function assertAccessible(live: LivePage, state: string): Promise<void> {
  for (const colorScheme of ['light', 'dark'] as const) {
    await live.page.emulateMedia({ colorScheme });
    assert.deepEqual(await accessibilityViolations(live), [], `${state}, ${colorScheme}`);
  }
  await live.page.emulateMedia({ colorScheme: 'light' });
}

/** The states Redis was announced in, in order, from the status line's texts. */
function redisAnnouncements(log: readonly string[]): string[] {
  return log.flatMap((text) => /· Redis is ([a-z]+)/.exec(text)?.[1] ?? []);
}

/** Each Redis announcement is a change of state: never the state it said last. */
function assertChangesOnly(log: readonly string[], expected: readonly string[]): void {
  const said = redisAnnouncements(log);
  assert.ok(said.every((state, index) => index === 0 || state !== said[index - 1]), `Redis announced again in the same state:\n${log.join('\n')}`);
  for (const state of expected) assert.ok(said.includes(state), `Redis announced ${state}:\n${log.join('\n')}`);
}

/** `npm start`'s stack with API_INSTANCES=2, as the tests see it. */
interface MultiStack {
  readonly url: string;
  readonly apis: readonly { readonly url: string; readonly service: NodeService }[];
  readonly redis: RedisServer;
}

// npm start's stack with two api instances; once through each edge, since each balances in its own way.
for (const edgeKind of ['nginx', 'http-proxy'] as const) describe(`the live page in Chromium, through ${edgeKind} balancing two api instances`, () => {
  let running: TestStack;
  let stack: MultiStack;
  let browser: Browser;
  let live: LivePage;
  let hostnames: string[];

  before(async () => {
    running = await startStack(edgeKind, { apiInstances: 2 });
    stack = {
      url: running.stack.url,
      apis: running.stack.apis.map(({ port, service }) => ({ url: `http://127.0.0.1:${port}`, service })),
      redis: running.stack.redis,
    };
    hostnames = await Promise.all(stack.apis.map(async ({ url }) => (await instanceAt(url)).hostname));
    assert.deepEqual(hostnames, running.stack.apis.map(({ instanceId }) => instanceId));
    // The second instance comes up while the page watches.
    await stack.apis[1]!.service.stop();
    browser = await launchChromium(process.env);
    live = await LivePage.open(browser, stack.url);
  });
  after(async () => {
    await browser.close();
    await running.cleanup();
  });
  // Each test judges the failed requests of its own steps: one that fails leaves none to the next.
  afterEach(() => {
    live.failedRequests.length = 0;
  });

  test('lists the instance that answers, then a new one as it comes up, without a reload, with its share', async () => {
    const [first, second] = hostnames;
    await live.waitListed([first!], 'the running instance listed');
    // Past the page's first moments, when every instance it finds is one that was already there:
    // the rotation rule's polls for one instance seen (at four a second, past its 2.5 s too).
    await live.waitPolls(pollsToLeave(2), 'the page’s first moments');
    assert.equal((await live.rows()).size, 1);
    await stack.apis[1]!.service.start();
    await live.waitListed(hostnames, 'the new instance listed');
    const rows = await live.rows();
    assert.ok(rows.get(second!)?.badges.includes('new'), `${second} is marked new: ${rows.get(second!)?.badges.join()}`);
    assert.ok(!rows.get(first!)?.badges.includes('new'), `${first} was there from the start`);
    assert.match(await live.text('#status'), new RegExp(`${second!.replaceAll('.', '\\.')}\\) appeared`));
    // Round robin over two: the newcomer's share of the last 10 s grows towards half.
    await waitFor(async () => ((await live.rows()).get(second!)!.percent >= 20 ? true : undefined), { what: `${second} at 20% of the polls`, timeoutMs: 15_000, intervalMs: 200 });
    assert.match(await live.text('#edge-line'), /^answers/);
    assert.match(await live.text('#api-line'), /2 instances answer · 2 ready/);
    assert.match(await live.text('#redis-line'), /^up/);
    assert.deepEqual(live.failedRequests, [], 'nginx took the polls meant for the instance not yet up to the other one');
  });

  test('the counter moves only on real visits: polls leave it, the button adds one', async () => {
    const message = await live.text('#message');
    const counted = Number(/viewed (\d+) times/.exec(message)?.[1]);
    assert.equal(message, counterMessage(counted), 'the page counted its own visit');
    // A dozen more polls through the edge, counted as the browser sent them...
    await live.waitPolls(live.polls + 12, 'a dozen more polls');
    // ...and neither Redis nor the page's live counter moved.
    assert.equal((await instanceAt(stack.apis[0]!.url)).hits, counted);
    assert.equal(await live.text('#hits'), String(counted));

    // By keyboard: Tab until the button has focus, then Enter.
    await waitFor(
      async () => {
        await live.page.keyboard.press('Tab');
        return (await live.page.evaluate<string | undefined>('document.activeElement?.id')) === 'count' ? true : undefined;
      },
      { what: 'Tab to reach the count button', timeoutMs: 5_000, intervalMs: 10 },
    );
    await live.page.keyboard.press('Enter');
    await live.waitText('#hits', new RegExp(`^${counted + 1}$`), 'the count button to count one visit');
    assert.equal(await live.text('#message'), counterMessage(counted + 1));
    assert.match(await live.text('#count-result'), new RegExp(`Visit ${counted + 1} counted by `));
    assert.equal((await instanceAt(stack.apis[1]!.url)).hits, counted + 1);
  });

  test('the burst sends 20 visits, shared by both instances, and the counter takes all 20', async () => {
    const before = (await instanceAt(stack.apis[0]!.url)).hits ?? 0;
    await live.page.click('#burst');
    await live.waitText('#burst-result', /Burst: 20 of 20 counted, by 2 instances\./, 'the burst to finish');
    const tally = await live.text('#burst-tally');
    for (const hostname of hostnames) assert.match(tally, new RegExp(`${hostname.replaceAll('.', '\\.')}\\): \\d+`));
    assert.equal((await instanceAt(stack.apis[0]!.url)).hits, before + 20);
    await live.waitText('#hits', new RegExp(`^${before + 20}$`), 'the live counter to read the burst');
  });

  test('passes axe’s WCAG 2.1 A and AA checks, contrast included, light and dark, wide and phone-sized', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      for (const width of [1100, 390]) {
        await live.page.emulateMedia({ colorScheme });
        await live.page.setViewportSize({ width, height: 900 });
        assert.deepEqual(await accessibilityViolations(live), [], `${colorScheme}, ${width} px wide`);
        // Readable on a phone: nothing wider than the screen, so no sideways scrolling.
        assert.ok((await live.page.evaluate<number>('document.documentElement.scrollWidth')) <= width, `no horizontal scroll at ${width} px`);
      }
    }
    await live.page.emulateMedia({ colorScheme: 'light' });
    await live.page.setViewportSize({ width: 1100, height: 900 });
  });

  test('a load run shows its throughput, the edge’s 429s and which instances took the work', async () => {
    // 1 ms of CPU at 40/s: faster than the edge's limit for /load (10/s, burst 20).
    await live.page.fill('#load-ms', '1');
    await live.page.fill('#load-rate', '40');
    await live.page.click('#load-toggle');
    assert.equal(await live.page.getAttribute('#load-toggle', 'aria-pressed'), 'true');
    await waitFor(async () => (Number(await live.text('#load-429')) > 0 ? true : undefined), { what: 'a 429 counted', timeoutMs: 15_000, intervalMs: 100 });
    await live.page.click('#load-toggle');
    assert.match(await live.text('#load-throughput'), /^\d+\.\d\/s$/);
    const tally = await live.text('#load-tally');
    for (const hostname of hostnames) assert.ok(tally.includes(hostname), `${hostname} took some of the load: ${tally}`);
    // 429s are failed requests in Chromium's console; they are what this step is about.
    assert.ok(live.failedRequests.every((line) => /status of 429/.test(line)), live.failedRequests.join('\n'));
  });

  test('when an instance stops, the page marks it gone and no poll fails', async () => {
    const [stopped, remaining] = stack.apis;
    const [stoppedName, remainingName] = hostnames;
    await stopped!.service.stop();
    await live.waitGone(stoppedName!, `${stoppedName} marked gone`);
    assert.match(await live.text('#status'), new RegExp(`${stoppedName!.replaceAll('.', '\\.')}\\) is gone`));
    assert.match(await live.text('#api-line'), /1 instance answers · 1 ready · 1 gone/);
    assert.equal((await live.rows()).get(remainingName!)?.gone, false);
    // A gone card is greyed, never faded: its text keeps its contrast.
    await assertAccessible(live, 'an instance gone');
    assert.deepEqual(live.failedRequests, [], 'nginx took every poll to the other instance');
    await stopped!.service.start();
    await live.waitListed(hostnames, 'the restarted instance listed again');
    assert.ok(remaining);
  });

  test('with Redis down, the page says so with the 503 detail, announces it once, keeps polling, and recovers', async () => {
    await live.recordStatus();
    await stack.redis.stop();
    await live.waitText('#redis-line', /^down · Redis is not reachable/, 'the Redis line to say down');
    assert.match(await live.text('#hits-note'), /Redis is down/);
    await live.page.click('#count');
    await live.waitText('#count-result', /Not counted: 503 · The visit counter is unavailable: Redis is not answering/, 'the 503 detail');
    await assertAccessible(live, 'Redis down');
    // Both instances word the outage in their own way, poll after poll: the status line says it
    // once, on the change of state, and keeps quiet while it lasts.
    await live.waitPolls(live.polls + 12, 'a dozen polls with Redis down');
    assertChangesOnly(await live.statusLog(), ['down']);
    await stack.redis.start();
    await live.waitText('#redis-line', /^up/, 'the Redis line to say up again');
    await waitFor(async () => (redisAnnouncements(await live.statusLog()).at(-1) === 'up' ? true : undefined), { what: 'Redis announced up', timeoutMs: 5_000 });
    assertChangesOnly(await live.statusLog(), ['down', 'up']);
    assert.ok(live.failedRequests.every((line) => /status of 503/.test(line) && line.includes('/redis')), live.failedRequests.join('\n'));
  });

  test('faults show on the page: latency as a badge on its instance; unready, the instance leaves', async () => {
    const [slowed, other] = stack.apis;
    const [slowedName] = hostnames;
    const put = async (url: string, path: string, method = 'PUT'): Promise<void> => {
      assert.ok((await fetch(`${url}${path}`, { method })).ok, `${method} ${path}`);
    };
    await put(slowed!.url, `${faultRoutes.latency.path}?ms=200`);
    await put(slowed!.url, `${faultRoutes.errors.path}?rate=0.25`);
    await waitFor(
      async () => {
        const badges = (await live.rows()).get(slowedName!)?.badges ?? [];
        return badges.includes('fault: latency +200 ms') && badges.includes('fault: errors 25%') ? true : undefined;
      },
      { what: 'the latency and error faults shown', timeoutMs: 10_000, intervalMs: 100 },
    );
    // The error fault answers some polls 500: said on the edge line, never silent.
    const answered500 = () => live.failedRequests.some((line) => /status of 500/.test(line) && line.includes('/instance'));
    await waitFor(() => (answered500() ? true : undefined), { what: 'a poll answered 500', timeoutMs: 10_000, intervalMs: 50 });
    await live.waitText('#edge-line', / · [1-9]\d* of the last \d+ polls failed$/, 'the edge line to count the 500s');
    await assertAccessible(live, 'an instance faulted');
    await put(slowed!.url, faultRoutes.list.path, 'DELETE');
    await put(slowed!.url, faultRoutes.unready.path);
    await live.waitGone(slowedName!, 'the unready instance to leave the page');
    assert.equal((await live.rows()).get(hostnames[1]!)?.gone, false);
    await put(slowed!.url, faultRoutes.unready.path, 'DELETE');
    await live.waitListed(hostnames, 'the instance back once ready');
    assert.ok(other);
    assert.ok(live.failedRequests.every((line) => /status of 500/.test(line) && line.includes('/instance')), live.failedRequests.join('\n'));
  });

  test('with no instance answering, the edge line shows the edge’s own 502 problem, and the page recovers', async () => {
    for (const { service } of stack.apis) await service.stop();
    await live.waitText('#edge-line', /^answers, but no instance did: 502 · No api instance could be reached\./, 'the edge’s 502 detail');
    await live.waitText('#api-line', /^0 instances answer · 2 gone$/, 'both instances gone');
    for (const { service } of stack.apis) await service.start();
    await live.waitListed(hostnames, 'both instances back');
    await live.waitText('#edge-line', /^answers/, 'the edge line to recover');
    assert.ok(live.failedRequests.every((line) => /status of 502/.test(line)), live.failedRequests.join('\n'));
  });

  test('without JavaScript: the count this visit made, who served it and the links; no dead controls', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      const response = await page.goto(`${stack.url}/html`);
      assert.equal(response?.status(), 200);
      assert.match((await page.textContent('#message')) ?? '', /^This page has been viewed \d+ times!$/);
      assert.ok(hostnames.includes((await page.textContent('#hostname')) ?? ''));
      assert.match((await page.textContent('#alias')) ?? '', /^[a-z]+-[a-z]+$/);
      assert.match(await page.innerText('body'), /The live view below needs JavaScript\. Without it, reload/);
      assert.equal(await page.isVisible('#count'), false, 'the count button, which needs the script, is hidden');
      assert.equal(await page.isVisible('#instances'), false);
      for (const path of ['./redis', './instance', './readyz']) assert.ok(await page.isVisible(`footer a[href="${path}"]`), path);
    } finally {
      await context.close();
    }
  });

  test('no CSP violation and no script error, all along', (t) => {
    assert.deepEqual(live.cspViolations, []);
    assert.deepEqual(live.otherErrors, []);
    if (live.networkChanges.length > 0) t.diagnostic(`Chromium failed ${String(live.networkChanges.length)} requests as the host's network changed (another test's containers): ${live.networkChanges.join(', ')}`);
  });

  test('blocks any script the page did not ship: the CSP is enforced, not just sent', async () => {
    await live.page.evaluate(`{
      const script = document.createElement('script');
      script.textContent = 'window.injected = true';
      document.body.append(script);
    }`);
    assert.equal(await live.page.evaluate(`'injected' in window`), false);
    assert.ok(live.cspViolations.some((error) => /Content Security Policy/.test(error)), 'the browser reported the blocked script');
  });
});
