import { execFile } from 'node:child_process';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { liveRuns, RetryLog, retryLogName, type RunRecord } from '@three-tier/runner';
import { instanceAlias, ports, repoRoot, services, type InstanceBody } from '@three-tier/shared';

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
}

/** Runs a program, resolving with its stdout; a failure names the command and its stderr. */
export function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd = repoRoot): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${[file, ...args].join(' ')} failed: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
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

/** `npm start`'s stack, from its run folder's record (stack.json). */
export function nativeStack(folder: string, record: RunRecord, url: string | undefined): ChaosStack {
  const apis = Object.entries(record.services)
    .filter(([name, service]) => (name === 'api' || name.startsWith('api ')) && service.port !== undefined)
    .map(([, service]) => ({ pid: service.pid, port: service.port ?? 0, instanceId: service.instanceId }))
    .sort((a, b) => a.port - b.port);
  const redis = record.services.redis;
  const nativeRedis = (action: RedisAction): string => {
    if (!redis) throw new Error('the run folder records no redis');
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
  };
  return {
    kind: 'native',
    url: url ?? record.url ?? 'http://127.0.0.1:8080',
    async instances() {
      return Promise.all(
        apis.map(async ({ pid, port, instanceId }) => {
          // The runner records each instance's INSTANCE_ID; asked first, in case that changes.
          let hostname = instanceId ?? `${osHostname()}-${port}`;
          try {
            const response = await fetch(`http://127.0.0.1:${port}/instance`, { signal: AbortSignal.timeout(3_000) });
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
      return Promise.resolve(nativeRedis(action));
    },
    async call(instance, method, path) {
      const port = instance.names[0] ?? '';
      const response = await fetch(`http://127.0.0.1:${port}${path}`, { method, signal: AbortSignal.timeout(5_000) });
      return { status: response.status, body: await response.text() };
    },
    async probe(instance) {
      const port = instance.names[0] ?? '';
      try {
        const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1_000) });
        await response.body?.cancel();
        return response.status === 200 ? undefined : `its /readyz answers ${response.status}`;
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause?.code;
        return cause === 'ECONNREFUSED' ? `nothing listens on port ${port}` : `its /readyz does not answer (${cause ?? (error as Error).message})`;
      }
    },
    // The runner notes every retried request in the run folder (see RetryLog).
    retries(since) {
      return RetryLog.countSince(join(folder, retryLogName), since);
    },
  };
}

export interface ComposeOptions {
  readonly project: string;
  readonly url: string;
  readonly env: NodeJS.ProcessEnv;
}

/** The compose stack of `project`, through the docker CLI. */
export function composeStack(options: ComposeOptions): ChaosStack {
  const { project, env } = options;
  /** Each container's restart count when last probed. */
  const restarts = new Map<string, string>();
  const docker = (args: readonly string[]): Promise<string> => run('docker', args, env);
  /** Running containers of one service: id, name and hostname. */
  const containers = async (service: string): Promise<{ id: string; name: string; hostname: string }[]> => {
    const ids = (
      await docker(['ps', '-q', '--filter', `label=com.docker.compose.project=${project}`, '--filter', `label=com.docker.compose.service=${service}`])
    )
      .split('\n')
      .filter(Boolean);
    if (ids.length === 0) return [];
    const lines = await docker(['inspect', '--format', '{{.Id}} {{.Name}} {{.Config.Hostname}}', ...ids]);
    return lines
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [id = '', name = '', hostname = ''] = line.split(' ');
        return { id, name: name.replace(/^\//, ''), hostname };
      })
      .sort((a, b) => a.name.localeCompare(b.name));
  };
  const one = async (service: string): Promise<{ id: string; name: string }> => {
    const [found] = await containers(service);
    if (!found) throw new Error(`no ${service} container of compose project ${project} is running`);
    return found;
  };
  return {
    kind: 'compose',
    url: options.url,
    async instances() {
      return (await containers(services.api)).map(({ id, name, hostname }) => ({
        hostname,
        alias: instanceAlias(hostname),
        where: name,
        names: [name, id, id.slice(0, 12)],
        handle: id,
      }));
    },
    async kill(instance) {
      // `docker kill` counts as a stop asked for: restart: unless-stopped would leave the replica
      // down. SIGKILL to the api process inside is a crash, as the OOM killer's: its init exits
      // with it, and Docker's restart policy brings the replica back.
      const find = [
        "const fs = require('fs');",
        "const api = fs.readdirSync('/proc').filter((p) => /^[0-9]+$/.test(p) && Number(p) > 1 && Number(p) !== process.pid)",
        "  .find((p) => { try { return fs.readFileSync('/proc/' + p + '/cmdline', 'utf8').includes('apps/api/dist/src/index.js'); } catch { return false; } });",
        "if (!api) { console.error('no api process in this container'); process.exit(1); }",
        'console.log(api);',
      ].join('\n');
      const pid = Number((await docker(['exec', instance.handle, 'node', '-e', find])).trim());
      // Detached: the container dies with its api, and an attached exec would die with it, failing.
      await docker(['exec', '--detach', instance.handle, 'node', '-e', `process.kill(${pid}, 'SIGKILL')`]);
      return `sent SIGKILL to the api process (pid ${pid} in ${instance.where}), as a crash or the OOM killer would; Docker's restart policy (unless-stopped) restarts the container`;
    },
    async redis(action) {
      // A stopped container is not "running": look among all of the project's.
      const all = action === 'start';
      const found = all
        ? (
            await docker([
              'ps', '-a', '--format', '{{.ID}} {{.Names}}', '--filter', `label=com.docker.compose.project=${project}`,
              '--filter', `label=com.docker.compose.service=${services.redis}`,
            ])
          )
            .split('\n')
            .filter(Boolean)
            .map((line) => {
              const [id = '', name = ''] = line.split(' ');
              return { id, name };
            })[0]
        : await one(services.redis);
      if (!found) throw new Error(`no redis container of compose project ${project}`);
      const command = { freeze: 'pause', thaw: 'unpause', stop: 'stop', start: 'start' }[action];
      await docker([command, found.id]);
      const meaning = {
        freeze: 'its processes are frozen (cgroup freezer): connections stay open, nothing answers',
        thaw: 'it answers again',
        stop: 'SIGTERM, then SIGKILL after the grace period; a stopped container stays down until "redis start"',
        start: 'it starts on its data volume',
      }[action];
      return `docker ${command} ${found.name}: ${meaning}`;
    },
    async call(instance, method, path) {
      const script =
        `fetch('http://127.0.0.1:${ports.api}${path}',{method:'${method}'})` +
        '.then(async(r)=>{process.stdout.write(r.status+"\\n"+await r.text())})' +
        '.catch((e)=>{process.stdout.write("0\\n"+e.message)})';
      const output = await docker(['exec', instance.handle, 'node', '-e', script]);
      const newline = output.indexOf('\n');
      return { status: Number(output.slice(0, newline)), body: output.slice(newline + 1) };
    },
    async probe(instance) {
      const format = '{{.State.Status}} {{.RestartCount}} {{if .State.Health}}{{.State.Health.Status}}{{end}}';
      const [status = 'gone', count = '0', health = ''] = (await docker(['inspect', '--format', format, instance.handle]).catch(() => 'gone')).trim().split(' ');
      // A restart quicker than a probe shows only in the count: the restarted one is not ready yet.
      const known = restarts.get(instance.handle);
      restarts.set(instance.handle, count);
      if (known !== undefined && known !== count) return `Docker restarted its container (restart ${count})`;
      if (status !== 'running') return `its container is ${status}`;
      return health === '' || health === 'healthy' ? undefined : `its container is running, its health ${health}`;
    },
    async retries(since) {
      const nginx = await one(services.edge);
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
    },
  };
}

/** The compose command: v2 as `docker compose` when there is one, else docker-compose (1.29). */
export async function composeCommand(env: NodeJS.ProcessEnv): Promise<[string, ...string[]]> {
  const plugin = await run('docker', ['compose', 'version'], env).then(
    () => true,
    () => false,
  );
  return plugin ? ['docker', 'compose'] : ['docker-compose'];
}
