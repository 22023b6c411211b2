import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';

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
}

/**
 * Calls back once per line of a stream, a chunk at a time: a busy child writes many lines per
 * chunk, and splitting them here costs far less than readline's per-line events.
 */
function splitLines(stream: Readable, onLine: (line: string) => void): void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  });
  stream.on('end', () => {
    if (partial !== '') onLine(partial);
    partial = '';
  });
}

/** Children still running; killed if this process exits without stopping them. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

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
    this.process = spawn(options.command, options.args ?? [], {
      cwd: options.cwd,
      // undefined: the child inherits this process's environment.
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // A process group of its own: Ctrl-C in a terminal reaches only us, and we stop the
      // children in order (edge, api, redis) instead of all at once.
      detached: true,
    });
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

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.process.kill(signal);
  }

  /** Sends `signal`, waits up to `timeoutMs`, then SIGKILLs. Resolves with how it ended. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<Exit> {
    if (!this.running) return this.exited;
    this.process.kill(signal);
    const timer = setTimeout(() => this.process.kill('SIGKILL'), timeoutMs);
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

/** Waits for a child to become ready; if it dies first, the error carries its last words. */
export async function readyOrDead(child: Child, ready: Promise<unknown>): Promise<void> {
  let settled = false;
  const died = child.exited.then((exit) => {
    if (settled) return;
    throw new Error(`${child.name} exited before it was ready (${describeExit(exit)}):\n${child.recentOutput()}`);
  });
  try {
    await Promise.race([ready, died]);
  } catch (error) {
    child.signal('SIGKILL');
    throw error;
  } finally {
    settled = true;
  }
}
