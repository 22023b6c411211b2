import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@three-tier/processes';
import { problemContentType } from '@three-tier/shared';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import request from 'supertest';
import { buildApp, metricValue, redisReady, startRedis, type TestApp } from './helpers.js';

/** Keeps Redis busy for `ms` inside one script: every other command waits behind it. */
const busyScript = `
local start = redis.call('TIME')
repeat
  local now = redis.call('TIME')
until (now[1] - start[1]) * 1000000 + (now[2] - start[2]) > tonumber(ARGV[1]) * 1000
return 1`;

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
    assert.match(ready.body.checks.redis.detail, /^not connected \(\w+\)$/, 'said plainly, not in the client library’s words');
    assert.equal(ready.body.detail, `Not ready: redis (${ready.body.checks.redis.detail}).`);
    await request(api.server).get('/healthz').expect(200);
  });

  test('stopped: /instance says Redis is down and the instance unready, and shows no count', async () => {
    const res = await request(api.server).get('/instance').expect(200);
    assert.equal(res.body.state, 'unready');
    assert.equal(res.body.hits, null);
    assert.equal(res.body.redis.state, 'down');
    assert.match(res.body.redis.detail, /^Redis is not reachable \(.+\); the api keeps trying\.$/);
    assert.equal(res.body.redis.latencyMs, undefined);
  });

  test('stopped: /html still renders, with a 503 and the instance name', async () => {
    const res = await request(api.server).get('/html');
    assert.equal(res.status, 503);
    assert.equal(res.headers['retry-after'], '1');
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

      // Connected, or connecting, but silent: frozen, not gone.
      const instance = await request(api.server).get('/instance').expect(200);
      assert.equal(instance.body.state, 'unready');
      assert.equal(instance.body.hits, null);
      assert.equal(instance.body.redis.state, 'frozen');
      assert.match(instance.body.redis.detail, /^Redis does not answer in time \(.*(timed out|ETIMEDOUT).*\); the api keeps trying\.$/i);
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

describe('when Redis answers after a route’s deadline has answered', () => {
  // REDIS_TIMEOUT_MS may be longer than the 2 s deadline of /redis, /html and /instance. The
  // deadline's 503 is then the answer, and what Redis returns afterwards must be dropped without a
  // second try at answering (which Express would report as an error after the response started).
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let api: TestApp;
  let other: Redis;
  const lines: { level: number; msg: string }[] = [];

  before(async () => {
    redis = await startRedis();
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as (typeof lines)[number]);
        done();
      },
    });
    api = await buildApp({ redisUrl: redis.url, redisTimeoutMs: 6_000, logger: pino({ level: 'warn' }, sink) });
    other = new Redis(redis.url);
    await redisReady(api.redis);
  });
  after(async () => {
    other.disconnect();
    await api.close();
    await redis.cleanup();
  });

  test('the late answer is dropped: nothing is sent twice', async () => {
    const answered = (command: string): Promise<number> =>
      api.metrics.registry.metrics().then((text) => metricValue(text, `redis_command_duration_seconds_count{command="${command}",outcome="ok"}`) ?? 0);
    const before = { incr: await answered('incr'), get: await answered('get') };
    // Redis busy for 2.3 s in one script: every command waits behind it, past the deadline.
    const busy = other.eval(busyScript, 0, 2_300);
    const answers = await Promise.all(['/redis', '/html', '/instance'].map((path) => request(api.server).get(path)));
    assert.deepEqual(
      answers.map((res) => [res.status, res.body.detail]),
      [
        [503, 'No answer within 2000 ms.'],
        [503, 'No answer within 2000 ms.'],
        [503, 'No answer within 2000 ms.'],
      ],
    );
    await busy;
    // The handlers resume once Redis answers them: two counts and one read.
    await waitFor(async () => ((await answered('incr')) === before.incr + 2 && (await answered('get')) === before.get + 1 ? true : undefined), {
      what: 'Redis to answer the three handlers',
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(lines.filter((line) => line.msg === 'error after the response started'), []);
  });
});
