import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@three-tier/processes';
import { problemContentType, type CounterBody, type Problem, type ReadyBody } from '@three-tier/shared';
import { startStack, type TestStack } from './helpers.js';

describe('a Redis outage behind nginx', () => {
  let running: TestStack;
  let url: string;
  let hitsBefore: number;

  const hits = async (): Promise<number> => {
    const res = await fetch(`${url}/redis`);
    assert.equal(res.status, 200);
    return ((await res.json()) as CounterBody).hits;
  };

  before(async () => {
    running = await startStack('nginx');
    url = running.stack.url;
    await hits();
    hitsBefore = await hits();
  });
  after(async () => {
    await running.cleanup();
  });

  test('Redis stopped mid-run: /redis answers 503 problem+json within a second, every time', async () => {
    await running.stack.redis.stop();
    for (let i = 0; i < 5; i += 1) {
      const started = performance.now();
      const res = await fetch(`${url}/redis`);
      const elapsed = performance.now() - started;
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('content-type')?.split(';')[0], problemContentType);
      assert.equal(res.headers.get('retry-after'), '1');
      assert.match(((await res.json()) as Problem).detail, /Redis is not answering/);
      assert.ok(elapsed < 1_000, `answered in ${Math.round(elapsed)} ms`);
    }
  });

  test('meanwhile /readyz says why, /healthz and the api process live on', async () => {
    const ready = await fetch(`${url}/readyz`);
    assert.equal(ready.status, 503);
    const body = (await ready.json()) as Problem & { checks: ReadyBody['checks'] };
    assert.equal(body.checks.redis.status, 'fail');
    assert.equal(body.checks.shutdown.status, 'pass');
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    assert.ok(running.stack.api.running, 'a Redis outage never crashes the api');
  });

  test('Redis started again: everything recovers by itself, with the counter intact', async () => {
    await running.stack.redis.start();
    await waitFor(async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined), {
      what: 'readiness to recover',
      timeoutMs: 5_000,
    });
    assert.equal(await hits(), hitsBefore + 1);
  });

  test('Redis killed (SIGKILL) right after acknowledging: no acknowledged visit is lost', async () => {
    const acknowledged = await hits();
    running.stack.redis.signal('SIGKILL');
    await running.stack.redis.exited;
    await running.stack.redis.start();
    await waitFor(async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined), {
      what: 'readiness to recover',
      timeoutMs: 5_000,
    });
    assert.equal(await hits(), acknowledged + 1);
  });
});
