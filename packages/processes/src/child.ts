import { spawn, type ChildProcess } from 'node:child_process';
import { findBinary } from './binaries.js';
import { splitLines } from './lines.js';
import { listPids, readProcStat } from './proc.js';

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (ENOENT, EACCES). */
  readonly error?: Error;
}

export type LineHandler = (line: string, stream: 'stdout' | 'stderr') => void;

export interface ChildOptions {
  /** Shown in errors and log prefixes. */
  readonly name: string;
  readonly command: string;
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly onLine?: LineHandler;
  /**
   * The signal the child gets when this process dies without stopping it (SIGKILL, the OOM
   * killer, a closed terminal): by default SIGTERM, so nothing outlives us. `false` for none.
   */
  readonly parentDeathSignal?: NodeJS.Signals | false;
}

/**
 * util-linux's setpriv sets the parent-death signal (prctl PR_SET_PDEATHSIG) and then execs the
 * program, so the child keeps its pid and its signals. Debian always has it. Without it (or off
 * Linux) a child may outlive a killed parent; on Linux the runner's sweep then stops it at the next
 * start. Looked up with the first child, not at import.
 */
let setprivLookup: { readonly path: string | undefined } | undefined;
function setprivPath(): string | undefined {
  setprivLookup ??= { path: process.platform === 'linux' ? findBinary('setpriv', { PATH: '/usr/bin:/bin' }) : undefined };
  return setprivLookup.path;
}

/** The command line that runs `command` with a parent-death signal, when it can be set. */
function withParentDeathSignal(command: string, args: readonly string[], signal: NodeJS.Signals | false): [string, string[]] {
  // A path that is not there is spawned as is, so it fails with ENOENT rather than setpriv's 127.
  // A bare name is searched on the child's PATH by setpriv, as spawn would.
  const missing = command.includes('/') && findBinary(command, {}, command) === undefined;
  const setpriv = setprivPath();
  if (!setpriv || signal === false || missing) return [command, [...args]];
  return [setpriv, ['--pdeathsig', signal.replace(/^SIG/, ''), '--', command, ...args]];
}

/**
 * Sends a signal to a child's whole process group (each child leads its own): nginx's workers,
 * Redis's rewrite child and anything else it forked get it too, so none is left as an orphan.
 */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

/**
 * Whether any live process belongs to process group `pgid`. Checked before signalling a group
 * whose leader is gone: an empty group's number could in principle be taken by a new one.
 */
function groupHasMembers(pgid: number): boolean {
  const pids = listPids();
  if (pids.length === 0) return true; // no /proc: trust the group, as before
  return pids.some((pid) => {
    const stat = readProcStat(pid); // undefined: it exited while we looked
    return stat !== undefined && stat.pgrp === pgid && stat.state !== 'Z';
  });
}

/** Children still running; their groups are killed if this process exits without stopping them. */
const live = new Set<ChildProcess>();
let killingLiveAtExit = false;

/**
 * Makes this process SIGKILL the groups of its live children when it exits (a crash, fail(), a
 * test file's end). Installed with the first child rather than at import, and once: whoever
 * spawns a child gets it, and importing the module changes nothing.
 */
function killLiveChildrenAtExit(): void {
  if (killingLiveAtExit) return;
  killingLiveAtExit = true;
  process.once('exit', () => {
    for (const child of live) signalGroup(child, 'SIGKILL');
  });
}

/** A child process whose output arrives line by line and whose stop escalates to SIGKILL. */
export class Child {
  readonly name: string;
  readonly exited: Promise<Exit>;
  private readonly process: ChildProcess;
  private exit: Exit | undefined;
  /** The last lines it printed, for error messages. */
  private readonly tail: string[] = [];

  constructor(options: ChildOptions) {
    this.name = options.name;
    const [command, args] = withParentDeathSignal(options.command, options.args ?? [], options.parentDeathSignal ?? 'SIGTERM');
    this.process = spawn(command, args, {
      cwd: options.cwd,
      // undefined: the child inherits this process's environment.
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // A process group of its own: Ctrl-C in a terminal reaches only us, and we stop the
      // children in order (edge, api, redis) instead of all at once; a kill takes the group.
      detached: true,
    });
    killLiveChildrenAtExit();
    live.add(this.process);
    const onLine = (line: string, stream: 'stdout' | 'stderr'): void => {
      this.tail.push(line);
      if (this.tail.length > 20) this.tail.shift();
      options.onLine?.(line, stream);
    };
    const { stdout, stderr } = this.process;
    if (stdout) splitLines(stdout, (line) => onLine(line, 'stdout'));
    if (stderr) splitLines(stderr, (line) => onLine(line, 'stderr'));
    this.exited = new Promise((resolve) => {
      this.process.once('error', (error) => {
        // 'error' without 'exit' means the process never started.
        if (this.process.pid === undefined) this.settle({ code: null, signal: null, error }, resolve);
      });
      this.process.once('exit', (code, signal) => this.settle({ code, signal }, resolve));
    });
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** What it printed last, joined, for an error message. */
  recentOutput(): string {
    return this.tail.join('\n');
  }

  /** Sends a signal to the process itself (its program decides what its children get). */
  signal(signal: NodeJS.Signals): void {
    if (this.running) this.process.kill(signal);
  }

  /** SIGKILLs the whole process group, and resolves once the process is gone. */
  async kill(): Promise<Exit> {
    if (this.running) signalGroup(this.process, 'SIGKILL');
    return this.exited;
  }

  /**
   * SIGKILLs what is left of its process group after the process itself is gone, e.g. nginx's
   * workers after someone killed their master alone. A group id cannot be reused while any member
   * lives, and an empty group is not signalled, so this reaches only what this child forked.
   */
  killLeftovers(): void {
    if (this.process.pid !== undefined && groupHasMembers(this.process.pid)) signalGroup(this.process, 'SIGKILL');
  }

  /** Sends `signal`, waits up to `timeoutMs`, then SIGKILLs the group. Resolves with how it ended. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<Exit> {
    if (!this.running) return this.exited;
    this.process.kill(signal);
    const timer = setTimeout(() => signalGroup(this.process, 'SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private settle(exit: Exit, resolve: (exit: Exit) => void): void {
    if (this.exit) return;
    this.exit = exit;
    live.delete(this.process);
    resolve(exit);
  }
}

export function describeExit(exit: Exit): string {
  if (exit.error) return exit.error.message;
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${String(exit.code)}`;
}

/**
 * Waits for a child to become ready and resolves with what `ready` did; if the child dies first,
 * or `ready` fails, the child is killed and the error carries its last words.
 */
export async function readyOrDead<T>(child: Child, ready: Promise<T>): Promise<T> {
  let settled = false;
  const died = child.exited.then((exit) => {
    if (settled) return;
    throw new Error(`${child.name} exited before it was ready (${describeExit(exit)}):\n${child.recentOutput()}`);
  });
  try {
    // While this waits, `died` can only reject: a value is `ready`'s.
    return (await Promise.race([ready, died])) as T;
  } catch (error) {
    await child.kill();
    throw error;
  } finally {
    settled = true;
  }
}
