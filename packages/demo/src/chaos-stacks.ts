import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { commandOutput, liveRuns, preferredComposeCommand, RetryLog, retryLogName, type RunRecord } from '@three-tier/processes';
import { repoRoot } from '@three-tier/cli-kit';
import { instanceAlias, nativeDefaults, ports, routes, services, type InstanceBody } from '@three-tier/shared';
import { composeRedisSet, nativeRedisSet, type RedisSetAccess } from './chaos-redis-set.js';

/** One api instance as chaos names it: by hostname, alias, port (native) or container (compose). */
export interface ChaosInstance {
  readonly hostname: string;
  readonly alias: string;
  /** 'port 3001' natively, the container's name in compose. */
  readonly where: string;
  /** What else names it on the command line: its port, its container's name and id. */
  readonly names: readonly string[];
  /** Natively, its pid; in compose, its container id. */
  readonly handle: string;
}

/** The answer of a fault route, as chaos prints it. */
export interface RouteAnswer {
  readonly status: number;
  readonly body: string;
}

export type RedisAction = 'freeze' | 'thaw' | 'stop' | 'start';

/** What chaos can do to a stack, natively or in compose. */
export interface ChaosStack {
  readonly kind: 'native' | 'compose';
  /** Which stack, in words: npm start's run folder, or the compose project. */
  readonly where: string;
  /** The edge's URL, polled while watching. */
  readonly url: string;
  /** The api instances, in a stable order (port, or container name). */
  instances(): Promise<ChaosInstance[]>;
  kill(instance: ChaosInstance): Promise<string>;
  redis(action: RedisAction): Promise<string>;
  /** A request to an instance's own port (fault routes live only there). */
  call(instance: ChaosInstance, method: string, path: string): Promise<RouteAnswer>;
  /** Why the instance cannot be in the rotation now (down, unready), or undefined if it can. */
  probe(instance: ChaosInstance): Promise<string | undefined>;
  /** How many requests the edge retried on another instance since `since`. */
  retries(since: Date): Promise<number | string>;
  /** The replicated Redis's members; throws SingleRedisError when the stack runs a single Redis. */
  redisSet(): Promise<RedisSetAccess>;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    throw new Error(`cannot send ${name} to pid ${pid}: ${(error as Error).message}`, { cause: error });
  }
}

/** The live `npm start` run under `tmp` (the newest, if several), or undefined. */
export async function findNativeRun(tmp: string): Promise<{ path: string; record: RunRecord } | undefined> {
  const [newest] = await liveRuns(tmp);
  return newest;
}

/** The api instances a run folder records, in port order. */
function recordedApis(record: RunRecord): { pid: number; port: number; instanceId: string | undefined }[] {
  return Object.entries(record.services)
    .filter(([name, service]) => (name === 'api' || name.startsWith('api ')) && service.port !== undefined)
    .map(([, service]) => ({ pid: service.pid, port: service.port ?? 0, instanceId: service.instanceId }))
    .sort((a, b) => a.port - b.port);
}

/** Redis natively: signals to the pid the runner recorded. */
function nativeRedis(record: RunRecord, action: RedisAction): string {
  const redis = record.services.redis;
  if (!redis) throw new Error('npm start runs a replicated Redis (REDIS_REPLICAS): act on its members with redis kill-master, kill-replica or kill-sentinel');
  switch (action) {
    case 'freeze':
      signal(redis.pid, 'SIGSTOP');
      return `sent SIGSTOP to redis-server (pid ${redis.pid}): it holds its connections but answers nothing`;
    case 'thaw':
      signal(redis.pid, 'SIGCONT');
      return `sent SIGCONT to redis-server (pid ${redis.pid}): it answers again`;
    case 'stop':
      signal(redis.pid, 'SIGTERM');
      return `sent SIGTERM to redis-server (pid ${redis.pid}); the runner restarts it on its own, as compose's restart policy would`;
    case 'start':
      return 'natively there is nothing to start: the runner restarts redis-server on its own whenever it exits';
  }
}

