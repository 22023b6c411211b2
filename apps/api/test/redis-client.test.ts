import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Child, findBinaries, freePort, RedisServer, waitFor } from '@three-tier/processes';
import { Redis } from 'ioredis';
import { createMetrics, type Metrics } from '../src/metrics.js';
import { closeRedis, connectedTo, createRedisClient, readyWithin, redactUrl } from '../src/redis/client.js';
import { keptLogs, metricValue, startRedis, type LogLine, type TestRedis } from './helpers.js';

/** A client as the api makes it, with its log lines and metrics kept for the test. */
function clientFor(url: string, timeoutMs: number, password?: string): { client: Redis; lines: LogLine[]; metrics: Metrics } {
  const { logger, lines } = keptLogs();
  const metrics = createMetrics();
  const client = createRedisClient({ url, password, timeoutMs }, logger, metrics, 'client-test');
  return { client, lines, metrics };
}

async function connected(metrics: Metrics): Promise<number | undefined> {
  return metricValue(await metrics.registry.metrics(), 'redis_connected');
}

describe('createRedisClient with one Redis', () => {
  let redis: TestRedis;

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.cleanup();
  });

  test('logs each transition once: ready, lost, the same refusal once however often it retries, ready again', async () => {
    const { client, lines, metrics } = clientFor(redis.url, 500);
    let refusals = 0;
    client.on('error', () => (refusals += 1));
    try {
      await readyWithin(client, 5_000);
      assert.equal(client.status, 'ready');
      assert.equal(await connected(metrics), 1);
      await redis.server.stop();
      // Every reconnect is refused with the same error: three of them, logged once.
      await waitFor(() => (refusals >= 3 ? true : undefined), { what: 'three refused reconnects' });
      assert.equal(await connected(metrics), 0);
      await redis.server.start();
      await waitFor(() => (client.status === 'ready' ? true : undefined), { what: 'the client ready again' });
      assert.equal(await connected(metrics), 1);
      assert.deepEqual(
        lines.map((line) => [line.level, line.msg]),
        [
          [30, 'redis connection ready'],
          [40, 'redis connection lost; reconnecting'],
          [40, 'redis error'],
          [30, 'redis connection ready'],
        ],
      );
      assert.match(lines[2]?.err?.message ?? '', /ECONNREFUSED/, 'the error is logged under err');
      assert.equal(lines[0]?.redis, redis.url);
    } finally {
      client.disconnect();
    }
  });

  test('reconnects with a backoff that doubles from 200 ms and stops growing at 2 s', async () => {
    const { client } = clientFor(redis.url, 500);
    client.on('error', () => undefined);
    const delays: number[] = [];
    client.on('reconnecting', (delay: number) => delays.push(delay));
    try {
      await readyWithin(client, 5_000);
      await redis.server.stop();
      // The fifth try is scheduled 3 s after the loss (200 + 400 + 800 + 1600 ms).
      await waitFor(() => (delays.length >= 5 ? true : undefined), { what: 'five reconnects', timeoutMs: 20_000 });
      assert.deepEqual(delays.slice(0, 5), [200, 400, 800, 1_600, 2_000]);
    } finally {
      client.disconnect();
      await redis.server.start();
    }
  });

  test('while the connection is down, a command is refused at once, not queued for later', async () => {
    const { client } = clientFor(redis.url, 500);
    client.on('error', () => undefined);
    try {
      await readyWithin(client, 5_000);
      await redis.server.stop();
      await waitFor(() => (client.status !== 'ready' ? true : undefined), { what: 'the client to see Redis gone' });
      await assert.rejects(client.get('hits'), /Stream isn't writeable and enableOfflineQueue options is false/);
    } finally {
      client.disconnect();
      await redis.server.start();
    }
  });

  test('names the server it reached, host and port', async () => {
    const { client } = clientFor(redis.url, 500);
    try {
      await readyWithin(client, 5_000);
      assert.equal(connectedTo(client), `127.0.0.1:${String(redis.server.port)}`);
    } finally {
      client.disconnect();
    }
  });

  test('readyWithin: at once when ready; when Redis is away, after its wait, not ready', async () => {
    const { client } = clientFor(redis.url, 500);
    client.on('error', () => undefined);
    try {
      await readyWithin(client, 5_000);
      assert.equal(client.status, 'ready');
      // Ready already: resolved before the event loop turns, not when a 'ready' that never comes again would be.
      const first = await Promise.race([
        readyWithin(client, 10_000).then(() => 'at once'),
        new Promise((resolve) => setImmediate(() => resolve('only later'))),
      ]);
      assert.equal(first, 'at once');
      await redis.server.stop();
      await waitFor(() => (client.status !== 'ready' ? true : undefined), { what: 'the client to see Redis gone' });
      await readyWithin(client, 100);
      assert.notEqual(client.status, 'ready');
    } finally {
      client.disconnect();
      await redis.server.start();
    }
  });

  test('readyWithin: done as the client becomes ready, not at the end of its wait', async () => {
    const { client } = clientFor(redis.url, 500);
    try {
      assert.notEqual(client.status, 'ready');
      // Hooked first, so it runs first at 'ready'; a turn of the event loop later is too late.
      const afterReady = once(client, 'ready').then(() => new Promise((resolve) => setImmediate(() => resolve('a turn after ready'))));
      const first = await Promise.race([readyWithin(client, 30_000).then(() => 'at ready'), afterReady]);
      assert.equal(first, 'at ready');
      assert.equal(client.status, 'ready');
    } finally {
      client.disconnect();
    }
  });

  test('readyWithin, past its wait, leaves no listener behind', async () => {
    // A client that never connects: each of ioredis's own connect attempts hooks 'ready' until it
    // fails, so a client that retries meanwhile has a listener count that moves by itself.
    const idle = new Redis({ lazyConnect: true });
    await readyWithin(idle, 50);
    assert.equal(idle.status, 'wait');
    assert.equal(idle.listenerCount('ready'), 0);
  });

  test('closeRedis: QUITs a live connection; drops a frozen one after its timeout, or once its QUIT timed out; an ended client is left alone', async () => {
    const live = clientFor(redis.url, 500).client;
    await readyWithin(live, 5_000);
    let quits = 0;
    live.on('end', () => (quits += 1));
    await closeRedis(live, 5_000);
    // Redis answered QUIT and closed the connection: the client ends for good.
    await waitFor(() => (live.status === 'end' ? true : undefined), { what: 'the client ended' });
    await closeRedis(live, 5_000);
    assert.equal(quits, 1, 'an ended client is not closed again');
    assert.equal(live.status, 'end');

    // QUIT is never answered by a frozen Redis: the client is dropped when closeRedis's own wait
    // runs out, before its command timeout (10 s here) would.
    const frozen = clientFor(redis.url, 10_000).client;
    frozen.on('error', () => undefined);
    await readyWithin(frozen, 5_000);
    redis.server.signal('SIGSTOP');
    try {
      const started = performance.now();
      await closeRedis(frozen, 200);
      assert.ok(performance.now() - started < 5_000, 'dropped, not waiting for the command timeout');
      assert.equal(frozen.status, 'end');
    } finally {
      redis.server.signal('SIGCONT');
    }

    // The client's own command timeout shorter than closeRedis's wait (the api's 500 ms against its
    // 2 s): QUIT fails first, and the connection is dropped then, not kept on a Redis that hangs.
    const hung = clientFor(redis.url, 100).client;
    hung.on('error', () => undefined);
    await readyWithin(hung, 5_000);
    redis.server.signal('SIGSTOP');
    try {
      await closeRedis(hung, 5_000);
      await waitFor(() => (hung.status === 'end' ? true : undefined), { what: 'the client dropped after its QUIT timed out' });
    } finally {
      redis.server.signal('SIGCONT');
      hung.disconnect();
    }
  });
});

