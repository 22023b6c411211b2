/**
 * The edge as a request listener: the same route table, limits, headers, retries and answers as
 * the generated nginx config, in Node with http-proxy. This file puts the steps in order; each
 * step lives in a module of its own.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { edge, edgeProblems, headerNames, routeList, securityHeaders, type RateLimitClass, type Route } from '@three-tier/shared';
import type { Logger } from 'pino';
import { createAccessLog } from './access-log.js';
import { BodySource, hasBody, noBody, readBody } from './body.js';
import { Forwarding, type EdgeRequest } from './edge-request.js';
import { UpstreamProxy } from './proxy.js';
import { RateLimiter } from './rate-limit.js';
import { clientIdempotencyKey, headRefusal, sendProblem, token } from './refusals.js';
import { createRouting, originForm, type Destination, type ProxiedDestination } from './routing.js';

export interface EdgeOptions {
  /** The api instances, as http:// URLs; requests go round-robin. */
  readonly upstreams: readonly string[];
  readonly logger: Logger;
  /** True once shutdown began: responses close their connections. */
  readonly isDraining: () => boolean;
  /** The route table: the shared one, unless a test brings its own. */
  readonly routes?: readonly Route[];
  /** The clock of the rate limits and of the upstreams' pass-over: performance.now unless a test drives it. */
  readonly now?: () => number;
}

/** The edge's listener, for a server made by createEdgeServer, and what closes its upstream connections. */
export interface Edge {
  readonly listener: (req: EdgeRequest, res: ServerResponse<EdgeRequest>) => void;
  close(): void;
}

const requestIdName = headerNames.requestId.toLowerCase();
const securityHeaderList = Object.entries(securityHeaders);
const healthBody = JSON.stringify({ status: 'ok' });

/** The edge's own health answer: it is up, whatever the api is doing. */
function sendHealth(req: EdgeRequest, res: ServerResponse): void {
  res.setHeader('Content-Type', 'application/json');
  res.end(req.method === 'HEAD' ? undefined : healthBody);
}

class EdgeListener implements Edge {
  private readonly logger: Logger;
  private readonly isDraining: () => boolean;
  private readonly routing: (target: string) => Destination;
  private readonly limiters: Readonly<Record<Exclude<RateLimitClass, 'none'>, RateLimiter>>;
  private readonly proxy: UpstreamProxy;
  private readonly logAccess: (this: ServerResponse<EdgeRequest>) => void;

  constructor(options: EdgeOptions) {
    const { logger, isDraining, now } = options;
    this.logger = logger;
    this.isDraining = isDraining;
    this.routing = createRouting(options.routes ?? routeList);
    const { perSecond, burst } = edge.rateLimits.expensive;
    this.limiters = { expensive: new RateLimiter(perSecond, burst, now) };
    this.proxy = new UpstreamProxy({ upstreams: options.upstreams, logger, isDraining, ...(now ? { now } : {}) });
    this.logAccess = createAccessLog(logger);
  }

  readonly listener = (req: EdgeRequest, res: ServerResponse<EdgeRequest>): void => {
    req.started = performance.now();
    req.remoteAddr = req.socket.remoteAddress;
    req.requestId = token(req.headers[requestIdName]) ?? randomUUID();
    res.setHeader(headerNames.requestId, req.requestId);
    for (const [name, value] of securityHeaderList) res.setHeader(name, value);
    if (this.isDraining()) res.setHeader('Connection', 'close');
    // The one lookup of this request's path.
    const destination = this.routing(req.url ?? '/');
    if (!destination.quiet && this.logger.isLevelEnabled('info')) res.on('close', this.logAccess);
    try {
      this.handle(req, res, destination);
    } catch (error) {
      this.failed(req, res, error);
    }
  };

  close(): void {
    this.proxy.close();
  }

  /** The refusals, in nginx's order, then the health answer, then the api. */
  private handle(req: EdgeRequest, res: ServerResponse, destination: Destination): void {
    const givenKey = clientIdempotencyKey(req.rawHeaders);
    const refusal = headRefusal(req, givenKey);
    if (refusal) {
      sendProblem(req, res, refusal);
      return;
    }
    if (destination.kind === 'health') {
      sendHealth(req, res);
      return;
    }
    if (destination.kind === 'refused') {
      sendProblem(req, res, destination.problem);
      return;
    }
    // Without a body there is nothing to wait for.
    if (!hasBody(req)) {
      this.admit(req, res, destination, noBody, givenKey);
      return;
    }
    readBody(req, edge.maxBodyBytes)
      .then((body) => {
        if (body) this.admit(req, res, destination, new BodySource(body), givenKey);
        else sendProblem(req, res, edgeProblems.payloadTooLarge);
      })
      .catch((error: unknown) => this.failed(req, res, error));
  }

  /** The rate limit, then the api; a request without a key of its own gets one here. */
  private admit(req: EdgeRequest, res: ServerResponse, destination: ProxiedDestination, body: BodySource, givenKey: string | undefined): void {
    if (destination.rateLimit !== 'none' && !this.limiters[destination.rateLimit].take(req.remoteAddr ?? '')) {
      sendProblem(req, res, edgeProblems.tooManyRequests);
      return;
    }
    req.url = originForm(req.url ?? '/');
    this.proxy.forward(new Forwarding(req, res, destination, body, givenKey ?? randomUUID()));
  }

  private failed(req: EdgeRequest, res: ServerResponse, error: unknown): void {
    this.logger.error({ err: error }, 'edge failed');
    if (!res.headersSent) sendProblem(req, res, edgeProblems.internalError);
    else res.destroy();
  }
}

/**
 * The edge as a request listener for createEdgeServer: refusals, health, routing, rate limits,
 * retries across the api instances, the access log. `close` ends its upstream connections.
 */
export function createEdge(options: EdgeOptions): Edge {
  return new EdgeListener(options);
}
