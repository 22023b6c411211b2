import { readFileSync } from 'node:fs';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace NodeJS {
    interface Process {
      /** Node 23.9+: CPU time of the calling thread. Absent on Node 20 and 22. */
      threadCpuUsage?: () => CpuUsage;
    }
  }
}

/** Milliseconds of CPU the calling thread has used so far. */
export type CpuClock = () => number;

const schedstat = '/proc/thread-self/schedstat';

function schedstatClock(): number {
  // First field: nanoseconds this thread has spent on a CPU.
  return Number(readFileSync(schedstat, 'utf8').split(' ', 1)[0]) / 1e6;
}

/** Spins long enough for any working clock to move. */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy on purpose
  }
}

/**
 * The best per-thread CPU clock this platform has: Node's own, else Linux's schedstat, else wall
 * time (which overstates CPU on a busy machine). A clock that does not move is not trusted.
 */
export function threadCpuClock(): { clock: CpuClock; kind: 'thread' | 'schedstat' | 'wall' } {
  const { threadCpuUsage } = process;
  if (threadCpuUsage) {
    return {
      kind: 'thread',
      clock: () => {
        const usage = threadCpuUsage.call(process);
        return (usage.user + usage.system) / 1_000;
      },
    };
  }
  try {
    const before = schedstatClock();
    spin(3);
    if (schedstatClock() > before) return { kind: 'schedstat', clock: schedstatClock };
  } catch {
    // not Linux, or no schedstat: fall through
  }
  return { kind: 'wall', clock: () => performance.now() };
}

export interface BurnResult {
  readonly cpuMs: number;
  readonly cancelled: boolean;
}

/**
 * Keeps this thread's CPU busy until `ms` of CPU time are used or `cancelled()` says stop. The
 * clock is read between short slices of arithmetic, so a cancel lands within a millisecond or so.
 */
export function burn(ms: number, clock: CpuClock, cancelled: () => boolean): BurnResult {
  const start = clock();
  let x = 0x9e3779b9;
  for (;;) {
    // xorshift: cheap arithmetic the compiler cannot drop, since `x` is tested below (it is never 0).
    for (let i = 0; i < 20_000; i += 1) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
    }
    const used = clock() - start;
    if (used >= ms || x === 0) return { cpuMs: used, cancelled: false };
    if (cancelled()) return { cpuMs: used, cancelled: true };
  }
}
