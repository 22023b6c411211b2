import {
  budgets,
  edge,
  edgeProblems,
  gracePeriodMs,
  headerNames,
  internalRouteDetail,
  routeList,
  tokenPattern,
  upstreamReadTimeoutMs,
  type Route,
} from '@three-tier/shared';
import { blank, block, comment, directive, type Node } from './ast.js';
import { hiddenUpstreamHeaders, locationHeaders, responseHeaders } from './blocks/headers.js';
import { problemAnswer } from './blocks/problems.js';
import { render } from './render.js';
import type { Target } from './target.js';
import { ms, size } from './units.js';
import { headerVariable, vars } from './variables.js';

type EdgeProblem = { readonly status: number; readonly detail: string; readonly retryAfterSeconds?: number };

/**
 * Behind trusted proxies, the client address and scheme come from their headers (the realip
 * module); rate limits and logs then see the real client, not the ingress controller.
 */
function clientIdentity(target: Target): Node[] {
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

/**
 * Statuses nginx produces itself, each answered as problem+json. 494 is nginx's own code for
 * headers over the buffer limit; clients get the standard 431, as 501 becomes 400.
 */
const edgeErrors: readonly { codes: readonly number[]; name: string; problem: EdgeProblem }[] = [
  // 501: a transfer coding nginx does not know; the Node tiers call that a 400 too.
  { codes: [400, 501], name: 'bad_request', problem: edgeProblems.badRequest },
  { codes: [404], name: 'not_found', problem: edgeProblems.notFound },
  // nginx's own 405 (TRACE); the api's 405s, with their Allow, pass through untouched.
  { codes: [405], name: 'method_not_allowed', problem: edgeProblems.methodNotAllowed },
  { codes: [413], name: 'payload_too_large', problem: edgeProblems.payloadTooLarge },
  { codes: [414], name: 'uri_too_long', problem: edgeProblems.uriTooLong },
  { codes: [494], name: 'headers_too_large', problem: edgeProblems.headersTooLarge },
  { codes: [429], name: 'too_many_requests', problem: edgeProblems.tooManyRequests },
  { codes: [500], name: 'internal_error', problem: edgeProblems.internalError },
  { codes: [502], name: 'bad_gateway', problem: edgeProblems.badGateway },
  { codes: [503], name: 'service_unavailable', problem: edgeProblems.unavailable },
  { codes: [504], name: 'gateway_timeout', problem: edgeProblems.gatewayTimeout },
  { codes: [505], name: 'version_not_supported', problem: edgeProblems.versionNotSupported },
];

/** Not a status nginx produces: the `if` on the Idempotency-Key rewrites to it. */
const badIdempotencyKey = { codes: [], name: 'bad_idempotency_key', problem: edgeProblems.badIdempotencyKey } as const;

/**
 * Where each error is answered: an internal URI, not a named location. nginx rejects some
 * requests before it has parsed their URI (a malformed request line, a bad escape, a path that
 * climbs above the root), and cannot redirect those to a named location ("empty URI in redirect
 * to named location": it answered its own HTML 500 instead). A redirect to a URI always works.
 */
const errorUri = (name: string): string => `${edge.errorPathPrefix}${name}`;

function errorLocation({ name, problem: { status, detail, retryAfterSeconds } }: (typeof edgeErrors)[number]): Node {
  return block('location', ['=', errorUri(name)], [
    directive('internal'),
    ...locationHeaders(retryAfterSeconds === undefined ? [] : [['Retry-After', retryAfterSeconds]]),
    ...problemAnswer(status, detail),
  ]);
}

/** Where the api is: a named upstream block, or a variable nginx resolves per request (`dns`). */
function proxyPassFor(target: Target): string {
  return target.upstream.kind === 'static' ? 'http://api' : `http://${vars.apiUpstream}`;
}

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

/** http-level directives that define the api for nginx. */
function upstreamDefinition(target: Target): Node[] {
  const { upstream } = target;
  if (upstream.kind === 'dns') {
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
  return [
    block('upstream', ['api'], [
      ...upstream.servers.map((server) => directive('server', server, 'max_fails=1', `fail_timeout=${edge.upstreamFailTimeoutMs / 1_000}s`)),
      directive('keepalive', edge.upstreamKeepaliveConnections),
      // Shorter than the api's own keep-alive, so nginx never reuses a connection the api is closing.
      directive('keepalive_timeout', ms(edge.upstreamKeepaliveTimeoutMs)),
      directive('keepalive_requests', 1000),
    ]),
  ];
}

function proxyLocation(route: Route, proxyPass: string): Node {
  const readTimeout = upstreamReadTimeoutMs(route);
  const rate = edge.rateLimits;
  return block('location', ['=', route.path], [
    comment(route.summary),
    ...(route.quiet ? [directive('access_log', 'off')] : []),
    ...(route.rateLimit === 'expensive'
      ? [directive('limit_req', 'zone=expensive', `burst=${rate.expensive.burst}`, 'nodelay')]
      : []),
    directive('proxy_read_timeout', ms(readTimeout)),
    directive('proxy_send_timeout', ms(readTimeout)),
    // Every try may take connect plus read; a retry must still fit.
    directive('proxy_next_upstream_timeout', ms(edge.upstreamTries * (edge.upstreamConnectTimeoutMs + readTimeout))),
    directive('proxy_pass', proxyPass),
  ]);
}

function internalLocation(route: Route): Node {
  return block('location', ['=', route.path], [
    comment(`${route.path} is internal: scraped on the api's own port, never through the edge.`),
    ...problemAnswer(edgeProblems.notFound.status, internalRouteDetail(route.path)),
  ]);
}

/** The whole nginx.conf for a target, as a tree. Pure: same target, same tree. */
export function generate(target: Target): Node[] {
  return [
    comment(
      [
        `Generated by @three-tier/nginx for the ${target.name} target from the route table in`,
        'packages/shared. Do not edit: change the table or the generator, and regenerate.',
      ].join('\n'),
    ),
    directive('worker_processes', target.workerProcesses),
    directive('pid', target.pidFile),
    directive('daemon', 'off'),
    directive('error_log', 'stderr', 'warn'),
    directive('pcre_jit', 'on'),
    // A graceful quit waits for in-flight requests, but not forever.
    directive('worker_shutdown_timeout', ms(gracePeriodMs(budgets.edgeDrainMs))),
    blank,
    block('events', [], [directive('worker_connections', 1024)]),
    blank,
    block('http', [], [
      comment('Everything nginx writes stays under one directory, so the root file system can be read-only.'),
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) =>
        directive(`${kind}_temp_path`, `${target.tempDir}/${kind}`),
      ),
      blank,
      directive('server_tokens', 'off'),
      directive('default_type', 'application/octet-stream'),
      directive(
        'log_format',
        'json',
        'escape=json',
        JSON.stringify({
          time: '$time_iso8601',
          requestId: vars.requestId,
          remoteAddr: '$remote_addr',
          method: '$request_method',
          uri: '$request_uri',
          status: '$status',
          bytes: '$body_bytes_sent',
          seconds: '$request_time',
          upstream: '$upstream_addr',
          upstreamStatus: '$upstream_status',
          upstreamSeconds: '$upstream_response_time',
          userAgent: '$http_user_agent',
        }),
      ),
      directive(
        'access_log',
        target.accessLog,
        'json',
        ...(target.accessLogBuffer
          ? [`buffer=${size(target.accessLogBuffer.bytes)}`, `flush=${ms(target.accessLogBuffer.flushMs)}`]
          : []),
      ),
      blank,
      comment('Limits and timeouts towards clients (shared with the http-proxy edge).'),
      directive('keepalive_timeout', ms(edge.clientKeepaliveTimeoutMs)),
      directive('client_header_timeout', ms(edge.clientTimeoutMs)),
      directive('client_body_timeout', ms(edge.clientTimeoutMs)),
      directive('send_timeout', ms(edge.clientTimeoutMs)),
      directive('reset_timedout_connection', 'on'),
      directive('client_max_body_size', size(edge.maxBodyBytes)),
      directive('client_body_buffer_size', size(edge.maxBodyBytes)),
      directive('client_header_buffer_size', '1k'),
      directive('large_client_header_buffers', edge.headerBuffers, size(edge.maxHeaderBytes)),
      comment('Paths match the api exactly: //redis is not /redis there, so it is not here either.'),
      directive('merge_slashes', 'off'),
      blank,
      ...clientIdentity(target),
      comment(`A well-formed ${headerNames.requestId} passes through; anything else gets nginx's own id.`),
      block('map', [headerVariable(headerNames.requestId), vars.requestId], [
        directive('default', '$request_id'),
        directive(`~${tokenPattern}`, headerVariable(headerNames.requestId)),
      ]),
      comment(
        [
          `${headerNames.idempotencyKey}: the client's, or one per request that stays the same when nginx retries`,
          'on another instance, so the api counts the visit once. A malformed one maps to nothing, and the',
          'request is refused (below), as the api refuses it: replacing it would drop the idempotency asked for.',
        ].join('\n'),
      ),
      block('map', [headerVariable(headerNames.idempotencyKey), vars.idempotencyKey], [
        directive('default', ''),
        directive('', '$request_id'),
        directive(`~${tokenPattern}`, headerVariable(headerNames.idempotencyKey)),
      ]),
      blank,
      directive(
        'limit_req_zone',
        '$binary_remote_addr',
        'zone=expensive:10m',
        `rate=${edge.rateLimits.expensive.perSecond}r/s`,
      ),
      directive('limit_req_status', 429),
      directive('limit_req_log_level', 'warn'),
      blank,
      ...upstreamDefinition(target),
      blank,
      block('server', [], [
        directive('listen', target.listen),
        directive('server_name', '_'),
        ...(target.upstream.kind === 'dns'
          ? [directive('set', vars.apiUpstream, `${target.upstream.host}:${target.upstream.port}`)]
          : []),
        blank,
        ...responseHeaders(),
        blank,
        block('if', [`(${vars.idempotencyKey}`, '=', '', ')'], [
          directive('rewrite', '^', errorUri(badIdempotencyKey.name), 'last'),
        ]),
        blank,
        comment(
          upstreamTries(target) === 0
            ? 'Towards the api: HTTP/1.1, forwarded identity, and for GET and HEAD every replica tried in turn.'
            : 'Towards the api: HTTP/1.1, forwarded identity, and one retry elsewhere for GET and HEAD.',
        ),
        directive('proxy_http_version', '1.1'),
        directive('proxy_set_header', 'Connection', ''),
        directive('proxy_set_header', 'Host', '$host'),
        directive('proxy_set_header', headerNames.requestId, vars.requestId),
        directive('proxy_set_header', headerNames.idempotencyKey, vars.idempotencyKey),
        comment(
          target.trustedProxies.length === 0
            ? 'nginx is the first hop: the client is whoever connected, whatever it claims.'
            : 'The client as the trusted proxy reported it (realip above); nothing a client claims itself.',
        ),
        directive('proxy_set_header', 'X-Forwarded-For', '$remote_addr'),
        directive('proxy_set_header', 'X-Forwarded-Proto', target.trustedProxies.length === 0 ? '$scheme' : vars.forwardedProto),
        directive('proxy_set_header', 'X-Forwarded-Host', '$host'),
        ...hiddenUpstreamHeaders(),
        directive('proxy_connect_timeout', ms(edge.upstreamConnectTimeoutMs)),
        directive('proxy_next_upstream', 'error', 'timeout'),
        directive('proxy_next_upstream_tries', upstreamTries(target)),
        blank,
        // An error while answering an error (a body too large for a path that was already a
        // 404, say) gets its problem too, not nginx's HTML page. The error pages only return.
        directive('recursive_error_pages', 'on'),
        // `=status` where nginx's own code is not the one clients should see (494 becomes 431).
        ...edgeErrors.flatMap((error) =>
          error.codes.map((code) =>
            code === error.problem.status
              ? directive('error_page', code, errorUri(error.name))
              : directive('error_page', code, `=${error.problem.status}`, errorUri(error.name)),
          ),
        ),
        blank,
        ...routeList.flatMap((route) => [route.exposure === 'public' ? proxyLocation(route, proxyPassFor(target)) : internalLocation(route), blank]),
        block('location', ['=', edge.healthPath], [
          comment("The edge's own liveness: answered here, never proxied."),
          directive('access_log', 'off'),
          directive('default_type', 'application/json'),
          directive('return', 200, JSON.stringify({ status: 'ok' })),
        ]),
        blank,
        block('location', ['/'], [
          comment('Not in the route table.'),
          ...problemAnswer(edgeProblems.notFound.status, edgeProblems.notFound.detail),
        ]),
        blank,
        ...[...edgeErrors, badIdempotencyKey].flatMap((error) => [errorLocation(error), blank]).slice(0, -1),
      ]),
      ...statusServer(target),
    ]),
  ];
}

/** stub_status on its own listener: the exporter's, never the public server's. */
function statusServer(target: Target): Node[] {
  if (!target.status) return [];
  return [
    blank,
    block('server', [], [
      comment('Connection and request counters for the nginx exporter, on a port that is never published.'),
      directive('listen', target.status.listen),
      directive('access_log', 'off'),
      block('location', ['=', target.status.path], [directive('stub_status')]),
      block('location', ['/'], [directive('return', 404)]),
    ]),
  ];
}

/** The files of a target, by name. nginx.conf is the only one today. */
export function generateFiles(target: Target): Record<string, string> {
  return { 'nginx.conf': render(generate(target)) };
}
