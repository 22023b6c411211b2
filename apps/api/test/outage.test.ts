import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@three-tier/processes';
import { problemContentType } from '@three-tier/shared';
import request from 'supertest';
import { buildApp, redisReady, startRedis, type TestApp } from './helpers.js';

/** How long `count` requests made at once by `send` take to be answered, in ms. */
async function burstMs(count: number, send: (i: number) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await Promise.all(Array.from({ length: count }, (_, i) => send(i)));
  return performance.now() - started;
}

describe('when Redis goes away', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let api: TestApp;
  let before_: number;

  before(async () => {
    redis = await startRedis();
    api = await buildApp({ redisUrl: redis.url });
    await redisReady(api.redis);
    await request(api.server).get('/redis').expect(200);
    before_ = (await request(api.server).get('/redis').expect(200)).body.hits;
  });
  after(async () => {
    await api.close();
    await redis.cleanup();
  });

  test('stopped: /redis answers 503 within a second, /readyz names Redis, /healthz stays 200', async () => {
    await redis.server.stop();
    const started = performance.now();
    const res = await request(api.server).get('/redis');
    const elapsed = performance.now() - started;
    assert.equal(res.status, 503);
    assert.equal(res.type, problemContentType);
    assert.equal(res.headers['retry-after'], '1');
    assert.match(res.body.detail, /Redis is not answering/);
    assert.ok(elapsed < 1_000, `answered in ${Math.round(elapsed)} ms`);

    const ready = await request(api.server).get('/readyz');
    assert.equal(ready.status, 503);
    assert.equal(ready.body.checks.redis.status, 'fail');
    assert.match(ready.body.detail, /redis/);
    await request(api.server).get('/healthz').expect(200);
  });

  test('stopped: /html still renders, with a 503 and the instance name', async () => {
    const res = await request(api.server).get('/html');
    assert.equal(res.status, 503);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(res.text, /The visit counter is unavailable/);
    assert.match(res.text, /test-host/);
  });

  test('started again: everything recovers by itself and the count is intact', async () => {
    await redis.server.start();
    await waitFor(async () => ((await request(api.server).get('/readyz')).status === 200 ? true : undefined), {
      what: '/readyz to recover',
      timeoutMs: 5_000,
    });
    const res = await request(api.server).get('/redis').expect(200);
    assert.equal(res.body.hits, before_ + 1);
  });

  test('hung (SIGSTOP): /redis and /readyz give up within a second, and what they refused is never counted', async () => {
    const countBefore = Number(await api.redis.get('hits'));
    redis.server.signal('SIGSTOP');
    try {
      // The same number of requests that touch no Redis, just before: what answering them costs on
      // this machine right now (two test files at once on two busy cores, say), set apart from the
      // timeout under test.
      const reference = await burstMs(22, () => request(api.server).get('/healthz'));
      const started = performance.now();
      // Twenty visits sent with the first, so all of them reach the frozen Redis before the first
      // timeout drops the connection: when it wakes, it runs every one, and must count none.
      const [counted, ready, ...queued] = await Promise.all([
        request(api.server).get('/redis'),
        request(api.server).get('/readyz'),
        ...Array.from({ length: 20 }, (_, i) => request(api.server).get('/redis').set('Idempotency-Key', `queued-${i}`)),
      ]);
      const elapsed = performance.now() - started;
      assert.equal(counted.status, 503);
      assert.equal(ready.status, 503);
      assert.deepEqual(new Set(queued.map((answer) => answer.status)), new Set([503]));
      // Within a second of the machine's own cost: each waited one timeout (500 ms), not one after another.
      assert.ok(elapsed - reference < 1_000, `answered in ${Math.round(elapsed)} ms, ${Math.round(reference)} ms of it what 22 requests cost now`);
      await request(api.server).get('/healthz').expect(200);

      // Many at once, as under load, each with a key of its own: the connection the first timeout
      // dropped refuses them at once, so none waits for a timeout of its own, nor behind another's.
      const burstReference = await burstMs(20, () => request(api.server).get('/healthz'));
      const answers: { status: number }[] = [];
      const burstElapsed = await burstMs(20, async (i) => answers.push(await request(api.server).get('/redis').set('Idempotency-Key', `frozen-${i}`)));
      assert.deepEqual(new Set(answers.map((answer) => answer.status)), new Set([503]));
      const timeoutMs = 500;
      assert.ok(
        burstElapsed - burstReference < timeoutMs,
        `20 at once answered in ${Math.round(burstElapsed)} ms, ${Math.round(burstReference)} ms of it what 20 requests cost now`,
      );
      console.log(`frozen Redis: 22 at once in ${Math.round(elapsed)} ms (reference ${Math.round(reference)} ms); then 20 in ${Math.round(burstElapsed)} ms (reference ${Math.round(burstReference)} ms)`);
    } finally {
      redis.server.signal('SIGCONT');
    }
    await waitFor(async () => ((await request(api.server).get('/readyz')).status === 200 ? true : undefined), {
      what: '/readyz to recover',
    });
    // Redis ran what was sent before it froze once it woke, past the deadline: nothing was counted,
    // as the 503s said. A retry with the same key is counted now, once.
    assert.equal(Number(await api.redis.get('hits')), countBefore);
    const retried = await request(api.server).get('/redis').set('Idempotency-Key', 'frozen-0').expect(200);
    assert.equal(retried.body.hits, countBefore + 1);
    const again = await request(api.server).get('/redis').set('Idempotency-Key', 'frozen-0').expect(200);
    assert.equal(again.body.hits, countBefore + 1);
  });
});
