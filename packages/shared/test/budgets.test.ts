import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apiEnvSchema, countDeadlineMs, parseEnv, redisReplication, replicaWaitMs, routes } from '../src/index.js';

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
