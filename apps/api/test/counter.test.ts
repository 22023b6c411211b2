import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { respRequest, waitFor } from '@three-tier/processes';
import { pino } from 'pino';
import { createMetrics } from '../src/metrics.js';
import { createRedisClient } from '../src/redis/client.js';
import { VisitCounter } from '../src/redis/counter.js';
import { HeldReplies } from './held-replies.js';
import { metricValue, redisReady, startRedis, type TestRedis } from './helpers.js';

/** Keeps Redis busy for `ms` inside one script: every other command waits behind it. */
const busyScript = `
local start = redis.call('TIME')
repeat
  local now = redis.call('TIME')
until (now[1] - start[1]) * 1000000 + (now[2] - start[2]) > tonumber(ARGV[1]) * 1000
return 1`;

describe("the counter's view of Redis's clock", () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let client: Redis;
  let counter: VisitCounter;

  before(async () => {
    redis = await startRedis();
    client = createRedisClient({ url: redis.url, password: undefined, timeoutMs: 2_000 }, pino({ level: 'silent' }), createMetrics(), 'clock-test');
    counter = new VisitCounter(client, { key: 'hits', idempotencyTtlSeconds: 30, timeoutMs: 2_000 }, createMetrics());
    await redisReady(client);
  });
  after(async () => {
    client.disconnect();
    await redis.cleanup();
  });

  test('a TIME that waited behind a busy Redis does not move the offset (deadlines stay honest)', async () => {
    const calmTrips: number[] = [];
    for (let i = 0; i < 5; i += 1) calmTrips.push(await counter.ping());
    const calm = counter.clockOffset;
    // Same machine, same clock: the true offset is 0, and a sample is off by at most half its round
    // trip, plus a millisecond for each clock read in whole ones (Date.now, TIME's microseconds).
    const error = Math.max(...calmTrips) / 2 + 2;
    assert.ok(Math.abs(calm) <= error, `offset ${calm} ms from samples of ${calmTrips.map(Math.round).join(', ')} ms round trip`);
    // On the counter's own connection, so TIME is queued behind the script: its answer waits
    // ~400 ms, and half of that would be taken for clock skew.
    const busy = client.eval(busyScript, 0, 400);
    const roundTrip = await counter.ping();
    await busy;
    assert.ok(roundTrip > 200, `TIME waited ${Math.round(roundTrip)} ms behind the script`);
    // That slow sample is dropped, not averaged in: nothing else sampled since, so the offset is the same.
    assert.equal(counter.clockOffset, calm, `offset moved from ${calm} to ${counter.clockOffset} ms`);
  });
});

