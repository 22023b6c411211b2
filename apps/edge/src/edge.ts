import { randomUUID } from 'node:crypto';
import { Agent, type ClientRequest, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { Stream } from 'node:stream';
import {
  edge,
  edgeProblems,
  headerNames,
  internalRouteDetail,
  isRetryable,
  malformedRequest,
  problem,
  problemContentType,
  recordedStatus,
  routeForPath,
  securityHeaders,
  targetPath,
  tokenRegExp,
  upstreamReadTimeoutMs,
  type Route,
} from '@three-tier/shared';
import httpProxy from 'http-proxy';
import type { Logger } from 'pino';
import { RateLimiter } from './rate-limit.js';

export interface EdgeOptions {
  /** The api instances, as http:// URLs; requests go round-robin. */
  readonly upstreams: readonly string[];
  readonly logger: Logger;
  /** True once shutdown began: responses close their connections. */
  readonly isDraining: () => boolean;
}

/** One try of one request against one upstream. */
interface Attempt {
  readonly upstream: string;
  /** The connection opened, so the request may have reached the api. */
  connected: boolean;
  timedOut: boolean;
}

interface Problem {
  readonly status: number;
  readonly detail: string;
  readonly retryAfterSeconds?: number;
}

/** Headers the api sends that the edge replaces with its own, or that belong to one hop only. */
const ownedHeaders = [headerNames.requestId, ...Object.keys(securityHeaders), 'connection', 'keep-alive'].map((name) =>
  name.toLowerCase(),
);

function token(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && tokenRegExp.test(value) ? value : undefined;
}

function pathOf(req: IncomingMessage): string {
  return targetPath(req.url ?? '/') ?? '';
}

/** An absolute-form target (http://host/path) as the origin form the api is sent, as nginx does. */
function originForm(url: string): string {
  if (url.startsWith('/')) return url;
  const rest = url.replace(/^https?:\/\/[^/?#]+/i, '');
  return rest.startsWith('/') ? rest : `/${rest}`;
}

const noBody = Buffer.alloc(0);

/** Reads a request body up to `limit` bytes; undefined when it is larger. */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  // Neither header: HTTP/1.1 says there is no body, so there is nothing to wait for.
  if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) return noBody;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * What http-proxy sends upstream instead of the request itself, which can be read only once: the
 * body read ahead, given again to every try. http-proxy only ever calls `pipe` on it, so a legacy
 * Stream that hands its buffer over is all it needs; a Readable (Readable.from) cost more than
 * the rest of the hop's own work.
 */
class BodySource extends Stream {
  constructor(private readonly body: Buffer) {
    super();
  }

  override pipe<Destination extends NodeJS.WritableStream>(destination: Destination): Destination {
    destination.end(this.body);
    return destination;
  }
}

/**
 * The edge as a request listener: the same route table, limits, headers, retries and answers as
 * the generated nginx config, in Node with http-proxy.
 */
export function createEdge(options: EdgeOptions): { readonly listener: RequestListener; close(): void } {
  const { upstreams, logger, isDraining } = options;
  const agent = new Agent({
    keepAlive: true,
    maxFreeSockets: edge.upstreamKeepaliveConnections,
    // Idle upstream sockets close before the api's keep-alive would close them.
    timeout: edge.upstreamKeepaliveTimeoutMs,
  });
  const proxy = httpProxy.createProxyServer({ agent, xfwd: false, ws: false });
  const attempts = new WeakMap<IncomingMessage, Attempt>();
  const limiter = new RateLimiter(edge.rateLimits.expensive.perSecond, edge.rateLimits.expensive.burst);
  let turn = 0;
  /** Upstreams that failed a try, and until when they are passed over, as nginx's max_fails=1. */
  const failedUntil = new Map<string, number>();

  /**
   * The next upstream in turn that this request has not tried and that has not failed lately.
   * Concurrent requests share the turn, so without `tried` a retry could land on the instance
   * that just failed it; if every other one failed lately, one of them is tried anyway, as nginx does.
   */
  function pick(tried: ReadonlySet<string>): string {
    const now = Date.now();
    const start = turn++;
    let fallback: string | undefined;
    for (let offset = 0; offset < upstreams.length; offset += 1) {
      const candidate = upstreams[(start + offset) % upstreams.length] ?? '';
      if (tried.has(candidate)) continue;
      if ((failedUntil.get(candidate) ?? 0) <= now) return candidate;
      fallback ??= candidate;
    }
    return fallback ?? upstreams[start % upstreams.length] ?? '';
  }

  proxy.on('proxyReq', (proxyReq: ClientRequest, req: IncomingMessage) => {
    const attempt = attempts.get(req);
    if (!attempt) return;
    proxyReq.once('timeout', () => {
      attempt.timedOut = true;
    });
    const socket = proxyReq.socket;
    attempt.connected = socket !== null && !socket.connecting;
    if (socket?.connecting) {
      socket.once('connect', () => {
        attempt.connected = true;
      });
      const timer = setTimeout(() => {
        attempt.timedOut = true;
        proxyReq.destroy(new Error(`connect to ${attempt.upstream} timed out`));
      }, edge.upstreamConnectTimeoutMs);
      socket.once('connect', () => clearTimeout(timer));
      socket.once('close', () => clearTimeout(timer));
    }
  });

  proxy.on('proxyRes', (proxyRes: IncomingMessage, req: IncomingMessage) => {
    for (const name of ownedHeaders) Reflect.deleteProperty(proxyRes.headers, name);
    proxyRes.headers.connection = isDraining() || req.headers.connection === 'close' ? 'close' : 'keep-alive';
  });

  // Every proxy.web call has a callback, so this only guards against the unexpected.
  proxy.on('error', (error: Error) => {
    logger.error({ err: error }, 'proxy error');
  });

  function sendProblem(req: IncomingMessage, res: ServerResponse, { status, detail, retryAfterSeconds }: Problem): void {
    const requestId = String(res.getHeader(headerNames.requestId));
    const body = JSON.stringify(problem(status, detail, { requestId }));
    res.statusCode = status;
    res.setHeader('Content-Type', problemContentType);
    res.setHeader('Content-Length', Buffer.byteLength(body));
    if (retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(retryAfterSeconds));
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  /** What every try of one request shares: its body and its idempotency key. */
  interface Outgoing {
    readonly route: Route;
    readonly body: Buffer;
    readonly idempotencyKey: string;
  }

  function forward(req: IncomingMessage, res: ServerResponse, outgoing: Outgoing, tried: ReadonlySet<string>): void {
    const { route, body, idempotencyKey } = outgoing;
    const tries = tried.size;
    const upstream = pick(tried);
    const attempt: Attempt = { upstream, connected: false, timedOut: false };
    attempts.set(req, attempt);
    proxy.web(
      req,
      res,
      {
        target: upstream,
        proxyTimeout: upstreamReadTimeoutMs(route),
        buffer: new BodySource(body),
        headers: {
          [headerNames.requestId]: String(res.getHeader(headerNames.requestId)),
          [headerNames.idempotencyKey]: idempotencyKey,
          // The first hop: the client is whoever connected, whatever it claims.
          'x-forwarded-for': req.socket.remoteAddress ?? '',
          'x-forwarded-proto': 'http',
          'x-forwarded-host': req.headers.host ?? '',
          connection: 'keep-alive',
        },
      },
      (error: Error) => {
        if (res.headersSent || res.destroyed) {
          res.destroy();
          return;
        }
        // As nginx: a request that never reached an api instance may go to another whatever its
        // method; one that may have reached it is replayed only when it is safe (GET, HEAD).
        failedUntil.set(upstream, Date.now() + edge.upstreamFailTimeoutMs);
        const replayable = !attempt.connected || isRetryable(req.method ?? '');
        if (replayable && tries + 1 < edge.upstreamTries) {
          logger.warn({ err: error, upstream, requestId: res.getHeader(headerNames.requestId) }, 'upstream failed; retrying');
          forward(req, res, outgoing, new Set([...tried, upstream]));
          return;
        }
        logger.error({ err: error, upstream }, 'upstream failed');
        sendProblem(req, res, attempt.timedOut ? edgeProblems.gatewayTimeout : edgeProblems.badGateway);
      },
    );
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // What nginx refuses while parsing or for the whole server, refused here the same way, before
    // any path is looked at, the edge's own health check's included.
    const malformed = malformedRequest(req, edge);
    if (malformed) {
      sendProblem(req, res, edgeProblems[malformed]);
      return;
    }
    // A malformed key of the client's is refused, as the api refuses it: replacing it would drop
    // the idempotency the client asked for without a word.
    // The first of repeated keys, as nginx reads it; an empty one is none at all, as there.
    const given = req.headersDistinct[headerNames.idempotencyKey.toLowerCase()]?.[0];
    if (given !== undefined && given !== '' && token(given) === undefined) {
      sendProblem(req, res, edgeProblems.badIdempotencyKey);
      return;
    }
    const path = pathOf(req);
    if (path === edge.healthPath) {
      res.setHeader('Content-Type', 'application/json');
      res.end(req.method === 'HEAD' ? undefined : JSON.stringify({ status: 'ok' }));
      return;
    }
    const route = routeForPath(path);
    if (!route) {
      sendProblem(req, res, edgeProblems.notFound);
      return;
    }
    if (route.exposure === 'internal') {
      sendProblem(req, res, { status: 404, detail: internalRouteDetail(route.path) });
      return;
    }
    const body = await readBody(req, edge.maxBodyBytes);
    if (!body) {
      sendProblem(req, res, edgeProblems.payloadTooLarge);
      return;
    }
    if (route.rateLimit === 'expensive' && !limiter.take(req.socket.remoteAddress ?? '')) {
      sendProblem(req, res, edgeProblems.tooManyRequests);
      return;
    }
    // One key per client request, the same on every try: the api counts a replayed visit once.
    const idempotencyKey = token(given) ?? randomUUID();
    req.url = originForm(req.url ?? '/');
    forward(req, res, { route, body, idempotencyKey }, new Set());
  }

  const listener: RequestListener = (req, res) => {
    const started = performance.now();
    // Read now: once the response closes, the socket is detached from the request.
    const remoteAddr = req.socket.remoteAddress;
    const requestId = token(req.headers[headerNames.requestId.toLowerCase()]) ?? randomUUID();
    res.setHeader(headerNames.requestId, requestId);
    for (const [name, value] of Object.entries(securityHeaders)) res.setHeader(name, value);
    if (isDraining()) res.setHeader('Connection', 'close');

    const quiet = pathOf(req) === edge.healthPath || (routeForPath(pathOf(req))?.quiet ?? false);
    res.once('close', () => {
      if (quiet) return;
      logger.info({
        requestId,
        remoteAddr,
        method: req.method,
        uri: req.url,
        status: recordedStatus(res),
        seconds: Math.round(performance.now() - started) / 1_000,
        upstream: attempts.get(req)?.upstream,
      });
    });

    handle(req, res).catch((error: unknown) => {
      logger.error({ err: error }, 'edge failed');
      if (!res.headersSent) sendProblem(req, res, edgeProblems.internalError);
      else res.destroy();
    });
  };

  return {
    listener,
    close: () => {
      proxy.close();
      agent.destroy();
    },
  };
}
