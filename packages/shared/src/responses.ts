/** The bodies the api sends, as its clients (the probe suite, the HTML page) read them. */

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

export type CheckName = 'redis' | 'shutdown';

export interface CheckResult {
  readonly status: 'pass' | 'fail';
  readonly detail?: string;
  readonly latencyMs?: number;
}

export type Checks = Readonly<Record<CheckName, CheckResult>>;

export interface ReadyBody {
  readonly status: 'ready';
  readonly checks: Checks;
}
