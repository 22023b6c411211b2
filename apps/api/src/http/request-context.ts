import type { Route } from '@three-tier/shared';
import type { RequestHandler, Response } from 'express';
import { HttpError, sendProblem } from './problem.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** The route template, for metrics labels. */
      route?: string;
      /** The route's deadline, cleared when the exchange ends. */
      deadline?: NodeJS.Timeout;
      /** Made on first use (see `abortSignal`): only /load's work can be cancelled. */
      abort?: AbortController;
      /** Set when the deadline passed, so a signal asked for later is born aborted. */
      expired?: HttpError;
    }
  }
}

/** The client hung up before the answer was sent. */
export class ClientGoneError extends Error {
  constructor() {
    super('the client closed the connection');
    this.name = 'ClientGoneError';
  }
}

/**
 * An AbortSignal that fires when the client disconnects or the route's deadline passes. Made on
 * first use: an AbortController costs more than the rest of a request's bookkeeping, and only
 * work that can be cancelled (a /load job) asks for one.
 */
export function abortSignal(res: Response): AbortSignal {
  if (res.locals.abort) return res.locals.abort.signal;
  const controller = new AbortController();
  res.locals.abort = controller;
  // Asked for late: the deadline or the client may already have ended the exchange.
  if (res.locals.expired) controller.abort(res.locals.expired);
  else if (res.closed && !res.writableFinished) controller.abort(new ClientGoneError());
  else {
    res.once('close', () => {
      if (!res.writableFinished) controller.abort(new ClientGoneError());
    });
  }
  return controller.signal;
}

/**
 * Labels the request with its route and sets its deadline: at `route.timeoutMs` a handler that has
 * not answered gets a 503 sent for it (whatever it answers later is dropped) and its abort signal
 * fires. The exchange's end clears the timer (see `exchange`).
 */
export function routeContext(route: Route, deadlines: boolean): RequestHandler {
  return (req, res, next) => {
    res.locals.route = route.path;
    if (deadlines) {
      res.locals.deadline = setTimeout(() => {
        const error = new HttpError(503, `No answer within ${route.timeoutMs} ms.`, { 'Retry-After': '1' });
        res.locals.expired = error;
        res.locals.abort?.abort(error);
        if (!res.headersSent) sendProblem(req, res, error);
      }, route.timeoutMs);
    }
    next();
  };
}
