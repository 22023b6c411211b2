import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { respRequest, waitFor, type ReplicatedRedis } from '@three-tier/processes';
import {
  assertCountedOnce,
  describeAttempts,
  killMasterUnderLoad,
  masterGet,
  replicatedApiSuite,
  type SentinelApi,
  underLoad,
} from './replicated.js';

describe('GET /redis with a replicated Redis, under load, when the master is SIGKILLed', () => {
  let set: ReplicatedRedis;
  let api: SentinelApi;
  replicatedApiSuite((started) => ({ set, api } = started));

  test('a replica takes over, and every visit that got a 200 is counted exactly once', async () => {
    const before = Number((await masterGet(set, 'hits')) ?? 0);
    const { load, result } = await underLoad(api, 'one', async (load) => {
      const failover = await killMasterUnderLoad(set, load);
      await load.flowing();
      return failover;
    });
    const { windowMs, killed, master } = result;
    assert.notEqual(master, killed);
    const total = await assertCountedOnce(set, load, before);
    console.log(`SIGKILL ${killed.name}: ${master.name} took over; no 200 for ${windowMs.toFixed(0)} ms; ${describeAttempts(load.attempts)}; count ${String(total)}`);
    // Back as a replica, for what follows.
    await killed.start();
    await set.waitHealthy();
  });

  test('the master SIGKILLed while its replicas lag behind: what they never got was never acknowledged', async () => {
    const before = Number((await masterGet(set, 'hits')) ?? 0);
    const { load, result } = await underLoad(api, 'lagging', async (load) => {
      const master = await set.master();
      const replicas = set.nodes.filter((node) => node !== master && node.running);
      for (const replica of replicas) replica.signal('SIGSTOP');
      const lagging = await (async () => {
        try {
          // Ballast fills the socket buffers to the frozen replicas, so what the master writes next
          // stays in its own memory, and dies with it: the replicas will never see those visits.
          await respRequest(master.port, ['SET', 'ballast', 'x'.repeat(32 * 1024 * 1024)], { timeoutMs: 20_000 });
          const from = load.attempts.length;
          await waitFor(() => (load.attempts.length - from >= 30 ? true : undefined), { what: 'thirty answers while the replicas lag', intervalMs: 10 });
          const answers = load.attempts.slice(from);
          await set.crash(master);
          return answers;
        } finally {
          for (const replica of replicas) replica.signal('SIGCONT');
        }
      })();
      const next = await set.waitForFailover(master);
      await load.flowing();
      return { master, next, lagging };
    });
    assert.deepEqual(
      result.lagging.filter((attempt) => attempt.status === 200),
      [],
      'no visit was acknowledged while no replica could confirm it',
    );
    await result.master.start();
    await set.waitHealthy();
    const total = await assertCountedOnce(set, load, before);
    console.log(`SIGKILL with the replicas behind: ${result.next.name} took over; ${describeAttempts(result.lagging)} while they lagged; count ${String(total)}`);
  });

  test('three failovers in a row, each old master back as a replica and caught up: still exactly once', async () => {
    const before = Number((await masterGet(set, 'hits')) ?? 0);
    const { load, result: windows } = await underLoad(api, 'three', async (load) => {
      const windows: number[] = [];
      for (let round = 1; round <= 3; round += 1) {
        const { windowMs, killed } = await killMasterUnderLoad(set, load);
        windows.push(windowMs);
        // The old master comes back as a replica of the master of the day, and catches up.
        await killed.start();
        await set.waitHealthy();
        assert.equal(await set.replicasInSync(await set.master()), 2, `after round ${String(round)}, both replicas are in sync`);
        await load.flowing();
      }
      return windows;
    });
    const total = await assertCountedOnce(set, load, before);
    console.log(`three failovers: no 200 for ${windows.map((ms) => ms.toFixed(0)).join(', ')} ms; ${describeAttempts(load.attempts)}; count ${String(total)}`);
    for (const node of set.nodes) {
      await waitFor(async () => ((await respRequest(node.port, ['GET', 'hits'])) === String(total) ? true : undefined), {
        what: `${node.name} to hold the count ${String(total)}`,
      });
    }
  });
});
