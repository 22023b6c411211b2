/**
 * Test helpers for Sentinel mode: a real replicated Redis (three data nodes, three Sentinels), the
 * api against it (its real process, or the app factory), and a load of visits that retries each
 * visit with its own Idempotency-Key until it is acknowledged.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { findBinaries, freePort, freeReplicatedRedisPorts, NodeService, ReplicatedRedis, respRequest, waitFor, type RedisNode } from '@three-tier/processes';
import { formatHostPorts, redisReplication, replicaWaitMs } from '@three-tier/shared';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { createApp } from '../src/app.js';
import { FaultSwitch } from '../src/faults/fault-switch.js';
import { LoadPool } from '../src/load/pool.js';
import { loadPageScript } from '../src/page/page-script.js';
import { createMetrics, type Metrics } from '../src/metrics.js';
import { closeRedis, createRedisClient } from '../src/redis/client.js';
import { VisitCounter } from '../src/redis/counter.js';
import { createHttpServer } from '../src/server.js';
import { redisReady, testInstance } from './helpers.js';

/** A replicated Redis on free ports, in a temp folder of its own, started and whole; every member requires `password` if given. */
export async function startReplicatedRedis(password?: string): Promise<{ set: ReplicatedRedis; cleanup: () => Promise<void> }> {
  const { redisServer, redisSentinel } = findBinaries(process.env);
  if (!redisServer || !redisSentinel) {
    throw new Error('redis-server and redis-sentinel must be installed: npm test installs them (as root), or: sudo apt-get install -y redis-server redis-sentinel');
  }
  const dir = await mkdtemp(join(tmpdir(), 'api-replicated-'));
  const set = new ReplicatedRedis({ bin: { redisServer, redisSentinel }, ports: await freeReplicatedRedisPorts(), dir, password });
  await set.start();
  return {
    set,
    cleanup: async () => {
      await set.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The api's environment for a set: Sentinel mode, keys remembered for the whole test. */
export function sentinelEnv(set: ReplicatedRedis): Record<string, string> {
  return { REDIS_SENTINELS: formatHostPorts(set.sentinelAddresses), IDEMPOTENCY_TTL_SECONDS: '600' };
}

/** The built entry point, run as a real process: what a container runs. */
const entry = fileURLToPath(new URL('../src/index.js', import.meta.url));

/** The api as a process of its own, in Sentinel mode against `set`, once it is ready. */
export async function startSentinelApi(
  set: ReplicatedRedis,
  env: Record<string, string> = {},
): Promise<{ service: NodeService; url: string; logs: string[] }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${String(port)}`;
  // Its warnings are kept, the last few hundred, for a failure's message; not the line of every 503.
  const logs: string[] = [];
  const routine = /"msg":"(GET \/redis 503|visit not)/;
  const service = new NodeService({
    name: 'api',
    entry,
    env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', LOG_FORMAT: 'json', ...sentinelEnv(set), ...env },
    healthUrl: `${url}/readyz`,
    onLine: (line) => {
      if (routine.test(line)) return;
      logs.push(line);
      if (logs.length > 300) logs.shift();
    },
  });
  await service.start();
  return { service, url, logs };
}

export type SentinelApi = Awaited<ReturnType<typeof startSentinelApi>>;

/**
 * For the suite it is called in: a replicated Redis and the api on its Sentinels, started before
 * the tests (handed to `use`) and stopped after them.
 */
export function replicatedApiSuite(use: (started: { set: ReplicatedRedis; api: SentinelApi }) => void): void {
  let redis: Awaited<ReturnType<typeof startReplicatedRedis>> | undefined;
  let api: SentinelApi | undefined;
  before(async () => {
    redis = await startReplicatedRedis();
    api = await startSentinelApi(redis.set);
    use({ set: redis.set, api });
  });
  after(async () => {
    await api?.service.stop();
    await redis?.cleanup();
  });
}

/**
 * Waits until the connection named `clientName` blocks in `command` on the server at `port` (CLIENT
 * LIST's flag b), then kills it there: a connection lost while Redis holds the command's answer.
 */
export async function killWhenBlocked(port: number, clientName: string, command: string): Promise<void> {
  const blocked = await waitFor(
    async () => {
      const clients = await respRequest(port, ['CLIENT', 'LIST']);
      return String(clients)
        .split('\n')
        .find((line) => line.includes(`name=${clientName} `) && line.includes(`cmd=${command} `) && /\bflags=\S*b/.test(line));
    },
    { what: `${clientName}'s connection to block in ${command.toUpperCase()}`, intervalMs: 5 },
  );
  const id = /\bid=(\d+)/.exec(blocked)?.[1] ?? '';
  const killed = await respRequest(port, ['CLIENT', 'KILL', 'ID', id]);
  if (killed !== 1) throw new Error(`CLIENT KILL ID ${id} answered ${String(killed)}`);
}

/** A value from the master, read without the api (and without a client library). */
export async function masterGet(set: ReplicatedRedis, key: string): Promise<string | null> {
  const master = await set.master();
  const value = await respRequest(master.port, ['GET', key]);
  if (value !== null && typeof value !== 'string') throw new Error(`GET ${key}: ${String(value)}`);
  return value;
}

/** One try of one visit, timed. */
export interface Attempt {
  readonly key: string;
  readonly startedAt: number;
  readonly ms: number;
  /** The HTTP status, or 0 for a network error or a timeout. */
  readonly status: number;
  readonly detail?: string;
  readonly visit?: string;
}

/** A visit, acknowledged or given up. */
export interface Visit {
  readonly key: string;
  readonly hits: number | undefined;
  readonly attempts: number;
}

export interface LoadOptions {
  readonly clients?: number;
  /** No visit starts after this long, whatever the test does (a failed test must not leave it running). */
  readonly maxRunMs?: number;
  /** A visit is given up after this long without a 200 (then the test fails). */
  readonly giveUpAfterMs?: number;
  /** Each try's own limit: a request past it counts as a network failure and is tried again. */
  readonly requestTimeoutMs?: number;
}

/**
 * Visits from several clients at once, each visit with an Idempotency-Key of its own, tried again
 * with the same key on a 503 or a network error until it gets a 200 (or `giveUpAfterMs` passes).
 * Every try is timed.
 */
export class VisitLoad {
  readonly attempts: Attempt[] = [];
  readonly visits: Visit[] = [];
  private running = true;
  private readonly clients: Promise<void>[];

  constructor(
    private readonly url: string,
    private readonly run: string,
    private readonly options: LoadOptions = {},
  ) {
    this.clients = Array.from({ length: options.clients ?? 6 }, (_, client) => this.client(client));
    setTimeout(() => {
      this.running = false;
    }, options.maxRunMs ?? 90_000).unref();
  }

  /** Stops starting visits and waits until every visit begun is acknowledged or given up. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.clients);
  }

  /** Keys that got a 200, with the count it showed. */
  get acknowledged(): Array<{ key: string; hits: number }> {
    return this.visits.flatMap((visit) => (visit.hits === undefined ? [] : [{ key: visit.key, hits: visit.hits }]));
  }

  get givenUp(): Visit[] {
    return this.visits.filter((visit) => visit.hits === undefined);
  }

  /** The first 200 to a try started at or after `time` (performance.now), if any. */
  firstAcknowledgedAfter(time: number): Attempt | undefined {
    return this.attempts.filter((attempt) => attempt.status === 200 && attempt.startedAt >= time).sort((a, b) => a.startedAt + a.ms - (b.startedAt + b.ms))[0];
  }

  /** Waits until `count` more visits are acknowledged than now: the load is flowing. */
  async flowing(count = 20, timeoutMs = 20_000): Promise<void> {
    const target = this.acknowledged.length + count;
    const deadline = performance.now() + timeoutMs;
    while (this.acknowledged.length < target) {
      if (performance.now() > deadline) throw new Error(`only ${String(this.acknowledged.length)} of ${String(target)} visits acknowledged in ${String(timeoutMs)} ms`);
      await sleep(20);
    }
  }

  private async client(client: number): Promise<void> {
    for (let visit = 0; this.running; visit += 1) await this.visit(`${this.run}-${String(client)}-${String(visit)}`);
  }

  private async visit(key: string): Promise<void> {
    const { giveUpAfterMs = 30_000, requestTimeoutMs = 3_000 } = this.options;
    const started = performance.now();
    for (let tries = 1; ; tries += 1) {
      const attempt = await this.attempt(key, requestTimeoutMs);
      this.attempts.push(attempt.record);
      if (attempt.hits !== undefined) {
        this.visits.push({ key, hits: attempt.hits, attempts: tries });
        return;
      }
      if (performance.now() - started > giveUpAfterMs) {
        this.visits.push({ key, hits: undefined, attempts: tries });
        return;
      }
      // Redis's Retry-After is 1 s; a test client asks again sooner, to see the first 200.
      await sleep(25);
    }
  }

  private async attempt(key: string, timeoutMs: number): Promise<{ record: Attempt; hits?: number }> {
    const startedAt = performance.now();
    try {
      const response = await fetch(`${this.url}/redis`, { headers: { 'Idempotency-Key': key }, signal: AbortSignal.timeout(timeoutMs) });
      const body = (await response.json()) as { hits?: number; detail?: string; visit?: string };
      const record: Attempt = {
        key,
        startedAt,
        ms: performance.now() - startedAt,
        status: response.status,
        ...(body.detail === undefined ? {} : { detail: body.detail }),
        ...(body.visit === undefined ? {} : { visit: body.visit }),
      };
      return response.status === 200 && typeof body.hits === 'number' ? { record, hits: body.hits } : { record };
    } catch (error) {
      return { record: { key, startedAt, ms: performance.now() - startedAt, status: 0, detail: (error as Error).message } };
    }
  }
}

/**
 * Runs `body` under a load of visits against `api`, and stops the load however `body` ends; when
 * it fails, the api's recent log lines (not the routine 503s) are printed with the error.
 */
export async function underLoad<T>(
  api: { readonly url: string; readonly logs: readonly string[] },
  run: string,
  body: (load: VisitLoad) => Promise<T>,
  options: LoadOptions = {},
): Promise<{ load: VisitLoad; result: T }> {
  const load = new VisitLoad(api.url, run, options);
  try {
    await load.flowing();
    const result = await body(load);
    return { load, result };
  } catch (error) {
    console.log(`the api's last lines:\n${api.logs.slice(-40).join('\n')}`);
    throw error;
  } finally {
    await load.stop();
  }
}

/**
 * Every acknowledged visit is counted exactly once: the counts the 200s showed are the numbers
 * `before + 1` to `before + n` each exactly once (a lost count would have been given again to a
 * later visit, a double count would leave a gap), the counter stands at `before + n`, and the
 * master still holds each key's count. Throws naming what is wrong.
 */
export async function assertCountedOnce(set: ReplicatedRedis, load: VisitLoad, before: number): Promise<number> {
  const acknowledged = load.acknowledged;
  const problems: string[] = [];
  if (load.givenUp.length > 0) problems.push(`${String(load.givenUp.length)} visits never got a 200: ${load.givenUp.slice(0, 5).map((visit) => visit.key).join(', ')}`);
  const shown = acknowledged.map((visit) => visit.hits).sort((a, b) => a - b);
  const expected = Array.from({ length: acknowledged.length }, (_, index) => before + index + 1);
  const missing = expected.filter((hits, index) => shown[index] !== hits);
  if (missing.length > 0) {
    const seen = new Map<number, number>();
    for (const hits of shown) seen.set(hits, (seen.get(hits) ?? 0) + 1);
    const twice = [...seen].filter(([, times]) => times > 1).map(([hits]) => hits);
    problems.push(`the 200s did not show ${String(before + 1)}..${String(before + acknowledged.length)} once each (counts shown twice: ${twice.slice(0, 10).join(', ') || 'none'})`);
  }
  const total = Number((await masterGet(set, 'hits')) ?? 0);
  if (total !== before + acknowledged.length) problems.push(`the counter stands at ${String(total)}, not ${String(before)} + ${String(acknowledged.length)} acknowledged visits`);
  for (const { key, hits } of acknowledged.slice(-50)) {
    const kept = await masterGet(set, `hits:once:${key}`);
    if (kept !== String(hits)) problems.push(`${key}: acknowledged with ${String(hits)}, the master remembers ${String(kept)}`);
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return total;
}

/** Median and worst of a list of durations. */
export function medianAndWorst(values: readonly number[]): { median: number; worst: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  return { median, worst: sorted.at(-1) ?? 0 };
}

/**
 * SIGKILLs the master under load and waits for the first 200 after it; resolves with the window
 * with no 200 (from the kill to that 200's answer) and the new master.
 */
export async function killMasterUnderLoad(set: ReplicatedRedis, load: VisitLoad): Promise<{ windowMs: number; killed: RedisNode; master: RedisNode }> {
  const killed = await set.master();
  const killedAt = performance.now();
  await set.crash(killed);
  const master = await set.waitForFailover(killed);
  let first = load.firstAcknowledgedAfter(killedAt);
  const deadline = performance.now() + 10_000;
  while (!first) {
    if (performance.now() > deadline) {
      const last = load.attempts.slice(-5).map((attempt) => `${String(attempt.status)} ${attempt.detail ?? ''}`);
      throw new Error(`no visit acknowledged within 10 s of the new master ${master.name}; the last answers:\n${last.join('\n')}`);
    }
    await sleep(20);
    first = load.firstAcknowledgedAfter(killedAt);
  }
  return { windowMs: first.startedAt + first.ms - killedAt, killed, master };
}

/** The figures of a run, for the test's output. */
export function describeAttempts(attempts: readonly Attempt[]): string {
  const byStatus = new Map<number, number>();
  for (const attempt of attempts) byStatus.set(attempt.status, (byStatus.get(attempt.status) ?? 0) + 1);
  const slowest = Math.max(0, ...attempts.map((attempt) => attempt.ms));
  return `${String(attempts.length)} requests (${[...byStatus].map(([status, count]) => `${status === 0 ? 'network error' : String(status)}: ${String(count)}`).join(', ')}), slowest ${slowest.toFixed(0)} ms`;
}


/** An app (the factory, as index.ts builds it) on its own HTTP server, over a client the test made. */
export interface ReplicatedTestApp {
  readonly url: string;
  readonly counter: VisitCounter;
  readonly metrics: Metrics;
  close(): Promise<void>;
}

/**
 * The app in Sentinel mode over `redis` (a client the test configured), with WAIT's timeout from
 * `timeoutMs` as REDIS_TIMEOUT_MS sets it, or `waitMs`; resolves once the client is ready.
 */
export async function sentinelApp(redis: Redis, timeoutMs = 500, waitMs = replicaWaitMs(timeoutMs)): Promise<ReplicatedTestApp> {
  const logger = pino({ level: 'silent' });
  const metrics = createMetrics();
  const counter = new VisitCounter(
    redis,
    {
      key: 'hits',
      idempotencyTtlSeconds: 600,
      timeoutMs,
      replication: { replicas: redisReplication.replicasPerVisit, waitMs },
    },
    metrics,
  );
  const pool = new LoadPool({ size: 1, maxQueue: 1, metrics });
  const app = createApp({ faults: new FaultSwitch(metrics), instance: testInstance, trustProxy: 'loopback', counter, pool, metrics, logger, pageScript: loadPageScript(), isDraining: () => false });
  const server = createHttpServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await redisReady(redis);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}`,
    counter,
    metrics,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await pool.close();
      await closeRedis(redis, 1_000);
    },
  };
}

/** The api's own client for `set`, as createRedisClient makes it from REDIS_SENTINELS. */
export function productionClient(set: ReplicatedRedis, timeoutMs = 500): Redis {
  const masterName = redisReplication.masterName;
  return createRedisClient({ url: '', password: undefined, timeoutMs, sentinel: { sentinels: set.sentinelAddresses, masterName } }, pino({ level: 'silent' }), createMetrics(), 'api-under-test');
}

/** GET /redis with a key, as a client sees it. */
export async function visit(url: string, key: string): Promise<{ status: number; body: { hits?: number; detail?: string; visit?: string } }> {
  const response = await fetch(`${url}/redis`, { headers: { 'Idempotency-Key': key }, signal: AbortSignal.timeout(5_000) });
  return { status: response.status, body: (await response.json()) as { hits?: number; detail?: string; visit?: string } };
}
