import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { assertPortFree, findBinaries, freeStackPorts, startTimeOf, waitFor, type ProcessId } from '@three-tier/processes';
import { repoRoot } from '@three-tier/cli-kit';
import { type CounterBody } from '@three-tier/shared';

/** The built CLI, as `npm start` runs it. */
export const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));

export interface Runner {
  readonly child: ChildProcess;
  readonly output: string[];
  readonly ready: Promise<string>;
  readonly exited: Promise<number | null>;
  /** Resolves with the first line matching `pattern` (already printed or still to come). */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** In a pseudo-terminal: types Ctrl-C, which the terminal turns into SIGINT for its foreground group. */
  pressCtrlC(): void;
}

export interface RunnerOptions {
  /** The command; by default the built CLI's `up`. */
  readonly command?: readonly string[];
  /**
   * Runs it in a pseudo-terminal (util-linux `script`), as a user's terminal would: Ctrl-C then
   * reaches every process of the foreground group, npm included, which forwards it once more.
   */
  readonly terminal?: boolean;
}

export function startRunner(env: Record<string, string>, options: RunnerOptions = {}): Runner {
  const [file = '', ...args] = options.command ?? [process.execPath, cli, 'up'];
  const quoted = [file, ...args].map((word) => `'${word.replaceAll("'", `'\\''`)}'`).join(' ');
  const child = options.terminal
    ? // exec: the command leads the terminal's foreground group, as a job an interactive shell
      // starts; a `sh -c` left in between would die of the Ctrl-C itself and report 130.
      spawn('script', ['--quiet', '--return', '--command', `exec ${quoted}`, '/dev/null'], {
        cwd: repoRoot,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn', TERM: 'dumb', ...env },
        stdio: ['pipe', 'pipe', 'pipe'],
      })
    : spawn(file, args, {
        cwd: repoRoot,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
  const output: string[] = [];
  const waiters = new Set<{ pattern: RegExp; resolve: (line: string) => void }>();
  const onLine = (raw: string): void => {
    // A terminal ends lines with \r\n and echoes Ctrl-C as "^C".
    const line = raw.replace(/\r$/, '').replace(/^(\^C)+/, '');
    output.push(line);
    for (const waiter of waiters) {
      if (waiter.pattern.test(line)) {
        waiters.delete(waiter);
        waiter.resolve(line);
      }
    }
  };
  createInterface({ input: child.stdout }).on('line', onLine);
  createInterface({ input: child.stderr }).on('line', onLine);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const line = async (pattern: RegExp, timeoutMs = 60_000): Promise<string> => {
    const seen = output.find((candidate) => pattern.test(candidate));
    if (seen !== undefined) return seen;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        new Promise<string>((resolve) => waiters.add({ pattern, resolve })),
        exited.then((code) => {
          throw new Error(`the runner exited (${String(code)}) before printing ${String(pattern)}:\n${output.join('\n')}`);
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no line ${String(pattern)} in ${timeoutMs} ms:\n${output.join('\n')}`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };
  // "ready: <url>", followed by the api instances when there are several.
  const ready = line(/^ready: http:\/\/\S+( \(api instances: [^)]+\))?$/).then((found) => found.slice('ready: '.length).split(' ')[0] ?? '');
  // Unobserved, a start that fails rejects `ready` before a test awaits it.
  ready.catch(() => undefined);
  return {
    child,
    output,
    ready,
    exited,
    line,
    pressCtrlC: () => {
      assert.ok(options.terminal, 'Ctrl-C needs a terminal');
      child.stdin?.write('\x03');
    },
  };
}

export type Outcome = 'ok' | 'turned-away' | 'failed';

/**
 * GET on a fresh connection. `turned-away`: refused before it was accepted (ECONNREFUSED: nothing
 * listens any more), or told to go away and come back (503 with Retry-After; every answer here has
 * Connection: close, as the request asks for it). A connection reset or closed after the request
 * went out is `failed`: the edge took the request and never answered it.
 */
export interface Visit {
  outcome: Outcome;
  status?: number;
  hits?: number;
  detail?: string;
  /** When its connection was established (performance.now()), if it was. */
  connectedAt?: number;
  /** It failed by a reset of its connection, with no answer. */
  reset?: boolean;
  /** Its request had been written out when it failed (false: the edge cannot have taken it). */
  sent?: boolean;
}

export async function visit(url: string, path = '/redis'): Promise<Visit> {
  return new Promise((resolve) => {
    let sent = false;
    let connectedAt: number | undefined;
    const req = request(`${url}${path}`, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const body = Buffer.concat(chunks).toString();
        if (status !== 200) {
          const goAway = status === 503 && res.headers['retry-after'] !== undefined;
          resolve({ outcome: goAway ? 'turned-away' : 'failed', status, detail: `status ${status} ${res.headers['content-type'] ?? ''} ${body.slice(0, 200)}` });
          return;
        }
        resolve({ outcome: 'ok', status, ...(path === '/redis' ? { hits: (JSON.parse(body) as CounterBody).hits } : {}) });
      });
      res.on('error', (error) => resolve({ outcome: 'failed', detail: `the answer was cut: ${error.message}` }));
    });
    req.on('socket', (socket) => socket.once('connect', () => (connectedAt = performance.now())));
    req.on('finish', () => (sent = true));
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') resolve({ outcome: 'turned-away', detail: error.code });
      else {
        const detail = `${error.code ?? error.message} ${sent ? 'after the request was sent' : 'before the request was sent'}`;
        resolve({ outcome: 'failed', detail, reset: error.code === 'ECONNRESET', sent, ...(connectedAt === undefined ? {} : { connectedAt }) });
      }
    });
    req.end();
  });
}

