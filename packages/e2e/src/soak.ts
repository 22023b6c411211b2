/**
 * The soak: a native stack of its own under mixed traffic on every route through the edge, for a
 * while, watched from outside. It passes when nothing failed beyond the documented back-pressure
 * (429 and 503 on /load), the api's memory and file descriptors stopped growing after the warm-up,
 * and Redis's idempotency keys expire instead of piling up.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinaries, freeStackPorts, redisCall, redisInfo } from '@three-tier/processes';
import { NativeStack, type EdgeKind } from '@three-tier/runner';
import { headerNames, routes } from '@three-tier/shared';

/** The expiry check counts the visits of this many key lifetimes; a soak lasts at least twice that. */
export const keyWindowLifetimes = 3;

export interface SoakOptions {
  readonly seconds: number;
  readonly clients: number;
  readonly edge: EdgeKind;
  /** How long the api keeps an idempotency key; short, so a soak sees them expire. */
  readonly idempotencyTtlSeconds: number;
  readonly sampleEveryMs?: number;
  /** Prints every n-th sample. */
  readonly printEvery?: number;
  /** Ends the soak early (Ctrl-C); the stack is still stopped and its files removed. */
  readonly signal?: AbortSignal;
  /** PATH, to find redis-server and nginx and for the children. */
  readonly path: string | undefined;
}

/** One request of the mix: what it asks and which statuses are right for it. */
interface Shot {
  readonly name: string;
  readonly method: 'GET' | 'HEAD';
  readonly path: string;
  readonly ok: readonly number[];
  /** Documented refusals under load: counted, not failures. */
  readonly backPressure?: readonly number[];
  readonly idempotencyKey?: boolean;
}

/** The mix, in the order each client walks it: mostly visits, every route, and what must be refused. */
const mix: readonly Shot[] = [
  { name: 'visit', method: 'GET', path: routes.redis.path, ok: [200] },
  { name: 'visit with Idempotency-Key', method: 'GET', path: routes.redis.path, ok: [200], idempotencyKey: true },
  { name: 'page', method: 'GET', path: routes.html.path, ok: [200] },
  { name: 'visit', method: 'GET', path: routes.redis.path, ok: [200] },
  { name: 'info', method: 'GET', path: routes.info.path, ok: [200] },
  { name: 'count (HEAD)', method: 'HEAD', path: routes.redis.path, ok: [200] },
  { name: 'visit', method: 'GET', path: routes.redis.path, ok: [200] },
  { name: 'liveness', method: 'GET', path: routes.healthz.path, ok: [200] },
  { name: 'readiness', method: 'GET', path: routes.readyz.path, ok: [200] },
  { name: 'visit with Idempotency-Key', method: 'GET', path: routes.redis.path, ok: [200], idempotencyKey: true },
  { name: 'load', method: 'GET', path: `${routes.load.path}?ms=5`, ok: [200], backPressure: [429, 503] },
  { name: 'metrics at the edge', method: 'GET', path: routes.metrics.path, ok: [404] },
  { name: 'unknown path', method: 'GET', path: '/soak/nothing-here', ok: [404] },
];

export interface Sample {
  readonly atSeconds: number;
  readonly requests: number;
  readonly rssBytes: number;
  readonly openFds: number;
  readonly loopDelayP99Seconds: number;
  readonly redisUsedBytes: number;
  readonly redisKeys: number;
}

export interface SoakReport {
  readonly requests: number;
  readonly statuses: ReadonlyMap<string, number>;
  readonly backPressure: ReadonlyMap<number, number>;
  readonly errors: readonly string[];
  readonly errorCount: number;
  readonly samples: readonly Sample[];
  readonly afterWarmUp: Sample;
  readonly end: Sample;
  /** Median RSS of the second half after warm-up over that of the first, minus one. */
  readonly rssGrowth: number;
  /** Visits (which each leave an idempotency key) in the last three key lifetimes, at the end. */
  readonly recentVisits: number;
  readonly verdicts: readonly { readonly check: string; readonly ok: boolean }[];
  readonly passed: boolean;
}

