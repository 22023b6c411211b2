import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { edge as edgeContract, routeIds, routes } from '@three-tier/shared';
import { loadBurst, probeTarget, routeProbe, unprobedRoutes, type ProbeTarget } from '../src/index.js';
import { probeSuite, startStack, type TestStack } from './helpers.js';

for (const edge of ['nginx', 'http-proxy'] as const) {
  describe(`the probe suite through ${edge}`, () => {
    let running: TestStack;
    let target: ProbeTarget;

    before(async () => {
      running = await startStack(edge);
      target = probeTarget(running.stack.url);
    });
    after(async () => {
      await running.cleanup();
    });

    probeSuite(() => target);

    test("the /load rate limit is per client: one client's empty bucket leaves another's full", async () => {
      const { burst } = edgeContract.rateLimits.expensive;
      assert.ok(target.freshClient, 'natively, each loopback address is a client of its own');
      const [first, second] = [target.freshClient(), target.freshClient()];
      const spent = await loadBurst(target, burst + 1 + 20, first);
      const limited = spent.answers.filter((res) => res.status === 429).length;
      assert.ok(limited >= 20 - spent.refill && limited > 0, `${first} emptied its bucket: ${limited} of ${spent.answers.length} limited`);
      // Under a limit shared by every client, all but the refilled few of these would be 429. (What
      // the limit lets through, the api answers 200, or 503 once its workers are busy.)
      const other = await loadBurst(target, burst + 1, second);
      const statuses = other.answers.map((res) => res.status);
      assert.deepEqual(
        statuses.filter((status) => status === 429),
        [],
        `${second}, right after ${first} emptied its bucket, has its own: ${statuses.join(', ')}`,
      );
      assert.ok(statuses.every((status) => status === 200 || status === 503), statuses.join(', '));
      for (const res of [...spent.answers, ...other.answers]) await res.body?.cancel();
    });
  });
}

describe('unprobedRoutes', () => {
  let server: Server;
  let baseUrl: string;

  before(async () => {
    // Anything answers 200: the accounting is under test, not an edge.
    server = createServer((_req, res) => res.end('{}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  test('names every route when no probe ran', () => {
    assert.deepEqual(unprobedRoutes(probeTarget(baseUrl)), [...routeIds]);
  });

  test('counts a route whose own probe asserted on its answer, and only that route', async () => {
    const target = probeTarget(baseUrl);
    await routeProbe('redis', async (probe) => {
      const res = await probe.request();
      probe.on(res).equal(res.status, 200);
    })(target);
    assert.deepEqual(unprobedRoutes(target), routeIds.filter((id) => id !== 'redis'));
  });

  test('names a route whose probe requested it but asserted nothing', async () => {
    const target = probeTarget(baseUrl);
    await routeProbe('redis', async (probe) => {
      await (await probe.request()).body?.cancel();
    })(target);
    assert.ok(unprobedRoutes(target).includes('redis'));
  });

  test('names a route whose probe asserted only on something else, or with plain assert', async () => {
    const target = probeTarget(baseUrl);
    await routeProbe('info', async (probe) => {
      const res = await probe.request();
      assert.equal(res.status, 200);
    })(target);
    assert.ok(unprobedRoutes(target).includes('info'));
    const foreign = await fetch(`${baseUrl}${routes.metrics.path}`);
    await assert.rejects(
      routeProbe('info', (probe) => Promise.resolve(probe.on(foreign).equal(foreign.status, 200)))(target),
      /the info probe checked an answer that is not from \/$/,
    );
    assert.ok(unprobedRoutes(target).includes('info'));
  });

  test('names a route whose probe failed after asserting, and counts no failed assertion', async () => {
    const target = probeTarget(baseUrl);
    await assert.rejects(
      routeProbe('healthz', async (probe) => {
        const res = await probe.request();
        probe.on(res).equal(res.status, 200);
        probe.on(res).equal(res.status, 503);
      })(target),
    );
    assert.ok(unprobedRoutes(target).includes('healthz'));
  });
});
