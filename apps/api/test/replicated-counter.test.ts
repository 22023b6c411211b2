import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { respRequest, waitFor, type ReplicatedRedis } from '@three-tier/processes';
import { redisReplication } from '@three-tier/shared';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { CounterReplication } from '../src/config.js';
import { createMetrics, type Metrics } from '../src/metrics.js';
import { closeRedis, connectedTo, createRedisClient } from '../src/redis/client.js';
import { VisitCounter } from '../src/redis/counter.js';
import { metricValue, redisReady } from './helpers.js';
import { killWhenBlocked, masterGet, startReplicatedRedis } from './replicated.js';

const clientName = 'replicated-counter-test';
/** REDIS_TIMEOUT_MS for the counts that must succeed: room for a loaded machine's stalls. */
const roomyTimeoutMs = 5_000;

interface CounterUnderTest {
  readonly counter: VisitCounter;
  readonly client: Redis;
  readonly metrics: Metrics;
  /** One series of the counter's metrics, e.g. `redis_failovers_seen_total`; undefined when absent. */
  readonly series: (name: string) => Promise<number | undefined>;
}

/**
 * The counter in Sentinel mode over `client` (the api's own client unless the test gives one), once
 * the client is ready. `timeoutMs` is REDIS_TIMEOUT_MS: the api's client's command timeout, and
 * twice the count's deadline. A client that never gets ready is closed before the error goes on.
 */
