import { edge, edgeProblems } from '@three-tier/shared';
import { block, directive, type Block, type Node } from '../ast.js';
import { locationHeaders } from './headers.js';
import { problemAnswer } from './problems.js';

/** An answer the edge writes by itself (see edgeProblems in packages/shared). */
export interface EdgeProblem {
  readonly status: number;
  readonly detail: string;
  readonly retryAfterSeconds?: number;
}

/** A problem nginx answers by itself, the internal location that writes it, and the codes that lead there. */
export interface EdgeError {
  /** nginx's own codes sent here by error_page; none where only a rewrite leads. */
  readonly codes: readonly number[];
  /** The last segment of the location's URI. */
  readonly name: string;
  readonly problem: EdgeProblem;
}

/**
 * Statuses nginx produces itself, each answered as problem+json. 494 is nginx's own code for
 * headers over the buffer limit; clients get the standard 431, as 501 becomes 400.
 */
export const edgeErrors: readonly EdgeError[] = [
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

/** Not a status nginx produces: the idempotency-key guard rewrites to it. */
export const badIdempotencyKey: EdgeError = { codes: [], name: 'bad_idempotency_key', problem: edgeProblems.badIdempotencyKey };

/**
 * Where each error is answered: an internal URI, not a named location. nginx rejects some
 * requests before it has parsed their URI (a malformed request line, a bad escape, a path that
 * climbs above the root), and cannot redirect those to a named location ("empty URI in redirect
 * to named location": it answered its own HTML 500 instead). A redirect to a URI always works.
 */
export const errorUri = (name: string): string => `${edge.errorPathPrefix}${name}`;

/** Server-level error_page directives: every code nginx may produce goes to its problem. */
export function errorPages(): Node[] {
  return [
    // An error while answering an error (a body too large for a path that was already a 404, say)
    // gets its problem too, not nginx's HTML page. The error pages only return.
    directive('recursive_error_pages', 'on'),
    ...edgeErrors.flatMap(errorPagesFor),
  ];
}

/** `=status` only where nginx's own code is not the one clients should see (494 becomes 431). */
function errorPagesFor({ codes, name, problem }: EdgeError): Node[] {
  return codes.map((code) =>
    code === problem.status
      ? directive('error_page', code, errorUri(name))
      : directive('error_page', code, `=${problem.status}`, errorUri(name)),
  );
}

/** The internal location that answers one error; Retry-After only where the problem has one. */
export function errorLocation({ name, problem: { status, detail, retryAfterSeconds } }: EdgeError): Block {
  return block('location', ['=', errorUri(name)], [
    directive('internal'),
    ...locationHeaders(retryAfterSeconds === undefined ? [] : [['Retry-After', retryAfterSeconds]]),
    ...problemAnswer(status, detail),
  ]);
}

/** Every error's location: the error_page targets and the idempotency guard's. */
export function errorLocations(): Block[] {
  return [...edgeErrors, badIdempotencyKey].map(errorLocation);
}
