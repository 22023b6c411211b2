import { edge } from '@three-tier/shared';
import { block, comment, directive, type Node } from '../ast.js';
import type { Target, UpstreamTarget } from '../target.js';
import { ms } from '../units.js';
import { vars } from '../variables.js';

/**
 * Attempts per request. A static upstream has the edge's usual two. A `dns` upstream tries every
 * address the name gave, once each (0: no count, only proxy_next_upstream_timeout bounds them):
 * replicas that stop together (`--scale api=3` down to 1) stay in Docker's DNS until they exit and
 * in nginx's cache `validSeconds` after, so one request may meet several dead addresses before a
 * live one, and two tries were seen to fail it with 502 and 504.
 */
export function upstreamTries(target: Target): number {
  return target.upstream.kind === 'dns' ? 0 : edge.upstreamTries;
}

/**
 * proxy_connect_timeout: a `dns` upstream's own (see UpstreamTarget), else the edge's usual. A try
 * that times out connecting sent nothing, so the next address may have the request.
 */
export function upstreamConnectTimeoutMs(target: Target): number {
  return target.upstream.kind === 'dns' ? target.upstream.connectTimeoutMs : edge.upstreamConnectTimeoutMs;
}

/**
 * Whether nginx may send one request to two api instances: a `dns` upstream, a static one with
 * several servers, or one server that spreads connections over several instances. With a single
 * server that is a single process it never does: it only resends a request whose kept-alive
 * connection failed, on a new connection to the same process (nginx's keepalive module does), and
 * a process that broke a connection after counting on it has died, so the resend is refused.
 */
export function retriesElsewhere(target: Target): boolean {
  const { upstream } = target;
  return upstream.kind === 'dns' || upstream.servers.length > 1 || upstream.oneInstancePerServer !== true;
}

/** http-level directives that tell nginx where the api is: an upstream block, or a resolver. */
export function upstreamDefinition(target: Target): Node[] {
  const { upstream } = target;
  return upstream.kind === 'dns' ? resolverFor(upstream) : [upstreamBlock(upstream.servers)];
}

/** A `dns` upstream: no upstream block, a resolver the per-request lookups use. */
function resolverFor(upstream: Extract<UpstreamTarget, { kind: 'dns' }>): Node[] {
  return [
    comment(
      [
        `${upstream.host} is looked up at request time (valid ${upstream.validSeconds}s) and each address it returns`,
        'is a peer: replicas that come and go are followed, and nginx starts before any exists.',
      ].join('\n'),
    ),
    directive('resolver', upstream.resolver, `valid=${upstream.validSeconds}s`, 'ipv6=off'),
    directive('resolver_timeout', '1s'),
  ];
}

/** A static upstream: fixed servers with keep-alive connections, a server out for a while after a failure. */
function upstreamBlock(servers: readonly string[]): Node {
  return block('upstream', ['api'], [
    ...servers.map((server) => directive('server', server, 'max_fails=1', `fail_timeout=${edge.upstreamFailTimeoutMs / 1_000}s`)),
    directive('keepalive', edge.upstreamKeepaliveConnections),
    // Shorter than the api's own keep-alive, so nginx never reuses a connection the api is closing.
    directive('keepalive_timeout', ms(edge.upstreamKeepaliveTimeoutMs)),
    directive('keepalive_requests', 1000),
  ]);
}

/**
 * Server-level: the address a `dns` upstream resolves per request. A variable in proxy_pass is
 * what makes nginx look the name up at request time rather than once at start.
 */
export function upstreamAddress(target: Target): Node[] {
  const { upstream } = target;
  return upstream.kind === 'dns' ? [directive('set', vars.apiUpstream, `${upstream.host}:${upstream.port}`)] : [];
}

/** What proxy_pass names: the upstream block, or the variable upstreamAddress sets. */
export function proxyPass(target: Target): string {
  return target.upstream.kind === 'static' ? 'http://api' : `http://${vars.apiUpstream}`;
}
