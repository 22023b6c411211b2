import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  apiEnvSchema,
  budgets,
  countDeadlineMs,
  drainSlackMs,
  edge,
  edgeAnswerWithinMs,
  gracePeriodMs,
  longestRouteTimeoutMs,
  longestUpstreamWaitMs,
  parseEnv,
  redisReplication,
  replicaWaitMs,
  routeList,
  routes,
  stackChangeBudget,
  stackChangeChance,
  stackChangeLatency,
  stackChangeQuietMs,
  upstreamReadTimeoutMs,
} from '../src/index.js';

describe('time budgets derived from the route table', () => {
  test('the longest deadline is /load’s, and no route’s is longer', () => {
    assert.equal(longestRouteTimeoutMs, routes.load.timeoutMs);
    for (const route of routeList) assert.ok(route.timeoutMs <= longestRouteTimeoutMs, route.path);
  });

  test('an edge waits for the api a route’s deadline plus its margin, per try', () => {
    assert.equal(upstreamReadTimeoutMs({ timeoutMs: 2_000 }), 2_000 + edge.upstreamMarginMs);
    assert.ok(edge.upstreamMarginMs > 0);
    assert.equal(longestUpstreamWaitMs, upstreamReadTimeoutMs(routes.load));
    for (const route of routeList) assert.ok(upstreamReadTimeoutMs(route) <= longestUpstreamWaitMs, route.path);
  });

  test('the api holds no connection past the longest deadline, plus the slack to answer and close', () => {
    assert.equal(budgets.apiRequestTimeoutMs, longestRouteTimeoutMs + drainSlackMs);
  });

  test('the edge gives a request every try of the longest route, plus the slack', () => {
    assert.equal(budgets.edgeRequestTimeoutMs, longestUpstreamWaitMs * edge.upstreamTries + drainSlackMs);
    assert.equal(edge.upstreamTries, 2);
  });

  test('the edge answers a request within every try of its route, each allowed the connect and read timeouts', () => {
    assert.equal(edgeAnswerWithinMs({ timeoutMs: 2_000 }), edge.upstreamTries * (edge.upstreamConnectTimeoutMs + 2_000 + edge.upstreamMarginMs));
  });

  test('a stopping api lets in-flight requests run to their own deadline; a stopping edge, one try', () => {
    assert.equal(budgets.apiShutdownTimeoutMs, longestRouteTimeoutMs);
    assert.equal(budgets.edgeDrainMs, longestUpstreamWaitMs);
  });

  test('a supervisor waits for the drain plus the slack before it kills', () => {
    assert.equal(gracePeriodMs(budgets.apiShutdownTimeoutMs), budgets.apiShutdownTimeoutMs + drainSlackMs);
    assert.equal(gracePeriodMs(0), drainSlackMs);
    assert.equal(drainSlackMs, 5_000);
  });

  test('a lost Redis master is replaced within the last Sentinel’s staggered down-after plus the failover’s timeout', () => {
    const lastDownAfterMs = redisReplication.downAfterMs + (redisReplication.sentinels - 1) * redisReplication.downAfterStaggerMs;
    assert.equal(budgets.failoverWithinMs, lastDownAfterMs + redisReplication.failoverTimeoutMs);
  });

  test('pinned for the table as it is: 20 s per api request, 37 s per edge request', () => {
    assert.deepEqual(budgets, {
      apiRequestTimeoutMs: 20_000,
      edgeRequestTimeoutMs: 37_000,
      apiShutdownTimeoutMs: 15_000,
      edgeDrainMs: 16_000,
      redisShutdownTimeoutMs: 10_000,
      redisFailoverRetryMaxMs: 250,
      failoverWithinMs: 12_666,
    });
  });
});

describe('the replicated count’s budget', () => {
  test('by default: the count must run within 250 ms, and WAIT gives replicas 200 ms', () => {
    const { REDIS_TIMEOUT_MS } = parseEnv(apiEnvSchema, {});
    assert.equal(countDeadlineMs(REDIS_TIMEOUT_MS), 250);
    assert.equal(replicaWaitMs(REDIS_TIMEOUT_MS), 200);
  });

  test('for every REDIS_TIMEOUT_MS: a late count plus a full WAIT answer before the client’s timeout, and WAIT never blocks for ever', () => {
    for (let timeoutMs = 10; timeoutMs <= 10_000; timeoutMs += 1) {
      const wait = replicaWaitMs(timeoutMs);
      assert.ok(wait >= 1, `WAIT ${wait} ms at ${timeoutMs}`);
      assert.ok(countDeadlineMs(timeoutMs) + wait < timeoutMs, `count by ${countDeadlineMs(timeoutMs)} + WAIT ${wait} within ${timeoutMs}`);
      assert.ok(wait <= routes.redis.timeoutMs / 4, `WAIT ${wait} ms leaves most of /redis's deadline`);
    }
  });

  test('a visit waits for no more replicas than the master requires to write', () => {
    assert.ok(redisReplication.replicasPerVisit <= redisReplication.minReplicasToWrite);
    assert.ok(redisReplication.minReplicasToWrite <= redisReplication.replicas);
    assert.ok(redisReplication.quorum > redisReplication.sentinels / 2, 'the quorum is a majority');
  });
});

describe('the latency budget of a stack change', () => {
  test('the aim on a quiet machine, stretched by a loaded one, and a one-second stall still over it while the load allows', () => {
    assert.equal(stackChangeQuietMs(2_000), 6_000, 'a short change: three windows as long');
    assert.equal(stackChangeQuietMs(10_000), 20_000, 'a longer one: at most 20 s');
    assert.equal(stackChangeQuietMs(30_000), 30_000, 'never shorter than the change');
    assert.deepEqual(stackChangeBudget({ worstP99Ms: 5, maxMs: 20 }), stackChangeLatency);
    assert.deepEqual(stackChangeBudget({ worstP99Ms: 200, maxMs: 400 }), { maxMs: 1_000, p99Ms: 600 });
    assert.deepEqual(stackChangeBudget({ worstP99Ms: 500, maxMs: 900 }), { maxMs: 1_500, p99Ms: 1_500 });
    // The old connect timeout: a second on top of a request as slow as the quiet p99.
    for (const p99Ms of [5, 50, 200, 300]) assert.ok(1_000 + p99Ms > stackChangeBudget({ worstP99Ms: p99Ms, maxMs: 2 * p99Ms }).maxMs, `quiet p99 ${p99Ms} ms`);
  });

  test('by chance, one Redis stall: a 503 naming Redis per client', () => {
    const chance = stackChangeChance(8);
    assert.equal(chance.count, 8);
    assert.ok(chance.kind.test('503 The visit counter is unavailable: Redis is not answering'));
    assert.ok(!chance.kind.test('502 No api instance answered'));
  });

  test('a stall the quiet window shows too is the machine’s: the slowest request may be as slow as its', () => {
    assert.deepEqual(stackChangeBudget({ worstP99Ms: 40, maxMs: 1_300.2 }), { maxMs: 1_301, p99Ms: 120 });
  });
});
