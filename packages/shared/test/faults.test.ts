import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeFaults, faultLimits, faultNames, faultRoutes, faultsPath, noFaults } from '../src/index.js';

describe('faults on demand', () => {
  test('three can be switched on, and none is by default', () => {
    assert.deepEqual(faultNames, ['unready', 'latency', 'errors']);
    assert.deepEqual(noFaults, { unready: false, latencyMs: 0, errorRate: 0 });
  });

  test('every fault route lives under /faults, which both edges answer 404 for', () => {
    assert.equal(faultsPath, '/faults');
    for (const route of Object.values(faultRoutes)) assert.ok(route.path === faultsPath || route.path.startsWith(`${faultsPath}/`), route.path);
    assert.deepEqual(
      Object.values(faultRoutes).map((route) => [route.path, route.methods.join(' ')]),
      [
        ['/faults', 'GET HEAD DELETE'],
        ['/faults/unready', 'PUT DELETE'],
        ['/faults/latency', 'PUT DELETE'],
        ['/faults/errors', 'PUT DELETE'],
        ['/faults/exit', 'POST'],
      ],
    );
  });

  test('the latency summary states the limits the api enforces', () => {
    assert.match(faultRoutes.latency.summary, new RegExp(`\\?ms=${faultLimits.minLatencyMs}\\.\\.${faultLimits.maxLatencyMs}:`));
  });

  test('each active fault is said in words, in a fixed order; an error rate to a tenth of a percent', () => {
    assert.deepEqual(describeFaults({ unready: false, latencyMs: 1, errorRate: 0 }), ['latency +1 ms']);
    assert.deepEqual(describeFaults({ unready: false, latencyMs: 0, errorRate: 0.0004 }), ['errors 0%']);
    assert.deepEqual(describeFaults({ unready: false, latencyMs: 0, errorRate: 0.12345 }), ['errors 12.3%']);
    assert.deepEqual(describeFaults({ unready: true, latencyMs: 0, errorRate: 1 }), ['unready', 'errors 100%']);
  });
});
