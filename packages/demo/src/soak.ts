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
  /** Visits that left an idempotency key, in the last three key lifetimes, at the end. */
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

/** What the clients saw: every answer by shot and status, the refusals, the errors, and the visits second by second. */
class Tally {
  requests = 0;
  errorCount = 0;
  readonly statuses = new Map<string, number>();
  readonly backPressure = new Map<number, number>();
  readonly errors: string[] = [];
  /** Visits that leave a key, per elapsed second, to know how many keys may still be alive at the end. */
  readonly visitsPerSecond: number[] = [];

  /**
   * @param edgeMakesKeys whether the edge gives a request without a key one of its own (the
   * http-proxy edge always; nginx only where it may retry elsewhere, and the soak runs one instance)
   */
  constructor(private readonly edgeMakesKeys: boolean) {}

  answer(shot: Shot, status: number, second: number): void {
    const key = `${shot.name} ${status}`;
    this.statuses.set(key, (this.statuses.get(key) ?? 0) + 1);
    const leavesKey = shot.idempotencyKey === true || this.edgeMakesKeys;
    if (leavesKey && shot.path === routes.redis.path && shot.method === 'GET' && status === 200) {
      this.visitsPerSecond[second] = (this.visitsPerSecond[second] ?? 0) + 1;
    }
    if (shot.ok.includes(status)) return;
    if (shot.backPressure?.includes(status)) this.backPressure.set(status, (this.backPressure.get(status) ?? 0) + 1);
    else this.fail(`${shot.method} ${shot.path}: ${status}`);
  }

  fail(message: string): void {
    this.errorCount += 1;
    if (this.errors.length < 20) this.errors.push(message);
  }

  /** Visits that left a key, from second `from` to the end. */
  visitsSince(from: number): number {
    return this.visitsPerSecond.slice(Math.max(0, from)).reduce((sum, count) => sum + count, 0);
  }
}

/** The soak's clock: seconds since the traffic began, and whether it should go on. */
interface Clock {
  elapsed(): number;
  going(): boolean;
}

/** One client: walks the mix from `offset`, one request at a time, until the clock says stop. */
async function client(stack: NativeStack, tally: Tally, clock: Clock, offset: number): Promise<void> {
  for (let turn = offset; clock.going(); turn += 1) {
    const shot = mix[turn % mix.length];
    if (!shot) continue;
    tally.requests += 1;
    try {
      const res = await fetch(`${stack.url}${shot.path}`, {
        method: shot.method,
        headers: shot.idempotencyKey ? { [headerNames.idempotencyKey]: `soak-${offset}-${turn}` } : {},
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      tally.answer(shot, res.status, Math.floor(clock.elapsed()));
    } catch (error) {
      tally.fail(`${shot.method} ${shot.path}: ${error instanceof Error ? `${error.message} ${(error.cause as Error | undefined)?.message ?? ''}` : String(error)}`);
    }
  }
}

/** The api's memory, descriptors and loop delay (its /metrics), and Redis's memory and keys, now. */
async function sample(stack: NativeStack, tally: Tally, clock: Clock): Promise<Sample> {
  const metrics = await (await fetch(`${stack.apiUrl}${routes.metrics.path}`, { signal: AbortSignal.timeout(5_000) })).text();
  const memory = await redisInfo(stack.options.ports.redis, 'memory');
  const keys = Number((await redisCall(stack.options.ports.redis, ['DBSIZE'])).slice(1));
  return {
    atSeconds: clock.elapsed(),
    requests: tally.requests,
    rssBytes: metric(metrics, 'process_resident_memory_bytes'),
    openFds: metric(metrics, 'process_open_fds'),
    loopDelayP99Seconds: metric(metrics, 'nodejs_eventloop_lag_p99_seconds'),
    redisUsedBytes: Number(memory.get('used_memory')),
    redisKeys: keys,
  };
}

/** Samples every `sampleEveryMs` while the traffic runs (after `start`), printing every n-th and the end of the warm-up. */
async function sampleWhileGoing(
  start: Sample,
  take: () => Promise<Sample>,
  clock: Clock,
  options: { seconds: number; sampleEveryMs: number; printEvery: number; warmUpSeconds: number },
  print: (line: string) => void,
): Promise<{ samples: Sample[]; afterWarmUp: Sample | undefined }> {
  const samples: Sample[] = [start];
  let afterWarmUp: Sample | undefined;
  while (clock.going()) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(options.sampleEveryMs, Math.max(0, (options.seconds - clock.elapsed()) * 1_000))));
    const taken = await take();
    samples.push(taken);
    const warmedUp = !afterWarmUp && taken.atSeconds >= options.warmUpSeconds;
    if (warmedUp) afterWarmUp = taken;
    if (warmedUp || samples.length % options.printEvery === 1) {
      print(`soak | ${describeSample(taken, taken.atSeconds)}${warmedUp ? '  (warm-up done)' : ''}`);
    }
  }
  return { samples, afterWarmUp };
}