describe("the counter's first clock sample on a connection whose answers come back slowly", () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let relay: HeldReplies;

  before(async () => {
    redis = await startRedis();
    relay = await HeldReplies.start(redis.server.port);
  });
  after(async () => {
    await relay.close();
    await redis.cleanup();
  });

  test("Redis ran TIME at the start of the round trip: the offset is read at its middle, half the round trip behind", async () => {
    const metrics = createMetrics();
    const client = createRedisClient({ url: relay.url, password: undefined, timeoutMs: 2_000 }, pino({ level: 'silent' }), metrics, 'clock-test');
    // Before the counter's own 'ready' handler sends its TIME: that answer waits in the relay.
    client.once('ready', () => relay.hold());
    const counter = new VisitCounter(client, { key: 'hits', idempotencyTtlSeconds: 30, timeoutMs: 2_000 }, metrics);
    try {
      const heldAt = await waitFor(() => relay.firstHeldReplyAt, { what: 'the answer to TIME held' });
      // The wire slow one way only, by 100 ms: the input, not a wait for anything.
      await waitFor(() => (performance.now() - heldAt >= 100 ? true : undefined), { what: 'the answer held 100 ms', intervalMs: 10 });
      relay.release();
      const seconds = await waitFor(async () => metricValue(await metrics.registry.metrics(), 'redis_command_duration_seconds_sum{command="time",outcome="ok"}'), {
        what: 'the TIME sample taken',
      });
      const roundTrip = seconds * 1_000;
      // Same machine, same clock: all of the offset is the assumed half round trip (Redis ran TIME a
      // moment after it was sent), give or take a millisecond for each clock read in whole ones.
      const offset = counter.clockOffset;
      assert.ok(roundTrip >= 100, `round trip ${roundTrip} ms`);
      assert.ok(offset >= -roundTrip / 2 - 2 && offset <= -roundTrip / 4, `offset ${offset} ms after a round trip of ${Math.round(roundTrip)} ms`);
    } finally {
      // A wait that failed above leaves the relay holding: the later tests need it passing answers.
      relay.release();
      client.disconnect();
    }
  });

  test('a lasting change of latency is followed within a few samples, never at the first slow one', async () => {
    const metrics = createMetrics();
    const client = createRedisClient({ url: relay.url, password: undefined, timeoutMs: 2_000 }, pino({ level: 'silent' }), metrics, 'clock-test');
    const counter = new VisitCounter(client, { key: 'hits', idempotencyTtlSeconds: 30, timeoutMs: 2_000 }, metrics);
    try {
      await redisReady(client);
      for (let i = 0; i < 6; i += 1) await counter.ping();
      const calm = counter.clockOffset;
      // From now on every answer comes back 50 ms late: the input, not a wait for anything.
      let followedAt: number | undefined;
      let roundTrip = 0;
      for (let sample = 1; sample <= 20 && followedAt === undefined; sample += 1) {
        relay.hold();
        const trip = counter.ping();
        const heldAt = await waitFor(() => relay.firstHeldReplyAt, { what: 'the answer to TIME held' });
        await waitFor(() => (performance.now() - heldAt >= 50 ? true : undefined), { what: 'the answer held 50 ms', intervalMs: 5 });
        relay.release();
        roundTrip = await trip;
        if (counter.clockOffset !== calm) followedAt = sample;
      }
      // The best round trip grows by half at each sample; a sample is taken once it is within twice the best.
      assert.ok(followedAt !== undefined && followedAt >= 3, `followed at sample ${String(followedAt)}`);
      assert.ok(counter.clockOffset <= -roundTrip / 4, `offset ${counter.clockOffset} ms after a round trip of ${Math.round(roundTrip)} ms`);
    } finally {
      client.disconnect();
    }
  });

  test('a new connection starts its clock afresh: its first sample is taken, however slow', async () => {
    const metrics = createMetrics();
    const client = createRedisClient({ url: relay.url, password: undefined, timeoutMs: 2_000 }, pino({ level: 'silent' }), metrics, 'clock-test');
    const counter = new VisitCounter(client, { key: 'hits', idempotencyTtlSeconds: 30, timeoutMs: 2_000 }, metrics);
    const samples = async (): Promise<number> => metricValue(await metrics.registry.metrics(), 'redis_command_duration_seconds_count{command="time",outcome="ok"}') ?? 0;
    try {
      await redisReady(client);
      for (let i = 0; i < 6; i += 1) await counter.ping();
      const before = await samples();
      // The new connection's answers come back 50 ms late, the first TIME's included.
      client.once('ready', () => relay.hold());
      client.disconnect(true);
      const heldAt = await waitFor(() => relay.firstHeldReplyAt, { what: 'the answer to TIME held' });
      await waitFor(() => (performance.now() - heldAt >= 50 ? true : undefined), { what: 'the answer held 50 ms', intervalMs: 5 });
      relay.release();
      await waitFor(async () => ((await samples()) > before ? true : undefined), { what: "the new connection's first sample" });
      assert.ok(counter.clockOffset <= -50 / 4, `offset ${counter.clockOffset} ms: the slow sample was not taken`);
    } finally {
      client.disconnect();
    }
  });

  test('one TIME per connection: counts racing its first sample share it, later counts send none', async () => {
    const metrics = createMetrics();
    const client = createRedisClient({ url: redis.url, password: undefined, timeoutMs: 2_000 }, pino({ level: 'silent' }), metrics, 'clock-test');
    const counter = new VisitCounter(client, { key: 'hits', idempotencyTtlSeconds: 30, timeoutMs: 2_000 }, metrics);
    const samples = async (): Promise<number> => metricValue(await metrics.registry.metrics(), 'redis_command_duration_seconds_count{command="time",outcome="ok"}') ?? 0;
    try {
      // Sent as the connection is ready, while the 'ready' handler's TIME is on its way.
      const racing = await new Promise<number[]>((resolve, reject) => {
        client.once('ready', () => {
          Promise.all([counter.increment(), counter.increment(), counter.increment()]).then(resolve, reject);
        });
      });
      assert.equal(racing.length, 3);
      for (let i = 0; i < 3; i += 1) await counter.increment();
      assert.equal(await samples(), 1);
    } finally {
      client.disconnect();
    }
  });
});

