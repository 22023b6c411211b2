import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor, type RedisNode, type ReplicatedRedis } from '@three-tier/processes';
import { redisReplication } from '@three-tier/shared';
import { Redis } from 'ioredis';
import { killWhenBlocked, masterGet, productionClient, sentinelApp, startReplicatedRedis, visit, type ReplicatedTestApp } from './replicated.js';

/** The replicas of the master of the day. */
async function replicasOf(set: ReplicatedRedis): Promise<RedisNode[]> {
  const master = await set.master();
  return set.nodes.filter((node) => node !== master && node.running);
}

/** Freezes every replica (SIGSTOP) for `body`: they stay connected, and acknowledge nothing. */
async function withReplicasFrozen<T>(set: ReplicatedRedis, body: () => Promise<T>): Promise<T> {
  const replicas = await replicasOf(set);
  for (const replica of replicas) replica.signal('SIGSTOP');
  try {
    return await body();
  } finally {
    for (const replica of replicas) replica.signal('SIGCONT');
  }
}

async function count(set: ReplicatedRedis): Promise<number> {
  return Number((await masterGet(set, 'hits')) ?? 0);
}

const unconfirmed = /^The visit may have been counted by the Redis master, but no replica confirmed it in time, so a failover could still lose it\. Retry with the same Idempotency-Key within 600 s and it is counted exactly once; a retry without one may count it twice\.$/;

