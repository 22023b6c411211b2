/**
 * What the bench measures, started as real processes: the three runner stacks, the references
 * (Express hello world, raw node + ioredis, that behind our nginx) and the api's feature variants.
 */
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkNginxConfig, freePort, freeReplicatedRedisPorts, freeStackPorts, liveRuns, preparePrefix, RedisServer, ReplicatedRedis } from '@three-tier/processes';
import { AccessLogPipe } from '@three-tier/runner';
import { formatHostPorts, redisReplication, routes } from '@three-tier/shared';
import { BenchChild, firstOk } from './children.js';
import type { RoleProcesses } from './cpu.js';
import type { NginxPlace } from './nginx-configs.js';
import type { ServerSettings } from './servers/settings.js';

/** PATH and HOME: all of the bench's own environment a child gets, as the runner does. */
export type BaseEnv = Readonly<Record<'PATH' | 'HOME', string | undefined>>;

const startTimeoutMs = 30_000;
const server = (name: string): string => fileURLToPath(new URL(`./servers/${name}.js`, import.meta.url));
const runnerCli = fileURLToPath(import.meta.resolve('@three-tier/runner/cli'));
const edgeEntry = fileURLToPath(import.meta.resolve('@three-tier/edge'));

export type EdgeKind = 'nginx' | 'http-proxy';
export type LogLevel = 'info' | 'warn';

/** `npm start` as a user runs it: the runner CLI, its output relayed to us and dropped. */
export interface RunnerStack {
  readonly name: string;
  readonly proc: BenchChild;
  readonly edgeUrl: string;
  readonly apiUrl: string;
  /** From spawn to its `ready:` line. */
  readonly readyMs: number;
  readonly roles: RoleProcesses;
}

/**
 * The runner's children by role, from the pids its run folder records (redis, nginx's master or
 * the node edge, the api), as `npm run chaos` finds them.
 */
async function runnerRoles(runner: number, runParent: string): Promise<RoleProcesses> {
  const [run] = await liveRuns(runParent);
  if (!run) throw new Error(`the runner (pid ${runner}) left no live run folder in ${runParent}`);
  const roles: RoleProcesses = { runner: { pid: runner, tree: false } };
  for (const role of ['api', 'edge', 'redis'] as const) {
    const service = run.record.services[role];
    if (!service) throw new Error(`the runner (pid ${runner}) records no ${role} process in ${run.path}`);
    roles[role] = { pid: service.pid, tree: true };
  }
  return roles;
}

export async function startRunner(
  name: string,
  options: { edge: EdgeKind; logLevel: LogLevel; dir: string; env: BaseEnv },
): Promise<RunnerStack> {
  const { edge: edgePort, api: apiPort, redis: redisPort } = await freeStackPorts(1);
  // A TMPDIR of its own: its run folder, the one there, says which pid plays which role.
  const runParent = join(options.dir, `run-${edgePort}`);
  await mkdir(runParent);
  const proc = new BenchChild({
    name: `runner (${name})`,
    command: process.execPath,
    args: [runnerCli, 'up'],
    env: {
      ...options.env,
      EDGE_PORT: String(edgePort),
      API_PORT: String(apiPort),
      REDIS_PORT: String(redisPort),
      STACK_DATA_DIR: join(options.dir, `redis-${edgePort}`),
      STACK_EDGE: options.edge,
      LOG_LEVEL: options.logLevel,
      LOG_FORMAT: 'json',
      TMPDIR: runParent,
    },
  });
  await proc.waitForLine(/^ready: (\S+)$/, startTimeoutMs);
  const readyMs = performance.now() - proc.startedAt;
  return {
    name,
    proc,
    edgeUrl: `http://127.0.0.1:${edgePort}`,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    readyMs,
    roles: await runnerRoles(proc.pid, runParent),
  };
}

/** A node server of this package on a free port; resolves once it answers 200 on `probePath`. */
export interface NodeServer {
  readonly proc: BenchChild;
  readonly url: string;
  /** From spawn to the first 200 on `probePath`. */
  readonly startMs: number;
}

export async function startNodeServer(
  entry: 'api' | 'bare-proxy' | 'course-app' | 'express-hello' | 'express-hello-born' | 'raw-incr',
  options: { name: string; env: BaseEnv; settings?: Omit<ServerSettings, 'port'>; probePath: string; nodeArgs?: readonly string[] },
): Promise<NodeServer> {
  const port = await freePort();
  const settings: ServerSettings = { ...options.settings, port };
  const proc = new BenchChild({
    name: options.name,
    command: process.execPath,
    // --enable-source-maps as the runner starts the api, so both pay the same.
    args: [...(options.nodeArgs ?? []), '--enable-source-maps', server(entry), JSON.stringify(settings)],
    env: options.env,
  });
  const url = `http://127.0.0.1:${port}`;
  const startMs = await proc.guard(firstOk(`${url}${options.probePath}`, startTimeoutMs, proc.startedAt), `a 200 on ${options.probePath}`, startTimeoutMs);
  return { proc, url, startMs };
}

