import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { faultRoutes, instanceAlias, instanceHue, noFaults, problemContentType, routes } from '@three-tier/shared';
import request from 'supertest';
import { appOnRedisSuite, buildApp, metricValue, testInstance, type TestApp, type TestRedis } from './helpers.js';

let redis: TestRedis;
let api: TestApp;
appOnRedisSuite((started) => ({ redis, api } = started));
afterEach(() => {
  api.faults.clear();
});

async function metric(series: string): Promise<number | undefined> {
  return metricValue((await request(api.server).get(routes.metrics.path)).text, series);
}

/** GET on a fresh connection: whether it was answered, and how. */
async function attempt(path: string): Promise<{ status: number } | { dropped: string }> {
  try {
    const res = await fetch(`http://127.0.0.1:${(api.server.address() as { port: number }).port}${path}`, {
      headers: { connection: 'close' },
    });
    await res.arrayBuffer();
    return { status: res.status };
  } catch (error) {
    return { dropped: String((error as Error & { cause?: Error }).cause?.message ?? error) };
  }
}

describe('GET /instance', () => {
  test('names the instance, its state, Redis and the count, and counts nothing', async () => {
    await request(api.server).get(routes.redis.path).expect(200);
    for (let i = 0; i < 5; i += 1) {
      const res = await request(api.server).get(routes.instance.path).expect(200);
      assert.equal(res.body.hostname, testInstance.hostname);
      assert.equal(res.body.alias, instanceAlias(testInstance.hostname));
      assert.equal(res.body.hue, instanceHue(testInstance.hostname));
      assert.equal(res.body.version, testInstance.version);
      assert.equal(res.body.state, 'ready');
      assert.equal(res.body.redis.state, 'up');
      assert.equal(typeof res.body.redis.latencyMs, 'number');
      assert.equal(res.body.hits, 1, 'polling reads the count and never adds to it');
      assert.deepEqual(res.body.faults, noFaults);
    }
    assert.equal(await api.redis.get('hits'), '1');
  });

  test('says draining while the instance shuts down', async () => {
    api.draining = true;
    try {
      const res = await request(api.server).get(routes.instance.path).expect(200);
      assert.equal(res.body.state, 'draining');
    } finally {
      api.draining = false;
    }
  });
});

