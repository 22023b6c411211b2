import { edgeProblems, headerNames, malformedRequest, tokenRegExp } from '@three-tier/shared';
import type { RequestHandler } from 'express';
import { HttpError } from './problem.js';

const idempotencyHeader = headerNames.idempotencyKey.toLowerCase();

/**
 * Refuses, before any route, what nginx refuses while parsing (an HTTP version other than 1.x, a
 * bad escape, dot segments above the root) and a malformed Idempotency-Key on any path, so that
 * the api and both edges refuse the same requests the same way.
 */
export const refuseMalformed: RequestHandler = (req, _res, next) => {
  const malformed = malformedRequest(req);
  if (malformed) {
    const { status, detail } = edgeProblems[malformed];
    throw new HttpError(status, detail);
  }
  const key = req.headers[idempotencyHeader];
  if (key !== undefined && (typeof key !== 'string' || !tokenRegExp.test(key))) {
    throw new HttpError(400, edgeProblems.badIdempotencyKey.detail);
  }
  next();
};
