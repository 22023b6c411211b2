import { edge, edgeProblems, type Route } from '@three-tier/shared';
import { directive, type Node } from '../ast.js';

/** The zone expensive routes share: defined at http level, applied per location. */
const expensiveZone = 'expensive';

/** http-level zones: one request rate per client address. */
export function rateLimitZones(): Node[] {
  return [
    directive('limit_req_zone', '$binary_remote_addr', `zone=${expensiveZone}:10m`, `rate=${edge.rateLimits.expensive.perSecond}r/s`),
    // Rejected requests become the too-many-requests problem, with its Retry-After (edge-errors).
    directive('limit_req_status', edgeProblems.tooManyRequests.status),
    directive('limit_req_log_level', 'warn'),
  ];
}

/** A location's limit: expensive routes only; a burst is served at once, not queued. */
export function rateLimit(route: Route): Node[] {
  if (route.rateLimit !== 'expensive') return [];
  return [directive('limit_req', `zone=${expensiveZone}`, `burst=${edge.rateLimits.expensive.burst}`, 'nodelay')];
}
