import type { Response } from 'express';

/**
 * Sends a JSON body the short way: Express's res.json goes through res.send, which parses the
 * content type, checks freshness and consults the ETag setting on every call; none of that
 * applies to a live answer. HEAD gets the headers only (Node leaves the body out).
 */
export function sendJson(res: Response, body: unknown, status = 200): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}
