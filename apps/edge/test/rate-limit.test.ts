import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RateLimiter } from '../src/rate-limit.js';

describe('RateLimiter', () => {
  test('lets burst + 1 through at once, like nginx with nodelay, then refuses', () => {
    const now = 0;
    const limiter = new RateLimiter(10, 20, () => now);
    const allowed = Array.from({ length: 30 }, () => limiter.take('a')).filter(Boolean).length;
    assert.equal(allowed, 21);
  });

  test('refills at the rate, per client', () => {
    let now = 0;
    const limiter = new RateLimiter(10, 0, () => now);
    assert.equal(limiter.take('a'), true);
    assert.equal(limiter.take('a'), false);
    assert.equal(limiter.take('b'), true, 'another client has its own bucket');
    now += 100; // 10 per second: one token every 100 ms
    assert.equal(limiter.take('a'), true);
    assert.equal(limiter.take('a'), false);
  });

  test('forgets clients whose buckets are full again', () => {
    let now = 0;
    const limiter = new RateLimiter(10, 4, () => now);
    limiter.take('a');
    limiter.take('b');
    assert.equal(limiter.size, 2);
    now += 10_000;
    limiter.forgetIdle();
    assert.equal(limiter.size, 0);
  });
});
