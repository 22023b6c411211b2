import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { redisInfo, respRequest, waitFor } from '@three-tier/processes';
import { redisReplication } from '@three-tier/shared';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { createMetrics, type Metrics } from '../src/metrics.js';
import { createRedisClient } from '../src/redis/client.js';
import { VisitCounter } from '../src/redis/counter.js';
import { metricValue, redisReady, startRedis, type TestRedis } from './helpers.js';

/** The counter in Sentinel mode over a client of its own to `redis`, as the api reads replication. */
async function counterOn(redis: TestRedis): Promise<{ counter: VisitCounter; client: Redis; metrics: Metrics }> {
  const metrics = createMetrics();
  const client = createRedisClient({ url: redis.url, password: undefined, timeoutMs: 2_000 }, pino({ level: 'silent' }), metrics, 'replication-info-test');
  const counter = new VisitCounter(client, { key: 'hits', idempotencyTtlSeconds: 30, timeoutMs: 2_000, replication: { replicas: 1, waitMs: 100 } }, metrics);
  try {
    await redisReady(client);
  } catch (error) {
    client.disconnect();
    throw error;
  }
  return { counter, client, metrics };
}

/** The first replica's lag as the master's INFO gives it, in seconds. */
async function lagSeconds(master: TestRedis): Promise<number | undefined> {
  const line = (await redisInfo(master.server.port, 'replication')).get('slave0');
  const lag = /lag=(\d+)/.exec(line ?? '')?.[1];
  return lag === undefined ? undefined : Number(lag);
}

