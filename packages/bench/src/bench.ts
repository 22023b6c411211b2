/**
 * npm run bench: what each hop and feature of the stack costs, in req/s and in CPU time per request,
 * beside bare references started in the same run, plus start, stop, memory, a CPU profile and the
 * container figures. The only file of the bench that reads the environment.
 *
 * The load generator is wrk, a process of its own (a Node generator here would compete with the
 * servers for the same two cores). Figures are ratios within one run: the machine is shared.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { findBinaries, type RedisServer } from '@three-tier/processes';
import { repoRoot } from '@three-tier/cli-kit';
import { chart } from './chart.js';
import { killAll, type Proc } from './children.js';
import { measureContainers } from './containers.js';
import { residentBytes, type RoleProcesses } from './cpu.js';
import { summariseProfile } from './profile.js';
import { formatReport, helloId, type Lifecycle, type Report } from './report.js';
import { runRounds, type Case } from './rounds.js';
import { startApiVariant, startNginx, startNodeServer, startRedis, startRunner, type BaseEnv, type NodeServer, type RunnerStack } from './targets.js';
import { backgroundWrk, defaultConnections, runWrk, uniqueKeyScript } from './wrk.js';

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    process.stderr.write(`bench: ${name} must be a whole number, 1 or more (got ${JSON.stringify(raw)})\n`);
    process.exit(2);
  }
  return value;
}

const seconds = positiveInteger('BENCH_SECONDS', 5);
const rounds = positiveInteger('BENCH_ROUNDS', 3);
const outDir = resolve(process.env.BENCH_OUT || join(repoRoot, '.bench'));
const writeDocs = process.env.BENCH_WRITE_DOCS === '1';
const baseEnv: BaseEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
const warmUpSeconds = 1;
/** Requests the api serves before its RSS is read again. */
const rssRequests = 100_000;
const cores = availableParallelism();
const began = performance.now();

const progress = (message: string): void => {
  process.stderr.write(`bench ${((performance.now() - began) / 1000).toFixed(0).padStart(4)} s | ${message}\n`);
};

// Ctrl-C or a kill: every child, descendants included, goes with us.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: killing every child`);
    killAll();
    process.exit(130);
  });
}

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

const routes = ['/redis', '/', '/html', '/healthz'] as const;
const usesRedis = (route: string): boolean => route === '/redis' || route === '/html';
const features = ['requestLogs', 'metrics', 'deadlines', 'securityHeaders'] as const;

/**
 * The project's cases: every route on the api direct and through nginx; the log level and the node
 * edge priced on fewer routes, to keep the default run near six minutes.
 */
