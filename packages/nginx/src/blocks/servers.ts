import { block, comment, directive, separated, type Node } from '../ast.js';
import type { Target } from '../target.js';
import { errorLocations, errorPages } from './edge-errors.js';
import { responseHeaders } from './headers.js';
import { fallbackLocation, healthLocation, routeLocations } from './locations.js';
import { proxySettings } from './proxy-settings.js';
import { idempotencyKeyGuard } from './request-maps.js';
import { upstreamAddress } from './upstream.js';

/** The public server: the route table's locations, and the edge's own answers around them. */
export function publicServer(target: Target): Node {
  return block('server', [], separated([
    [directive('listen', target.listen), directive('server_name', '_'), ...upstreamAddress(target)],
    responseHeaders(),
    idempotencyKeyGuard(target),
    proxySettings(target),
    errorPages(),
    ...routeLocations(target),
    healthLocation(),
    fallbackLocation(),
    ...errorLocations(),
  ]));
}

/**
 * stub_status for the nginx exporter, on a listener of its own that is never published, so the
 * public server never answers it. Nothing when the target asks for no status.
 */
export function statusServer(target: Target): Node[] {
  if (!target.status) return [];
  return [
    block('server', [], [
      comment('Connection and request counters for the nginx exporter, on a port that is never published.'),
      directive('listen', target.status.listen),
      directive('access_log', 'off'),
      block('location', ['=', target.status.path], [directive('stub_status')]),
      block('location', ['/'], [directive('return', 404)]),
    ]),
  ];
}
