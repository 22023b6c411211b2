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
