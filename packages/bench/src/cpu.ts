/**
 * CPU time of processes and process trees, read from /proc. Sampled before and after a run, the
 * difference divided by the requests served is what each request cost the machine.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks a second (`getconf CLK_TCK`, 100 on Linux); /proc counts CPU time in them. */
export const clockTicks = ((): number => {
  const ticks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim());
  return Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
})();

interface Stat {
  readonly ppid: number;
  /** utime + stime of every thread, in seconds (worker threads included). */
  readonly cpuSeconds: number;
}

/** Parses /proc/<pid>/stat; undefined once the process is gone. */
export function readStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name may hold spaces and parentheses: the fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
  const ppid = Number(fields[1]);
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { ppid, cpuSeconds: ticks / clockTicks };
}

/** A pid and all its descendants, found through the ppid of every process in /proc. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (!stat) continue;
    const siblings = children.get(stat.ppid) ?? [];
    siblings.push(Number(entry));
    children.set(stat.ppid, siblings);
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i += 1) tree.push(...(children.get(tree[i] ?? 0) ?? []));
  return tree;
}

/** The serving processes a measurement covers, by the part they play. */
export type Role = 'api' | 'edge' | 'runner' | 'redis';
export const roles: readonly Role[] = ['api', 'edge', 'runner', 'redis'];

/** Where a role's CPU time is read: a process alone (the runner, not its children) or its whole tree. */
export interface RoleProcess {
  readonly pid: number;
  readonly tree: boolean;
}

export type RoleProcesses = Partial<Record<Role, RoleProcess>>;
export type RoleSeconds = Partial<Record<Role, number>>;

/** CPU seconds used so far by each role (its tree read afresh, so a new nginx worker counts). */
export function sampleRoles(processes: RoleProcesses): RoleSeconds {
  const sample: RoleSeconds = {};
  for (const role of roles) {
    const process = processes[role];
    if (!process) continue;
    const pids = process.tree ? processTree(process.pid) : [process.pid];
    sample[role] = pids.reduce((sum, pid) => sum + (readStat(pid)?.cpuSeconds ?? 0), 0);
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
