import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The runner's folder for one run (nginx's config, pid and temp files, the access-log pipe) and
 * what it records there: its own pid and its children's. A runner killed outright (SIGKILL, the
 * OOM killer) cannot clean up; the next one reads the record, stops what is still running and
 * removes the folder before it starts.
 */

const prefix = 'three-tier-';
const recordName = 'stack.json';

/** A process, named by its pid and its start time: a pid reused by another program does not match. */
export interface ProcessId {
  readonly pid: number;
  readonly startTime: string;
}

/** A recorded service: its process, and the port it listens on (for `npm run chaos`). */
export interface RecordedService extends ProcessId {
  readonly port?: number;
  /** An api instance's INSTANCE_ID (the hostname its /instance answers with). */
  readonly instanceId?: string;
}

/** stack.json: the runner, its edge's URL, and each service ('redis', 'api' or 'api <port>', 'edge'). */
export interface RunRecord {
  readonly runner: ProcessId;
  readonly url?: string;
  readonly services: Readonly<Record<string, RecordedService>>;
}

/** What the runner tells its record about one service. */
export interface ServiceEntry {
  readonly pid: number | undefined;
  readonly port?: number | undefined;
  readonly instanceId?: string | undefined;
}

/**
 * The kernel's start time of a live process (clock ticks since boot), or undefined if it is gone
 * or a zombie waiting to be reaped.
 */
export function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command name, which is in parentheses and may hold spaces: the state
    // is field 3, the start time field 22.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? undefined : fields[19];
  } catch {
    return undefined;
  }
}

function identify(pid: number): ProcessId | undefined {
  const startTime = startTimeOf(pid);
  return startTime === undefined ? undefined : { pid, startTime };
}

function alive(process: ProcessId): boolean {
  return startTimeOf(process.pid) === process.startTime;
}

/**
 * npm forwards the terminal's Ctrl-C to the runner, which the terminal has signalled already: the
 * same keypress arrives twice, normally milliseconds apart, later on a loaded machine. Signals
 * this close to the first are one request to stop; a later one is the user pressing again.
 */
export const sameKeypressMs = 1_000;

export class RunFolder {
  /** Writes of the record, one after another. */
  private writing: Promise<void> = Promise.resolve();

  private constructor(readonly path: string) {}

  /** A fresh folder under `parent`, recorded as this process's at once. */
  static async create(parent: string): Promise<RunFolder> {
    const folder = new RunFolder(await mkdtemp(join(parent, prefix)));
    await folder.record({});
    return folder;
  }

  /** Records the pids (and ports) of the running services, after each start or restart. */
  record(services: Readonly<Record<string, ServiceEntry>>, url?: string): Promise<void> {
    this.writing = this.writing.then(() => this.write(services, url));
    return this.writing;
  }

  /** Written aside, then renamed over the record: a sweep never reads half a record. */
  private async write(services: Readonly<Record<string, ServiceEntry>>, url: string | undefined): Promise<void> {
    const record: RunRecord = {
      runner: identify(process.pid) ?? { pid: process.pid, startTime: '' },
      ...(url ? { url } : {}),
      services: Object.fromEntries(
        Object.entries(services).flatMap(([name, { pid, port, instanceId }]) => {
          const id = pid === undefined ? undefined : identify(pid);
          return id ? [[name, { ...id, ...(port === undefined ? {} : { port }), ...(instanceId === undefined ? {} : { instanceId }) }]] : [];
        }),
      ),
    };
    const aside = join(this.path, `${recordName}.new`);
    await writeFile(aside, `${JSON.stringify(record, null, 2)}\n`);
    await rename(aside, join(this.path, recordName));
  }

  async remove(): Promise<void> {
    await rm(this.path, { recursive: true, force: true });
  }
}

/** The run folders under `parent` whose runner is alive, newest first, with their records. */
export async function liveRuns(parent: string): Promise<{ path: string; record: RunRecord }[]> {
  const runs: { path: string; record: RunRecord; mtimeMs: number }[] = [];
  for (const entry of (await readdir(parent).catch(() => [])).filter((name) => name.startsWith(prefix))) {
    const path = join(parent, entry);
    try {
      const file = join(path, recordName);
      const record = JSON.parse(await readFile(file, 'utf8')) as RunRecord;
      if (alive(record.runner)) runs.push({ path, record, mtimeMs: (await stat(file)).mtimeMs });
    } catch {
      // not ours, or gone meanwhile
    }
  }
  return runs.sort((a, b) => b.mtimeMs - a.mtimeMs).map(({ path, record }) => ({ path, record }));
}

/** What the sweep did, one line each, for the runner to say. */
export type SweepReport = (message: string) => void;

/**
 * Finds the run folders of runners that are gone, stops the services they left running (each
 * process group: SIGTERM, then SIGKILL after `graceMs`), and removes the folders. Folders of live
 * runners are left alone: several stacks may run side by side on other ports.
 */
export async function sweepLeftovers(parent: string, report: SweepReport, graceMs: number): Promise<number> {
  let swept = 0;
  // Without /proc, a live runner cannot be told from a dead one: leave every folder alone.
  if (startTimeOf(process.pid) === undefined) return swept;
  const entries = await readdir(parent).catch(() => []);
  for (const entry of entries.filter((name) => name.startsWith(prefix))) {
    const path = join(parent, entry);
    let record: RunRecord;
    try {
      record = JSON.parse(await readFile(join(path, recordName), 'utf8')) as RunRecord;
    } catch {
      continue; // not ours, or a runner still writing its first record
    }
    if (alive(record.runner)) continue;
    for (const [name, service] of Object.entries(record.services)) {
      if (!alive(service)) continue;
      report(`an earlier run (runner pid ${record.runner.pid}, gone) left its ${name} running (pid ${service.pid}): stopping it`);
      await stopGroup(service, graceMs);
    }
    await rm(path, { recursive: true, force: true });
    report(`removed the run folder it left: ${path}`);
    swept += 1;
  }
  return swept;
}

/** SIGTERM to the process group, then SIGKILL if it is still there after `graceMs`. */
async function stopGroup(leader: ProcessId, graceMs: number): Promise<void> {
  const signal = (name: NodeJS.Signals): void => {
    try {
      process.kill(-leader.pid, name);
    } catch {
      // gone already
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive(leader) && Date.now() < deadline) await sleep(50);
  signal('SIGKILL');
  const killed = Date.now() + 5_000;
  while (alive(leader) && Date.now() < killed) await sleep(20);
}
