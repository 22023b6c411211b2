import { lockedDownCsp, recordedStatus, routeList, securityHeaders } from '@three-tier/shared';
import type { RequestHandler, Response } from 'express';
import type { Level, Logger } from 'pino';
import type { Metrics } from '../metrics.js';
import { requestId } from './request-id.js';

const quietPaths = new Set<string>(routeList.filter((route) => route.quiet).map((route) => route.path));

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The edge's X-Request-ID when well formed, else a fresh UUID; echoed in the response. */
      id: string;
    }
  }
}

/** The headers every answer carries, as name/value pairs set one by one (cheaper than res.set). */
const securityPairs: readonly (readonly [string, string])[] = [
  ...Object.entries(securityHeaders),
  ['Content-Security-Policy', lockedDownCsp],
];

/**
 * Headers every response carries: the security set, a CSP that allows nothing (the HTML page widens
 * its own), and no caching, since every answer here is live. While draining, `Connection: close`
 * tells keep-alive clients to take their next request elsewhere.
 */
export function setBaseHeaders(res: Response, draining: boolean, security: boolean): void {
  if (security) for (const [name, value] of securityPairs) res.setHeader(name, value);
  res.setHeader('Cache-Control', 'no-store');
  if (draining) res.setHeader('Connection', 'close');
}

export interface ExchangeOptions {
  /** Request log lines go here; undefined: none (the benchmark's "request logs off"). */
  readonly logger: Logger | undefined;
  /** Undefined: no duration histogram (the benchmark's "metrics off"). */
  readonly metrics: Metrics | undefined;
  readonly securityHeaders: boolean;
  readonly isDraining: () => boolean;
}

/**
 * What every request gets, in one middleware and one 'close' listener: its id, the base headers,
 * and, when it ends, its deadline cleared, its duration in the histogram (by route template;
 * `unmatched` outside the table, so scanners cannot explode the label set) and one log line
 * (level from the status; probes and scrapes left out). One layer instead of three: each router
 * layer and listener is paid on every request.
 */
export function exchange(options: ExchangeOptions): RequestHandler {
  const { logger, metrics, securityHeaders, isDraining } = options;
  return (req, res, next) => {
    req.id = requestId(req, res);
    setBaseHeaders(res, isDraining(), securityHeaders);
    const started = performance.now();
    res.once('close', () => {
      clearTimeout(res.locals.deadline);
      const status = recordedStatus(res);
      const seconds = (performance.now() - started) / 1_000;
      metrics?.httpRequestDuration.observe({ method: req.method, route: res.locals.route ?? 'unmatched', status_code: status }, seconds);
      if (logger === undefined || quietPaths.has(req.path)) return;
      const level: Level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        {
          req: { id: req.id, method: req.method, url: req.originalUrl, remoteAddress: req.socket.remoteAddress },
          res: { statusCode: status },
          responseTime: Math.round(seconds * 1_000),
        },
        `${req.method} ${req.path} ${status}`,
      );
    });
    next();
  };
}

/** A logger for something that happened while serving `req`, carrying its id. */
export function logFor(logger: Logger, req: { readonly id: string }): Logger {
  return logger.child({ reqId: req.id });
}
