import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ReplicatedRedis } from '@three-tier/processes';
import { budgets, redisReplication } from '@three-tier/shared';
import {
  assertCountedOnce,
  describeAttempts,
  killMasterUnderLoad,
  masterGet,
  medianAndWorst,
  replicatedApiSuite,
  type SentinelApi,
  underLoad,
} from './replicated.js';

const failovers = 5;

describe('the time with no acknowledged visit after the master is SIGKILLed', () => {
  let set: ReplicatedRedis;
  let api: SentinelApi;
  replicatedApiSuite((started) => ({ set, api } = started));

  test(`over ${String(failovers)} failovers under load: printed, each within a failover's budget, and nothing acknowledged lost`, async () => {
    const before = Number((await masterGet(set, 'hits')) ?? 0);
    const { load, result: windows } = await underLoad(
      api,
      'window',
      async (load) => {
        const windows: number[] = [];
        for (let round = 0; round < failovers; round += 1) {
          const { windowMs, killed } = await killMasterUnderLoad(set, load);
          windows.push(windowMs);
          await killed.start();
          await set.waitHealthy();
          await load.flowing();
        }
        return windows;
      },
      { maxRunMs: 110_000 },
    );
    await assertCountedOnce(set, load, before);
    const { median, worst } = medianAndWorst(windows);
    console.log(
      `no 200 after a SIGKILL of the master, ${String(failovers)} failovers: ${windows.map((ms) => ms.toFixed(0)).join(', ')} ms; ` +
        `median ${median.toFixed(0)} ms, worst ${worst.toFixed(0)} ms (down-after ${String(redisReplication.downAfterMs)} ms, ` +
        `reconnect every ${String(budgets.redisFailoverRetryMaxMs)} ms at most); ${describeAttempts(load.attempts)}`,
    );
    // A bound the Sentinels promise, not a speed: a failover finishes within failoverWithinMs or is abandoned.
    for (const windowMs of windows) assert.ok(windowMs < budgets.failoverWithinMs, `${windowMs.toFixed(0)} ms`);
  });
});