/** The value of a metric without labels in Prometheus's text format. */
function metric(text: string, name: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : Number.NaN;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? Number.NaN) : ((sorted[middle - 1] ?? Number.NaN) + (sorted[middle] ?? Number.NaN)) / 2;
}

const mb = (bytes: number): string => `${(bytes / 1_048_576).toFixed(1)} MB`;

export function describeSample(sample: Sample, seconds: number): string {
  return (
    `${String(Math.round(sample.atSeconds)).padStart(4)} s  ${sample.requests} requests (${Math.round(sample.requests / Math.max(seconds, 1))}/s)  ` +
    `api rss ${mb(sample.rssBytes)}, fds ${sample.openFds}, loop p99 ${(sample.loopDelayP99Seconds * 1_000).toFixed(1)} ms  ` +
    `redis ${mb(sample.redisUsedBytes)}, ${sample.redisKeys} keys`
  );
}

export async function soak(options: SoakOptions, print: (line: string) => void): Promise<SoakReport> {
  const { redisServer, nginx } = findBinaries({ PATH: options.path });
  if (!redisServer || (options.edge === 'nginx' && !nginx)) throw new Error('the soak needs redis-server and nginx (apt-get install -y redis-server nginx)');
  const root = await mkdtemp(join(tmpdir(), 'soak-'));
  const stack = await NativeStack.create({
    edge: options.edge,
    ports: await freeStackPorts(1),
    edgeHost: '127.0.0.1',
    dataDir: join(root, 'data'),
    runDir: join(root, 'run'),
    bin: { redisServer, nginx },
    baseEnv: { PATH: options.path },
    logLevel: 'warn',
    apiEnv: { IDEMPOTENCY_TTL_SECONDS: String(options.idempotencyTtlSeconds) },
  });
  try {
    await stack.start();
    return await drive(stack, options, print);
  } finally {
    await stack.stop();
    await rm(root, { recursive: true, force: true });
  }
}

