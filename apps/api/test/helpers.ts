import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, beforeEach } from 'node:test';
import { findBinaries, freePort, rawHttpRequest, RedisServer } from '@three-tier/processes';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { createApp } from '../src/app.js';
import { FaultSwitch } from '../src/faults/fault-switch.js';
import type { Instance } from '../src/instance.js';
import { LoadPool } from '../src/load/pool.js';
import { createMetrics, type Metrics } from '../src/metrics.js';
import { loadPageScript } from '../src/page/page-script.js';
import { createRedisClient } from '../src/redis/client.js';
import { VisitCounter } from '../src/redis/counter.js';
import { createHttpServer } from '../src/server.js';

export interface TestRedis {
  server: RedisServer;
  url: string;
  cleanup: () => Promise<void>;
}

/** A real redis-server on a free port, in a temp dir of its own. */
export async function startRedis(): Promise<TestRedis> {
  const bin = findBinaries(process.env).redisServer;
  if (!bin) throw new Error('redis-server is not installed: npm test installs it (as root), or: sudo apt-get install -y redis-server');
  const dir = await mkdtemp(join(tmpdir(), 'api-test-redis-'));
  const server = new RedisServer({ bin, port: await freePort(), dir });
  await server.start();
  return {
    server,
    url: `redis://127.0.0.1:${server.port}`,
    cleanup: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const testInstance: Instance = { name: '@three-tier/api', version: '9.9.9-test', hostname: 'test-host' };

export interface TestApp {
  readonly app: Express;
  /** The app behind the api's own HTTP server (as index.ts serves it), listening on a free port. */
  readonly server: Server;
  readonly redis: Redis;
  readonly counter: VisitCounter;
  readonly metrics: Metrics;
  readonly pool: LoadPool;
  readonly faults: FaultSwitch;
  /** How many times the exit fault asked the process to exit (the test app only counts). */
  exits: number;
  draining: boolean;
  close(): Promise<void>;
}

export interface TestAppOptions {
  readonly redisUrl: string;
  readonly workers?: number;
  readonly queue?: number;
  readonly trustProxy?: string | false;
  readonly instance?: Instance;
  readonly counterKey?: string;
  readonly logger?: Logger;
  /** False: no fault routes, as with FAULTS=off. */
  readonly faultRoutes?: boolean;
  /** REDIS_TIMEOUT_MS; 500 (the default) unless given. */
  readonly redisTimeoutMs?: number;
}

/** The app as the entry point builds it, with a silent logger and a real Redis client. */
export async function buildApp(options: TestAppOptions): Promise<TestApp> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const metrics = createMetrics();
  const timeoutMs = options.redisTimeoutMs ?? 500;
  const redis = createRedisClient({ url: options.redisUrl, password: undefined, timeoutMs }, logger, metrics, 'api-test');
  const counter = new VisitCounter(redis, { key: options.counterKey ?? 'hits', idempotencyTtlSeconds: 30, timeoutMs }, metrics);
  const workers = options.workers ?? 2;
  const pool = new LoadPool({ size: workers, maxQueue: options.queue ?? workers * 2, metrics });
  const faults = new FaultSwitch(metrics);
  const app = createApp({
    faults,
    ...(options.faultRoutes === false ? {} : { exitOnDemand: () => (state.exits += 1) }),
    instance: options.instance ?? testInstance,
    trustProxy: options.trustProxy ?? 'loopback',
    counter,
    pool,
    metrics,
    logger,
    pageScript: loadPageScript(),
    isDraining: () => state.draining,
  });
  const server = createHttpServer(app);
  // Listening before any test runs, so supertest sends to it as it is.
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const state: TestApp = {
    app,
    server,
    redis,
    counter,
    metrics,
    pool,
    faults,
    exits: 0,
    draining: false,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await pool.close();
      redis.disconnect();
    },
  };
  return state;
}

/**
 * For the file or suite it is called in: the app on a Redis of its own, started before the tests
 * (handed to `use`) and closed after them, the count reset before each test.
 */
export function appOnRedisSuite(use: (started: { redis: TestRedis; api: TestApp }) => void): void {
  let redis: TestRedis | undefined;
  let api: TestApp | undefined;
  before(async () => {
    redis = await startRedis();
    api = await buildApp({ redisUrl: redis.url });
    await redisReady(api.redis);
    use({ redis, api });
  });
  after(async () => {
    await api?.close();
    await redis?.cleanup();
  });
  beforeEach(async () => {
    await api?.redis.del('hits');
  });
}

/** A log line as pino writes it, with the fields the tests read. */
export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly err?: { readonly message?: string };
  readonly [field: string]: unknown;
}

/** A logger at `info` whose lines are kept, parsed, for the test to read. */
export function keptLogs(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

/** Resolves once the client reports `ready` (it connects in the background). */
export async function redisReady(redis: Redis): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise((resolve) => redis.once('ready', resolve));
}

/** The value of a metric line, e.g. metricValue(text, 'load_jobs_total{outcome="cancelled"}'). */
export function metricValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Sends `text` as it is on a fresh connection and parses the one response that comes back. */
export async function rawRequest(server: Server, text: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const { port } = server.address() as AddressInfo;
  const { status, headers, body } = await rawHttpRequest(port, text);
  return { status, headers, body };
}
