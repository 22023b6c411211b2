import assert from 'node:assert/strict';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@three-tier/processes';
import { load, problemContentType, routes } from '@three-tier/shared';
import express from 'express';
import { pino } from 'pino';
import request from 'supertest';
import { problemHandler } from '../src/http/problem.js';
import { routeContext } from '../src/http/request-context.js';
import { burn, threadCpuClock } from '../src/load/burn.js';
import { cpuBudget } from '../src/load/cpu-budget.js';
import { loadHandler, parseMs } from '../src/routes/load.js';
import { createHttpServer } from '../src/server.js';
import { buildApp, metricValue, redisReady, startRedis, testInstance, type TestApp } from './helpers.js';

interface LogLine {
  readonly level: number;
  readonly msg: string;
}

/** A stream that parses pino's lines into `lines`. */
function sinkInto(lines: LogLine[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
}

let redis: Awaited<ReturnType<typeof startRedis>>;

before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis.cleanup();
});

/** The api's own server and its URL, for tests that need a real socket. */
function listen(api: TestApp): { server: Server; url: string } {
  return { server: api.server, url: `http://127.0.0.1:${(api.server.address() as AddressInfo).port}` };
}

async function metrics(api: TestApp): Promise<string> {
  return (await request(api.server).get('/metrics')).text;
}

describe('?ms=', () => {
  test('defaults to 100 and takes plain integers from 1 to 5000', () => {
    assert.equal(parseMs(undefined), load.defaultMs);
    assert.equal(parseMs('1'), 1);
    assert.equal(parseMs('5000'), 5000);
  });

  test('anything else is a 400 naming the range', async () => {
    const api = await buildApp({ redisUrl: redis.url });
    try {
      for (const query of ['ms=0', 'ms=5001', 'ms=abc', 'ms=1.5', 'ms=-1', 'ms=', 'ms=1e3', 'ms=+5', 'ms=05', 'ms=1&ms=2', 'ms=1%20']) {
        const res = await request(api.server).get(`/load?${query}`);
        assert.equal(res.status, 400, query);
        assert.equal(res.type, problemContentType);
        assert.equal(res.body.detail, 'ms must be an integer from 1 to 5000 (CPU milliseconds).');
      }
    } finally {
      await api.close();
    }
  });
});

