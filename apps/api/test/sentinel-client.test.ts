import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findBinaries, freePorts, RedisSentinel, RedisServer, respRequest, waitFor, type ReplicatedRedis } from '@three-tier/processes';
import { budgets, redisReplication, type HostPort } from '@three-tier/shared';
import type { Redis } from 'ioredis';
import { createMetrics } from '../src/metrics.js';
import { closeRedis, connectedTo, createRedisClient, readyWithin } from '../src/redis/client.js';
import { keptLogs, type LogLine } from './helpers.js';
import { startReplicatedRedis } from './replicated.js';

const password = 'sentinel-client-secret';

/** A client as the api makes it from REDIS_SENTINELS, with its log lines kept for the test. */
function sentinelClient(sentinels: readonly HostPort[], secret: string | undefined = password): { client: Redis; lines: LogLine[] } {
  const { logger, lines } = keptLogs();
  const sentinel = { sentinels: [...sentinels], masterName: redisReplication.masterName };
  const client = createRedisClient({ url: '', password: secret, timeoutMs: 500, sentinel }, logger, createMetrics(), 'sentinel-client-test');
  return { client, lines };
}

/** The connections ioredis's failover detector keeps to the Sentinels (not part of its public interface). */
function failoverSubscriptions(client: Redis): Array<{ address: HostPort; client: Redis }> {
  const detector = (client as unknown as { connector?: { failoverDetector?: { sentinels?: Array<{ address: HostPort; client: Redis }> } | null } }).connector
    ?.failoverDetector;
  return detector?.sentinels ?? [];
}

function messages(lines: readonly LogLine[], msg: string): LogLine[] {
  return lines.filter((line) => line.msg === msg);
}

const stoppedByItself = 'the redis client stopped by itself (a failover announced during a reconnect); connecting again';