describe('a replicated count (Sentinel mode), as the app answers it', () => {
  let redis: Awaited<ReturnType<typeof startReplicatedRedis>>;
  let set: ReplicatedRedis;

  before(async () => {
    redis = await startReplicatedRedis();
    set = redis.set;
  });
  after(async () => {
    await redis?.cleanup();
  });

  describe('over a client that sends in-flight commands again after a reconnect (ioredis’s default)', () => {
    let api: ReplicatedTestApp;
    before(async () => {
      // Not the api's client: one that resends what was in flight, so the counter must not rely
      // on the client to keep a count and its WAIT on one connection.
      const client = new Redis({
        sentinels: set.sentinelAddresses,
        name: redisReplication.masterName,
        connectionName: 'api-under-test',
        enableOfflineQueue: false,
        commandTimeout: 10_000,
        retryStrategy: () => 50,
      });
      client.on('error', () => undefined);
      // WAIT blocks 5 s, so that the connection is surely killed while it blocks.
      api = await sentinelApp(client, 500, 5_000);
    });
    after(async () => {
      await api?.close();
    });

    test('a count whose connection is killed between the count and WAIT’s answer is never acknowledged; its retry is, once', async () => {
      const before = await count(set);
      const master = await set.master();
      const answer = await withReplicasFrozen(set, async () => {
        const pending = visit(api.url, 'killed-under-wait');
        // WAIT blocks: no replica can acknowledge. Kill the connection it blocks on.
        await killWhenBlocked(master.port, 'api-under-test', 'wait');
        return pending;
      });
      assert.equal(answer.status, 503, `answered ${String(answer.status)} ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.visit, 'unconfirmed');
      assert.match(answer.body.detail ?? '', unconfirmed);
      // The master did count it: the 503 said it may have.
      assert.equal(await count(set), before + 1);
      const retried = await waitFor(async () => {
        const again = await visit(api.url, 'killed-under-wait');
        return again.status === 200 ? again : undefined;
      }, { what: 'the retry to be acknowledged' });
      assert.equal(retried.body.hits, before + 1, 'the retry gets the first count');
      assert.equal(await count(set), before + 1, 'counted once');
    });
  });

  describe('over the api’s own client', () => {
    let api: ReplicatedTestApp;
    before(async () => {
      api = await sentinelApp(productionClient(set));
    });
    after(async () => {
      await api?.close();
    });

    test('no replica acknowledges within WAIT’s timeout: 503 unconfirmed; a retry on another instance waits for a replica too, then gets the first count', async () => {
      const before = await count(set);
      // Another api instance, as the edge retries on: its connection never made this count.
      const other = await sentinelApp(productionClient(set));
      try {
        await withReplicasFrozen(set, async () => {
          const first = await visit(api.url, 'frozen-replicas');
          assert.equal(first.status, 503);
          assert.equal(first.body.visit, 'unconfirmed');
          assert.match(first.body.detail ?? '', unconfirmed);
          // Counted on the master, on no replica yet: the retry finds the key, and is no more acknowledged.
          const retry = await visit(other.url, 'frozen-replicas');
          assert.equal(retry.status, 503, `a retry while no replica can confirm answered ${String(retry.status)} ${JSON.stringify(retry.body)}`);
          assert.equal(retry.body.visit, 'unconfirmed');
        });
      } finally {
        await other.close();
      }
      const confirmed = await waitFor(async () => {
        const again = await visit(api.url, 'frozen-replicas');
        return again.status === 200 ? again : undefined;
      }, { what: 'the retry to be acknowledged once the replicas are back' });
      assert.equal(confirmed.body.hits, before + 1);
      assert.equal(await count(set), before + 1);
    });

    test('a master with no replica in sync refuses to count (NOREPLICAS): 503 not-counted, counted nowhere; /readyz and /instance say why', async () => {
      const before = await count(set);
      const master = await set.master();
      const replicas = await replicasOf(set);
      for (const replica of replicas) await set.crash(replica);
      try {
        const refused = await waitFor(async () => {
          const answer = await visit(api.url, 'no-replicas');
          return answer.body.visit === 'not-counted' ? answer : undefined;
        }, { what: 'a visit refused for want of replicas' });
        assert.equal(refused.status, 503);
        assert.match(refused.body.detail ?? '', /^The visit was not counted: the Redis master is unreachable or has no replica in sync/);
        assert.equal(await count(set), before, 'nothing counted');

        const ready = await fetch(`${api.url}/readyz`);
        const readyBody = (await ready.json()) as { detail: string; checks: { redis: { master: string; replicasInSync: number } } };
        assert.equal(ready.status, 503);
        assert.match(readyBody.detail, /redis \(master 127\.0\.0\.1:\d+ has 0 of 1 replicas in sync/);
        assert.deepEqual(readyBody.checks.redis.master, `127.0.0.1:${String(master.port)}`);
        const instance = (await (await fetch(`${api.url}/instance`)).json()) as { state: string; redis: { state: string; master: string; replicasInSync: number } };
        assert.equal(instance.state, 'unready');
        assert.deepEqual({ ...instance.redis, latencyMs: 0, detail: '' }, { state: 'up', latencyMs: 0, detail: '', master: `127.0.0.1:${String(master.port)}`, replicasInSync: 0 });
      } finally {
        for (const replica of replicas) await replica.start();
      }
      await set.waitHealthy();
      await waitFor(async () => ((await fetch(`${api.url}/readyz`)).status === 200 ? true : undefined), { what: '/readyz to pass again' });
      const ready = (await (await fetch(`${api.url}/readyz`)).json()) as { checks: { redis: { master: string; replicasInSync: number } } };
      assert.equal(ready.checks.redis.replicasInSync, 2);
      assert.equal((await visit(api.url, 'no-replicas')).body.hits, before + 1, 'the refused visit is counted on its retry');
    });

    test('metrics name the master and its replicas in sync, and count the failovers this instance saw', async () => {
      const text = async (): Promise<string> => (await (await fetch(`${api.url}/metrics`)).text());
      const master = await set.master();
      const first = await text();
      assert.match(first, new RegExp(`^redis_master_info\\{address="127\\.0\\.0\\.1:${String(master.port)}"\\} 1$`, 'm'));
      assert.match(first, /^redis_replicas_in_sync 2$/m);
      assert.match(first, /^redis_replicas_required 1$/m);
      const failovers = Number(/^redis_failovers_seen_total (\d+)$/m.exec(first)?.[1]);
      await set.crash(master);
      const next = await set.waitForFailover(master);
      await waitFor(async () => (new RegExp(`^redis_master_info\\{address="127\\.0\\.0\\.1:${String(next.port)}"\\} 1$`, 'm').test(await text()) ? true : undefined), {
        what: 'the metrics to name the new master',
        timeoutMs: 10_000,
      });
      const after = await text();
      assert.doesNotMatch(after, new RegExp(`address="127\\.0\\.0\\.1:${String(master.port)}"`), 'the old master is no longer named');
      assert.match(after, new RegExp(`^redis_failovers_seen_total ${String(failovers + 1)}$`, 'm'));
      await master.start();
      await set.waitHealthy();
    });
  });
});