/** The pids (and ports) a runner recorded in its run folder (the one folder under `tmp`), once it has all `count`. */
export async function recordedServices(tmp: string, count = 3): Promise<Record<string, ProcessId & { port?: number }>> {
  return waitFor(
    async () => {
      const [folder] = (await readdir(tmp)).filter((name) => name.startsWith('three-tier-'));
      if (!folder) return undefined;
      const record = JSON.parse(readFileSync(join(tmp, folder, 'stack.json'), 'utf8')) as { services: Record<string, ProcessId & { port?: number }> };
      return Object.keys(record.services).length === count ? record.services : undefined;
    },
    { what: `the runner's record of its services in ${tmp}` },
  );
}

/** Every live process of a process group: nginx's master and its workers, say. */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // state is field 3, the process group field 5
      if (fields[2] === String(pgid) && fields[0] !== 'Z') members.push(Number(entry));
    } catch {
      // it exited while we looked
    }
  }
  return members;
}

/** Nothing of a run is left: no process of any service's group, no port taken, no folder in `tmp`. */
export async function assertNothingLeft(services: Record<string, ProcessId>, ports: readonly number[], tmp: string): Promise<void> {
  for (const [name, service] of Object.entries(services)) {
    assert.notEqual(startTimeOf(service.pid), service.startTime, `${name} (pid ${service.pid}) still runs`);
    assert.deepEqual(groupMembers(service.pid), [], `${name}'s process group is empty`);
  }
  for (const port of ports) await assertPortFree(port, `port ${port} after the stop`);
  assert.deepEqual(await readdir(tmp), [], `nothing left in ${tmp}`);
}

/** A fresh temp directory for one runner: TMPDIR, so whatever it leaves there shows. */
export async function freshTmp(root: string): Promise<string> {
  return mkdtemp(join(root, 'tmp-'));
}

/**
 * Clients looping on `path` until `stop()`; each answer is tallied by outcome and status. Visits to
 * /redis that were acknowledged keep their count, to compare with Redis at the end.
 */
export function loopClients(url: string, clients: number, path = '/redis') {
  let stopping = false;
  const acknowledged: number[] = [];
  const statuses = new Map<string, number>();
  const outcomes = new Map<Outcome, number>();
  const failures: Visit[] = [];
  const details: string[] = [];
  const loops = Array.from({ length: clients }, async () => {
    while (!stopping) {
      const result = await visit(url, path);
      // An answer by its status (a 503 that says come back later included); no answer by its outcome.
      const key = result.status !== undefined ? String(result.status) : result.outcome === 'turned-away' ? `turned-away ${result.detail ?? ''}` : result.outcome;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      outcomes.set(result.outcome, (outcomes.get(result.outcome) ?? 0) + 1);
      if (result.outcome === 'failed') failures.push(result);
      if (result.hits !== undefined) acknowledged.push(result.hits);
      if (result.outcome !== "ok" && (details.length < 20 || !details.some((d) => d.startsWith(`status ${String(result.status)}`)))) details.push(result.detail ?? result.outcome);
    }
  });
  return {
    acknowledged,
    statuses,
    /** How many visits ended each way: answered, turned away, or failed (a reset after the request went out, say). */
    outcomes,
    /** Every failed visit, with when its connection was made. */
    failures,
    details,
    /** Answers of every kind so far. */
    get total(): number {
      return [...statuses.values()].reduce((sum, count) => sum + count, 0);
    },
    async stop(): Promise<void> {
      stopping = true;
      await Promise.all(loops);
    },
  };
}

/** A runner's ports and data, fresh for one test file; `env` is what `npm start` reads. */
export interface RunnerSetting {
  readonly root: string;
  readonly ports: readonly number[];
  readonly env: Record<string, string>;
  /** Removes the data and every temp folder of the file. */
  cleanup(): Promise<void>;
}

/** The most api instances a runner test starts (API_INSTANCES). */
const apiInstancesAtMost = 3;

/** Free ports and a data directory under a temp root; fails unless redis-server and nginx are installed. */
export async function runnerSetting(name: string): Promise<RunnerSetting> {
  const { redisServer, nginx } = findBinaries(process.env);
  assert.ok(redisServer && nginx, 'redis-server and nginx must be installed (npm test installs them as root)');
  const root = await mkdtemp(join(tmpdir(), `${name}-`));
  // API_PORT starts a run of free ports, for the tests that run several api instances on API_PORT..
  const { api, edge, redis } = await freeStackPorts(apiInstancesAtMost);
  const ports = [edge, api, redis];
  // The runner's own TMPDIR: its run folder never sits in the shared one, where the sweep of another
  // runner, or `npm run chaos` run by another test, would find it.
  const tmp = join(root, 'tmp');
  await mkdir(tmp);
  return {
    root,
    ports,
    env: {
      TMPDIR: tmp,
      EDGE_PORT: String(ports[0]),
      API_PORT: String(ports[1]),
      REDIS_PORT: String(ports[2]),
      STACK_DATA_DIR: join(root, 'data'),
      STACK_EDGE: 'nginx',
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** For the suite it is called in: a runner setting made before the tests (handed to `use`) and removed after them. */
export function runnerSettingSuite(name: string, use: (setting: RunnerSetting) => void): void {
  let setting: RunnerSetting | undefined;
  before(async () => {
    setting = await runnerSetting(name);
    use(setting);
  });
  after(async () => {
    await setting?.cleanup();
  });
}
