/** What runs while the bench measures, and how to stop it: children, Redis servers and pipes. */
import type { RedisServer, ReplicatedRedis } from '@three-tier/processes';
import type { BenchChild } from './children.js';
import { killTree } from './cpu.js';

export class Running {
  readonly children: BenchChild[] = [];
  /** Single Redis servers and replicated sets alike: each stops as a whole. */
  readonly redises: (RedisServer | ReplicatedRedis)[] = [];
  readonly closers: (() => void)[] = [];
  /** Children stopped with SIGQUIT, nginx's graceful stop, rather than SIGTERM. */
  readonly quitGracefully = new Set<BenchChild>();

  /** Every child in the reverse order of its start, each with its stop signal. */
  async stopInReverse(timeoutMs: number): Promise<void> {
    for (const child of [...this.children].reverse()) await child.child.stop(this.quitGracefully.has(child) ? 'SIGQUIT' : 'SIGTERM', timeoutMs);
  }

  /** Every child, descendants included, SIGKILLed at once: a signal, or the last resort. */
  killAll(): void {
    for (const { child, pid } of this.children) if (child.running) killTree(pid);
  }

  /** Whatever still runs, in order: runners first (they stop their own children in order), then Redis. */
  async stopAll(): Promise<void> {
    for (const { child } of this.children) if (child.running) await child.stop('SIGTERM', 10_000);
    for (const redis of this.redises) await redis.stop();
    this.killAll();
    for (const close of this.closers) close();
  }
}
