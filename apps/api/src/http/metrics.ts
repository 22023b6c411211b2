import { recordedStatus } from '@three-tier/shared';
import type { RequestHandler } from 'express';
import type { Metrics } from '../metrics.js';

/**
 * Times every request into the duration histogram, labelled by route template (`unmatched` for
 * paths outside the table, so scanners cannot explode the label set). A client that hangs up
 * first is recorded as 499 (`recordedStatus`).
 */
export function recordRequests(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const end = metrics.httpRequestDuration.startTimer();
    res.once('close', () => {
      end({
        method: req.method,
        route: res.locals.route ?? 'unmatched',
        status_code: recordedStatus(res),
      });
    });
    next();
  };
}
