/**
 * CPU time of processes and process trees, read from /proc. Sampled before and after a run, the
 * difference divided by the requests served is what each request cost the machine.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { listPids, readProcStat } from '@three-tier/processes';

let ticksPerSecond: number | undefined;

/** Clock ticks a second (`getconf CLK_TCK`, 100 on Linux); /proc counts CPU time in them. Asked once, on first use. */
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    const ticks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim());
    ticksPerSecond = Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
  }
  return ticksPerSecond;
}

/** utime + stime of every thread of `pid`, in seconds (worker threads included); undefined once it is gone. */
export function cpuSecondsOf(pid: number): number | undefined {
  const stat = readProcStat(pid);
  return stat && stat.cpuTicks / clockTicks();
}

/** A pid and all its descendants, found through the ppid of every process in /proc. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const pid of listPids()) {
    const stat = readProcStat(pid);
    if (!stat) continue;
    const siblings = children.get(stat.ppid) ?? [];
    siblings.push(pid);
    children.set(stat.ppid, siblings);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i += 1) tree.push(...(children.get(tree[i] ?? 0) ?? []));
  return tree;
}

/**
 * SIGKILLs a process and every descendant, deepest first. A runner's children lead process groups
 * of their own, so killing the runner's group would leave them; its tree reaches them.
 */
export function killTree(root: number): void {
  for (const pid of processTree(root).reverse()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** The serving processes a measurement covers, by the part they play. */
export type Role = 'api' | 'edge' | 'runner' | 'redis';
export const roles: readonly Role[] = ['api', 'edge', 'runner', 'redis'];

/** Where a role's CPU time is read: a process alone (the runner, not its children) or its whole tree. */
export interface RoleProcess {
  readonly pid: number;
  readonly tree: boolean;
  /** Other processes charged to the same role, each alone: the other members of a replicated Redis. */
  readonly more?: readonly number[];
}

export type RoleProcesses = Partial<Record<Role, RoleProcess>>;
export type RoleSeconds = Partial<Record<Role, number>>;

/** CPU seconds used so far by each role (its tree read afresh, so a new nginx worker counts). */
export function sampleRoles(processes: RoleProcesses): RoleSeconds {
  const sample: RoleSeconds = {};
  for (const role of roles) {
    const process = processes[role];
    if (!process) continue;
    const pids = [...(process.tree ? processTree(process.pid) : [process.pid]), ...(process.more ?? [])];
    sample[role] = pids.reduce((sum, pid) => sum + (cpuSecondsOf(pid) ?? 0), 0);
  }
  return sample;
}

/** Resident memory of a process in bytes (VmRSS), or undefined once it is gone. */
export function residentBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