describe('createRedisClient with a password', () => {
  let server: RedisServer;
  let dir: string;
  const password = 'client-test-secret';

  before(async () => {
    const bin = findBinaries(process.env).redisServer;
    if (!bin) throw new Error('redis-server is not installed: npm test installs it (as root), or: sudo apt-get install -y redis-server');
    dir = await mkdtemp(join(tmpdir(), 'api-client-redis-'));
    server = new RedisServer({ bin, port: await freePort(), dir, password });
    await server.start();
  });
  after(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('authenticates with REDIS_PASSWORD, and logs the url it was given with any password redacted', async () => {
    const url = `redis://:${password}@127.0.0.1:${String(server.port)}`;
    const { client, lines } = clientFor(`redis://127.0.0.1:${String(server.port)}`, 500, password);
    const fromUrl = clientFor(url, 500);
    try {
      await readyWithin(client, 5_000);
      assert.equal(await client.ping(), 'PONG');
      await readyWithin(fromUrl.client, 5_000);
      assert.equal(fromUrl.lines[0]?.msg, 'redis connection ready');
      assert.equal(fromUrl.lines[0]?.redis, `redis://:redacted@127.0.0.1:${String(server.port)}`);
      assert.doesNotMatch(JSON.stringify([...lines, ...fromUrl.lines]), new RegExp(password));
    } finally {
      client.disconnect();
      fromUrl.client.disconnect();
    }
  });
});

/**
 * A listener in a process whose event loop is blocked, with an accept queue of one: once two
 * connections wait in it, the kernel drops every further SYN, so a connect neither succeeds nor
 * fails before its own timeout.
 */
const fullListener = `
const server = require('node:net').createServer();
server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  console.log(server.address().port);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
});`;

describe('createRedisClient against a server that never completes a connect', () => {
  test('the connect is given at least a second, however short the command timeout', async () => {
    let port: number | undefined;
    const listener = new Child({ name: 'full listener', command: process.execPath, args: ['-e', fullListener], onLine: (line) => (port = Number(line)) });
    const waiting: Socket[] = [];
    try {
      const at = await waitFor(() => port, { what: "the listener's port" });
      for (let i = 0; i < 2; i += 1) {
        const socket = connect(at, '127.0.0.1');
        socket.on('error', () => undefined);
        waiting.push(socket);
        await once(socket, 'connect');
      }
      const started = performance.now();
      const { client } = clientFor(`redis://127.0.0.1:${String(at)}`, 200);
      const [error] = (await once(client, 'error')) as [Error];
      const waited = performance.now() - started;
      client.disconnect();
      assert.match(error.message, /ETIMEDOUT/);
      assert.ok(waited >= 990, `gave up the connect after ${Math.round(waited)} ms`);
    } finally {
      for (const socket of waiting) socket.destroy();
      await listener.stop('SIGKILL');
    }
  });
});

describe('redactUrl', () => {
  test('replaces only the password; a url without one is unchanged', () => {
    assert.equal(redactUrl('redis://user:pw@redis:6379/0'), 'redis://user:redacted@redis:6379/0');
    assert.equal(redactUrl('redis://redis:6379'), 'redis://redis:6379');
  });
});

describe('connectedTo over IPv6', () => {
  let redis: TestRedis;
  let relay: Server;
  const sockets = new Set<Socket>();

  before(async () => {
    redis = await startRedis();
    // Redis listens on 127.0.0.1 only: a relay on ::1 gives the client an IPv6 peer.
    relay = createServer((client) => {
      const upstream = connect(redis.server.port, '127.0.0.1');
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => relay.listen(0, '::1', resolve));
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => relay.close(resolve));
    await redis.cleanup();
  });

  test('puts an IPv6 address in brackets, so host and port stay apart', async () => {
    const { port } = relay.address() as { port: number };
    const { client } = clientFor(`redis://[::1]:${String(port)}`, 500);
    try {
      await readyWithin(client, 5_000);
      assert.equal(connectedTo(client), `[::1]:${String(port)}`);
    } finally {
      client.disconnect();
    }
  });
});
