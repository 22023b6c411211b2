import { headerNames } from '@three-tier/shared';
import { comment, directive, type Node } from '../ast.js';
import type { Target } from '../target.js';
import { ms } from '../units.js';
import { vars } from '../variables.js';
import { forwardedHeaders } from './client-identity.js';
import { hiddenUpstreamHeaders } from './headers.js';
import { idempotencyKeyHeader } from './request-maps.js';
import { upstreamConnectTimeoutMs, upstreamTries } from './upstream.js';

/** Server-level: how every proxied location talks to the api, and when it tries another instance. */
export function proxySettings(target: Target): Node[] {
  const tries = upstreamTries(target);
  return [
    comment(
      tries === 0
        ? 'Towards the api: HTTP/1.1, forwarded identity, and for GET and HEAD every replica tried in turn.'
        : 'Towards the api: HTTP/1.1, forwarded identity, and one retry elsewhere for GET and HEAD.',
    ),
    // HTTP/1.1 with an empty Connection keeps the upstream's keep-alive connections open.
    directive('proxy_http_version', '1.1'),
    directive('proxy_set_header', 'Connection', ''),
    directive('proxy_set_header', 'Host', '$host'),
    directive('proxy_set_header', headerNames.requestId, vars.requestId),
    ...idempotencyKeyHeader(target),
    ...forwardedHeaders(target),
    ...hiddenUpstreamHeaders(),
    directive('proxy_connect_timeout', ms(upstreamConnectTimeoutMs(target))),
    // Errors and timeouts only: an answer the api gave, even a 5xx, is the answer.
    directive('proxy_next_upstream', 'error', 'timeout'),
    directive('proxy_next_upstream_tries', tries),
  ];
}
