/**
 * The bench's child processes: output piped and drained (discarded, as a terminal would scroll it
 * away), stopped with a signal and a deadline, and every one of them, descendants included,
 * SIGKILLed when the bench exits however it exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { processTree } from './cpu.js';

export interface ProcOptions {
  readonly name: string;
  readonly command: string;
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

export interface ProcExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const live = new Set<Proc>();

/** SIGKILLs every live child and its descendants: the runner's children are not in our process group. */
export function killAll(): void {
  for (const proc of live) proc.kill();
}
process.once('exit', killAll);

/** A child whose stdout and stderr are read and dropped; only the last chunk is kept, for errors. */
export class Proc {
  readonly name: string;
  readonly pid: number;
  readonly exited: Promise<ProcExit>;
  readonly startedAt = performance.now();
  private readonly child: ChildProcess;
  private lastOutput = '';
  private done = false;
  private readonly watchers: ((text: string) => void)[] = [];

  constructor(options: ProcOptions) {
    this.name = options.name;
    this.child = spawn(options.command, options.args ?? [], {
      env: options.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: Ctrl-C reaches the bench, which stops children in order.
      detached: true,
    });
    if (this.child.pid === undefined) throw new Error(`${options.name}: could not start ${options.command}`);
    this.pid = this.child.pid;
    live.add(this);
    const drain = (chunk: Buffer): void => {
      this.lastOutput = chunk.toString('utf8');
      for (const watch of this.watchers) watch(this.lastOutput);
    };
    this.child.stdout?.on('data', drain);
    this.child.stderr?.on('data', drain);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.done = true;
        live.delete(this);
        resolve({ code, signal });
      });
    });
  }

  get running(): boolean {
    return !this.done;
  }

  /** What it printed last, for an error message. */
  recentOutput(): string {
    return this.lastOutput.trim().split('\n').slice(-10).join('\n');
  }

  /** Resolves with the first match of `pattern` in its output; fails on exit or after `timeoutMs`. */
  async waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    let carry = '';
    let watcher: ((text: string) => void) | undefined;
    const found = new Promise<RegExpExecArray>((resolve) => {
      watcher = (text: string): void => {
        // Lines may straddle chunks: keep the tail of the previous one.
        carry = (carry + text).slice(-4096);
        const match = pattern.exec(carry);
        if (match) resolve(match);
      };
      this.watchers.push(watcher);
    });
    try {
      return await this.guard(found, `${String(pattern)} in its output`, timeoutMs);
    } finally {
      if (watcher) this.watchers.splice(this.watchers.indexOf(watcher), 1);
    }
  }

  /** `work`, unless the process exits first or `timeoutMs` passes: then an error with its last words. */
  async guard<T>(work: Promise<T>, what: string, timeoutMs: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const failure = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`${this.name}: no ${what} after ${timeoutMs} ms:\n${this.recentOutput()}`));
      }, timeoutMs);
      void this.exited.then((exit) => {
        reject(new Error(`${this.name} exited (code ${String(exit.code)}, signal ${String(exit.signal)}) before ${what}:\n${this.recentOutput()}`));
      });
    });
    try {
      return await Promise.race([work, failure]);
    } finally {
      clearTimeout(timer);
    }
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** SIGKILLs it and every descendant (an orphaned nginx worker or api would outlive the runner). */
  kill(): void {
    if (!this.running) return;
    for (const pid of processTree(this.pid).reverse()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }

  /** Sends `signal`, waits up to `timeoutMs`, then kills the whole tree. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<ProcExit> {
    if (!this.running) return this.exited;
    this.signal(signal);
    const timer = setTimeout(() => this.kill(), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Polls `url` every 10 ms until it answers 200; resolves with the milliseconds since `since`. */
export async function firstOk(url: string, timeoutMs: number, since = performance.now()): Promise<number> {
  const deadline = since + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      if (response.status === 200) return performance.now() - since;
    } catch {
      // Not listening yet.
    }
    if (performance.now() > deadline) throw new Error(`no 200 from ${url} within ${timeoutMs} ms`);
    await sleep(10);
  }
}
