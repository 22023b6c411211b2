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

  test('refills only what the time gone by pays for', () => {
    let now = 0;
    const limiter = new RateLimiter(10, 4, () => now);
    for (let i = 0; i < 5; i += 1) assert.equal(limiter.take('a'), true, `burst ${i}`);
    assert.equal(limiter.take('a'), false);
    now += 100; // one token, not the whole bucket
    assert.equal(limiter.take('a'), true);
    assert.equal(limiter.take('a'), false);
  });

  test('a client is forgotten once its bucket would be full (capacity / rate), not before', () => {
    let now = 1_000;
    const limiter = new RateLimiter(10, 4, () => now);
    limiter.take('a');
    now += 499; // 5 tokens at 10 per second refill in 500 ms
    limiter.forgetIdle();
    assert.equal(limiter.size, 1);
    now += 1;
    limiter.forgetIdle();
    assert.equal(limiter.size, 0);
  });

  test('forgets idle clients by itself only past 10,000 of them', () => {
    let now = 0;
    const limiter = new RateLimiter(10, 4, () => now);
    limiter.take('a');
    now += 10_000;
    limiter.take('b');
    assert.equal(limiter.size, 2, 'a few idle clients are kept');
    for (let i = 0; i < 9_998; i += 1) limiter.take(`c${i}`);
    assert.equal(limiter.size, 10_000, 'at 10,000 clients, the idle one is still kept');
    for (let i = 9_998; i < 10_000; i += 1) limiter.take(`c${i}`);
    assert.equal(limiter.size, 10_001, 'a went as the count passed 10,000; the rest are fresh');
    now += 10_000;
    limiter.take('d');
    assert.equal(limiter.size, 1, 'past 10,000, the idle ones go');
  });
});

