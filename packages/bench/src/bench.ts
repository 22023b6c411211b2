/**
 * What `npm run bench` does, step by step: start the references, the runner stacks and the api's
 * feature variants; measure every case in interleaved rounds; then memory, a stop under load, a CPU
 * profile and the container figures; last, the report. The environment is read by the entry point
 * (cli.ts) and arrives here as `BenchSettings`.
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { RedisServer, ReplicatedRedis } from '@three-tier/processes';
import { repoRoot } from '@three-tier/cli-kit';
import { routes } from '@three-tier/shared';
import { chart } from './chart.js';
import { measureContainers } from './containers.js';
import { residentBytes, type RoleProcesses } from './cpu.js';
import { hopCases, startHop } from './hop.js';
import { summariseProfile } from './profile.js';
import { referenceCases, startReferences } from './references.js';
import { formatReport, type Lifecycle, type Report } from './report.js';
import { runRounds, type Case } from './rounds.js';
import { Running } from './running.js';
import { startApiVariant, startRedis, startReplicatedRedis, startRunner, type BaseEnv, type NodeServer, type RunnerStack } from './targets.js';
import { backgroundWrk, defaultConnections, runWrk, uniqueKeyScript } from './wrk.js';

/** Everything the bench takes from its environment, read once by cli.ts. */
export interface BenchSettings {
  readonly seconds: number;
  readonly rounds: number;
  readonly outDir: string;
  /** Also write the chart to docs/bench.svg. */
  readonly writeDocs: boolean;
  /** PATH and HOME: all of the bench's own environment a child gets, as the runner does. */
  readonly baseEnv: BaseEnv;
  readonly bin: { readonly redisServer: string; readonly redisSentinel: string; readonly nginx: string };
  readonly wrkVersion: string;
  /** Docker's own settings and NODE_IMAGE, NGINX_IMAGE, REDIS_IMAGE, for the container figures. */
  readonly dockerEnv: NodeJS.ProcessEnv;
}

export type Progress = (message: string) => void;

const warmUpSeconds = 1;
/** Requests the api serves before its RSS is read again. */
const rssRequests = 100_000;

/** The version in a dependency's package.json, found from its resolved entry point. */
function packageVersion(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.resolve(name)));
  for (;;) {
    try {
      const json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (json.name === name) return json.version ?? '?';
    } catch {
      // Not here: one level up.
    }
    if (dir === dirname(dir)) return '?';
    dir = dirname(dir);
  }
}

const benchedRoutes = [routes.redis.path, routes.info.path, routes.html.path, routes.healthz.path] as const;
const usesRedis = (route: string): boolean => route === routes.redis.path || route === routes.html.path;
const features = ['requestLogs', 'metrics', 'deadlines', 'securityHeaders'] as const;

type Stacks = Readonly<Record<'info' | 'warn' | 'proxy', RunnerStack>>;

/** Three `npm start` stacks: nginx at LOG_LEVEL info and warn, the http-proxy edge at info. */
async function startStacks(settings: BenchSettings, dir: string, running: Running): Promise<Stacks> {
  const env = settings.baseEnv;
  const stacks = {
    info: await startRunner('nginx, info', { edge: 'nginx', logLevel: 'info', dir, env }),
    warn: await startRunner('nginx, warn', { edge: 'nginx', logLevel: 'warn', dir, env }),
    proxy: await startRunner('http-proxy, info', { edge: 'http-proxy', logLevel: 'info', dir, env }),
  };
  running.children.push(stacks.info.proc, stacks.warn.proc, stacks.proxy.proc);
  return stacks;
}

interface Variant {
  readonly id: string;
  readonly label: string;
  readonly api: NodeServer;
}

/** The api with everything on, then with one feature off at a time, all against one Redis. */
async function startVariants(settings: BenchSettings, dir: string, running: Running): Promise<{ variants: Variant[]; redis: RedisServer }> {
  const redis = await startRedis(settings.bin.redisServer, join(dir, 'redis-features'));
  running.redises.push(redis);
  const variants: Variant[] = [];
  for (const off of [undefined, ...features]) {
    const api = await startApiVariant(`api (${off ?? 'all on'})`, { off: off ? [off] : [], redisPort: redis.port, env: settings.baseEnv });
    running.children.push(api.proc);
    variants.push({ id: `feature:${off ? `-${off}` : 'all-on'}`, label: off ? `${off} off` : 'all on', api });
  }
  return { variants, redis };
}

