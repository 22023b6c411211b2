/**
 * A client request and what the edge keeps of it while it is handled. The state lives on the
 * request itself, where http-proxy's hooks and the access log find it: no map from requests to
 * state, nothing for one try to overwrite of another's.
 */
import { IncomingMessage, type ServerResponse } from 'node:http';
import { headerNames } from '@three-tier/shared';
import type { BodySource } from './body.js';
import type { ProxiedDestination } from './routing.js';
import { Tries } from './upstream-pool.js';
import type { Upstream } from './upstream.js';

/** One forwarded request: what every try of it sends, and the record of its tries. */
export class Forwarding {
  readonly tries: Tries<Upstream>;
  /** The edge's own request headers, the same on every try. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    readonly req: EdgeRequest,
    readonly res: ServerResponse,
    readonly destination: ProxiedDestination,
    /** The body read ahead, sent again by each try. */
    readonly body: BodySource,
    /** One key per client request, the same on every try: the api counts a replayed visit once. */
    idempotencyKey: string,
  ) {
    this.tries = new Tries(req.method ?? '');
    this.headers = {
      [headerNames.requestId]: req.requestId,
      [headerNames.idempotencyKey]: idempotencyKey,
      // The first hop: the client is whoever connected, whatever it claims.
      'x-forwarded-for': req.remoteAddr ?? '',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': req.headers.host ?? '',
      connection: 'keep-alive',
    };
  }
}

/**
 * Node's request as the edge's server makes it (see createEdgeServer), with the edge's state:
 * the listener sets the first three, the proxy adds the forwarding.
 */
export class EdgeRequest extends IncomingMessage {
  /** When the listener first saw it (performance.now()). */
  started = 0;
  /** Read at once: when the response closes, the socket is detached from the request. */
  remoteAddr: string | undefined = undefined;
  requestId = '';
  /** Set when the request is sent upstream. */
  forwarding: Forwarding | undefined = undefined;
}

/** The forwarding of a request that came through the edge's server; undefined for any other. */
export function forwardingOf(req: IncomingMessage): Forwarding | undefined {
  return req instanceof EdgeRequest ? req.forwarding : undefined;
}
