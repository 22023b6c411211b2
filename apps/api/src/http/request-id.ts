import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { headerNames, tokenRegExp } from '@three-tier/shared';

/** The request id: the caller's (the edge's) when well-formed, else a fresh UUID; echoed back. */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers[headerNames.requestId.toLowerCase()];
  const id = typeof given === 'string' && tokenRegExp.test(given) ? given : randomUUID();
  res.setHeader(headerNames.requestId, id);
  return id;
}

/** The id `requestId` gave this request (pino-http stores it on `req.id`). */
export function idOf(req: IncomingMessage & { id?: unknown }): string {
  return typeof req.id === 'string' ? req.id : '';
}