// Two plain Redis servers, one the other's replica: what INFO replication says, read the api's way.
describe("the counter's view of a master's replicas (INFO replication)", () => {
  let master: TestRedis;
  let replica: TestRedis;

  before(async () => {
    master = await startRedis();
    replica = await startRedis();
    await respRequest(replica.server.port, ['REPLICAOF', '127.0.0.1', String(master.server.port)]);
    await waitFor(async () => ((await redisInfo(master.server.port, 'replication')).get('slave0')?.includes('state=online') ? true : undefined), {
      what: 'the replica online',
    });
  });
  after(async () => {
    replica.server.signal('SIGCONT');
    await replica.cleanup();
    await master.cleanup();
  });

  test('a replica says so, with none in sync', async () => {
    const { counter, client } = await counterOn(replica);
    try {
      const state = await counter.replication();
      assert.equal(state.role, 'slave');
      assert.equal(state.replicasInSync, 0);
    } finally {
      client.disconnect();
    }
  });

  test('each read of INFO is timed as info; one Redis (no replication configured) is never asked at a scrape', async () => {
    const { counter, client, metrics } = await counterOn(master);
    const single = createMetrics();
    const singleClient = createRedisClient({ url: master.url, password: undefined, timeoutMs: 2_000 }, pino({ level: 'silent' }), single, 'replication-info-test');
    new VisitCounter(singleClient, { key: 'hits', idempotencyTtlSeconds: 30, timeoutMs: 2_000 }, single);
    try {
      await redisReady(singleClient);
      await counter.replication();
      assert.equal(metricValue(await metrics.registry.metrics(), 'redis_command_duration_seconds_count{command="info",outcome="ok"}'), 1);
      // The same master, one replica online: a scrape in Sentinel mode says so, one in one-Redis mode asks nothing.
      const scraped = await single.registry.metrics();
      assert.equal(metricValue(scraped, 'redis_replicas_in_sync'), 0);
      assert.equal(metricValue(scraped, 'redis_command_duration_seconds_count{command="info",outcome="ok"}'), undefined);
    } finally {
      singleClient.disconnect();
      client.disconnect();
    }
  });

  test('a replica still waiting for its first copy of the data is not in sync', async () => {
    const { counter, client } = await counterOn(master);
    let late: TestRedis | undefined;
    try {
      late = await startRedis();
      // The master holds back the copy for 60 s (hoping more replicas come to share it): the new
      // replica waits in state wait_bgsave, with a lag of 0.
      await respRequest(master.server.port, ['CONFIG', 'SET', 'repl-diskless-sync', 'yes']);
      await respRequest(master.server.port, ['CONFIG', 'SET', 'repl-diskless-sync-delay', '60']);
      await respRequest(late.server.port, ['REPLICAOF', '127.0.0.1', String(master.server.port)]);
      await waitFor(async () => ((await redisInfo(master.server.port, 'replication')).get('slave1')?.includes('state=wait_bgsave') ? true : undefined), {
        what: 'the second replica waiting for its copy',
      });
      assert.equal((await counter.replication()).replicasInSync, 1, 'only the online replica');
    } finally {
      if (late) await respRequest(late.server.port, ['REPLICAOF', 'NO', 'ONE']);
      await respRequest(master.server.port, ['CONFIG', 'SET', 'repl-diskless-sync-delay', '5']);
      client.disconnect();
      await late?.cleanup();
    }
  });

  test("a master counts its online replicas within the lag limit; Redis's own count when it keeps one", async () => {
    const { counter, client, metrics } = await counterOn(master);
    try {
      // No min-replicas-to-write: Redis keeps no count, the replicas' lines are read.
      const calm = await counter.replication();
      assert.deepEqual(calm, { master: `127.0.0.1:${String(master.server.port)}`, role: 'master', replicasInSync: 1, replicasRequired: 1 });
      assert.equal(metricValue(await metrics.registry.metrics(), 'redis_replicas_in_sync'), 1);

      // A frozen replica stops acknowledging: its lag grows by a second a second.
      replica.server.signal('SIGSTOP');
      await waitFor(async () => (((await lagSeconds(master)) ?? 0) >= 2 ? true : undefined), { what: 'a lag of 2 s' });
      // Redis's own count, with a stricter limit than the api's: taken as Redis gives it.
      await respRequest(master.server.port, ['CONFIG', 'SET', 'min-replicas-max-lag', '1']);
      await respRequest(master.server.port, ['CONFIG', 'SET', 'min-replicas-to-write', '1']);
      assert.equal((await counter.replication()).replicasInSync, 0, "Redis's count: lag over its 1 s");
      await respRequest(master.server.port, ['CONFIG', 'SET', 'min-replicas-to-write', '0']);
      assert.equal((await counter.replication()).replicasInSync, 1, `the api's count: lag within ${String(redisReplication.minReplicasMaxLagSeconds)} s`);

      await waitFor(async () => (((await lagSeconds(master)) ?? 0) > redisReplication.minReplicasMaxLagSeconds ? true : undefined), {
        what: `a lag over ${String(redisReplication.minReplicasMaxLagSeconds)} s`,
      });
      assert.equal((await counter.replication()).replicasInSync, 0, 'the api\'s count: lag over its limit');
      assert.equal(metricValue(await metrics.registry.metrics(), 'redis_replicas_in_sync'), 0);
    } finally {
      replica.server.signal('SIGCONT');
      client.disconnect();
    }
  });

  test('a replica whose lag is exactly the limit is still in sync', async () => {
    const { counter, client } = await counterOn(master);
    const limit = redisReplication.minReplicasMaxLagSeconds;
    try {
      // The lag is in whole seconds: a reading of the api's taken between two readings of exactly the
      // limit saw it too. That lasts a second; a test process held up longer misses it, and tries again.
      let inSync: number | undefined;
      for (let attempt = 1; inSync === undefined; attempt += 1) {
        replica.server.signal('SIGCONT');
        await waitFor(async () => (((await lagSeconds(master)) ?? limit) < limit ? true : undefined), { what: 'the replica acknowledging again' });
        replica.server.signal('SIGSTOP');
        const seen = await waitFor(
          async () => {
            const before = (await lagSeconds(master)) ?? 0;
            if (before !== limit) return before > limit ? 'missed' : undefined;
            const state = await counter.replication();
            const after = (await lagSeconds(master)) ?? 0;
            if (after !== limit) return after > limit ? 'missed' : undefined;
            return state.replicasInSync;
          },
          { what: `a lag of exactly ${String(limit)} s`, timeoutMs: (limit + 5) * 1_000 },
        );
        if (seen !== 'missed') inSync = seen;
        else assert.ok(attempt < 3, `a lag of exactly ${String(limit)} s missed ${String(attempt)} times: the test process was held up for seconds`);
      }
      assert.equal(inSync, 1);
    } finally {
      replica.server.signal('SIGCONT');
      client.disconnect();
    }
  });
});
