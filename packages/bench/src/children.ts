/**
 * The bench's child processes are processes' Child (output read line by line, stopped with a
 * signal and a deadline, its group killed if the bench exits). What is the bench's own: when each
 * was spawned, and waits for a line of its output or a first 200, each bounded in time and failing
 * with its last words if it dies first.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { answersOk, Child, readyOrDead, waitFor, type ChildOptions } from '@three-tier/processes';

export class BenchChild {
  readonly child: Child;
  readonly pid: number;
  /** performance.now() at spawn: start times count from here. */
  readonly startedAt = performance.now();
  private readonly watchers = new Set<(line: string) => void>();

  constructor(options: Omit<ChildOptions, 'onLine'>) {
    this.child = new Child({
      ...options,
      onLine: (line) => {
        for (const watch of this.watchers) watch(line);
      },
    });
    if (this.child.pid === undefined) throw new Error(`${options.name}: could not start ${options.command}`);
    this.pid = this.child.pid;
  }

  /** Resolves with the first match of `pattern` in a line it prints; fails on exit or after `timeoutMs`. */
  async waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    let watcher: ((line: string) => void) | undefined;
    const found = new Promise<RegExpExecArray>((resolve) => {
      watcher = (line) => {
        const match = pattern.exec(line);
        if (match) resolve(match);
      };
      this.watchers.add(watcher);
    });
    try {
      return await this.guard(found, `${String(pattern)} in its output`, timeoutMs);
    } finally {
      if (watcher) this.watchers.delete(watcher);
    }
  }

  /** `work`, unless the process exits first or `timeoutMs` passes: then it is killed, and the error has its last words. */
  guard<T>(work: Promise<T>, what: string, timeoutMs: number): Promise<T> {
    const late = new AbortController();
    const timeout = sleep(timeoutMs, undefined, { signal: late.signal }).then(() => {
      throw new Error(`${this.child.name}: no ${what} after ${timeoutMs} ms:\n${this.child.recentOutput()}`);
    });
    // Once settled, the timer is cancelled; its rejection (AbortError) is nobody's.
    timeout.catch(() => undefined);
    return readyOrDead(this.child, Promise.race([work, timeout])).finally(() => late.abort());
  }
}

/** Polls `url` every 10 ms until it answers 2xx; resolves with the milliseconds since `since`. */
export async function firstOk(url: string, timeoutMs: number, since = performance.now()): Promise<number> {
  await waitFor(() => answersOk(url), { what: `a 200 from ${url}`, timeoutMs, intervalMs: 10 });
  return performance.now() - since;
}
