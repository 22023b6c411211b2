import { headerNames, tokenRegExp } from '@three-tier/shared';
import type { Request } from 'express';
import type { Logger } from 'pino';
import { logFor } from './http/exchange.js';
import { HttpError } from './http/problem.js';
import type { VisitCounter } from './redis/counter.js';

/** The Idempotency-Key of a request, if it has a well-formed one. A malformed one is refused. */
export function idempotencyKey(req: Request): string | undefined {
  const key = req.get(headerNames.idempotencyKey);
  if (key === undefined) return undefined;
  if (!tokenRegExp.test(key)) {
    throw new HttpError(400, `${headerNames.idempotencyKey} must be 1 to 128 letters, digits or . _ : -`);
  }
  return key;
}

/** Counts the visit; a Redis failure becomes a 503 the client can retry, never a crash. */
export async function countVisit(counter: VisitCounter, req: Request, logger: Logger): Promise<number> {
  const key = idempotencyKey(req);
  try {
    return await counter.increment(key);
  } catch (error) {
    logFor(logger, req).warn({ err: error }, 'visit not counted: redis unavailable');
    throw new HttpError(503, 'The visit counter is unavailable: Redis is not answering. Try again shortly.', {
      'Retry-After': '1',
    });
  }
}
