import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { probeTarget, unprobedRoutes, type ProbeTarget } from '../src/index.js';
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
  test('names the routes a run never requested', () => {
    const target = probeTarget('http://127.0.0.1:1');
    target.probed.add('/redis');
    assert.ok(unprobedRoutes(target).includes('metrics'));
    assert.ok(!unprobedRoutes(target).includes('redis'));
  });
});
