/**
 * The route table: the one place a path, its methods, its exposure and its timeouts are written.
 *
 * Readers: the api mounts every entry (a test checks it), the nginx generator and the http-proxy edge
 * build their locations from it, the probe suite probes every entry through each edge, and the
 * container and Kubernetes generators take their probe paths from it.
 */
import { load } from './topology.js';

/** Every route answers GET; HEAD is GET without the body. Other methods get 405 with `Allow`. */
export type Method = 'GET' | 'HEAD';

/**
 * `public` routes are served through the edge. `internal` ones only on the api's own port
 * (Prometheus scrapes a pod or container directly); the edge answers 404 for them.
 */
export type Exposure = 'public' | 'internal';

/** `expensive` routes are rate limited per client address at the edge (see `edge.rateLimits`). */
export type RateLimitClass = 'none' | 'expensive';

export interface Route {
  readonly path: `/${string}`;
  readonly methods: readonly Method[];
  readonly exposure: Exposure;
  readonly rateLimit: RateLimitClass;
  /**
   * The api answers within this or gives up with a 503; the edge waits this plus
   * `edge.upstreamMarginMs` before it tries another instance.
   */
  readonly timeoutMs: number;
  /** Left out of request logs: probes and scrapes arrive every few seconds and say nothing. */
  readonly quiet: boolean;
  readonly summary: string;
}

const readOnly = ['GET', 'HEAD'] as const satisfies readonly Method[];

export const routes = {
  info: {
    path: '/',
    methods: readOnly,
    exposure: 'public',
    rateLimit: 'none',
    timeoutMs: 2_000,
    quiet: false,
    summary: 'service info: name, version, hostname, uptime, and the request as the api saw it',
  },
  redis: {
    path: '/redis',
    methods: readOnly,
    exposure: 'public',
    rateLimit: 'none',
    timeoutMs: 2_000,
    quiet: false,
    summary: 'counts a visit in Redis: {hits, hostname, message}; 503 within a second when Redis is down',
  },
  html: {
    path: '/html',
    methods: readOnly,
    exposure: 'public',
    rateLimit: 'none',
    timeoutMs: 2_000,
    quiet: false,
    summary: 'counts a visit and shows it in an HTML page with the instance that served it',
  },
  load: {
    path: '/load',
    methods: readOnly,
    exposure: 'public',
    rateLimit: 'expensive',
    timeoutMs: 15_000,
    quiet: false,
    summary: `burns ?ms=${load.minMs}..${load.maxMs} CPU milliseconds (default ${load.defaultMs}) on a worker thread, for autoscaling demos`,
  },
  instance: {
    path: '/instance',
    methods: readOnly,
    exposure: 'public',
    rateLimit: 'none',
    timeoutMs: 2_000,
    // The live page polls it a few times a second from every open browser.
    quiet: true,
    summary: 'who answered and how it is: alias, state, Redis, faults and the count, counting nothing (the page polls it)',
  },
  healthz: {
    path: '/healthz',
    methods: readOnly,
    exposure: 'public',
    rateLimit: 'none',
    timeoutMs: 1_000,
    quiet: true,
    summary: 'liveness: the process answers; never depends on Redis',
  },
  readyz: {
    path: '/readyz',
    methods: readOnly,
    exposure: 'public',
    rateLimit: 'none',
    timeoutMs: 2_000,
    quiet: true,
    summary: 'readiness: 200 when Redis answers and the instance is not draining, else 503 naming the check',
  },
  metrics: {
    path: '/metrics',
    methods: readOnly,
    exposure: 'internal',
    rateLimit: 'none',
    timeoutMs: 5_000,
    quiet: true,
    summary: 'Prometheus metrics; on the api port only, never through the edge',
  },
} as const satisfies Record<string, Route>;

export type RouteId = keyof typeof routes;

export const routeIds = Object.keys(routes) as RouteId[];

/** The table as a list, in declaration order. */
export const routeList: readonly (Route & { readonly id: RouteId })[] = routeIds.map((id) => ({
  id,
  ...routes[id],
}));

/** The route a path belongs to, if any. Exact match: `/redis/` is not `/redis`. */
export function routeForPath(path: string): (Route & { readonly id: RouteId }) | undefined {
  return routeList.find((route) => route.path === path);
}

/** The value of an `Allow` header for a route. */
export function allowHeader(route: Route): string {
  return route.methods.join(', ');
}

/** GET and HEAD are safe to replay on another instance; anything else is sent once. */
export function isRetryable(method: string): boolean {
  return method === 'GET' || method === 'HEAD';
}