/** The api, all on, against a replicated Redis: the price of a 200 that waits for a replica, beside "all on". */
async function startReplicatedVariant(settings: BenchSettings, dir: string, running: Running): Promise<{ api: NodeServer; set: ReplicatedRedis }> {
  const set = await startReplicatedRedis(settings.bin, join(dir, 'redis-replicated'));
  running.redises.push(set);
  const api = await startApiVariant('api (all on, replicated Redis)', { off: [], redisPort: 0, sentinels: set, env: settings.baseEnv });
  running.children.push(api.proc);
  return { api, set };
}

/** GET /redis on the replicated variant, charged the CPU of every member of the set. */
async function replicatedCase({ api, set }: { api: NodeServer; set: ReplicatedRedis }): Promise<Case> {
  const master = await set.master();
  const others = [...set.nodes, ...set.sentinels].filter((member) => member !== master).flatMap((member) => (member.pid === undefined ? [] : [member.pid]));
  return {
    id: 'feature:replicated',
    label: '/redis all on, replicated Redis (a 200 waits for a replica)',
    group: 'feature',
    url: `${api.url}/redis`,
    roles: { api: { pid: api.proc.pid, tree: true }, redis: { pid: master.pid ?? 0, tree: true, more: others } },
    against: 'feature:all-on',
  };
}

/**
 * The project's cases: every route on the api direct and through nginx; the log level and the node
 * edge priced on fewer routes, to keep the default run near six minutes.
 */
function projectCases(stacks: Stacks, keyScript: string): Case[] {
  const roles = (stack: RunnerStack, route: string, edge: boolean): RoleProcesses => ({
    api: stack.roles.api,
    runner: stack.roles.runner,
    ...(edge ? { edge: stack.roles.edge } : {}),
    ...(usesRedis(route) ? { redis: stack.roles.redis } : {}),
  });
  const cases: Case[] = [];
  for (const route of benchedRoutes) {
    const placements = [
      { id: 'direct-info', label: 'api direct, info', stack: stacks.info, edge: false },
      // Log level matters where a request is logged; /redis carries the comparison.
      ...(route === routes.redis.path ? [{ id: 'direct-warn', label: 'api direct, warn', stack: stacks.warn, edge: false }] : []),
      { id: 'nginx-info', label: 'nginx, info', stack: stacks.info, edge: true, against: 'direct-info' },
      ...(route === routes.redis.path ? [{ id: 'nginx-warn', label: 'nginx, warn', stack: stacks.warn, edge: true, against: 'direct-warn' }] : []),
      // The node edge on a route with Redis and on one without (the time budget leaves out / and /html).
      ...(route === routes.redis.path || route === routes.healthz.path
        ? [{ id: 'proxy-info', label: 'http-proxy, info', stack: stacks.proxy, edge: true, against: 'direct-info' }]
        : []),
    ];
    for (const placement of placements) {
      cases.push({
        id: `${placement.id}:${route}`,
        label: `${route} ${placement.label}`,
        group: 'project',
        url: `${placement.edge ? placement.stack.edgeUrl : placement.stack.apiUrl}${route}`,
        roles: roles(placement.stack, route, placement.edge),
        ...('against' in placement ? { against: `${placement.against}:${route}` } : {}),
      });
    }
    if (route === routes.redis.path) {
      cases.push({
        id: 'nginx-info-key:/redis',
        label: '/redis nginx, info, client Idempotency-Key',
        group: 'project',
        url: `${stacks.info.edgeUrl}/redis`,
        script: keyScript,
        roles: roles(stacks.info, route, true),
        against: 'direct-info:/redis',
      });
    }
  }
  return cases;
}

