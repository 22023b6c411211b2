import { block, comment, directive, type Node } from '../ast.js';
import type { Target } from '../target.js';
import { headerVariable, vars } from '../variables.js';

/**
 * Behind trusted proxies, the client address and scheme come from their headers (the realip
 * module); rate limits and logs then see the real client, not the ingress controller. Without
 * trusted proxies, nothing: nginx is the first hop.
 */
export function clientIdentity(target: Target): Node[] {
  if (target.trustedProxies.length === 0) return [];
  return [
    comment('Behind the ingress controller: believe its X-Forwarded-For and X-Forwarded-Proto, nobody else\'s.'),
    ...target.trustedProxies.map((network) => directive('set_real_ip_from', network)),
    directive('real_ip_header', 'X-Forwarded-For'),
    directive('real_ip_recursive', 'on'),
    block('map', [headerVariable('X-Forwarded-Proto'), vars.forwardedProto], [
      directive('default', '$scheme'),
      directive('https', 'https'),
    ]),
  ];
}

/** What the api is told about the client: only what nginx saw or a trusted proxy reported. */
export function forwardedHeaders(target: Target): Node[] {
  const behindProxies = target.trustedProxies.length > 0;
  return [
    comment(
      behindProxies
        ? 'The client as the trusted proxy reported it (realip above); nothing a client claims itself.'
        : 'nginx is the first hop: the client is whoever connected, whatever it claims.',
    ),
    directive('proxy_set_header', 'X-Forwarded-For', '$remote_addr'),
    directive('proxy_set_header', 'X-Forwarded-Proto', behindProxies ? vars.forwardedProto : '$scheme'),
    directive('proxy_set_header', 'X-Forwarded-Host', '$host'),
  ];
}
