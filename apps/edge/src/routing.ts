/**
 * From the route table to what the edge does with a request target: the answer for each path is
 * worked out once, at start, so a request costs one lookup.
 */
import {
  edge,
  edgeProblems,
  internalRouteDetail,
  routeList,
  targetPath,
  upstreamReadTimeoutMs,
  type RateLimitClass,
  type Route,
} from '@three-tier/shared';
import type { ProblemAnswer } from './refusals.js';

/** The edge's own liveness, answered before routing and never proxied. */
export interface HealthDestination {
  readonly kind: 'health';
  readonly quiet: true;
}

/** A path the edge answers with a problem itself: unknown, or internal to the api. */
export interface RefusedDestination {
  readonly kind: 'refused';
  readonly problem: ProblemAnswer;
  readonly quiet: boolean;
}

/** A public route, sent to the api. */
export interface ProxiedDestination {
  readonly kind: 'proxied';
  readonly route: Route;
  /** How long one try waits for the api's answer. */
  readonly readTimeoutMs: number;
  readonly rateLimit: RateLimitClass;
  /** Left out of the access log, as the route table says. */
  readonly quiet: boolean;
}

export type Destination = HealthDestination | RefusedDestination | ProxiedDestination;

function destinationOf(route: Route): Destination {
  if (route.exposure === 'internal') {
    return { kind: 'refused', problem: { status: 404, detail: internalRouteDetail(route.path) }, quiet: route.quiet };
  }
  return { kind: 'proxied', route, readTimeoutMs: upstreamReadTimeoutMs(route), rateLimit: route.rateLimit, quiet: route.quiet };
}

const notFound: RefusedDestination = { kind: 'refused', problem: edgeProblems.notFound, quiet: false };

/**
 * The edge's routing for a route table (the shared one unless a test brings its own): a function
 * from a request target, origin or absolute form, to its destination. Exact paths, as the table
 * says; the health path wins over any route.
 */
export function createRouting(routes: readonly Route[] = routeList): (target: string) => Destination {
  const byPath = new Map<string, Destination>(routes.map((route) => [route.path, destinationOf(route)]));
  byPath.set(edge.healthPath, { kind: 'health', quiet: true });
  return (target) => byPath.get(targetPath(target) ?? '') ?? notFound;
}

/** An absolute-form target (http://host/path) as the origin form the api is sent, as nginx does. */
export function originForm(url: string): string {
  if (url.startsWith('/')) return url;
  const rest = url.replace(/^https?:\/\/[^/?#]+/i, '');
  return rest.startsWith('/') ? rest : `/${rest}`;
}