async function drive(stack: NativeStack, options: SoakOptions, print: (line: string) => void): Promise<SoakReport> {
  const { seconds, clients, idempotencyTtlSeconds, sampleEveryMs = 1_000, printEvery = 5 } = options;
  const started = performance.now();
  const elapsed = (): number => (performance.now() - started) / 1_000;
  const going = (): boolean => elapsed() < seconds && !options.signal?.aborted;
  const statuses = new Map<string, number>();
  const backPressure = new Map<number, number>();
  const errors: string[] = [];
  let errorCount = 0;
  let requests = 0;
  /** Visits per elapsed second, to know how many keys may still be alive at the end. */
  const visitsPerSecond: number[] = [];
  const fail = (message: string): void => {
    errorCount += 1;
    if (errors.length < 20) errors.push(message);
  };

  const client = async (offset: number): Promise<void> => {
    for (let turn = offset; going(); turn += 1) {
      const shot = mix[turn % mix.length];
      if (!shot) continue;
      requests += 1;
      try {
        const res = await fetch(`${stack.url}${shot.path}`, {
          method: shot.method,
          headers: shot.idempotencyKey ? { [headerNames.idempotencyKey]: `soak-${offset}-${turn}` } : {},
          signal: AbortSignal.timeout(10_000),
        });
        await res.arrayBuffer();
        const key = `${shot.name} ${res.status}`;
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        if (shot.path === routes.redis.path && shot.method === 'GET' && res.status === 200) {
          const second = Math.floor(elapsed());
          visitsPerSecond[second] = (visitsPerSecond[second] ?? 0) + 1;
        }
        if (shot.ok.includes(res.status)) continue;
        if (shot.backPressure?.includes(res.status)) backPressure.set(res.status, (backPressure.get(res.status) ?? 0) + 1);
        else fail(`${shot.method} ${shot.path}: ${res.status}`);
      } catch (error) {
        fail(`${shot.method} ${shot.path}: ${error instanceof Error ? `${error.message} ${(error.cause as Error | undefined)?.message ?? ''}` : String(error)}`);
      }
    }
  };

  const sample = async (): Promise<Sample> => {
    const metrics = await (await fetch(`${stack.apiUrl}${routes.metrics.path}`, { signal: AbortSignal.timeout(5_000) })).text();
    const memory = await redisInfo(stack.options.ports.redis, 'memory');
    const keys = Number((await redisCall(stack.options.ports.redis, ['DBSIZE'])).slice(1));
    return {
      atSeconds: elapsed(),
      requests,
      rssBytes: metric(metrics, 'process_resident_memory_bytes'),
      openFds: metric(metrics, 'process_open_fds'),
      loopDelayP99Seconds: metric(metrics, 'nodejs_eventloop_lag_p99_seconds'),
      redisUsedBytes: Number(memory.get('used_memory')),
      redisKeys: keys,
    };
  };

  const warmUpSeconds = Math.max(10, seconds / 4);
  print(
    `soak | ${seconds} s of mixed traffic (${new Set(mix.map((shot) => shot.path)).size} paths) through ${options.edge} at ${stack.url}, ` +
      `${clients} clients; idempotency keys live ${idempotencyTtlSeconds} s; the first ${warmUpSeconds} s are warm-up`,
  );
  const start = await sample();
  const samples: Sample[] = [start];
  print(`soak | ${describeSample(start, 0)}  (start)`);
  let afterWarmUp: Sample | undefined;
  const running = Promise.all(Array.from({ length: clients }, (_, index) => client(index * 3)));
  const sampler = (async () => {
    while (going()) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(sampleEveryMs, Math.max(0, (seconds - elapsed()) * 1_000))));
      const taken = await sample();
      samples.push(taken);
      const warmedUp = !afterWarmUp && taken.atSeconds >= warmUpSeconds;
      if (warmedUp) afterWarmUp = taken;
      if (warmedUp || samples.length % printEvery === 1) {
        print(`soak | ${describeSample(taken, taken.atSeconds)}${warmedUp ? '  (warm-up done)' : ''}`);
      }
    }
  })();
  await Promise.all([running, sampler]);
  const end = await sample();
  samples.push(end);
  const warm = afterWarmUp ?? end;

  // RSS swings by a tenth between two garbage collections: the growth compares the medians of
  // the first and second halves after the warm-up, which a leak moves and a collection does not.
  const measured = samples.filter((taken) => taken.atSeconds >= warm.atSeconds).map((taken) => taken.rssBytes);
  const half = Math.floor(measured.length / 2);
  const rssGrowth = median(measured.slice(half)) / median(measured.slice(0, Math.max(half, 1))) - 1;
  const lastSecond = Math.floor(elapsed());
  const recentVisits = visitsPerSecond.slice(Math.max(0, lastSecond - keyWindowLifetimes * idempotencyTtlSeconds)).reduce((sum, count) => sum + count, 0);
  const verdicts = [
    { check: `no errors beyond 429/503 back-pressure on /load (${errorCount})`, ok: errorCount === 0 },
    {
      check: `api RSS grew less than 10% after warm-up (median ${mb(median(measured.slice(0, Math.max(half, 1))))} -> ${mb(median(measured.slice(half)))}, ${(rssGrowth * 100).toFixed(1)}%)`,
      ok: rssGrowth < 0.1,
    },
    { check: `api file descriptors steady after warm-up (${warm.openFds} -> ${end.openFds})`, ok: end.openFds <= warm.openFds + 10 },
    {
      // Each visit leaves a key for its lifetime (nginx gives every request one). Redis removes
      // expired keys in the background, up to about a lifetime late under load; keys that never
      // expired would outnumber the visits of the last three lifetimes, the soak being twice that.
      check: `idempotency keys expire: ${end.redisKeys} keys, ${recentVisits} visits in the last ${keyWindowLifetimes * idempotencyTtlSeconds} s`,
      ok: end.redisKeys <= recentVisits + 10,
    },
  ];
  return {
    requests,
    statuses,
    backPressure,
    errors,
    errorCount,
    samples,
    afterWarmUp: warm,
    end,
    rssGrowth,
    recentVisits,
    verdicts,
    passed: verdicts.every((verdict) => verdict.ok),
  };
}
