import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createRunFolder,
  identify,
  isAlive,
  listPids,
  readProcStat,
  readRunRecord,
  runFolders,
  startTimeOf,
  writeRunRecord,
  type ProcessId,
  type RecordedService,
} from '@three-tier/processes';

/**
 * The runner's folder for one run (nginx's config, pid and temp files, the access-log pipe) and
 * what it records there (see @three-tier/processes' run-record): its own pid and its children's.
 * A runner killed outright (SIGKILL, the OOM killer) cannot clean up; the next one reads the
 * record, stops what is still running and removes the folder before it starts.
 */

/** What the runner tells its record about one service. */
export interface ServiceEntry {
  readonly pid: number | undefined;
  readonly port?: number | undefined;
  readonly instanceId?: string | undefined;
}

/**
 * npm forwards the terminal's Ctrl-C to the runner, which the terminal has signalled already: the
 * same keypress arrives twice, normally milliseconds apart, later on a loaded machine. Signals
 * this close to the first are one request to stop; a later one is the user pressing again.
 */
export const sameKeypressMs = 1_000;

/** A service as the record holds it, or nothing once its process is gone. */
function recorded({ pid, port, instanceId }: ServiceEntry): RecordedService | undefined {
  const id = pid === undefined ? undefined : identify(pid);
  return id && { ...id, ...(port === undefined ? {} : { port }), ...(instanceId === undefined ? {} : { instanceId }) };
}

export class RunFolder {
  /** Writes of the record, one after another. */
  private writing: Promise<void> = Promise.resolve();

  private constructor(readonly path: string) {}

  /** A fresh folder under `parent`, recorded as this process's at once. */
  static async create(parent: string): Promise<RunFolder> {
    const folder = new RunFolder(await createRunFolder(parent));
    await folder.record({});
    return folder;
  }

  /** Records the pids (and ports) of the running services, after each start or restart. */
  record(services: Readonly<Record<string, ServiceEntry>>, url?: string): Promise<void> {
    this.writing = this.writing.then(() =>
      writeRunRecord(this.path, {
        runner: identify(process.pid) ?? { pid: process.pid, startTime: 'unknown' },
        ...(url ? { url } : {}),
        services: Object.fromEntries(Object.entries(services).flatMap(([name, entry]) => {
          const service = recorded(entry);
          return service ? [[name, service]] : [];
        })),
      }),
    );
    return this.writing;
  }

  async remove(): Promise<void> {
    await rm(this.path, { recursive: true, force: true });
  }
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
  for (const path of await runFolders(parent)) {
    // No record: not ours, or a runner still writing its first one.
    const record = await readRunRecord(path);
    if (!record || isAlive(record.runner)) continue;
    for (const [name, service] of Object.entries(record.services)) {
      if (!isAlive(service)) continue;
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
  while (isAlive(leader) && Date.now() < deadline) await sleep(50);
  signal('SIGKILL');
  // The whole group, not only its leader: a child killed with it may not have run its exit yet
  // on a loaded machine, and a sweep that returned then would leave it for a moment (seen in CI).
  const killed = Date.now() + 5_000;
  while ((isAlive(leader) || groupAlive(leader.pid)) && Date.now() < killed) await sleep(20);
}

/** True while a process of the group (other than a zombie) is still there. */
function groupAlive(pgid: number): boolean {
  return listPids().some((pid) => {
    const stat = readProcStat(pid);
    return stat !== undefined && stat.pgrp === pgid && stat.state !== 'Z';
  });
}
