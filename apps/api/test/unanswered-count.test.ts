import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@three-tier/processes';
import { Redis } from 'ioredis';
import request from 'supertest';
import { HeldReplies } from './held-replies.js';
import { buildApp, redisReady, startRedis, type TestApp } from './helpers.js';

// One Redis, no replicas: a 503 from /redis says in `visit` whether the visit may have been counted.
describe('GET /redis with one Redis: what a 503 says about the count', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let relay: HeldReplies;
  let api: TestApp;
  let direct: Redis;

  before(async () => {
    redis = await startRedis();
    relay = await HeldReplies.start(redis.server.port);
    api = await buildApp({ redisUrl: relay.url });
    direct = new Redis(redis.url, { lazyConnect: true });
    // It sees Redis stopped too, and reconnects by itself.
    direct.on('error', () => undefined);
    await direct.connect();
    await redisReady(api.redis);
    // A first count samples Redis's clock on this connection, so the next one sends the count alone.
    await request(api.server).get('/redis').expect(200);
  });
  after(async () => {
    direct.disconnect();
    await api.close();
    await relay.close();
    await redis.cleanup();
  });

  test('Redis ran the count but its answer did not come in time: 503 unconfirmed, and it was counted; a retry with the key gets that count', async () => {
    const before_ = Number(await direct.get('hits'));
    relay.hold();
    const answer = await request(api.server).get('/redis').set('Idempotency-Key', 'held-1');
    relay.release();
    assert.equal(answer.status, 503);
    assert.equal(answer.body.visit, 'unconfirmed');
    assert.match(answer.body.detail, /^The visit may have been counted: Redis got it but did not answer in time\. Retry with the same Idempotency-Key within 30 s and it is counted exactly once/);
    // What the 503 warned of: Redis counted it.
    assert.equal(Number(await direct.get('hits')), before_ + 1);

    // The api dropped the connection that timed out; the retry goes once it has a new one.
    await waitFor(async () => ((await request(api.server).get('/readyz')).status === 200 ? true : undefined), { what: 'the api ready again' });
    const retry = await request(api.server).get('/redis').set('Idempotency-Key', 'held-1').expect(200);
    assert.equal(retry.body.hits, before_ + 1, 'the retry got the first count');
    assert.equal(Number(await direct.get('hits')), before_ + 1, 'counted once');
  });

  test('the live page says the same: "Maybe counted", not "Not counted"', async () => {
    await waitFor(async () => ((await request(api.server).get('/readyz')).status === 200 ? true : undefined), { what: 'the api ready' });
    relay.hold();
    const page = await request(api.server).get('/html').set('Idempotency-Key', 'held-page');
    relay.release();
    assert.equal(page.status, 503);
    assert.match(page.text, /<h1 id="message" class="unavailable">Maybe counted: The visit may have been counted/);
  });

  test('Redis not reachable: 503 not-counted, and nothing was counted', async () => {
    const before_ = Number(await direct.get('hits'));
    await redis.server.stop();
    try {
      const answer = await request(api.server).get('/redis').set('Idempotency-Key', 'down-1');
      assert.equal(answer.status, 503);
      assert.equal(answer.body.visit, 'not-counted');
      assert.match(answer.body.detail, /Redis is not answering\. The visit was not counted/);
    } finally {
      await redis.server.start();
    }
    await direct.ping();
    assert.equal(Number(await direct.get('hits')), before_);
  });
});
