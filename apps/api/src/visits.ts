import { edgeProblems, headerNames, tokenRegExp } from '@three-tier/shared';
import type { Request } from 'express';
import type { Logger } from 'pino';
import { logFor } from './http/exchange.js';
import { HttpError } from './http/problem.js';
import { wholeRequest } from './http/whole-request.js';
import { NotCountedError, TooLateError, UnansweredCountError, type VisitCounter } from './redis/counter.js';

/** The Idempotency-Key of a request, if it has a well-formed one. A malformed one is refused. */
export function idempotencyKey(req: Request): string | undefined {
  // The first of repeated keys, as nginx reads it.
  const key = req.headersDistinct[headerNames.idempotencyKey.toLowerCase()]?.[0];
  if (key === undefined || key === '') return undefined;
  if (!tokenRegExp.test(key)) throw new HttpError(400, edgeProblems.badIdempotencyKey.detail);
  return key;
}

/** What a replicated count's 503 tells the client (problem extension `visit`). */
export type VisitOutcome = 'not-counted' | 'unconfirmed';

/**
 * Sentinel mode: a 503 says whether the visit was counted. `not-counted`: Redis refused it or never
 * got it, so any retry counts it once. `unconfirmed`: the master may have counted it but no replica
 * confirmed it, so a failover could still lose it; a retry with the same Idempotency-Key is
 * counted exactly once (the key remembers the first count, and the retry waits until a replica has
 * it), a retry without one may count it twice.
 */
function replicatedProblem(error: unknown, ttlSeconds: number): { outcome: VisitOutcome; detail: string } {
  if (error instanceof NotCountedError || error instanceof TooLateError) {
    return {
      outcome: 'not-counted',
      detail: 'The visit was not counted: the Redis master is unreachable or has no replica in sync (a failover may be under way). Try again shortly.',
    };
  }
  return {
    outcome: 'unconfirmed',
    detail:
      'The visit may have been counted by the Redis master, but no replica confirmed it in time, so a failover could still lose it. ' +
      `Retry with the same Idempotency-Key within ${String(ttlSeconds)} s and it is counted exactly once; a retry without one may count it twice.`,
  };
}

/**
 * One Redis: a 503 says whether the visit may have been counted. `not-counted`: Redis refused it,
 * never got it, or ran it past its deadline (which counts nothing). `unconfirmed`: Redis got it but
 * its answer did not come back in time, so it may have counted it; a retry with the same
 * Idempotency-Key gets that count, or counts it once.
 */
function singleProblem(error: unknown, ttlSeconds: number): { outcome: VisitOutcome; detail: string } {
  if (error instanceof UnansweredCountError) {
    return {
      outcome: 'unconfirmed',
      detail:
        'The visit may have been counted: Redis got it but did not answer in time. ' +
        `Retry with the same Idempotency-Key within ${String(ttlSeconds)} s and it is counted exactly once; a retry without one may count it twice.`,
    };
  }
  return { outcome: 'not-counted', detail: 'The visit counter is unavailable: Redis is not answering. The visit was not counted; try again shortly.' };
}

/**
 * The count this request shows. GET counts one more visit (once per Idempotency-Key). HEAD is
 * safe in HTTP's sense and what uptime checkers send, so it reads the count and adds nothing.
 * When Redis fails, the answer is a 503 that the client can retry with the same key, and says in
 * `visit` whether the visit may have been counted (singleProblem, replicatedProblem).
 */
export async function visitCount(counter: VisitCounter, req: Request, logger: Logger): Promise<number> {
  const key = idempotencyKey(req);
  // Counted only once the request is whole: a body refused after the count would leave a visit
  // counted that no 200 acknowledges.
  if (req.method !== 'HEAD') await wholeRequest(req);
  try {
    return req.method === 'HEAD' ? await counter.current() : await counter.increment(key);
  } catch (error) {
    if (req.method === 'HEAD') {
      logFor(logger, req).warn({ err: error }, 'count not read: redis unavailable');
      throw new HttpError(503, 'The visit counter is unavailable: Redis is not answering. Try again shortly.', { 'Retry-After': '1' });
    }
    const { outcome, detail } = counter.replicated ? replicatedProblem(error, counter.idempotencyTtlSeconds) : singleProblem(error, counter.idempotencyTtlSeconds);
    logFor(logger, req).warn({ err: error }, outcome === 'unconfirmed' ? 'visit may have been counted: no confirmed answer' : `visit not counted: ${error instanceof TooLateError ? 'redis ran it too late' : 'redis unavailable'}`);
    throw new HttpError(503, detail, { 'Retry-After': '1' }, { visit: outcome });
  }
}