/** Why an instance on `port` is out of the rotation, asked of its own /readyz; undefined when it is ready. */
async function probePort(port: string): Promise<string | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${routes.readyz.path}`, { signal: AbortSignal.timeout(1_000) });
    await response.body?.cancel();
    return response.status === 200 ? undefined : `its ${routes.readyz.path} answers ${response.status}`;
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return cause === 'ECONNREFUSED' ? `nothing listens on port ${port}` : `its ${routes.readyz.path} does not answer (${cause ?? (error as Error).message})`;
  }
}

/** `npm start`'s stack, from its run folder's record (stack.json): every process by the pid the runner wrote. */
export function nativeStack(folder: string, record: RunRecord, url: string | undefined, redisPassword?: string): ChaosStack {
  const apis = recordedApis(record);
  return {
    kind: 'native',
    where: `npm start, run folder ${folder}`,
    url: url ?? record.url ?? `http://127.0.0.1:${nativeDefaults.edgePort}`,
    async instances() {
      return Promise.all(
        apis.map(async ({ pid, port, instanceId }) => {
          // The runner records each instance's INSTANCE_ID; asked first, in case that changes.
          let hostname = instanceId ?? `${osHostname()}-${port}`;
          try {
            const response = await fetch(`http://127.0.0.1:${port}${routes.instance.path}`, { signal: AbortSignal.timeout(3_000) });
            hostname = ((await response.json()) as InstanceBody).hostname;
          } catch {
            // down, or unready (which drops every request but the fault routes): named as the runner names it
          }
          return { hostname, alias: instanceAlias(hostname), where: `port ${port}`, names: [String(port)], handle: String(pid) };
        }),
      );
    },
    kill(instance) {
      signal(Number(instance.handle), 'SIGKILL');
      return Promise.resolve(`sent SIGKILL to pid ${instance.handle}; the runner restarts it on its own, as compose would`);
    },
    redis(action) {
      return Promise.resolve(nativeRedis(record, action));
    },
    async call(instance, method, path) {
      const port = instance.names[0] ?? '';
      const response = await fetch(`http://127.0.0.1:${port}${path}`, { method, signal: AbortSignal.timeout(5_000) });
      return { status: response.status, body: await response.text() };
    },
    probe(instance) {
      return probePort(instance.names[0] ?? '');
    },
    // The runner notes every retried request in the run folder (see RetryLog).
    retries(since) {
      return RetryLog.countSince(join(folder, retryLogName), since);
    },
    redisSet: () => Promise.resolve().then(() => nativeRedisSet(record, redisPassword)),
  };
}

export interface ComposeOptions {
  readonly project: string;
  /** The Redis password the stack runs with (REDIS_PASSWORD), for redis-cli in a replicated set. */
  readonly redisPassword?: string | undefined;
  readonly url: string;
  readonly env: NodeJS.ProcessEnv;
}

/** A container of the compose project. */
interface Container {
  readonly id: string;
  readonly name: string;
  readonly hostname: string;
}

/** The docker CLI; `env` is added to its environment. */
type Docker = (args: readonly string[], env?: NodeJS.ProcessEnv) => Promise<string>;

const lines = (text: string): string[] => text.split('\n').filter(Boolean);

