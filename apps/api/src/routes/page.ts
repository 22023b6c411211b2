import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { Instance } from '../instance.js';
import { HttpError } from '../http/problem.js';
import { pageCsp, renderPage } from '../page/page.js';
import type { VisitCounter } from '../redis/counter.js';
import { visitCount } from '../visits.js';

/**
 * GET /html : counts the visit and shows it with the instance that served it. When Redis is down the
 * page still renders (503, with the hostname) so a browser shows what happened, not a JSON error.
 */
export function pageHandler(counter: VisitCounter, instance: Instance, logger: Logger): RequestHandler {
  return async (req, res) => {
    let hits: number | undefined;
    try {
      hits = await visitCount(counter, req, logger);
    } catch (error) {
      if (!(error instanceof HttpError) || error.status !== 503) throw error;
      res.status(503).set(error.headers);
    }
    if (res.headersSent) return;
    res.set('Content-Security-Policy', pageCsp);
    res.type('html').send(renderPage({ hits, hostname: instance.hostname, version: instance.version }));
  };
}
