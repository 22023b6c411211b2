import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Writable } from 'node:stream';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { waitFor } from '@three-tier/processes';
import { faultRoutes, instanceAlias, instanceHue, noFaults, problemContentType, routes } from '@three-tier/shared';
import { pino } from 'pino';
import request from 'supertest';
import { FaultSwitch } from '../src/faults/fault-switch.js';
import { createMetrics } from '../src/metrics.js';
import { buildApp, metricValue, rawRequest, redisReady, startRedis, testInstance, type TestApp, type TestRedis } from './helpers.js';

let redis: TestRedis;
let api: TestApp;
/** The app's warnings and errors: fault changes are logged at warn. */
const logLines: { level: number; msg: string; faults?: unknown }[] = [];

before(async () => {
  redis = await startRedis();
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as (typeof logLines)[number]);
      done();
    },
  });
  api = await buildApp({ redisUrl: redis.url, logger: pino({ level: 'warn' }, sink) });
  await redisReady(api.redis);
});
after(async () => {
  await api.close();
  await redis.cleanup();
});
beforeEach(async () => {
  await api.redis.del('hits');
});
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
      const started = performance.now();
      const res = await request(api.server).get(routes.instance.path).expect(200);
      const wallMs = performance.now() - started;
      assert.ok(res.body.redis.latencyMs > 0 && res.body.redis.latencyMs <= wallMs, `Redis ${res.body.redis.latencyMs} ms within ${wallMs} ms`);
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

  test('latency: a client that leaves while it waits is not counted', async () => {
    await request(api.server).put(`${faultRoutes.latency.path}?ms=300`).expect(200);
    const injected = (await metric('fault_injections_total{fault="latency"}')) ?? 0;
    const gone = httpRequest(`http://127.0.0.1:${(api.server.address() as AddressInfo).port}${routes.redis.path}`);
    gone.on('error', () => undefined);
    gone.end();
    await waitFor(async () => ((await metric('fault_injections_total{fault="latency"}')) === injected + 1 ? true : undefined), {
      what: 'the visit to start waiting',
    });
    gone.destroy();
    // Sent after it and waiting as long, this one is answered after the first one's wait is over.
    const next = await request(api.server).get(routes.redis.path).expect(200);
    assert.equal(next.body.hits, 1);
    assert.equal(await api.redis.get('hits'), '1', 'the visit whose client left was not counted');
  });

  test('latency beyond the route deadline: the deadline answers 503, as for a slow instance', async () => {
    await request(api.server).put(`${faultRoutes.latency.path}?ms=2500`).expect(200);
    const res = await request(api.server).get(routes.redis.path).expect(503);
    assert.equal(res.body.detail, 'No answer within 2000 ms.');
    assert.equal(res.headers['retry-after'], '1');
    assert.equal(await api.redis.get('hits'), null, 'the visit it gave up on is not counted');
  });

  test('errors: that share of work requests gets a 500 problem naming the fault; none is counted', async () => {
    await request(api.server).put(`${faultRoutes.errors.path}?rate=1`).expect(200);
    const delayed = await metric('fault_injections_total{fault="latency"}');
    const res = await request(api.server).get(routes.redis.path).expect(500);
    assert.equal(await metric('fault_injections_total{fault="latency"}'), delayed, 'no latency is injected when none is set');
    assert.equal(res.type, problemContentType);
    assert.match(res.body.detail, /Injected error: this instance fails 100% of its requests on demand/);
    assert.equal(await api.redis.get('hits'), null);
    await request(api.server).get(routes.healthz.path).expect(200);

    assert.equal(await metric('fault_injections_total{fault="errors"}'), 1);

    await request(api.server).put(`${faultRoutes.errors.path}?rate=0.5`).expect(200);
    const statuses: number[] = [];
    for (let i = 0; i < 100; i += 1) statuses.push((await request(api.server).get(routes.info.path)).status);
    assert.deepEqual([...new Set(statuses)].sort(), [200, 500], 'at one half, both answers occur');
    assert.equal(await metric('fault_injections_total{fault="errors"}'), 1 + statuses.filter((status) => status === 500).length);
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

  test('exit: answers 202 on a connection it closes, then asks the process to exit, once', async (t) => {
    // The exit waits for the client to hang up, or 500 ms: fake timers show it is not asked twice.
    const closed = new Promise<void>((resolve) => api.server.once('connection', (socket: Socket) => socket.once('close', () => resolve())));
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const exits = api.exits;
    const res = await rawRequest(api.server, `POST ${faultRoutes.exit.path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`);
    assert.equal(res.status, 202);
    assert.equal(res.headers.connection, 'close');
    assert.deepEqual(JSON.parse(res.body), {
      status: 'exiting',
      hostname: testInstance.hostname,
      detail: 'exits with code 1 now, as a crash would: no drain',
    });
    await closed;
    assert.equal(api.exits, exits + 1, 'asked to exit once the connection closed');
    t.mock.timers.tick(1_000);
    assert.equal(api.exits, exits + 1);
  });

  test('bad parameters get a 400 problem and change nothing', async () => {
    for (const query of ['', '?ms=0', '?ms=10001', '?ms=99999', '?ms=1.5', '?ms=abc', '?ms=100&ms=200', '?ms=x10', '?ms=10x', '?ms=010', '?ms=%2010']) {
      const res = await request(api.server).put(`${faultRoutes.latency.path}${query}`).expect(400);
      assert.equal(res.type, problemContentType);
      assert.match(res.body.detail, /ms must be an integer from 1 to 10000/);
    }
    for (const query of ['', '?rate=2', '?rate=-0.1', '?rate=1.5', '?rate=NaN', '?rate=1e-1', '?rate=1.000001', '?rate=0.1234567', '?rate=00.5', '?rate=x0.5', '?rate=0.5x', '?rate=0.', '?rate=2.5']) {
      const res = await request(api.server).put(`${faultRoutes.errors.path}${query}`).expect(400);
      assert.match(res.body.detail, /rate must be a number from 0 to 1/);
    }
    assert.deepEqual((await request(api.server).get(faultRoutes.list.path)).body, noFaults);
  });

  test('the limits themselves are good parameters', async () => {
    for (const [query, latencyMs] of [['1', 1], ['10000', 10_000], ['999', 999]] as const) {
      assert.equal((await request(api.server).put(`${faultRoutes.latency.path}?ms=${query}`).expect(200)).body.latencyMs, latencyMs, query);
    }
    for (const [query, errorRate] of [['0', 0], ['1', 1], ['1.0', 1], ['.5', 0.5], ['0.25', 0.25], ['0.000001', 0.000001], ['1.000000', 1]] as const) {
      assert.equal((await request(api.server).put(`${faultRoutes.errors.path}?rate=${query}`).expect(200)).body.errorRate, errorRate, query);
    }
  });

  test('a rate without its leading zero takes up to six decimals too', async () => {
    for (const [query, errorRate] of [['.25', 0.25], ['.000001', 0.000001], ['.999999', 0.999999]] as const) {
      assert.equal((await request(api.server).put(`${faultRoutes.errors.path}?rate=${query}`).expect(200)).body.errorRate, errorRate, query);
    }
    await request(api.server).put(`${faultRoutes.errors.path}?rate=.1234567`).expect(400);
  });

  test('each fault clears on its own, leaving the others on', async () => {
    await request(api.server).put(faultRoutes.unready.path).expect(200);
    await request(api.server).put(`${faultRoutes.latency.path}?ms=10`).expect(200);
    await request(api.server).put(`${faultRoutes.errors.path}?rate=0.1`).expect(200);
    const latency = await request(api.server).delete(faultRoutes.latency.path).expect(200);
    assert.deepEqual(latency.body, { unready: true, latencyMs: 0, errorRate: 0.1 });
    assert.equal(await metric('fault_active{fault="latency"}'), 0);
    assert.equal(await metric('fault_active{fault="errors"}'), 1);
    const errors = await request(api.server).delete(faultRoutes.errors.path).expect(200);
    assert.deepEqual(errors.body, { unready: true, latencyMs: 0, errorRate: 0 });
    assert.equal(await metric('fault_active{fault="errors"}'), 0);
    assert.equal(await metric('fault_active{fault="unready"}'), 1);
    const unready = await request(api.server).delete(faultRoutes.unready.path).expect(200);
    assert.deepEqual(unready.body, noFaults);
  });

  test('every change is logged as a warning, with the faults now in force', async () => {
    logLines.length = 0;
    await request(api.server).put(faultRoutes.unready.path).expect(200);
    await request(api.server).put(`${faultRoutes.latency.path}?ms=20`).expect(200);
    await request(api.server).put(`${faultRoutes.errors.path}?rate=0.5`).expect(200);
    await request(api.server).delete(faultRoutes.errors.path).expect(200);
    await request(api.server).delete(faultRoutes.latency.path).expect(200);
    await request(api.server).delete(faultRoutes.unready.path).expect(200);
    await request(api.server).delete(faultRoutes.list.path).expect(200);
    const changes = logLines.filter((line) => line.msg.startsWith('fault '));
    assert.deepEqual(
      changes.map((line) => [line.level, line.msg]),
      [
        [40, 'fault unready set on demand'],
        [40, 'fault latency set on demand'],
        [40, 'fault errors set on demand'],
        [40, 'fault errors cleared on demand'],
        [40, 'fault latency cleared on demand'],
        [40, 'fault unready cleared on demand'],
        [40, 'fault all cleared on demand'],
      ],
    );
    assert.deepEqual(changes[2]?.faults, { unready: true, latencyMs: 20, errorRate: 0.5 });
    assert.deepEqual(changes[6]?.faults, noFaults);
  });

  test('fault routes are labelled by their path in the metrics', async () => {
    await request(api.server).put(`${faultRoutes.latency.path}?ms=5`).expect(200);
    assert.ok(((await metric('http_request_duration_seconds_count{method="PUT",route="/faults/latency",status_code="200"}')) ?? 0) >= 1);
    await request(api.server).get(faultRoutes.list.path).expect(200);
    assert.ok(((await metric('http_request_duration_seconds_count{method="GET",route="/faults",status_code="200"}')) ?? 0) >= 1);
  });

  test('other methods get 405 with Allow', async () => {
    const exits = api.exits;
    for (const route of Object.values(faultRoutes)) {
      for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
        if ((route.methods as readonly string[]).includes(method.toUpperCase())) continue;
        const res = await request(api.server)[method](route.path);
        assert.equal(res.status, 405, `${method} ${route.path}`);
        assert.equal(res.headers.allow, route.methods.join(', '));
        assert.equal(res.body.detail, `${route.path} answers ${route.methods.join(', ')} only.`);
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

describe('FaultSwitch', () => {
  test('publishes its gauges from the start: every fault off, before anyone touches it', async () => {
    const metrics = createMetrics();
    const faults = new FaultSwitch(metrics);
    const text = await metrics.registry.metrics();
    for (const name of ['unready', 'latency', 'errors']) assert.equal(metricValue(text, `fault_active{fault="${name}"}`), 0, name);
    assert.equal(metricValue(text, 'fault_latency_seconds'), 0);
    assert.equal(metricValue(text, 'fault_error_ratio'), 0);
    assert.equal(faults.active, false);
  });

  test('each gauge follows its own fault, and the switch is active exactly while one is on', async () => {
    const metrics = createMetrics();
    const faults = new FaultSwitch(metrics);
    const changes: [Partial<typeof noFaults>, 'unready' | 'latency' | 'errors'][] = [
      [{ unready: true }, 'unready'],
      [{ latencyMs: 50 }, 'latency'],
      [{ errorRate: 0.25 }, 'errors'],
    ];
    for (const [change, name] of changes) {
      faults.set(change);
      assert.equal(faults.active, true, `${name} on`);
      const text = await metrics.registry.metrics();
      for (const other of ['unready', 'latency', 'errors']) assert.equal(metricValue(text, `fault_active{fault="${other}"}`), other === name ? 1 : 0, `${other} while ${name} is on`);
      // Cleared to all off, the work routes take their fast path again.
      faults.clear();
      assert.equal(faults.active, false, `${name} cleared`);
      assert.deepEqual(faults.state, noFaults);
    }
  });
});
