/**
 * The hop to the api: http-proxy over one keep-alive agent, a try per api instance as the pool
 * chooses, the api's headers that the edge owns taken off its answers.
 */
import { Agent, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { edge, edgeProblems, headerNames, securityHeaders } from '@three-tier/shared';
import httpProxy from 'http-proxy';
import type { Logger } from 'pino';
import { forwardingOf, type EdgeRequest, type Forwarding } from './edge-request.js';
import { sendProblem } from './refusals.js';
import { UpstreamPool, type Attempt } from './upstream-pool.js';
import { upstreamOf, type Upstream } from './upstream.js';

export interface UpstreamProxyOptions {
  /** The api instances, as http:// URLs. */
  readonly upstreams: readonly string[];
  readonly logger: Logger;
  /** True once shutdown began: responses close their connections. */
  readonly isDraining: () => boolean;
  /** The pool's clock (performance.now unless a test drives it). */
  readonly now?: () => number;
}

/** Headers the api sends that the edge replaces with its own, or that belong to one hop only. */
export const ownedHeaders = [headerNames.requestId, ...Object.keys(securityHeaders), 'connection', 'keep-alive'].map((name) =>
  name.toLowerCase(),
);

/** Marks a try as connected, and stops its connect deadline, when its new socket connects. */
function watchConnect(proxyReq: ClientRequest, socket: Socket, attempt: Attempt<Upstream>): void {
  const timer = setTimeout(() => {
    attempt.timedOut = true;
    proxyReq.destroy(new Error(`connect to ${attempt.upstream.url} timed out`));
  }, edge.upstreamConnectTimeoutMs);
  socket.once('connect', () => {
    attempt.connected = true;
    clearTimeout(timer);
  });
  socket.once('close', () => clearTimeout(timer));
}

/** http-proxy's 'proxyReq': the try has a socket; notes whether it is connected, and when it times out. */
function watchTry(proxyReq: ClientRequest, req: IncomingMessage): void {
  const attempt = forwardingOf(req)?.tries.last;
  if (!attempt) return;
  proxyReq.once('timeout', () => {
    attempt.timedOut = true;
  });
  const socket = proxyReq.socket;
  attempt.connected = socket !== null && !socket.connecting;
  if (socket?.connecting) watchConnect(proxyReq, socket, attempt);
}

/**
 * Sends requests to the api instances, each try where the pool says, and answers 502 or 504 when
 * the last try allowed fails.
 */
export class UpstreamProxy {
  private readonly agent: Agent;
  private readonly proxy: httpProxy<EdgeRequest>;
  private readonly pool: UpstreamPool<Upstream>;
  private readonly logger: Logger;
  private readonly isDraining: () => boolean;

  constructor(options: UpstreamProxyOptions) {
    this.logger = options.logger;
    this.isDraining = options.isDraining;
    this.pool = new UpstreamPool(
      options.upstreams.map(upstreamOf),
      options.now ? { now: options.now } : {},
    );
    this.agent = new Agent({
      keepAlive: true,
      maxFreeSockets: edge.upstreamKeepaliveConnections,
      // Idle upstream sockets close before the api's keep-alive would close them.
      timeout: edge.upstreamKeepaliveTimeoutMs,
    });
    this.proxy = httpProxy.createProxyServer<EdgeRequest>({ agent: this.agent, xfwd: false, ws: false });
    this.proxy.on('proxyReq', watchTry);
    this.proxy.on('proxyRes', this.ownHeaders);
    // Every proxy.web call has a callback, so this only guards against the unexpected.
    this.proxy.on('error', (error: Error) => {
      this.logger.error({ err: error }, 'proxy error');
    });
  }

  /** Sends a request upstream, and again elsewhere while the pool allows; its state goes on `req`. */
  forward(forwarding: Forwarding): void {
    forwarding.req.forwarding = forwarding;
    // Expect stops here, as at nginx: Node answered 100-continue, the body is read. Passed on, it
    // would also keep http-proxy from reporting the try's socket, and a POST that reached an
    // instance would be replayed.
    Reflect.deleteProperty(forwarding.req.headers, 'expect');
    this.tryOnce(forwarding);
  }

  close(): void {
    this.proxy.close();
    this.agent.destroy();
  }

  private tryOnce(forwarding: Forwarding): void {
    const attempt = this.pool.next(forwarding.tries);
    this.proxy.web(
      forwarding.req,
      forwarding.res,
      {
        target: attempt.upstream.target,
        proxyTimeout: forwarding.destination.readTimeoutMs,
        buffer: forwarding.body,
        headers: forwarding.headers,
      },
      this.tryFailed,
    );
  }

  /** http-proxy's 'proxyRes': the edge's own headers replace the api's, and it says whether the connection stays. */
  private readonly ownHeaders = (proxyRes: IncomingMessage, req: IncomingMessage): void => {
    for (const name of ownedHeaders) Reflect.deleteProperty(proxyRes.headers, name);
    proxyRes.headers.connection = this.isDraining() || req.headers.connection === 'close' ? 'close' : 'keep-alive';
  };

  /** A try failed before its answer began: another try, or the edge's own 502 or 504. */
  private readonly tryFailed = (error: Error, req: IncomingMessage, res: ServerResponse | Socket): void => {
    const forwarding = forwardingOf(req);
    const attempt = forwarding?.tries.last;
    if (!forwarding || !attempt || forwarding.res.headersSent || forwarding.res.destroyed) {
      res.destroy();
      return;
    }
    const verdict = this.pool.failed(forwarding.tries);
    const upstream = attempt.upstream.url;
    if (verdict === 'retry') {
      this.logger.warn({ err: error, upstream, requestId: forwarding.req.requestId }, 'upstream failed; retrying');
      this.tryOnce(forwarding);
      return;
    }
    this.logger.error({ err: error, upstream }, 'upstream failed');
    sendProblem(forwarding.req, forwarding.res, edgeProblems[verdict]);
  };
}