function projectCases(stacks: { info: RunnerStack; warn: RunnerStack; proxy: RunnerStack }, keyScript: string): Case[] {
  const roles = (stack: RunnerStack, route: string, edge: boolean): RoleProcesses => ({
    api: stack.roles.api,
    runner: stack.roles.runner,
    ...(edge ? { edge: stack.roles.edge } : {}),
    ...(usesRedis(route) ? { redis: stack.roles.redis } : {}),
  });
  const cases: Case[] = [];
  for (const route of routes) {
    const placements = [
      { id: 'direct-info', label: 'api direct, info', stack: stacks.info, edge: false },
      // Log level matters where a request is logged; /redis carries the comparison.
      ...(route === '/redis' ? [{ id: 'direct-warn', label: 'api direct, warn', stack: stacks.warn, edge: false }] : []),
      { id: 'nginx-info', label: 'nginx, info', stack: stacks.info, edge: true, against: 'direct-info' },
      ...(route === '/redis' ? [{ id: 'nginx-warn', label: 'nginx, warn', stack: stacks.warn, edge: true, against: 'direct-warn' }] : []),
      // The node edge on a route with Redis and on one without (the time budget leaves out / and /html).
      ...(route === '/redis' || route === '/healthz'
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
    if (route === '/redis') {
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

/** Runs wrk on /redis until the api has served `requests` (`served` so far), then reads its RSS. */
async function rssAfterLoad(api: NodeServer, requests: number, served: number): Promise<{ afterBytes: number; requests: number }> {
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
async function profileApi(dir: string, redisPort: number): Promise<Report['profile']> {
  const profileDir = join(dir, 'profile');
  await mkdir(profileDir, { recursive: true });
  const api = await startApiVariant('api (profiled)', { off: [], redisPort, env: baseEnv, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] });
  try {
    await runWrk({ url: `${api.url}/redis`, seconds });
  } finally {
    await api.proc.stop('SIGTERM', 20_000);
  }
  const exit = await api.proc.exited;
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
    const exit = await stack.proc.stop('SIGTERM', 30_000);
    return { ms: performance.now() - sent, code: exit.code, signal: exit.signal };
  } finally {
    load.stop();
  }
}

const { redisServer, nginx } = findBinaries(process.env);
if (!redisServer || !nginx) throw new Error('the bench needs redis-server and nginx (npm start installs them as root)');
if (spawnSync('wrk', ['--version']).error) throw new Error('the bench needs wrk: apt-get install -y wrk');
const wrkVersion = /wrk (\S+)/.exec(spawnSync('wrk', ['--version'], { encoding: 'utf8' }).stdout)?.[1] ?? '?';

const dir = await mkdtemp(join(tmpdir(), 'three-tier-bench-'));
const procs: Proc[] = [];
const redises: RedisServer[] = [];
const closers: (() => void)[] = [];
try {
  progress(`${seconds} s per run, ${rounds} rounds; starting the references`);
  const refRedis = await startRedis(redisServer, join(dir, 'redis-references'));
  redises.push(refRedis);
  const hello = await startNodeServer('express-hello', { name: 'express hello world', env: baseEnv, probePath: '/' });
  const helloBorn = await startNodeServer('express-hello-born', { name: 'express hello world, born', env: baseEnv, probePath: '/' });
  const raw = await startNodeServer('raw-incr', { name: 'raw http + ioredis', env: { ...baseEnv, REDIS_URL: `redis://127.0.0.1:${refRedis.port}` }, probePath: '/' });
  procs.push(hello.proc, helloBorn.proc, raw.proc);
  const rawNginx = await startNginx(nginx, { dir, apiPort: Number(new URL(raw.url).port) });
  procs.push(rawNginx.proc);
  closers.push(rawNginx.close);

  progress('starting three runner stacks (nginx info, nginx warn, http-proxy info)');
  const stacks = {
    info: await startRunner('nginx, info', { edge: 'nginx', logLevel: 'info', dir, env: baseEnv }),
    warn: await startRunner('nginx, warn', { edge: 'nginx', logLevel: 'warn', dir, env: baseEnv }),
    proxy: await startRunner('http-proxy, info', { edge: 'http-proxy', logLevel: 'info', dir, env: baseEnv }),
  };
  procs.push(stacks.info.proc, stacks.warn.proc, stacks.proxy.proc);

  progress('starting the api variants (one feature off at a time) against one redis');
  const featureRedis = await startRedis(redisServer, join(dir, 'redis-features'));
  redises.push(featureRedis);
  const variants: { id: string; label: string; api: NodeServer }[] = [];
  for (const off of [undefined, ...features]) {
    const api = await startApiVariant(`api (${off ?? 'all on'})`, { off: off ? [off] : [], redisPort: featureRedis.port, env: baseEnv });
    procs.push(api.proc);
    variants.push({ id: `feature:${off ? `-${off}` : 'all-on'}`, label: off ? `${off} off` : 'all on', api });
  }
  const allOn = variants[0]?.api;
  if (!allOn) throw new Error('no api variant started');

  // Memory: the idle api now; after 100k requests once its cases have run (topped up if fewer).
  await sleep(500);
  const idleBytes = residentBytes(allOn.proc.pid) ?? NaN;

  const keyScript = await uniqueKeyScript(dir);
  const cases: Case[] = [
    { id: helloId, label: 'Express 5 hello world (GET /)', group: 'reference', url: `${hello.url}/`, roles: { api: { pid: hello.proc.pid, tree: true } } },
    {
      id: 'hello-born',
      label: 'the same, objects born with its prototypes',
      group: 'reference',
      url: `${helloBorn.url}/`,
      roles: { api: { pid: helloBorn.proc.pid, tree: true } },
    },
    {
      id: 'raw',
      label: 'raw node http + ioredis INCR',
      group: 'reference',
      url: `${raw.url}/redis`,
      roles: { api: { pid: raw.proc.pid, tree: true }, redis: { pid: refRedis.pid ?? 0, tree: true } },
    },
    {
      id: 'raw-nginx',
      label: 'raw INCR behind our nginx',
      group: 'reference',
      url: `${rawNginx.url}/redis`,
      roles: { api: { pid: raw.proc.pid, tree: true }, edge: { pid: rawNginx.proc.pid, tree: true }, redis: { pid: refRedis.pid ?? 0, tree: true } },
      against: 'raw',
    },
    ...projectCases(stacks, keyScript),
    ...variants.map(({ id, label, api }): Case => ({
      id,
      label: `/redis ${label}`,
      group: 'feature',
      url: `${api.url}/redis`,
      roles: { api: { pid: api.proc.pid, tree: true }, redis: { pid: featureRedis.pid ?? 0, tree: true } },
      ...(id === 'feature:all-on' ? {} : { against: 'feature:all-on' }),
    })),
    {
      id: 'feature:all-on+key',
      label: '/redis all on, unique Idempotency-Key',
      group: 'feature',
      url: `${allOn.url}/redis`,
      script: keyScript,
      roles: { api: { pid: allOn.proc.pid, tree: true }, redis: { pid: featureRedis.pid ?? 0, tree: true } },
      against: 'feature:all-on',
    },
  ];
  progress(`${cases.length} cases, about ${Math.round((cases.length * (rounds * seconds + warmUpSeconds)) / 60)} min of load`);
  const results = await runRounds(cases, { seconds, rounds, cores, warmUpSeconds, progress });
  const servedByAllOn = results.filter((result) => result.id.startsWith('feature:all-on')).reduce((sum, result) => sum + result.requests, 0);
  const afterLoad = await rssAfterLoad(allOn, rssRequests, servedByAllOn);

  progress('stopping the nginx/info runner under load');
  const stopped = await stopUnderLoad(stacks.info);
  progress('CPU profile of the api');
  const profile = await profileApi(dir, featureRedis.port).catch((error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }));

  progress('stopping everything');
  for (const proc of procs.reverse()) await proc.stop(proc === rawNginx.proc ? 'SIGQUIT' : 'SIGTERM');
  for (const redis of redises) await redis.stop();

  progress('containers');
  const containers = await measureContainers(process.env, progress).catch((error: unknown) => ({
    measured: false as const,
    reason: error instanceof Error ? error.message : String(error),
  }));

  const report: Report = {
    date: new Date().toISOString().slice(0, 16).replace('T', ' '),
    versions: { node: process.version, express: packageVersion('express'), ioredis: packageVersion('ioredis'), wrk: `wrk ${wrkVersion}` },
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
} finally {
  // On an error, whatever is still running: runners first (they stop their own children in order).
  for (const proc of procs) if (proc.running) await proc.stop('SIGTERM', 10_000);
  for (const redis of redises) await redis.stop();
  killAll();
  for (const close of closers) close();
  await rm(dir, { recursive: true, force: true });
}