describe("the counter's last failure", () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.cleanup();
  });

  test('Redis gone: the failure names the refused connection until Redis answers again; a count meanwhile is refused at once, timed as the count', async () => {
    const metrics = createMetrics();
    const client = createRedisClient({ url: redis.url, password: undefined, timeoutMs: 2_000 }, pino({ level: 'silent' }), metrics, 'failure-test');
    const counter = new VisitCounter(client, { key: 'hits', idempotencyTtlSeconds: 30, timeoutMs: 2_000 }, metrics);
    try {
      await redisReady(client);
      assert.equal(counter.failure, undefined);
      await redis.server.stop();
      const failure = await waitFor(() => counter.failure, { what: 'a failure noted' });
      assert.match(failure, /ECONNREFUSED/);
      await assert.rejects(counter.increment(), /^Error: Stream isn't writeable/);
      const text = await metrics.registry.metrics();
      assert.equal(metricValue(text, 'redis_command_duration_seconds_count{command="incr",outcome="error"}'), 1);
      assert.equal(metricValue(text, 'redis_command_duration_seconds_count{command="time",outcome="error"}'), undefined, 'no clock sample tried while not connected');
      await redis.server.start();
      await waitFor(() => (client.status === 'ready' ? true : undefined), { what: 'the connection back' });
      assert.equal(counter.failure, undefined);
    } finally {
      client.disconnect();
    }
  });
});

describe('one Redis: the server the counter reached', () => {
  let first: Awaited<ReturnType<typeof startRedis>>;
  let second: Awaited<ReturnType<typeof startRedis>>;

  before(async () => {
    [first, second] = await Promise.all([startRedis(), startRedis()]);
  });
  after(async () => {
    await Promise.all([first.cleanup(), second.cleanup()]);
  });

  test('a reconnect that reaches another server names it, and is no failover (no Sentinels chose it)', async () => {
    const metrics = createMetrics();
    const client = createRedisClient({ url: first.url, password: undefined, timeoutMs: 2_000 }, pino({ level: 'silent' }), metrics, 'master-test');
    const counter = new VisitCounter(client, { key: 'hits', idempotencyTtlSeconds: 30, timeoutMs: 2_000 }, metrics);
    const address = (redis: TestRedis): string => `127.0.0.1:${String(redis.server.port)}`;
    try {
      await redisReady(client);
      assert.equal(counter.master, address(first));
      // What a name that resolves elsewhere after a restart does (compose gives a recreated
      // container a new address): the next connection reaches another server.
      client.options.port = second.server.port;
      client.disconnect(true);
      await waitFor(() => (client.status === 'ready' && counter.master === address(second) ? true : undefined), { what: 'the counter on the second server' });
      const text = await metrics.registry.metrics();
      assert.equal(metricValue(text, `redis_master_info{address="${address(second)}"}`), 1);
      assert.equal(metricValue(text, `redis_master_info{address="${address(first)}"}`), undefined);
      assert.equal(metricValue(text, 'redis_failovers_seen_total'), 0);
    } finally {
      client.disconnect();
    }
  });
});