/** The containers of one service of `project`, by name; with `all`, stopped ones too. */
async function serviceContainers(docker: Docker, project: string, service: string, all = false): Promise<Container[]> {
  const filters = ['--filter', `label=com.docker.compose.project=${project}`, '--filter', `label=com.docker.compose.service=${service}`];
  const ids = lines(await docker(['ps', '-q', ...(all ? ['-a'] : []), ...filters]));
  if (ids.length === 0) return [];
  return lines(await docker(['inspect', '--format', '{{.Id}} {{.Name}} {{.Config.Hostname}}', ...ids]))
    .map((line) => {
      const [id = '', name = '', hostname = ''] = line.split(' ');
      return { id, name: name.replace(/^\//, ''), hostname };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

async function oneContainer(docker: Docker, project: string, service: string, all = false): Promise<Container> {
  const [found] = await serviceContainers(docker, project, service, all);
  if (!found) throw new Error(`no ${service} container of compose project ${project} is ${all ? 'there' : 'running'}`);
  return found;
}

/**
 * Node code run in a container that prints the pid of its main process. Compose starts every
 * service with `init: true`: Docker's init is pid 1 and the service's command its only child. A
 * `docker exec` comes in from outside, with parent 0, so it never matches itself.
 */
const mainProcessScript = [
  "const fs = require('fs');",
  "const ppid = (pid) => { try { const stat = fs.readFileSync('/proc/' + pid + '/stat', 'utf8'); return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]; } catch { return undefined; } };",
  "const main = fs.readdirSync('/proc').filter((p) => /^[0-9]+$/.test(p) && Number(p) > 1).find((p) => ppid(p) === '1');",
  "if (!main) { console.error('no process under the init of this container'); process.exit(1); }",
  'console.log(main);',
].join('\n');

/**
 * SIGKILL to the api process inside its container, a crash as the OOM killer's: its init exits
 * with it, and Docker's restart policy brings the replica back. `docker kill` would count as a
 * stop asked for, and restart: unless-stopped would leave the replica down.
 */
async function killApiIn(docker: Docker, instance: ChaosInstance): Promise<string> {
  const pid = Number((await docker(['exec', instance.handle, 'node', '-e', mainProcessScript])).trim());
  // Detached: the container dies with its api, and an attached exec would die with it, failing.
  await docker(['exec', '--detach', instance.handle, 'node', '-e', `process.kill(${pid}, 'SIGKILL')`]);
  return `sent SIGKILL to the api process (pid ${pid} in ${instance.where}), as a crash or the OOM killer would; Docker's restart policy (unless-stopped) restarts the container`;
}

const dockerRedisCommand = { freeze: 'pause', thaw: 'unpause', stop: 'stop', start: 'start' } as const;
const dockerRedisMeaning = {
  freeze: 'its processes are frozen (cgroup freezer): connections stay open, nothing answers',
  thaw: 'it answers again',
  stop: 'SIGTERM, then SIGKILL after the grace period; a stopped container stays down until "redis start"',
  start: 'it starts on its data volume',
} as const;

async function composeRedis(docker: Docker, project: string, action: RedisAction): Promise<string> {
  // A stopped container is not "running": look among all of the project's.
  const found = await oneContainer(docker, project, services.redis, action === 'start');
  const command = dockerRedisCommand[action];
  await docker([command, found.id]);
  return `docker ${command} ${found.name}: ${dockerRedisMeaning[action]}`;
}

/** A request to the api inside its container, on its own port: the fault routes are not published. */
async function callInContainer(docker: Docker, instance: ChaosInstance, method: string, path: string): Promise<RouteAnswer> {
  const script =
    `fetch('http://127.0.0.1:${ports.api}${path}',{method:'${method}'})` +
    '.then(async(r)=>{process.stdout.write(r.status+"\\n"+await r.text())})' +
    '.catch((e)=>{process.stdout.write("0\\n"+e.message)})';
  const output = await docker(['exec', instance.handle, 'node', '-e', script]);
  const newline = output.indexOf('\n');
  return { status: Number(output.slice(0, newline)), body: output.slice(newline + 1) };
}

/** Why a container is out of the rotation; `restarts` remembers each one's restart count between probes. */
async function probeContainer(docker: Docker, restarts: Map<string, string>, instance: ChaosInstance): Promise<string | undefined> {
  const format = '{{.State.Status}} {{.RestartCount}} {{if .State.Health}}{{.State.Health.Status}}{{end}}';
  const [status = 'gone', count = '0', health = ''] = (await docker(['inspect', '--format', format, instance.handle]).catch(() => 'gone')).trim().split(' ');
  // A restart quicker than a probe shows only in the count: the restarted one is not ready yet.
  const known = restarts.get(instance.handle);
  restarts.set(instance.handle, count);
  if (known !== undefined && known !== count) return `Docker restarted its container (restart ${count})`;
  if (status !== 'running') return `its container is ${status}`;
  return health === '' || health === 'healthy' ? undefined : `its container is running, its health ${health}`;
}

/** Requests nginx tried on more than one upstream since `since`, from its access log (docker logs). */
async function nginxRetries(docker: Docker, project: string, since: Date): Promise<number> {
  const nginx = await oneContainer(docker, project, services.edge);
  // nginx writes its access log to stdout (docker logs); stderr holds its error log.
  const logs = await docker(['logs', '--since', since.toISOString(), nginx.id]);
  let retried = 0;
  for (const line of logs.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { upstream?: string };
      if (entry.upstream?.includes(',')) retried += 1;
    } catch {
      // not an access log line
    }
  }
  return retried;
}

/** The compose stack of `project`, through the docker CLI. */
export function composeStack(options: ComposeOptions): ChaosStack {
  const { project, env } = options;
  /** Each container's restart count when last probed. */
  const restarts = new Map<string, string>();
  const docker: Docker = (args, extra) => commandOutput('docker', args, { env: extra ? { ...env, ...extra } : env });
  return {
    kind: 'compose',
    where: `compose project ${project}`,
    url: options.url,
    async instances() {
      return (await serviceContainers(docker, project, services.api)).map(({ id, name, hostname }) => ({
        hostname,
        alias: instanceAlias(hostname),
        where: name,
        names: [name, id, id.slice(0, 12)],
        handle: id,
      }));
    },
    kill: (instance) => killApiIn(docker, instance),
    redis: (action) => composeRedis(docker, project, action),
    call: (instance, method, path) => callInContainer(docker, instance, method, path),
    probe: (instance) => probeContainer(docker, restarts, instance),
    retries: (since) => nginxRetries(docker, project, since),
    redisSet: () => composeRedisSet(docker, project, options.redisPassword),
  };
}

/** `compose up --scale api=<count>` on `project`, with the compose this machine has. */
export async function scaleCompose(project: string, count: string, env: NodeJS.ProcessEnv, say: (line: string) => void): Promise<void> {
  const [file, ...prefix] = await preferredComposeCommand(env);
  const command = [...prefix, '-p', project, 'up', '-d', '--no-recreate', '--no-build', '--scale', `api=${count}`, 'api'];
  say(`running: ${[file, ...command].join(' ')}`);
  // From the repository's root, where docker-compose.yml is.
  await commandOutput(file, command, { env, cwd: repoRoot });
}
