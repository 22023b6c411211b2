/**
 * The live page's Redis line, in words: its state and, for a replicated Redis, the master the
 * instances write to, its replicas in sync, and the last failover (which node took over, after how
 * long). Pure, no DOM: the browser script draws what it returns, and Node tests read it.
 */
import type { InstanceBody } from '@three-tier/shared/browser';
import { liveSettings } from './live-settings.js';

export type RedisView = InstanceBody['redis'];

/** One master replacing another, as the polls saw it. */
export interface Failover {
  readonly from: string;
  readonly to: string;
  /** From the last answer that named the old master to the first that named the new one. */
  readonly tookMs: number;
  /** When the new master was first named. */
  readonly at: number;
}

/**
 * Follows the master the answers name. A different one is a failover, timed from the last answer
 * that named the old one; an instance that still names a master replaced moments ago is behind
 * the others, not a failover back (see liveSettings.staleMasterMs).
 */
export class MasterWatch {
  #master: string | undefined;
  #lastNamedAt = 0;
  #last: Failover | undefined;

  /** Takes an answer's view of Redis; returns the failover it reveals, if any. */
  onAnswer(redis: RedisView, now: number): Failover | undefined {
    const named = redis.master;
    if (named === undefined) return undefined;
    const last = this.#last;
    if (last && named === last.from && now - last.at < liveSettings.staleMasterMs) return undefined;
    const before = this.#master;
    const lastNamedAt = this.#lastNamedAt;
    this.#master = named;
    this.#lastNamedAt = now;
    if (before === undefined || before === named) return undefined;
    this.#last = { from: before, to: named, tookMs: now - lastNamedAt, at: now };
    return this.#last;
  }

  /** The last failover, while it is recent enough to show. */
  recent(now: number): Failover | undefined {
    const last = this.#last;
    return last && now - last.at < liveSettings.failoverShownMs ? last : undefined;
  }
}

const seconds = (ms: number): string => `${(ms / 1_000).toFixed(1)} s`;

/** "127.0.0.1:6391 took over from 127.0.0.1:6390 after 3.4 s" */
export function describeFailover(failover: Failover): string {
  return `${failover.to} took over from ${failover.from} after ${seconds(failover.tookMs)}`;
}

/** The line's level and words: `up · master ... · 2 replicas in sync · 0.8 ms · failover: ...`. */
export function redisLine(redis: RedisView, failover: Failover | undefined, now: number): { level: 'ok' | 'warn' | 'bad'; text: string } {
  const parts: string[] = [redis.state];
  if (redis.master !== undefined) parts.push(`master ${redis.master}`);
  if (redis.replicasInSync !== undefined) parts.push(`${redis.replicasInSync} ${redis.replicasInSync === 1 ? 'replica' : 'replicas'} in sync`);
  if (typeof redis.latencyMs === 'number') parts.push(`${redis.latencyMs} ms`);
  if (redis.detail) parts.push(redis.detail);
  if (failover) parts.push(`failover ${seconds(now - failover.at)} ago: ${describeFailover(failover)}`);
  // Up, but refusing visits (no replica in sync) is said in the detail: a warning, not an outage.
  const level = redis.state !== 'up' ? 'bad' : redis.detail ? 'warn' : 'ok';
  return { level, text: parts.join(' · ') };
}