/** The api (through our entry) with some features off, JSON logs at LOG_LEVEL info (or `logLevel`), as `npm start`. */
export async function startApiVariant(
  name: string,
  options: { off: readonly string[]; redisPort: number; env: BaseEnv; nodeArgs?: readonly string[]; logLevel?: LogLevel; sentinels?: ReplicatedRedis },
): Promise<NodeServer> {
  // A replicated set: the api in Sentinel mode, as REDIS_REPLICAS=2 npm start runs it.
  const redisEnv: Record<string, string> = options.sentinels
    ? { REDIS_SENTINELS: formatHostPorts(options.sentinels.sentinelAddresses), REDIS_MASTER_NAME: redisReplication.masterName }
    : { REDIS_URL: `redis://127.0.0.1:${options.redisPort}` };
  return startNodeServer('api', {
    name,
    probePath: routes.healthz.path,
    ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
    env: options.env,
    settings: {
      apiEnv: { ...redisEnv, LOG_LEVEL: options.logLevel ?? 'info', LOG_FORMAT: 'json' },
      featuresOff: options.off,
    },
  });
}

/** Our http-proxy edge (its entry, as the runner starts it) in front of `upstreamUrl`. */
export async function startEdge(options: { upstreamUrl: string; logLevel: LogLevel; env: BaseEnv }): Promise<NodeServer> {
  const port = await freePort();
  const proc = new BenchChild({
    name: `http-proxy edge (${options.logLevel})`,
    command: process.execPath,
    args: ['--enable-source-maps', edgeEntry],
    env: { ...options.env, EDGE_PORT: String(port), EDGE_HOST: '127.0.0.1', API_UPSTREAM: options.upstreamUrl, LOG_LEVEL: options.logLevel, LOG_FORMAT: 'json' },
  });
  const url = `http://127.0.0.1:${port}`;
  const startMs = await proc.guard(firstOk(`${url}/redis`, startTimeoutMs, proc.startedAt), 'a 200 on /redis through the edge', startTimeoutMs);
  return { proc, url, startMs };
}

/** A redis-server as the stack runs it (AOF, appendfsync always), on a free port. */
export async function startRedis(bin: string, dir: string): Promise<RedisServer> {
  const redis = new RedisServer({ bin, port: await freePort(), dir });
  await redis.start();
  return redis;
}

/** A replicated Redis (a master, 2 replicas, 3 Sentinels) as REDIS_REPLICAS=2 npm start runs it, on free ports. */
export async function startReplicatedRedis(bin: { redisServer: string; redisSentinel: string }, dir: string): Promise<ReplicatedRedis> {
  const set = new ReplicatedRedis({ bin, ports: await freeReplicatedRedisPorts(), dir });
  await set.start();
  return set;
}

/** An nginx the bench started: its url, and what closes the pipe its access log goes to. */
export interface BenchNginx {
  readonly proc: BenchChild;
  readonly url: string;
  readonly close: () => void;
}

/**
 * nginx with the config `config` makes for its place, in front of `upstreamPort`. An access log
 * the config sends to `accessLogPath` is a named pipe the bench reads and drops, as the runner
 * reads it (and relays it).
 */
export async function startNginx(
  bin: string,
  options: { name: string; dir: string; upstreamPort: number; config: (place: NginxPlace, accessLogPath: string) => string },
): Promise<BenchNginx> {
  const port = await freePort();
  const prefix = join(options.dir, `nginx-${port}`);
  await mkdir(join(prefix, 'tmp'), { recursive: true });
  // As root, nginx's workers run as nobody and must reach the prefix.
  await chmod(options.dir, 0o755);
  const accessLog = AccessLogPipe.open(join(prefix, 'access.log.pipe'), () => undefined);
  const configFile = await preparePrefix(prefix, options.config({ port, upstreamPort: options.upstreamPort, prefix }, accessLog.path));
  const check = checkNginxConfig(bin, prefix, configFile);
  if (!check.ok) {
    accessLog.close();
    throw new Error(`nginx rejected the config of ${options.name}:\n${check.output}`);
  }
  const proc = new BenchChild({ name: options.name, command: bin, args: ['-p', prefix, '-c', configFile, '-e', 'stderr'] });
  const url = `http://127.0.0.1:${port}`;
  await proc.guard(firstOk(`${url}/redis`, startTimeoutMs), 'a 200 on /redis through nginx', startTimeoutMs);
  return { proc, url, close: () => accessLog.close() };
}
