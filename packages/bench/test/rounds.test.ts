import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { median, roundOrder, summarise, type Case, type Run } from '../src/rounds.js';

const item: Case = { id: 'nginx-info:/redis', label: '/redis nginx, info', group: 'project', url: 'http://127.0.0.1:1/redis', roles: {}, against: 'direct-info:/redis' };

function run(rps: number, extra: Partial<Run> = {}): Run {
  return { requests: rps * 2, seconds: 2, rps, p50Ms: 1_000 / rps, p99Ms: 10_000 / rps, errors: 0, cpuSeconds: 0.5, cpuUs: { api: 100, edge: 50 }, cpuUsTotal: 150, wrkShare: 0.125, load: 1.5, ...extra };
}

describe('median', () => {
  test('the middle value of an odd count, the mean of the middle two of an even count, in any order', () => {
    assert.equal(median([9, 1, 5]), 5);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([7]), 7);
  });

  test('of nothing is NaN, never 0: a case with no runs must not read as free', () => {
    assert.ok(Number.isNaN(median([])));
  });
});

describe('roundOrder', () => {
  test('every round runs every case once, each round starting one case later', () => {
    assert.deepEqual(roundOrder(4, 3), [
      [0, 1, 2, 3],
      [1, 2, 3, 0],
      [2, 3, 0, 1],
    ]);
  });

  test('with as many rounds as cases, every case runs first once', () => {
    const order = roundOrder(5, 5);
    assert.deepEqual(order.map((round) => round[0]).sort(), [0, 1, 2, 3, 4]);
    for (const round of order) assert.deepEqual([...round].sort(), [0, 1, 2, 3, 4]);
  });
});

describe('summarise', () => {
  test('medians of the runs, errors summed, requests summed with the warm-up, its comparison kept', () => {
    const result = summarise(
      item,
      [run(1_000, { errors: 2, cpuUs: { api: 90 }, cpuUsTotal: 90 }), run(3_000, { cpuUs: { api: 110, edge: 40 }, cpuUsTotal: 150 }), run(2_000, { errors: 1, cpuUs: { api: 100, edge: 60 }, cpuUsTotal: 160 })],
      500,
    );
    assert.equal(result.rps, 2_000);
    assert.equal(result.cpuUsTotal, 150);
    // A role measured in only some runs: the median of those.
    assert.deepEqual(result.cpuUs, { api: 100, edge: 50 });
    assert.equal(result.errors, 3);
    assert.equal(result.requests, 500 + 2_000 + 6_000 + 4_000);
    assert.equal(result.p50Ms, 0.5);
    assert.equal(result.against, 'direct-info:/redis');
    assert.equal(result.runs.length, 3);
  });

  test('a case without a comparison has none', () => {
    const alone: Case = { id: 'hello', label: 'hello', group: 'reference', url: 'http://127.0.0.1:1/', roles: {} };
    assert.equal('against' in summarise(alone, [run(1)], 0), false);
  });
});
