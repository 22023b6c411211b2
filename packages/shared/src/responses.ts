/** The bodies the api sends, as its clients (the probe suite, the HTML page) read them. */

import type { Faults } from './faults.js';

export interface ServiceInfo {
  readonly name: string;
  readonly version: string;
  readonly hostname: string;
  readonly uptimeSeconds: number;
  readonly node: string;
  /** The request as the api saw it, to show what the edge forwarded. */
  readonly request: {
    readonly id: string;
    readonly ip: string;
    readonly protocol: string;
  };
}

export interface CounterBody {
  readonly hits: number;
  readonly hostname: string;
  readonly message: string;
}

/** The sentence the course material shows; kept word for word. */
export function counterMessage(hits: number): string {
  return `This page has been viewed ${hits} times!`;
}

export interface LoadBody {
  readonly requestedMs: number;
  /** CPU time the worker thread measured, not wall time. */
  readonly cpuMs: number;
  readonly hostname: string;
}

export interface HealthBody {
  readonly status: 'ok';
  readonly uptimeSeconds: number;
}

export type CheckName = 'redis' | 'shutdown' | 'faults';

export interface CheckResult {
  readonly status: 'pass' | 'fail';
  readonly detail?: string;
  readonly latencyMs?: number;
  /** Sentinel mode, on the redis check: the master the api writes to (host:port). */
  readonly master?: string;
  /** Sentinel mode, on the redis check: replicas the master counts in sync. */
  readonly replicasInSync?: number;
}

export type Checks = Readonly<Record<CheckName, CheckResult>>;

export interface ReadyBody {
  readonly status: 'ready';
  readonly checks: Checks;
}

/** ready: takes work; draining: shutting down, finishing what it has; unready: Redis or a fault says no. */
export type InstanceState = 'ready' | 'draining' | 'unready';

/** up: answers; down: no connection; frozen: connected, or connecting, but nothing answers in time. */
export type RedisState = 'up' | 'down' | 'frozen';

/** GET /instance: who answered and how it is, counting nothing (the live page polls it). */
export interface InstanceBody {
  readonly hostname: string;
  /** A readable stable name for the hostname (see instanceAlias). */
  readonly alias: string;
  /** The instance's colour, a hue from 0 to 359 (see instanceHue). */
  readonly hue: number;
  readonly version: string;
  readonly uptimeSeconds: number;
  readonly state: InstanceState;
  readonly redis: {
    readonly state: RedisState;
    readonly latencyMs?: number;
    readonly detail?: string;
    /** Sentinel mode: the master the api writes to (host:port). */
    readonly master?: string;
    /** Sentinel mode: replicas the master counts in sync; below what a visit needs, the instance is unready. */
    readonly replicasInSync?: number;
  };
  /** The visit count as it stands (read, not counted); null when Redis did not answer. */
  readonly hits: number | null;
  readonly faults: Faults;
}
