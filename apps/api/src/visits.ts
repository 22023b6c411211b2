import { edgeProblems, headerNames, tokenRegExp } from '@three-tier/shared';
import type { Request } from 'express';
import type { Logger } from 'pino';
import { logFor } from './http/exchange.js';
import { HttpError } from './http/problem.js';
import { TooLateError, type VisitCounter } from './redis/counter.js';

/** The Idempotency-Key of a request, if it has a well-formed one. A malformed one is refused. */
export function idempotencyKey(req: Request): string | undefined {
  // The first of repeated keys, as nginx reads it.
  const key = req.headersDistinct[headerNames.idempotencyKey.toLowerCase()]?.[0];
  if (key === undefined || key === '') return undefined;
  if (!tokenRegExp.test(key)) throw new HttpError(400, edgeProblems.badIdempotencyKey.detail);
  return key;
}

/**
 * The count this request shows. GET counts one more visit (once per Idempotency-Key). HEAD is
 * safe in HTTP's sense and what uptime checkers send, so it reads the count and adds nothing.
 * When Redis fails, the answer is a 503 that the client can retry with the same key, and the
 * visit is not counted: Redis refuses to count it later (see VisitCounter.increment).
 */
export async function visitCount(counter: VisitCounter, req: Request, logger: Logger): Promise<number> {
  const key = idempotencyKey(req);
  try {
    return req.method === 'HEAD' ? await counter.current() : await counter.increment(key);
  } catch (error) {
    const reason = error instanceof TooLateError ? 'redis answered too late' : 'redis unavailable';
    logFor(logger, req).warn({ err: error }, `visit not counted: ${reason}`);
    throw new HttpError(503, 'The visit counter is unavailable: Redis is not answering. Try again shortly.', {
      'Retry-After': '1',
    });
  }
}