// The true offset is 0 (same machine); a sample whose command or answer the relay held makes the
// counter believe otherwise, by half the hold: the input, so each deadline's side can be seen.
describe("the count's deadline, on Redis's clock as last sampled", () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let relay: HeldReplies;
  const countTimeoutMs = 800;
  const heldMs = 2_000;

  before(async () => {
    redis = await startRedis();
    relay = await HeldReplies.start(redis.server.port);
  });
  after(async () => {
    await relay.close();
    await redis.cleanup();
  });

  /** A counter over the relay whose first TIME (the 'ready' handler's) is held `heldMs` on the way named. */
  async function skewedCounter(way: 'command' | 'reply'): Promise<{ counter: VisitCounter; client: Redis }> {
    const metrics = createMetrics();
    // The client waits longer than the hold; the counter's deadline is half of its own, shorter, timeout.
    const client = createRedisClient({ url: relay.url, password: undefined, timeoutMs: heldMs * 3 }, pino({ level: 'silent' }), metrics, 'deadline-test');
    client.once('ready', () => (way === 'command' ? relay.holdCommands() : relay.hold()));
    const counter = new VisitCounter(client, { key: 'hits', idempotencyTtlSeconds: 30, timeoutMs: countTimeoutMs }, metrics);
    try {
      try {
        const heldAt = await waitFor(() => (way === 'command' ? relay.firstHeldCommandAt : relay.firstHeldReplyAt), { what: 'the first TIME held' });
        await waitFor(() => (performance.now() - heldAt >= heldMs ? true : undefined), { what: `the TIME held ${String(heldMs)} ms`, intervalMs: 10 });
      } finally {
        // Never left holding, or the next test's answers would wait for ever.
        relay.releaseCommands();
        relay.release();
      }
      await waitFor(async () => metricValue(await metrics.registry.metrics(), 'redis_command_duration_seconds_count{command="time",outcome="ok"}'), {
        what: 'the TIME sample taken',
      });
    } catch (error) {
      client.disconnect();
      throw error;
    }
    return { counter, client };
  }

  test('a sample that puts Redis ahead moves the deadline later on its clock: the count is made', async () => {
    const { counter, client } = await skewedCounter('command');
    try {
      assert.ok(counter.clockOffset >= countTimeoutMs / 2, `offset ${counter.clockOffset} ms`);
      assert.equal(typeof (await counter.increment()), 'number');
    } finally {
      client.disconnect();
    }
  });

  test("a new connection's first count waits for that connection's sample, not the last one's", async () => {
    const { counter, client } = await skewedCounter('reply');
    try {
      // Redis taken to be behind by more than the count's half timeout: a deadline from this sample would be past already.
      assert.ok(counter.clockOffset <= -countTimeoutMs / 2, `offset ${counter.clockOffset} ms`);
      const counted = new Promise<number>((resolve, reject) => {
        // After the counter's own 'ready' handler has sent the new connection's TIME.
        client.once('ready', () => {
          counter.increment().then(resolve, reject);
        });
      });
      client.disconnect(true);
      assert.equal(typeof (await counted), 'number');
      assert.ok(Math.abs(counter.clockOffset) < countTimeoutMs / 2, `offset ${counter.clockOffset} ms`);
    } finally {
      client.disconnect();
    }
  });

  test('Sentinel mode: no clock sample from the master, no count sent; NotCountedError says why', async () => {
    // The replicated path over one Redis behind the relay: the sample comes before any replica plays a part.
    const before = Number(await respRequest(redis.server.port, ['GET', 'hits']));
    const client = createRedisClient({ url: relay.url, password: undefined, timeoutMs: 300 }, pino({ level: 'silent' }), createMetrics(), 'deadline-test');
    const counter = new VisitCounter(client, { key: 'hits', idempotencyTtlSeconds: 30, timeoutMs: 300, replication: { replicas: 1, waitMs: 1 } }, createMetrics());
    try {
      // Hooked in the turn that made the client, before it can be ready.
      const refused = new Promise<unknown>((resolve) => {
        // The 'ready' handler's TIME goes out first; its answer is held past the client's timeout.
        client.once('ready', () => {
          relay.hold();
          counter.increment().then(resolve, resolve);
        });
      });
      const error = await refused;
      assert.ok(error instanceof Error);
      assert.equal(error.name, 'NotCountedError');
      assert.equal(error.message, 'the visit was not counted: no clock sample from the master (Command timed out)');
    } finally {
      relay.release();
      client.disconnect();
    }
    assert.equal(Number(await respRequest(redis.server.port, ['GET', 'hits'])), before, 'nothing counted');
  });
});