/** The feature variants' cases, and "all on" with a unique Idempotency-Key per request. */
function featureCases(variants: readonly Variant[], redis: RedisServer, allOn: NodeServer, keyScript: string): Case[] {
  const roles = (api: NodeServer): RoleProcesses => ({ api: { pid: api.proc.pid, tree: true }, redis: { pid: redis.pid ?? 0, tree: true } });
  return [
    ...variants.map(({ id, label, api }): Case => ({
      id,
      label: `/redis ${label}`,
      group: 'feature',
      url: `${api.url}/redis`,
      roles: roles(api),
      ...(id === 'feature:all-on' ? {} : { against: 'feature:all-on' }),
    })),
    {
      id: 'feature:all-on+key',
      label: '/redis all on, unique Idempotency-Key',
      group: 'feature',
      url: `${allOn.url}/redis`,
      script: keyScript,
      roles: roles(allOn),
      against: 'feature:all-on',
    },
  ];
}

/** Runs wrk on /redis until the api has served `requests` (`served` so far), then reads its RSS. */
async function rssAfterLoad(api: NodeServer, requests: number, served: number, progress: Progress): Promise<{ afterBytes: number; requests: number }> {
  let total = served;
  let rate = 5_000;
  while (total < requests) {
    const result = await runWrk({ url: `${api.url}/redis`, seconds: Math.min(30, Math.max(1, Math.ceil((requests - total) / rate))) });
    total += result.requests;
    rate = Math.max(result.rps, 100);
    progress(`RSS load: ${total} of ${requests} requests`);
  }
  return { afterBytes: residentBytes(api.proc.pid) ?? NaN, requests: total };
}

/** The api with --cpu-prof under wrk on /redis, stopped with SIGTERM, which writes the profile. */
async function profileApi(settings: BenchSettings, dir: string, redisPort: number): Promise<Report['profile']> {
  const profileDir = join(dir, 'profile');
  await mkdir(profileDir, { recursive: true });
  const api = await startApiVariant('api (profiled)', { off: [], redisPort, env: settings.baseEnv, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] });
  try {
    await runWrk({ url: `${api.url}/redis`, seconds: settings.seconds });
  } finally {
    await api.proc.child.stop('SIGTERM', 20_000);
  }
  const exit = await api.proc.child.exited;
  if (exit.code !== 0) return { error: `the profiled api exited with ${String(exit.code ?? exit.signal)}` };
  const files = (await readdir(profileDir)).filter((file) => file.endsWith('.cpuprofile'));
  // One file per thread; the main thread's has thread id 0: CPU.<date>.<time>.<pid>.0.<seq>.cpuprofile
  const main = files.find((file) => file.includes(`.${api.proc.pid}.0.`)) ?? files[0];
  if (!main) return { error: 'node wrote no .cpuprofile' };
  return summariseProfile(join(profileDir, main));
}

/** SIGTERM to exit of the runner while wrk drives /redis through its edge. */
async function stopUnderLoad(stack: RunnerStack): Promise<Lifecycle['stopUnderLoad']> {
  const load = backgroundWrk(`${stack.edgeUrl}/redis`, 60);
  try {
    await sleep(1_000);
    const sent = performance.now();
    const exit = await stack.proc.child.stop('SIGTERM', 30_000);
    return { ms: performance.now() - sent, code: exit.code, signal: exit.signal };
  } finally {
    load.stop();
  }
}

const failure = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** bench.json and bench.svg in the output folder (and docs/bench.svg when asked); the tables on stdout. */
async function writeReport(report: Report, settings: BenchSettings, progress: Progress): Promise<void> {
  const { outDir, writeDocs } = settings;
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'bench.json'), `${JSON.stringify(report, null, 2)}\n`);
  const svg = chart(report);
  if (svg) {
    await writeFile(join(outDir, 'bench.svg'), svg);
    if (writeDocs) {
      await mkdir(join(repoRoot, 'docs'), { recursive: true });
      await writeFile(join(repoRoot, 'docs', 'bench.svg'), svg);
    }
  }
  process.stdout.write(`${formatReport(report)}\n`);
  progress(`wrote ${join(outDir, 'bench.json')} and bench.svg${writeDocs && svg ? ', and docs/bench.svg' : ''}`);
}

