import type { IncomingMessage } from 'node:http';
import { finished } from 'node:stream/promises';
import { HttpError } from './problem.js';

/**
 * Resolves once the whole request has arrived, its body (no route reads one) discarded. Node hands
 * a route the head at once; a body that then fails to parse, or stops short, is answered 400 by
 * answerClientErrors on the same socket, so whatever the route did meanwhile is never acknowledged.
 * nginx and the http-proxy edge read a body whole before they pass a request on; this is the api's
 * own port doing the same before it changes anything.
 */
export async function wholeRequest(req: IncomingMessage): Promise<void> {
  if (req.complete) return;
  req.resume();
  try {
    await finished(req);
  } catch {
    // The client has its answer from answerClientErrors already, or is gone: this one is for the log.
    throw new HttpError(400, 'The request did not arrive whole: its body did not parse, or the client stopped sending it.');
  }
}