async function counterOn(set: ReplicatedRedis, replication: CounterReplication, options: { client?: Redis; timeoutMs?: number } = {}): Promise<CounterUnderTest> {
  const { timeoutMs = roomyTimeoutMs } = options;
  const metrics = createMetrics();
  const sentinel = { sentinels: set.sentinelAddresses, masterName: redisReplication.masterName };
  const redis = options.client ?? createRedisClient({ url: '', password: undefined, timeoutMs, sentinel }, pino({ level: 'silent' }), metrics, clientName);
  const counter = new VisitCounter(redis, { key: 'hits', idempotencyTtlSeconds: 600, timeoutMs, replication }, metrics);
  try {
    await redisReady(redis);
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  return { counter, client: redis, metrics, series: async (name) => metricValue(await metrics.registry.metrics(), name) };
}

/** The count's timing series for `command` (incr_wait, increment_once_wait) and `outcome`. */
function timings(command: string, outcome: 'ok' | 'error'): string {
  return `redis_command_duration_seconds_count{command="${command}",outcome="${outcome}"}`;
}

async function hits(set: ReplicatedRedis): Promise<number> {
  return Number((await masterGet(set, 'hits')) ?? 0);
}

// The counter called in-process (not through the app): what it counts, throws and measures in
// Sentinel mode, on three redis-servers and three Sentinels started natively.
describe('the counter in Sentinel mode on a real replicated Redis', () => {
  let redis: Awaited<ReturnType<typeof startReplicatedRedis>>;
  let set: ReplicatedRedis;

  before(async () => {
    redis = await startReplicatedRedis();
    set = redis.set;
  });
  after(async () => {
    await redis?.cleanup();
  });

  test('a count is acknowledged once a replica has it: without a key each visit counts, with one it counts once; each timed ok under its own name', async () => {
    const { counter, client, series } = await counterOn(set, { replicas: 1, waitMs: 2_000 });
    try {
      const first = await counter.increment();
      assert.equal(await counter.increment(), first + 1, 'a second visit without a key counts again');
      const keyed = await counter.increment('once');
      assert.equal(keyed, first + 2);
      assert.equal(await counter.increment('once'), keyed, 'the same key gets the first count');
      assert.equal(await hits(set), keyed);
      const master = await set.master();
      const replicaCounts = await Promise.all(set.nodes.filter((node) => node !== master).map(async (node) => Number(await respRequest(node.port, ['GET', 'hits']))));
      assert.ok(replicaCounts.includes(keyed), `a replica has the count ${String(keyed)}: ${replicaCounts.join(', ')}`);

      assert.equal(await series(timings('incr_wait', 'ok')), 2);
      assert.equal(await series(timings('increment_once_wait', 'ok')), 2);
      assert.equal(await series(timings('incr_wait', 'error')), undefined);
      assert.equal(await series(timings('increment_once_wait', 'error')), undefined);
      assert.equal(counter.failure, undefined);
    } finally {
      await closeRedis(client, 1_000);
    }
  });

  test('fewer replicas than asked for answer WAIT in time: UnconfirmedCountError says how many, and the master has the count', async () => {
    // The set has two replicas; asking for three makes WAIT wait its whole timeout.
    const { counter, client } = await counterOn(set, { replicas: 3, waitMs: 100 });
    try {
      const before = await hits(set);
      await assert.rejects(counter.increment('short'), {
        name: 'UnconfirmedCountError',
        // Both replicas, unless one was slower than 100 ms to fsync on a loaded machine.
        message: /^the visit may have been counted, but no replica confirmed it: [0-2] of 3 replicas within 100 ms$/,
      });
      assert.equal(await hits(set), before + 1);
    } finally {
      await closeRedis(client, 1_000);
    }
  });

  test('a master that refuses the write (NOREPLICAS): NotCountedError with its reason, counted nowhere, timed as an error; not a failure of the connection', async () => {
    const { counter, client, series } = await counterOn(set, { replicas: 1, waitMs: 2_000 });
    const master = await set.master();
    try {
      await counter.increment();
      const before = await hits(set);
      // More replicas required than the set has: Redis refuses every write, as with none in sync.
      await respRequest(master.port, ['CONFIG', 'SET', 'min-replicas-to-write', '3']);
      await assert.rejects(counter.increment(), { name: 'NotCountedError', message: /^the visit was not counted: NOREPLICAS / });
      await assert.rejects(counter.increment('refused'), { name: 'NotCountedError', message: /^the visit was not counted: NOREPLICAS / });
      // Read before a scrape: its INFO, answered, would clear any failure.
      assert.equal(counter.failure, undefined, 'Redis answered: the connection is fine');
      assert.equal(client.status, 'ready');
      assert.equal(await hits(set), before);
      assert.equal(await series(timings('incr_wait', 'error')), 1);
      assert.equal(await series(timings('increment_once_wait', 'error')), 1);
    } finally {
      await respRequest(master.port, ['CONFIG', 'SET', 'min-replicas-to-write', String(redisReplication.minReplicasToWrite)]);
      await closeRedis(client, 1_000);
    }
  });

  test('a master that does not answer the count in time: UnconfirmedCountError, the connection dropped, the failure kept', async () => {
    const timeoutMs = 500;
    const { counter, client } = await counterOn(set, { replicas: 1, waitMs: 200 }, { timeoutMs });
    const master = await set.master();
    try {
      await counter.increment();
      const hung = client.stream;
      // Writes wait (scripts too). Unpaused within a second, well before a Sentinel would deem the
      // master down (2 s), even if its PINGs queue behind a paused PUBLISH.
      await respRequest(master.port, ['CLIENT', 'PAUSE', String(timeoutMs * 10), 'WRITE']);
      await assert.rejects(counter.increment('paused'), {
        name: 'UnconfirmedCountError',
        message: 'the visit may have been counted, but no replica confirmed it: Command timed out',
      });
      assert.equal(counter.failure, 'Command timed out');
      assert.ok(hung.writableEnded, 'a hung connection is dropped at once');
    } finally {
      await respRequest(master.port, ['CLIENT', 'UNPAUSE']);
      await closeRedis(client, 1_000);
    }
  });

  test('the connection lost while WAIT waits: UnconfirmedCountError naming it, timed as an error, the failure kept', async () => {
    // WAIT's 10 s within the client's 15 s: the kill has seconds to find it blocked.
    const { counter, client, series } = await counterOn(set, { replicas: 3, waitMs: 10_000 }, { timeoutMs: 15_000 });
    const master = await set.master();
    try {
      const lost = 'Command aborted due to connection close';
      // Its rejection may come before CLIENT KILL's answer: handled from the start, and the failure
      // read as it comes (a reconnect would clear it).
      let failure: string | undefined;
      const counting = counter.increment('lost').catch((error: unknown) => {
        failure = counter.failure;
        throw error;
      });
      const refused = assert.rejects(counting, { name: 'UnconfirmedCountError', message: `the visit may have been counted, but no replica confirmed it: ${lost}` });
      await killWhenBlocked(master.port, clientName, 'wait');
      await refused;
      assert.equal(failure, lost);
      assert.equal(await series(timings('increment_once_wait', 'error')), 1);
    } finally {
      await closeRedis(client, 1_000);
    }
  });

  test('a count and its WAIT sent again on a new connection (a client that resends) confirm nothing: UnconfirmedCountError says the connection changed', async () => {
    // ioredis's default: a pipeline lost before any of its answers is sent again after a reconnect.
    const resending = new Redis({ sentinels: set.sentinelAddresses, name: redisReplication.masterName, connectionName: clientName, enableOfflineQueue: false, retryStrategy: () => 10 });
    resending.on('error', () => undefined);
    try {
      // The count's deadline is half of 10 s: the count sent again still runs before it.
      const { counter, series } = await counterOn(set, { replicas: 3, waitMs: 100 }, { client: resending, timeoutMs: 10_000 });
      const master = await set.master();
      await respRequest(master.port, ['CLIENT', 'PAUSE', '5000', 'WRITE']);
      const refused = assert.rejects(counter.increment('moved'), {
        name: 'UnconfirmedCountError',
        message: 'the visit may have been counted, but no replica confirmed it: the connection changed before WAIT answered',
      });
      try {
        // The count waits out the pause; its connection is killed before it runs.
        await killWhenBlocked(master.port, clientName, 'eval');
      } finally {
        await respRequest(master.port, ['CLIENT', 'UNPAUSE']);
      }
      await refused;
      assert.equal(await series(timings('increment_once_wait', 'error')), 1);
    } finally {
      resending.disconnect();
    }
  });

  test('not connected: NotCountedError says so, with the connection state', async () => {
    const { counter, client } = await counterOn(set, { replicas: 1, waitMs: 2_000 });
    await closeRedis(client, 1_000);
    await waitFor(() => (client.status === 'end' ? true : undefined), { what: 'the connection ended' });
    await assert.rejects(counter.increment(), { name: 'NotCountedError', message: 'the visit was not counted: not connected to the master (end)' });
  });

  test('a new connection to the same master is no failover: the master named once, no failover counted', async () => {
    const { counter, client, series } = await counterOn(set, { replicas: 1, waitMs: 2_000 });
    try {
      const address = `127.0.0.1:${String((await set.master()).port)}`;
      assert.equal(counter.master, address);
      const first = client.stream;
      client.disconnect(true);
      await waitFor(() => (client.status === 'ready' && client.stream !== first ? true : undefined), { what: 'a new connection' });
      assert.equal(connectedTo(client), address);
      assert.equal(await series('redis_failovers_seen_total'), 0);
      assert.equal(await series(`redis_master_info{address="${address}"}`), 1);
      assert.equal(counter.master, address);
    } finally {
      await closeRedis(client, 1_000);
    }
  });
});
