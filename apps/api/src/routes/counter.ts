import { counterMessage, type CounterBody } from '@three-tier/shared';
import type { RequestHandler } from 'express';
import { sendJson } from '../http/send-json.js';
import type { Logger } from 'pino';
import type { Instance } from '../instance.js';
import type { VisitCounter } from '../redis/counter.js';
import { visitCount } from '../visits.js';

/** GET /redis : one more visit, in the course's words. */
export function counterHandler(counter: VisitCounter, instance: Instance, logger: Logger): RequestHandler {
  return async (req, res) => {
    const hits = await visitCount(counter, req, logger);
    if (res.headersSent) return;
    const body: CounterBody = { hits, hostname: instance.hostname, message: counterMessage(hits) };
    sendJson(res, body);
  };
}
