/**
 * What the edge refuses by itself, and how it says so: problem+json, the same `edgeProblems` as
 * nginx, HEAD without the body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { edge, edgeProblems, headerNames, malformedRequest, problem, problemContentType, tokenRegExp, type RequestHead } from '@three-tier/shared';

/** An answer the edge gives itself: a status, its detail, and maybe when to try again. */
export interface ProblemAnswer {
  readonly status: number;
  readonly detail: string;
  readonly retryAfterSeconds?: number;
}

const idempotencyKeyName = headerNames.idempotencyKey.toLowerCase();

/** A request id or idempotency key as given, when it is one; undefined otherwise. */
export function token(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && tokenRegExp.test(value) ? value : undefined;
}

/**
 * The client's Idempotency-Key: the first of repeated ones, as nginx reads it; an empty one is
 * none at all, as there. Read from the raw headers: nothing is built for the other headers.
 */
export function clientIdempotencyKey(rawHeaders: readonly string[]): string | undefined {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    if (name.length !== idempotencyKeyName.length || name.toLowerCase() !== idempotencyKeyName) continue;
    const value = rawHeaders[i + 1] ?? '';
    return value === '' ? undefined : value;
  }
  return undefined;
}

/**
 * Why the edge refuses a request on its head alone, or undefined. What nginx refuses while parsing
 * or for the whole server is refused before any path is looked at, the edge's own health check's
 * included. A malformed key of the client's is refused, as the api refuses it: replacing it would
 * drop the idempotency the client asked for without a word.
 */
export function headRefusal(req: RequestHead, givenKey: string | undefined): ProblemAnswer | undefined {
  const malformed = malformedRequest(req, edge);
  if (malformed) return edgeProblems[malformed];
  if (givenKey !== undefined && token(givenKey) === undefined) return edgeProblems.badIdempotencyKey;
  return undefined;
}

/** Answers with `answer` as problem+json, naming the request id the response already carries. */
export function sendProblem(req: IncomingMessage, res: ServerResponse, answer: ProblemAnswer): void {
  const requestId = String(res.getHeader(headerNames.requestId));
  const body = JSON.stringify(problem(answer.status, answer.detail, { requestId }));
  res.statusCode = answer.status;
  res.setHeader('Content-Type', problemContentType);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  if (answer.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(answer.retryAfterSeconds));
  res.end(req.method === 'HEAD' ? undefined : body);
}
