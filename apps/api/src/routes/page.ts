import { instanceAlias, instanceHue } from '@three-tier/shared';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { Instance } from '../instance.js';
import { HttpError } from '../http/problem.js';
import { renderPage } from '../page/page.js';
import type { PageScript } from '../page/page-script.js';
import type { VisitCounter } from '../redis/counter.js';
import { visitCount } from '../visits.js';

/**
 * GET /html : counts the visit and shows it with the instance that served it, then goes live. When
 * Redis is down the page still renders (503, with the problem's detail) so a browser shows what
 * happened, not a JSON error.
 */
export function pageHandler(counter: VisitCounter, instance: Instance, logger: Logger, script: PageScript): RequestHandler {
  const alias = instanceAlias(instance.hostname);
  const hue = instanceHue(instance.hostname);
  return async (req, res) => {
    let hits: number | undefined;
    let visitProblem: string | undefined;
    let visitMayBeCounted = false;
    try {
      hits = await visitCount(counter, req, logger);
    } catch (error) {
      if (!(error instanceof HttpError) || error.status !== 503) throw error;
      visitProblem = error.detail;
      visitMayBeCounted = error.extensions.visit === 'unconfirmed';
      res.status(503).set(error.headers);
    }
    if (res.headersSent) return;
    const page = renderPage({
      hits,
      visitProblem,
      visitMayBeCounted,
      hostname: instance.hostname,
      alias,
      hue,
      version: instance.version,
      uptimeSeconds: process.uptime(),
    }, script);
    res.set('Content-Security-Policy', page.csp);
    res.type('html').send(page.html);
  };
}
