import { recordedStatus, routeList } from '@three-tier/shared';
import type { RequestHandler } from 'express';
import type { Level, Logger } from 'pino';
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

/**
 * Gives the request its id and writes one log line when it ends: level from the status, probes and
 * scrapes left out. Hand-written rather than pino-http, which builds and serialises a child logger
 * for every request; `npm run bench` prints what each costs (the "request logs" rows).
 */
export function requestLogging(logger: Logger | undefined): RequestHandler {
  return (req, res, next) => {
    req.id = requestId(req, res);
    if (logger === undefined || quietPaths.has(req.path)) {
      next();
      return;
    }
    const started = performance.now();
    res.once('close', () => {
      const status = recordedStatus(res);
      const level: Level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        {
          req: { id: req.id, method: req.method, url: req.originalUrl, remoteAddress: req.socket.remoteAddress },
          res: { statusCode: status },
          responseTime: Math.round(performance.now() - started),
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
