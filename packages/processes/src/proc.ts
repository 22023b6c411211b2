/**
 * What the kernel says of a process, read from /proc: the one parser of /proc/<pid>/stat, for the
 * runner's record of its children, the child's group check and the bench's CPU figures.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** The fields of /proc/<pid>/stat this repository reads. */
export interface ProcStat {
  /** R, S, D, T, Z...: Z is a zombie waiting to be reaped. */
  readonly state: string;
  readonly ppid: number;
  /** The process group. */
  readonly pgrp: number;
  /** User plus system CPU time of every thread, in clock ticks. */
  readonly cpuTicks: number;
  /** Clock ticks since boot when it started: with the pid, what names a process for good. */
  readonly startTime: string;
}

/** Parses /proc/<pid>/stat; undefined once the process is gone (or without /proc). */
export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may hold spaces and parentheses: the fields start after
  // the last ')'. fields[0] is field 3 (state), so field n is fields[n - 3].
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return {
    state: fields[0] ?? '',
    ppid: Number(fields[1]),
    pgrp: Number(fields[2]),
    cpuTicks: Number(fields[11]) + Number(fields[12]),
    startTime: fields[19] ?? '',
  };
}

/** Every pid in /proc now; empty without /proc. */
export function listPids(): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  return entries.filter((entry) => /^\d+$/.test(entry)).map(Number);
}

/** A process, named by its pid and its start time: a pid reused by another program does not match. */
export interface ProcessId {
  readonly pid: number;
  readonly startTime: string;
}

/**
 * The kernel's start time of a live process (clock ticks since boot), or undefined if it is gone
 * or a zombie waiting to be reaped.
 */
export function startTimeOf(pid: number): string | undefined {
  const stat = readProcStat(pid);
  return stat === undefined || stat.state === 'Z' ? undefined : stat.startTime;
}

/** The process `pid` names now, or undefined if none lives. */
export function identify(pid: number): ProcessId | undefined {
  const startTime = startTimeOf(pid);
  return startTime === undefined ? undefined : { pid, startTime };
}

/** True while that very process lives (not merely another one under its pid). */
export function isAlive(process: ProcessId): boolean {
  return startTimeOf(process.pid) === process.startTime;
}

/** The command line of a process, its arguments joined by spaces; undefined once it is gone (or without /proc). */
export function commandLineOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return undefined;
  }
}
