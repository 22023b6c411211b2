import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apiEnvSchema, countDeadlineMs, parseEnv, redisReplication, replicaWaitMs, routes, stackChangeBudget, stackChangeLatency } from '../src/index.js';

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
    assert.deepEqual(stackChangeBudget(5), stackChangeLatency);
    assert.deepEqual(stackChangeBudget(200), { maxMs: 1_000, p99Ms: 600 });
    assert.deepEqual(stackChangeBudget(500), { maxMs: 1_500, p99Ms: 1_500 });
    // The old connect timeout: a second on top of a request as slow as the steady p99.
    for (const steadyP99Ms of [5, 50, 200, 300]) assert.ok(1_000 + steadyP99Ms > stackChangeBudget(steadyP99Ms).maxMs, `steady p99 ${steadyP99Ms} ms`);
  });
});