describe('GET /load', () => {
  test('burns the CPU time asked for, measured on the worker thread', async () => {
    const api = await buildApp({ redisUrl: redis.url });
    try {
      const res = await request(api.server).get('/load?ms=150').expect(200).expect('content-type', /^application\/json/);
      assert.equal(res.body.requestedMs, 150);
      // CPU time, to the hundredth of a millisecond: at least what was asked, and not ten times it.
      assert.ok(res.body.cpuMs >= 150 && res.body.cpuMs < 1_500, `cpuMs ${res.body.cpuMs}`);
      assert.equal(res.body.hostname, 'test-host');
      assert.ok((metricValue(await metrics(api), 'load_cpu_seconds_total') ?? 0) >= 0.15);
      assert.equal(metricValue(await metrics(api), 'load_jobs_total{outcome="completed"}'), 1);
    } finally {
      await api.close();
    }
  });

  test('leaves the event loop free: /healthz and /redis answer while the worker burns', async () => {
    // One worker, not one per core: the test is about the event loop, and on a loaded 2-core CI
    // machine two burning workers starved Redis past the count's deadline (a 503, seen in CI).
    const api = await buildApp({ redisUrl: redis.url, workers: 1 });
    await redisReady(api.redis);
    try {
      const order: string[] = [];
      const load = request(api.server)
        .get('/load?ms=1500')
        .expect(200)
        .then(() => order.push('load'));
      await waitFor(async () => (metricValue(await metrics(api), 'load_workers_busy') === 1 ? true : undefined), {
        what: 'the worker busy',
      });
      await request(api.server).get('/healthz').expect(200);
      order.push('healthz');
      await request(api.server).get('/redis').expect(200);
      order.push('redis');
      await load;
      assert.deepEqual(order, ['healthz', 'redis', 'load']);
    } finally {
      await api.close();
    }
  });

  test('when workers and queue are full, refuses with 503 and Retry-After instead of queueing forever', async () => {
    const api = await buildApp({ redisUrl: redis.url, workers: 1, queue: 1 });
    try {
      const answers = await Promise.all([1, 2, 3].map(() => request(api.server).get('/load?ms=400')));
      const statuses = answers.map((res) => res.status).sort();
      assert.deepEqual(statuses, [200, 200, 503]);
      const refused = answers.find((res) => res.status === 503);
      assert.equal(refused?.headers['retry-after'], '1');
      assert.equal(refused?.type, problemContentType);
      assert.match(refused?.body.detail ?? '', /busy/i);
      assert.equal(metricValue(await metrics(api), 'load_jobs_total{outcome="rejected"}'), 1);
    } finally {
      await api.close();
    }
  });

  test('a client that disconnects cancels its work', async () => {
    const lines: LogLine[] = [];
    const api = await buildApp({ redisUrl: redis.url, workers: 1, logger: pino({ level: 'warn' }, sinkInto(lines)) });
    const { server, url } = listen(api);
    try {
      const req = httpRequest(`${url}/load?ms=5000`);
      req.on('error', () => undefined);
      req.end();
      await waitFor(async () => (metricValue(await metrics(api), 'load_workers_busy') === 1 ? true : undefined), {
        what: 'the worker to start',
      });
      req.destroy();
      await waitFor(
        async () => (metricValue(await metrics(api), 'load_jobs_total{outcome="cancelled"}') === 1 ? true : undefined),
        { what: 'the job to be cancelled', timeoutMs: 3_000 },
      );
      const burnt = metricValue(await metrics(api), 'load_cpu_seconds_total') ?? Infinity;
      assert.ok(burnt < 2, `burnt ${burnt} s of the 5 asked for`);
      // The worker is free again at once.
      const next = await request(api.server).get('/load?ms=10').expect(200);
      assert.ok(next.body.cpuMs >= 10);
      // Cancelled for a client that left: nothing to answer, and nothing went wrong.
      assert.deepEqual(lines.filter((line) => line.level >= 40 && !line.msg.startsWith('GET ')), []);
    } finally {
      server.close();
      await api.close();
    }
  });

  test('a queued job whose client leaves never runs', async () => {
    const api = await buildApp({ redisUrl: redis.url, workers: 1, queue: 4 });
    const { server, url } = listen(api);
    try {
      // supertest sends on then(); start it now.
      const running = request(api.server)
        .get('/load?ms=600')
        .then((res) => res.status);
      await waitFor(async () => (metricValue(await metrics(api), 'load_workers_busy') === 1 ? true : undefined), {
        what: 'the worker to start',
      });
      const queued = httpRequest(`${url}/load?ms=3000`);
      queued.on('error', () => undefined);
      queued.end();
      await waitFor(async () => (metricValue(await metrics(api), 'load_queue_length') === 1 ? true : undefined), {
        what: 'the second job to queue',
      });
      queued.destroy();
      await waitFor(async () => (metricValue(await metrics(api), 'load_queue_length') === 0 ? true : undefined), {
        what: 'the queue to empty',
      });
      assert.equal(await running, 200);
      const text = await metrics(api);
      assert.equal(metricValue(text, 'load_jobs_total{outcome="cancelled"}'), 1);
      assert.ok((metricValue(text, 'load_cpu_seconds_total') ?? 0) < 1.5, 'the queued 3 s were never burnt');
    } finally {
      server.close();
      await api.close();
    }
  });
});

