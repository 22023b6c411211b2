import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createMetrics } from '../src/metrics.js';
import { createRedisClient } from '../src/redis/client.js';
import { VisitCounter } from '../src/redis/counter.js';
import { redisReady, startRedis } from './helpers.js';

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
  let other: Redis;
  let counter: VisitCounter;

  before(async () => {
    redis = await startRedis();
    client = createRedisClient({ url: redis.url, password: undefined, timeoutMs: 2_000 }, pino({ level: 'silent' }), createMetrics(), 'clock-test');
    counter = new VisitCounter(client, { key: 'hits', idempotencyTtlSeconds: 30, timeoutMs: 2_000 }, createMetrics());
    other = new Redis(redis.url);
    await redisReady(client);
  });
  after(async () => {
    client.disconnect();
    other.disconnect();
    await redis.cleanup();
  });

  test('a TIME that waited behind a busy Redis does not move the offset (deadlines stay honest)', async () => {
    for (let i = 0; i < 5; i += 1) await counter.ping();
    const calm = counter.clockOffset;
    // Same machine, same clock: the true offset is 0, and a fast sample says so within a few ms.
    assert.ok(Math.abs(calm) < 5, `offset ${calm} ms from fast samples`);
    const busy = other.eval(busyScript, 0, 400);
    // Sent while the script runs: its answer waits ~400 ms, and half of that would be taken for clock skew.
    await new Promise((resolve) => setImmediate(resolve));
    const roundTrip = await counter.ping();
    await busy;
    assert.ok(roundTrip > 200, `TIME waited ${Math.round(roundTrip)} ms behind the script`);
    assert.ok(Math.abs(counter.clockOffset - calm) < 5, `offset moved from ${calm} to ${counter.clockOffset} ms`);
  });
});
