import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { freePort, NodeService, waitFor } from '@three-tier/processes';
import { faultRoutes, instanceAlias } from '@three-tier/shared';
import { metricValue, startRedis } from './helpers.js';

/** The built entry point, run as a real process: what a container runs. */
const entry = fileURLToPath(new URL('../src/index.js', import.meta.url));

async function startApi(env: Record<string, string>): Promise<{ service: NodeService; url: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const service = new NodeService({
    name: 'api',
    entry,
    env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    healthUrl: `${url}/healthz`,
  });
  await service.start();
  return { service, url };
}

describe('configuration at boot', () => {
  test('bad variables exit 1 with a message naming each, and no stack trace', () => {
    const result = spawnSync(process.execPath, [entry], {
      env: { PATH: process.env.PATH, PORT: 'eighty', LOG_LEVEL: 'loud', REDIS_URL: 'redis://:pw@h:1', LOAD_WORKERS: '0' },
      encoding: 'utf8',
      timeout: 10_000,
    });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^api: invalid configuration:/);
    assert.match(result.stderr, /PORT must be an integer from 1 to 65535 \(got "eighty"\)/);
    assert.match(result.stderr, /LOG_LEVEL must be one of/);
    assert.match(result.stderr, /LOAD_WORKERS must be an integer from 1 to 256/);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
    assert.equal(result.stdout, '');
  });
});

describe('the api process', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.cleanup();
  });

  test('starts without Redis: live once its wait for a first connection is over, and not ready', async () => {
    const port = await freePort();
    const { service, url } = await startApi({ REDIS_URL: `redis://127.0.0.1:${port}` });
    try {
      assert.equal((await fetch(`${url}/readyz`)).status, 503);
      assert.equal((await fetch(`${url}/healthz`)).status, 200);
    } finally {
      await service.stop();
    }
  });

  test('SIGTERM: readiness flips, in-flight requests finish, then it exits 0', async () => {
    const { service, url } = await startApi({ REDIS_URL: redis.url, SHUTDOWN_DELAY_MS: '500', LOAD_WORKERS: '1' });
    const inFlight = fetch(`${url}/load?ms=1000`);
    await waitFor(
      async () => (metricValue(await (await fetch(`${url}/metrics`)).text(), 'load_workers_busy') === 1 ? true : undefined),
      { what: 'the load to start' },
    );
    service.signal('SIGTERM');
    await waitFor(async () => ((await fetch(`${url}/readyz`)).status === 503 ? true : undefined), {
      what: '/readyz to fail while draining',
    });
    const counted = await fetch(`${url}/redis`);
    assert.equal(counted.status, 200, 'still serving during the drain delay');
    assert.equal(counted.headers.get('connection'), 'close');
    const response = await inFlight;
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { requestedMs: number }).requestedMs, 1000);
    const exit = await service.exited;
    assert.deepEqual({ code: exit?.code, signal: exit?.signal }, { code: 0, signal: null });
  });

  test('SIGTERM after whoever read its stdout is gone: it still exits, with nothing left to write to', async () => {
    // As when the runner that started it was SIGKILLed: the api's stdout has no reader. Its last
    // log lines, buffered, must not hold the exit (sonic-boom retries a failed flush forever).
    const port = await freePort();
    const child = spawn(process.execPath, [entry], {
      env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', REDIS_URL: redis.url },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await waitFor(async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200 ? true : undefined), { what: 'the api' });
    child.stdout.destroy();
    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 10_000))]);
    if (code === 'hung') child.kill('SIGKILL');
    assert.equal(code, 0, 'it exits 0 within 10 s instead of hanging on its log buffer');
  });

  test('answers with INSTANCE_ID, and the exit fault makes it exit 1 once its client has the answer', async () => {
    const { service, url } = await startApi({ REDIS_URL: redis.url, INSTANCE_ID: 'box-4242' });
    const who = (await (await fetch(`${url}/instance`)).json()) as { hostname: string; alias: string };
    assert.deepEqual(who, { ...who, hostname: 'box-4242', alias: instanceAlias('box-4242') });
    const res = await fetch(`${url}${faultRoutes.exit.path}`, { method: 'POST' });
    assert.equal(res.status, 202);
    assert.equal(((await res.json()) as { hostname: string }).hostname, 'box-4242');
    const exit = await service.exited;
    assert.deepEqual({ code: exit?.code, signal: exit?.signal }, { code: 1, signal: null });
  });

  test('with FAULTS=off, the fault routes are not there', async () => {
    const { service, url } = await startApi({ REDIS_URL: redis.url, FAULTS: 'off' });
    try {
      assert.equal((await fetch(`${url}${faultRoutes.exit.path}`, { method: 'POST' })).status, 404);
      assert.equal((await fetch(`${url}/healthz`)).status, 200, 'still running');
    } finally {
      await service.stop();
    }
  });

  test('a second signal exits at once', async () => {
    const { service, url } = await startApi({ REDIS_URL: redis.url, SHUTDOWN_DELAY_MS: '60000' });
    service.signal('SIGTERM');
    await waitFor(async () => ((await fetch(`${url}/readyz`)).status === 503 ? true : undefined), {
      what: 'the drain to begin',
    });
    service.signal('SIGTERM');
    const exit = await Promise.race([
      service.exited,
      // Unref'd: once the api has exited, this deadline must not keep the file running for 5 s.
      new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 5_000).unref()),
    ]);
    assert.notEqual(exit, 'still running');
    assert.equal(exit === 'still running' ? undefined : exit?.code, 143);
  });
});
