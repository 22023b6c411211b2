import type { IncomingMessage, ServerResponse } from 'node:http';
import { routeList } from '@three-tier/shared';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { requestId } from './request-id.js';

const quietPaths = new Set<string>(routeList.filter((route) => route.quiet).map((route) => route.path));

function pathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?', 1)[0] ?? '/';
}

/**
 * One log line per request, with the request id the edge sent (or a new one, echoed back). Probes
 * and scrapes are not logged; the level follows the status.
 */
export function httpLogger(logger: Logger) {
  return pinoHttp({
    logger,
    genReqId: requestId,
    autoLogging: { ignore: (req) => quietPaths.has(pathOf(req)) },
    customLogLevel: (_req, res, error) => {
      if (error || res.statusCode >= 500) return 'error';
      return res.statusCode >= 400 ? 'warn' : 'info';
    },
    customSuccessMessage: (req, res) => `${req.method ?? ''} ${pathOf(req)} ${res.statusCode}`,
    customErrorMessage: (req, res) => `${req.method ?? ''} ${pathOf(req)} ${res.statusCode}`,
    serializers: {
      req: (req: IncomingMessage & { id?: unknown; remoteAddress?: string }) => ({
        id: req.id,
        method: req.method,
        url: req.url,
        remoteAddress: req.remoteAddress,
      }),
      res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
    },
  });
}
