/**
 * Faults on demand: a demo breaks one api instance on purpose to show what readiness, retries and
 * restarts do. The routes live on the api's own port only (like /metrics); both edges answer 404 for
 * everything under `faultsPath`, and in Kubernetes they are reached through `kubectl port-forward`
 * or `exec`. Parameters go in the query: like every route, these take no body.
 */

/** What one instance is switched to. All off is the normal state. */
export interface Faults {
  /** /readyz fails and the instance drops proxied work, so the edge takes it elsewhere. */
  readonly unready: boolean;
  /** Added before every answer of a work route. */
  readonly latencyMs: number;
  /** The share of work requests answered 500, 0 to 1. */
  readonly errorRate: number;
}

export const noFaults: Faults = { unready: false, latencyMs: 0, errorRate: 0 };

export type FaultName = 'unready' | 'latency' | 'errors';

export const faultNames: readonly FaultName[] = ['unready', 'latency', 'errors'];

export const faultLimits = { minLatencyMs: 1, maxLatencyMs: 10_000 } as const;

/** Everything under this prefix is a fault route. */
export const faultsPath = '/faults';

export type FaultMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';

export interface FaultRoute {
  readonly path: `${typeof faultsPath}${string}`;
  readonly methods: readonly FaultMethod[];
  readonly summary: string;
}

/** The fault routes, mounted by the api when FAULTS=on (the default). */
export const faultRoutes = {
  list: {
    path: '/faults',
    methods: ['GET', 'HEAD', 'DELETE'],
    summary: 'GET: the faults this instance is switched to; DELETE: clears them all',
  },
  unready: {
    path: '/faults/unready',
    methods: ['PUT', 'DELETE'],
    summary: 'PUT: /readyz fails and proxied work is dropped (the edge retries elsewhere); DELETE: ready again',
  },
  latency: {
    path: '/faults/latency',
    methods: ['PUT', 'DELETE'],
    summary: `PUT ?ms=${faultLimits.minLatencyMs}..${faultLimits.maxLatencyMs}: adds that much to every work answer; DELETE: none`,
  },
  errors: {
    path: '/faults/errors',
    methods: ['PUT', 'DELETE'],
    summary: 'PUT ?rate=0..1 (e.g. 0.2): answers that share of work requests 500; DELETE: none',
  },
  exit: {
    path: '/faults/exit',
    methods: ['POST'],
    summary: 'answers 202, then the process exits 1 at once, as a crash would (no drain)',
  },
} as const satisfies Record<string, FaultRoute>;

/** "unready", "latency +300 ms", "errors 20%": the active faults in words, for the page and the CLIs. */
export function describeFaults(faults: Faults): string[] {
  const words: string[] = [];
  if (faults.unready) words.push('unready');
  if (faults.latencyMs > 0) words.push(`latency +${faults.latencyMs} ms`);
  if (faults.errorRate > 0) words.push(`errors ${Math.round(faults.errorRate * 1000) / 10}%`);
  return words;
}