describe('GET /load when its deadline answers first', () => {
  test('a job that completes after the deadline’s 503 is dropped, not answered a second time', async () => {
    const lines: LogLine[] = [];
    const api = await buildApp({ redisUrl: redis.url, workers: 1 });
    const app = express();
    const handler = loadHandler(api.pool, testInstance);
    app.get(routes.load.path, routeContext({ ...routes.load, timeoutMs: 100 }, true), (req, res, next) => {
      const running = handler(req, res, next);
      // The event loop stalls (other work) past the deadline and past the job's end, so both are
      // due when it resumes. Timers come first: the 503 goes out, then the job completes.
      const until = performance.now() + 1_000;
      while (performance.now() < until) {
        // busy on purpose
      }
      return running;
    });
    app.use(problemHandler(pino({ level: 'warn' }, sinkInto(lines))));
    const server = createHttpServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      // The worker thread is up before the stall.
      await request(api.server).get('/load?ms=1').expect(200);
      const res = await request(server).get('/load?ms=5');
      assert.equal(res.status, 503);
      assert.equal(res.body.detail, 'No answer within 100 ms.');
      const outcome = await waitFor(
        async () => {
          const text = await metrics(api);
          if (metricValue(text, 'load_jobs_total{outcome="cancelled"}') === 1) return 'cancelled';
          return metricValue(text, 'load_jobs_total{outcome="completed"}') === 2 ? 'completed' : undefined;
        },
        { what: 'the job to end' },
      );
      assert.equal(outcome, 'completed', 'the job ran to its end after the deadline, as the stall arranges');
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(lines.filter((line) => line.msg === 'error after the response started'), []);
    } finally {
      server.closeAllConnections();
      server.close();
      await api.close();
    }
  });
});

describe('burn', () => {
  test('measures CPU time with a per-thread clock on Linux', () => {
    const { kind } = threadCpuClock();
    assert.notEqual(kind, 'wall');
  });

  test('stops when told to', () => {
    const { clock } = threadCpuClock();
    let checks = 0;
    const result = burn(10_000, clock, () => ++checks > 3);
    assert.equal(result.cancelled, true);
    assert.ok(result.cpuMs < 1_000);
  });
});

describe('cpuBudget', () => {
  /** A file system of a few files, as the kernel shows them (a trailing newline included). */
  const files =
    (entries: Record<string, string>) =>
    (path: string): string | undefined =>
      entries[path];

  test('cgroup v2 (a Docker container with --cpus=1.5): the quota, rounded up', () => {
    const read = files({
      '/proc/self/cgroup': '0::/\n',
      '/sys/fs/cgroup/cpu.max': '150000 100000\n',
    });
    assert.equal(cpuBudget(read, 8), 2);
  });

  test('cgroup v2 nested (a Kubernetes pod): the tightest quota on the way up wins', () => {
    const read = files({
      '/proc/self/cgroup': '0::/kubepods.slice/kubepods-burstable.slice/pod1/cri-abc\n',
      '/sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice/pod1/cri-abc/cpu.max': 'max 100000\n',
      '/sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice/pod1/cpu.max': '50000 100000\n',
      '/sys/fs/cgroup/kubepods.slice/cpu.max': '400000 100000\n',
      '/sys/fs/cgroup/cpu.max': 'max 100000\n',
    });
    assert.equal(cpuBudget(read, 8), 1);
  });

  test('cgroup v2 without a quota: every CPU the scheduler gives', () => {
    const read = files({ '/proc/self/cgroup': '0::/user.slice\n', '/sys/fs/cgroup/user.slice/cpu.max': 'max 100000\n' });
    assert.equal(cpuBudget(read, 4), 4);
  });

  test('cgroup v1 (an older Docker host): cfs_quota_us over cfs_period_us', () => {
    const v1 = {
      '/proc/self/cgroup': '12:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n',
      '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n',
    };
    assert.equal(cpuBudget(files({ ...v1, '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '300000\n' }), 8), 3);
    assert.equal(cpuBudget(files({ ...v1, '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1\n' }), 8), 8);
  });

  test('a quota above the CPUs there are does not add workers; a tiny one still gives one', () => {
    assert.equal(cpuBudget(files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': '800000 100000' }), 2), 2);
    assert.equal(cpuBudget(files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': '1000 100000' }), 2), 1);
  });

  test('on this machine: at least one, at most the CPUs the scheduler gives us', async () => {
    const { availableParallelism } = await import('node:os');
    const budget = cpuBudget();
    assert.ok(budget >= 1 && budget <= availableParallelism());
  });
});
