import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { routeIds, routes } from '@three-tier/shared';
import { probeTarget, routeProbe, unprobedRoutes, type ProbeTarget } from '../src/index.js';
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
