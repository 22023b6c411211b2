import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ReplicatedRedis } from '@three-tier/processes';
import { redisReplication } from '@three-tier/shared';
import { assertCountedOnce, describeAttempts, masterGet, replicatedApiSuite, type SentinelApi, underLoad } from './replicated.js';

describe('GET /redis with a replicated Redis, under load, when other members fail', () => {
  let set: ReplicatedRedis;
  let api: SentinelApi;
  replicatedApiSuite((started) => ({ set, api } = started));

  test('SIGKILL a replica, then a Sentinel: no request fails', async () => {
    const before = Number((await masterGet(set, 'hits')) ?? 0);
    const master = await set.master();
    const { load, result: killed } = await underLoad(api, 'members', async (load) => {
      const replica = await set.killReplica();
      await load.flowing(50);
      const sentinel = await set.killSentinel();
      await load.flowing(50);
      return { replica, sentinel };
    });
    const failed = load.attempts.filter((attempt) => attempt.status !== 200);
    assert.deepEqual(failed, [], 'every request was answered 200');
    assert.equal(await set.master(), master, 'no failover');
    await assertCountedOnce(set, load, before);
    console.log(`SIGKILL ${killed.replica.name}, then ${killed.sentinel.options.name ?? ''}: ${describeAttempts(load.attempts)}`);
    await killed.replica.start();
    await killed.sentinel.start();
    await set.waitHealthy();
  });

  test('SIGKILL the master and both replicas: only 503s naming Redis; nothing acknowledged is lost when they return', async () => {
    const before = Number((await masterGet(set, 'hits')) ?? 0);
    const { load, result: outage } = await underLoad(api, 'all-data', async (load) => {
      const master = await set.master();
      const replicas = set.nodes.filter((node) => node !== master);
      const killedAt = performance.now();
      // Replicas first: the master, alone, refuses writes before it dies too.
      for (const node of [...replicas, master]) await set.crash(node);
      const allDownAt = performance.now();
      // A while with nothing to write to, under load.
      const downFrom = load.attempts.length;
      await waitUntil(() => load.attempts.length - downFrom >= 100, 'a hundred answers while Redis is down');
      const answersWhileDown = load.attempts.slice(downFrom);
      // Back just before the Sentinels would deem the master down: one of them may start a failover as
      // it returns, which must not promote a replica and resynchronise the master from it.
      await waitUntil(() => performance.now() - allDownAt >= returnAfterMs, 'the Sentinels to be about to deem the master down');
      // The master first (it has every acknowledged visit), then its replicas: start() knows the order.
      await set.start();
      await load.flowing();
      return { killedAt, answersWhileDown };
    });
    const notRedis503 = outage.answersWhileDown.filter((attempt) => attempt.status !== 503 || !/Redis/.test(attempt.detail ?? ''));
    assert.deepEqual(notRedis503, [], 'while Redis was down, every answer was a 503 naming Redis');
    const total = await assertCountedOnce(set, load, before);
    console.log(`all data nodes down: ${describeAttempts(outage.answersWhileDown)} while down; ${describeAttempts(load.attempts)} in all; count ${String(total)}`);
  });

  test('the whole set stopped and started again: the count is kept, and visits go on from it', async () => {
    // Some visits first, so that there is a count to keep.
    await underLoad(api, 'before-restart', async (load) => {
      await load.flowing();
    });
    const before = Number((await masterGet(set, 'hits')) ?? 0);
    assert.ok(before > 0);
    const master = await set.master();
    await set.stop();
    await set.start();
    assert.equal(await set.master(), master, 'the same master');
    assert.equal(Number(await masterGet(set, 'hits')), before, 'the count is kept');
    const { load } = await underLoad(api, 'restarted', async (load) => {
      await load.flowing();
    });
    await assertCountedOnce(set, load, before);
  });
});

/** How long the whole set stays down: the master returns as the Sentinels' down-after time runs out. */
const returnAfterMs = redisReplication.downAfterMs * 0.85;

/** Polls a condition of the test's own state until it holds (30 s at most). */
async function waitUntil(condition: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 30_000;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
