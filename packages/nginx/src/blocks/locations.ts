import { edge, edgeProblems, internalRouteDetail, routeList, upstreamReadTimeoutMs, type Route } from '@three-tier/shared';
import { block, comment, directive, type Block } from '../ast.js';
import type { Target } from '../target.js';
import { ms } from '../units.js';
import { problemAnswer } from './problems.js';
import { rateLimit } from './rate-limits.js';
import { proxyPass } from './upstream.js';

/** One location per route in the table: public routes go to the api, internal ones never do. */
export function routeLocations(target: Target): Block[] {
  return routeList.map((route) => (route.exposure === 'public' ? proxyLocation(route, target) : internalLocation(route)));
}

/** A public route: proxied with the timeouts its table entry implies. */
export function proxyLocation(route: Route, target: Target): Block {
  const readTimeout = upstreamReadTimeoutMs(route);
  return block('location', ['=', route.path], [
    comment(route.summary),
    ...(route.quiet ? [directive('access_log', 'off')] : []),
    ...rateLimit(route),
    directive('proxy_read_timeout', ms(readTimeout)),
    directive('proxy_send_timeout', ms(readTimeout)),
    // Every try may take connect plus read; a retry must still fit.
    directive('proxy_next_upstream_timeout', ms(edge.upstreamTries * (edge.upstreamConnectTimeoutMs + readTimeout))),
    directive('proxy_pass', proxyPass(target)),
  ]);
}

/** An internal route (the api's metrics): the same 404 as an unknown path, never proxied. */
export function internalLocation(route: Route): Block {
  return block('location', ['=', route.path], [
    comment(`${route.path} is internal: scraped on the api's own port, never through the edge.`),
    ...problemAnswer(edgeProblems.notFound.status, internalRouteDetail(route.path)),
  ]);
}

/** The edge's own liveness: answered by nginx, so it says nothing about the api. */
export function healthLocation(): Block {
  return block('location', ['=', edge.healthPath], [
    comment("The edge's own liveness: answered here, never proxied."),
    directive('access_log', 'off'),
    directive('default_type', 'application/json'),
    directive('return', 200, JSON.stringify({ status: 'ok' })),
  ]);
}

/** Every path the table does not name: the same problem the api gives for an unknown path. */
export function fallbackLocation(): Block {
  return block('location', ['/'], [
    comment('Not in the route table.'),
    ...problemAnswer(edgeProblems.notFound.status, edgeProblems.notFound.detail),
  ]);
}