/** The checks: no errors, memory and descriptors steady after the warm-up, idempotency keys expiring. */
function judge(samples: readonly Sample[], warm: Sample, end: Sample, tally: Tally, recentVisits: number, keyWindowSeconds: number) {
  // RSS swings by a tenth between two garbage collections: the growth compares the medians of
  // the first and second halves after the warm-up, which a leak moves and a collection does not.
  const measured = samples.filter((taken) => taken.atSeconds >= warm.atSeconds).map((taken) => taken.rssBytes);
  const half = Math.floor(measured.length / 2);
  const firstHalf = median(measured.slice(0, Math.max(half, 1)));
  const secondHalf = median(measured.slice(half));
  const rssGrowth = secondHalf / firstHalf - 1;
  const verdicts = [
    { check: `no errors beyond 429/503 back-pressure on /load (${tally.errorCount})`, ok: tally.errorCount === 0 },
    {
      check: `api RSS grew less than 10% after warm-up (median ${mb(firstHalf)} -> ${mb(secondHalf)}, ${(rssGrowth * 100).toFixed(1)}%)`,
      ok: rssGrowth < 0.1,
    },
    { check: `api file descriptors steady after warm-up (${warm.openFds} -> ${end.openFds})`, ok: end.openFds <= warm.openFds + 10 },
    {
      // Each keyed visit leaves a key for its lifetime (see Tally). Redis removes expired keys in
      // the background, up to about a lifetime late under load; keys that never expired would
      // outnumber the keyed visits of the last three lifetimes, the soak being twice that.
      check: `idempotency keys expire: ${end.redisKeys} keys, ${recentVisits} keyed visits in the last ${keyWindowSeconds} s`,
      ok: end.redisKeys <= recentVisits + 10,
    },
  ];
  return { rssGrowth, verdicts };
}

async function drive(stack: NativeStack, options: SoakOptions, print: (line: string) => void): Promise<SoakReport> {
  const { seconds, clients, idempotencyTtlSeconds, sampleEveryMs = 1_000, printEvery = 5 } = options;
  const started = performance.now();
  const clock: Clock = {
    elapsed: () => (performance.now() - started) / 1_000,
    going: () => clock.elapsed() < seconds && !options.signal?.aborted,
  };
  const tally = new Tally(options.edge === 'http-proxy');
  const take = (): Promise<Sample> => sample(stack, tally, clock);

  const warmUpSeconds = Math.max(10, seconds / 4);
  print(
    `soak | ${seconds} s of mixed traffic (${new Set(mix.map((shot) => shot.path)).size} paths) through ${options.edge} at ${stack.url}, ` +
      `${clients} clients; idempotency keys live ${idempotencyTtlSeconds} s; the first ${warmUpSeconds} s are warm-up`,
  );
  const start = await take();
  print(`soak | ${describeSample(start, 0)}  (start)`);
  const running = Promise.all(Array.from({ length: clients }, (_, index) => client(stack, tally, clock, index * 3)));
  const sampling = sampleWhileGoing(start, take, clock, { seconds, sampleEveryMs, printEvery, warmUpSeconds }, print);
  const [, sampled] = await Promise.all([running, sampling]);
  const end = await take();
  const samples = [...sampled.samples, end];
  const warm = sampled.afterWarmUp ?? end;

  const keyWindowSeconds = keyWindowLifetimes * idempotencyTtlSeconds;
  const recentVisits = tally.visitsSince(Math.floor(clock.elapsed()) - keyWindowSeconds);
  const { rssGrowth, verdicts } = judge(samples, warm, end, tally, recentVisits, keyWindowSeconds);
  return {
    requests: tally.requests,
    statuses: tally.statuses,
    backPressure: tally.backPressure,
    errors: tally.errors,
    errorCount: tally.errorCount,
    samples,
    afterWarmUp: warm,
    end,
    rssGrowth,
    recentVisits,
    verdicts,
    passed: verdicts.every((verdict) => verdict.ok),
  };
}