describe('createRedisClient in Sentinel mode (a replicated Redis whose members all require a password)', () => {
  let set: ReplicatedRedis;
  let cleanup: () => Promise<void>;
  let dir: string;

  before(async () => {
    ({ set, cleanup } = await startReplicatedRedis(password));
    dir = await mkdtemp(join(tmpdir(), 'api-stale-sentinel-'));
  });
  after(async () => {
    await cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  test('a Sentinel that names a replica is not believed: the client checks the role and takes the master from the next one', async () => {
    const { redisServer, redisSentinel } = findBinaries(process.env);
    if (!redisServer || !redisSentinel) throw new Error('redis-server and redis-sentinel must be installed: sudo apt-get install -y redis-server redis-sentinel');
    // A replica of nothing, outside the set, and a Sentinel of its own that takes it for the master:
    // what a Sentinel that missed a failover says of the old master, without touching the set.
    const replicaPort = await freePorts(3);
    const [stalePort, nowhere] = [replicaPort + 1, replicaPort + 2];
    const replica = new RedisServer({ bin: redisServer, port: replicaPort, dir: join(dir, 'replica'), password, name: 'stray replica' });
    const stale = new RedisSentinel({ bin: redisSentinel, port: stalePort, dir: join(dir, 'sentinel'), master: { host: '127.0.0.1', port: replicaPort }, password, name: 'stale sentinel' });
    await replica.start();
    await respRequest(replicaPort, ['REPLICAOF', '127.0.0.1', String(nowhere)], { password });
    await stale.start();
    const { client, lines } = sentinelClient([{ host: '127.0.0.1', port: stalePort }, ...set.sentinelAddresses]);
    client.on('error', () => undefined);
    try {
      const master = await set.master();
      await readyWithin(client, 10_000);
      assert.equal(client.status, 'ready');
      assert.equal(connectedTo(client), `127.0.0.1:${String(master.port)}`);
      assert.deepEqual(
        lines.map((line) => [line.msg, line['master'], line['masterName']]),
        [['redis master connection ready', `127.0.0.1:${String(master.port)}`, redisReplication.masterName]],
      );
    } finally {
      await closeRedis(client, 1_000);
      await stale.stop();
      await replica.stop();
    }
  });

  test('asks unreachable Sentinels again after 50, 100, 150, 200 ms, then every 250 ms', async () => {
    const first = await freePorts(2);
    const nobody = [first, first + 1].map((port) => ({ host: '127.0.0.1', port }));
    const { client } = sentinelClient(nobody);
    const delays: number[] = [];
    client.on('error', (error: Error) => {
      const delay = /^All sentinels are unreachable\. Retrying from scratch after (\d+)ms/.exec(error.message)?.[1];
      if (delay !== undefined) delays.push(Number(delay));
    });
    try {
      await waitFor(() => (delays.length >= 6 ? true : undefined), { what: 'six rounds of the Sentinels' });
      const max = budgets.redisFailoverRetryMaxMs;
      assert.deepEqual(delays.slice(0, 6), [50, 100, 150, 200, max, max]);
      assert.notEqual(client.status, 'ready');
    } finally {
      await closeRedis(client, 1_000);
    }
  });

  test('a master frozen and replaced: the client moves to the new one with no command sent (the Sentinels announce it)', async () => {
    const { client, lines } = sentinelClient(set.sentinelAddresses);
    client.on('error', () => undefined);
    const old = await set.master();
    try {
      await readyWithin(client, 10_000);
      assert.equal(connectedTo(client), `127.0.0.1:${String(old.port)}`);
      // Frozen, the old master keeps the client's connection open and never closes it: only the
      // Sentinels' +switch-master can move the client.
      old.signal('SIGSTOP');
      const next = await set.waitForFailover(old);
      const address = `127.0.0.1:${String(next.port)}`;
      await waitFor(() => (client.status === 'ready' && connectedTo(client) === address ? true : undefined), {
        what: `the client on the new master ${address}`,
        timeoutMs: budgets.failoverWithinMs,
      });
      assert.deepEqual(messages(lines, 'redis master connection ready').at(-1)?.['master'], address);
    } finally {
      old.signal('SIGCONT');
      await closeRedis(client, 1_000);
    }
    await set.waitHealthy();
  });

  test('a Sentinel it listens to for failovers goes away: listened to again every second, its refusal logged once', async () => {
    const { client, lines } = sentinelClient(set.sentinelAddresses);
    client.on('error', () => undefined);
    const subscribed = once(client, 'failoverSubscribed');
    try {
      await readyWithin(client, 10_000);
      await subscribed;
      const gone = await set.killSentinel();
      const subscription = failoverSubscriptions(client).find(({ address }) => address.port === gone.port)?.client;
      assert.ok(subscription, `a subscription to the Sentinel on ${String(gone.port)}`);
      const delays: number[] = [];
      let refusals = 0;
      subscription.on('reconnecting', (delay: number) => delays.push(delay));
      subscription.on('error', (error: Error) => (refusals += /ECONNREFUSED/.test(error.message) ? 1 : 0));
      await waitFor(() => (refusals >= 3 ? true : undefined), { what: 'three refused reconnects to the Sentinel' });
      assert.ok(delays.length >= 3 && delays.every((delay) => delay === 1_000), `reconnect delays ${JSON.stringify(delays)}`);
      const logged = messages(lines, 'a Sentinel watched for failovers is unreachable');
      assert.equal(logged.filter((line) => /ECONNREFUSED/.test(line.err?.message ?? '')).length, 1, JSON.stringify(logged));
      await gone.start();
    } finally {
      await closeRedis(client, 1_000);
    }
    await set.waitHealthy();
  });

  test('ended other than by closeRedis, it connects again and says why; closeRedis ends it for good, quietly', async () => {
    const first = sentinelClient(set.sentinelAddresses);
    const second = sentinelClient(set.sentinelAddresses);
    for (const { client } of [first, second]) client.on('error', () => undefined);
    try {
      await Promise.all([readyWithin(first.client, 10_000), readyWithin(second.client, 10_000)]);
      // Each ends in turn: the first's restart timer is set before the second's, and runs first.
      for (const { client } of [first, second]) {
        const ended = once(client, 'end');
        client.disconnect();
        await ended;
      }
      await closeRedis(first.client, 1_000);
      await waitFor(() => (second.client.status === 'ready' ? true : undefined), { what: 'the second client connected again' });
      assert.equal(first.client.status, 'end', 'closed while it waited to restart: it stays ended');
      assert.equal(messages(second.lines, stoppedByItself).length, 1);
      assert.equal(messages(second.lines, 'redis master connection ready').length, 2);

      const subscribed = failoverSubscriptions(second.client);
      assert.ok(subscribed.length > 0, 'the second client listens to the Sentinels for failovers');
      const ended = once(second.client, 'end');
      await closeRedis(second.client, 1_000);
      await ended;
      assert.equal(messages(second.lines, stoppedByItself).length, 1, 'closing it on purpose is not news');
      // QUIT ends the connection to the master, not the subscriptions to the Sentinels: closeRedis ends those too.
      await waitFor(() => (subscribed.every(({ client }) => client.status === 'end') ? true : undefined), {
        what: 'every subscription to the Sentinels ended',
      });
    } finally {
      first.client.disconnect();
      second.client.disconnect();
    }
  });
});
