import { edge, edgeProblems, headerNames, malformedRequest, tokenRegExp } from '@three-tier/shared';
import type { RequestHandler } from 'express';
import { HttpError } from './problem.js';

const idempotencyHeader = headerNames.idempotencyKey.toLowerCase();

/**
 * Refuses, before any route, what nginx refuses while parsing (see `malformedRequest`: an HTTP
 * version other than 1.x, a body over the edge's limit, a bad escape, dot segments above the
 * root...) and a malformed Idempotency-Key on any path, so that the api and both edges refuse the
 * same requests the same way.
 */
export const refuseMalformed: RequestHandler = (req, _res, next) => {
  const malformed = malformedRequest(req, edge);
  if (malformed) {
    const { status, detail } = edgeProblems[malformed];
    throw new HttpError(status, detail);
  }
  // The first of repeated keys, as nginx reads it; an empty one is none at all, as there.
  const key = req.headersDistinct[idempotencyHeader]?.[0];
  if (key !== undefined && key !== '' && !tokenRegExp.test(key)) {
    throw new HttpError(400, edgeProblems.badIdempotencyKey.detail);
  }
  next();
};