describe('faults on demand, on the api port', () => {
  test('GET /faults: none at first', async () => {
    const res = await request(api.server).get(faultRoutes.list.path).expect(200);
    assert.deepEqual(res.body, noFaults);
  });

  test('unready: /readyz fails naming the fault, work is dropped unanswered, probes and metrics still answer', async () => {
    const set = await request(api.server).put(faultRoutes.unready.path).expect(200);
    assert.deepEqual(set.body, { ...noFaults, unready: true });

    const ready = await request(api.server).get(routes.readyz.path).expect(503);
    assert.equal(ready.body.checks.faults.status, 'fail');
    assert.match(ready.body.detail, /unready on demand/);
    for (const path of [routes.redis.path, routes.instance.path, routes.info.path, routes.html.path, routes.load.path]) {
      const outcome = await attempt(path);
      assert.ok('dropped' in outcome, `${path} must be dropped, got ${JSON.stringify(outcome)}`);
    }
    assert.equal(await api.redis.get('hits'), null, 'a dropped visit is not counted');
    await request(api.server).get(routes.healthz.path).expect(200);
    assert.equal(await metric('fault_active{fault="unready"}'), 1);
    assert.equal(await metric('fault_injections_total{fault="unready"}'), 5);

    const cleared = await request(api.server).delete(faultRoutes.unready.path).expect(200);
    assert.deepEqual(cleared.body, noFaults);
    await request(api.server).get(routes.readyz.path).expect(200);
    await request(api.server).get(routes.redis.path).expect(200);
    assert.equal(await metric('fault_active{fault="unready"}'), 0);
  });

  test('latency: work answers wait that long; probes do not', async () => {
    await request(api.server).put(`${faultRoutes.latency.path}?ms=300`).expect(200);
    const started = performance.now();
    await request(api.server).get(routes.redis.path).expect(200);
    assert.ok(performance.now() - started >= 300, 'the visit waited the injected latency');
    await request(api.server).get(routes.healthz.path).expect(200);
    await request(api.server).get(routes.readyz.path).expect(200);
    assert.equal(await metric('fault_injections_total{fault="latency"}'), 1, 'probes are never delayed');
    assert.equal(await metric('fault_latency_seconds'), 0.3);
    const res = await request(api.server).get(routes.instance.path).expect(200);
    assert.equal(res.body.faults.latencyMs, 300, '/instance shows the fault');
  });

  test('latency beyond the route deadline: the deadline answers 503, as for a slow instance', async () => {
    await request(api.server).put(`${faultRoutes.latency.path}?ms=2500`).expect(200);
    const res = await request(api.server).get(routes.redis.path).expect(503);
    assert.match(res.body.detail, /No answer within 2000 ms/);
    assert.equal(await api.redis.get('hits'), null, 'the visit it gave up on is not counted');
  });

  test('errors: that share of work requests gets a 500 problem naming the fault; none is counted', async () => {
    await request(api.server).put(`${faultRoutes.errors.path}?rate=1`).expect(200);
    const res = await request(api.server).get(routes.redis.path).expect(500);
    assert.equal(res.type, problemContentType);
    assert.match(res.body.detail, /Injected error: this instance fails 100% of its requests on demand/);
    assert.equal(await api.redis.get('hits'), null);
    await request(api.server).get(routes.healthz.path).expect(200);

    await request(api.server).put(`${faultRoutes.errors.path}?rate=0.5`).expect(200);
    const statuses = new Set<number>();
    for (let i = 0; i < 100; i += 1) statuses.add((await request(api.server).get(routes.info.path)).status);
    assert.deepEqual([...statuses].sort(), [200, 500], 'at one half, both answers occur');
    assert.equal(await metric('fault_error_ratio'), 0.5);
  });

  test('DELETE /faults clears them all at once', async () => {
    await request(api.server).put(faultRoutes.unready.path).expect(200);
    await request(api.server).put(`${faultRoutes.latency.path}?ms=10`).expect(200);
    await request(api.server).put(`${faultRoutes.errors.path}?rate=0.1`).expect(200);
    const all = await request(api.server).get(faultRoutes.list.path).expect(200);
    assert.deepEqual(all.body, { unready: true, latencyMs: 10, errorRate: 0.1 });
    const res = await request(api.server).delete(faultRoutes.list.path).expect(200);
    assert.deepEqual(res.body, noFaults);
    for (const fault of ['unready', 'latency', 'errors']) assert.equal(await metric(`fault_active{fault="${fault}"}`), 0);
  });

  test('exit: answers 202, then asks the process to exit', async () => {
    const res = await request(api.server).post(faultRoutes.exit.path).expect(202);
    assert.equal(res.body.hostname, testInstance.hostname);
    assert.equal(api.exits, 1);
  });

  test('bad parameters get a 400 problem and change nothing', async () => {
    for (const query of ['', '?ms=0', '?ms=10001', '?ms=1.5', '?ms=abc', '?ms=100&ms=200']) {
      const res = await request(api.server).put(`${faultRoutes.latency.path}${query}`).expect(400);
      assert.equal(res.type, problemContentType);
      assert.match(res.body.detail, /ms must be an integer from 1 to 10000/);
    }
    for (const query of ['', '?rate=2', '?rate=-0.1', '?rate=1.5', '?rate=NaN', '?rate=1e-1']) {
      const res = await request(api.server).put(`${faultRoutes.errors.path}${query}`).expect(400);
      assert.match(res.body.detail, /rate must be a number from 0 to 1/);
    }
    assert.deepEqual((await request(api.server).get(faultRoutes.list.path)).body, noFaults);
  });

  test('other methods get 405 with Allow', async () => {
    const exits = api.exits;
    for (const route of Object.values(faultRoutes)) {
      for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
        if ((route.methods as readonly string[]).includes(method.toUpperCase())) continue;
        const res = await request(api.server)[method](route.path);
        assert.equal(res.status, 405, `${method} ${route.path}`);
        assert.equal(res.headers.allow, route.methods.join(', '));
      }
    }
    assert.equal(api.exits, exits, 'no method but POST makes it exit');
  });
});

describe('with FAULTS=off', () => {
  let off: TestApp;
  before(async () => {
    off = await buildApp({ redisUrl: redis.url, faultRoutes: false });
  });
  after(async () => {
    await off.close();
  });

  test('every fault route answers 404', async () => {
    for (const route of Object.values(faultRoutes)) {
      for (const method of route.methods) {
        const res = await request(off.server)[method.toLowerCase() as 'get' | 'head' | 'put' | 'post' | 'delete'](route.path);
        assert.equal(res.status, 404, `${method} ${route.path}`);
      }
    }
    assert.equal(off.exits, 0);
  });
});