/** Starts everything, measures every case and the lifecycle, stops everything, and returns the report. */
async function measure(settings: BenchSettings, dir: string, running: Running, progress: Progress, began: number): Promise<Report> {
  const { seconds, rounds } = settings;
  const cores = availableParallelism();
  progress(`${seconds} s per run, ${rounds} rounds; starting the references`);
  const references = await startReferences(settings.bin, settings.baseEnv, dir, running);
  progress('starting the hop: the api at warn behind a ladder of nginx configs');
  const hop = await startHop(settings.bin, settings.baseEnv, dir, running);
  progress('starting three runner stacks (nginx info, nginx warn, http-proxy info)');
  const stacks = await startStacks(settings, dir, running);
  progress('starting the api variants (one feature off at a time) against one redis');
  const { variants, redis: featureRedis } = await startVariants(settings, dir, running);
  const allOn = variants[0]?.api;
  if (!allOn) throw new Error('no api variant started');
  progress('starting the api, all on, against a replicated Redis (a master, 2 replicas, 3 Sentinels)');
  const replicated = await startReplicatedVariant(settings, dir, running);

  // Memory: the idle api now; after 100k requests once its cases have run (topped up if fewer).
  await sleep(500);
  const idleBytes = residentBytes(allOn.proc.pid) ?? NaN;

  const keyScript = await uniqueKeyScript(dir);
  const cases = [
    ...referenceCases(references),
    ...hopCases(hop, keyScript),
    ...projectCases(stacks, keyScript),
    ...featureCases(variants, featureRedis, allOn, keyScript),
    await replicatedCase(replicated),
  ];
  progress(`${cases.length} cases, about ${Math.round((cases.length * (rounds * seconds + warmUpSeconds)) / 60)} min of load`);
  const results = await runRounds(cases, { seconds, rounds, cores, warmUpSeconds, progress });
  const servedByAllOn = results.filter((result) => result.id.startsWith('feature:all-on')).reduce((sum, result) => sum + result.requests, 0);
  const afterLoad = await rssAfterLoad(allOn, rssRequests, servedByAllOn, progress);

  progress('stopping the nginx/info runner under load');
  const stopped = await stopUnderLoad(stacks.info);
  progress('CPU profile of the api');
  const profile = await profileApi(settings, dir, featureRedis.port).catch((error: unknown) => ({ error: failure(error) }));

  progress('stopping everything');
  await running.stopInReverse(15_000);
  for (const redis of running.redises) await redis.stop();

  progress('containers');
  const containers = await measureContainers(settings.dockerEnv, progress).catch((error: unknown) => ({ measured: false as const, reason: failure(error) }));

  return {
    date: new Date().toISOString().slice(0, 16).replace('T', ' '),
    versions: { node: process.version, express: packageVersion('express'), ioredis: packageVersion('ioredis'), wrk: `wrk ${settings.wrkVersion}` },
    settings: { seconds, rounds, connections: defaultConnections, warmUpSeconds, cores },
    results,
    lifecycle: {
      apiStartMs: variants.map(({ api }) => api.startMs),
      runnerReadyMs: Object.values(stacks).map((stack) => ({ stack: stack.name, ms: stack.readyMs })),
      stopUnderLoad: stopped,
      rss: { idleBytes, ...afterLoad },
    },
    profile,
    containers,
    elapsedSeconds: (performance.now() - began) / 1000,
  };
}

/**
 * The whole bench: measures, writes the report, and leaves nothing running. Returns the way to kill
 * every child at once, for a signal that arrives meanwhile.
 */
export function startBench(settings: BenchSettings, progress: Progress, began: number): { done: Promise<void>; killAll: () => void } {
  const running = new Running();
  const done = (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'three-tier-bench-'));
    try {
      await writeReport(await measure(settings, dir, running, progress, began), settings, progress);
    } finally {
      await running.stopAll();
      await rm(dir, { recursive: true, force: true });
    }
  })();
  return { done, killAll: () => running.killAll() };
}
