import { lockedDownCsp, securityHeaders, type Route } from '@three-tier/shared';
import type { RequestHandler } from 'express';
import { HttpError, sendProblem } from './problem.js';

/**
 * Headers every response carries: the security set, a CSP that allows nothing (the HTML page widens
 * its own), and no caching, since every answer here is live. While draining, `Connection: close`
 * tells keep-alive clients to take their next request elsewhere.
 */
export function baseHeaders(isDraining: () => boolean, security = true): RequestHandler {
  return (_req, res, next) => {
    if (security) {
      res.set(securityHeaders);
      res.set('Content-Security-Policy', lockedDownCsp);
    }
    res.set('Cache-Control', 'no-store');
    if (isDraining()) res.set('Connection', 'close');
    next();
  };
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** The route template, for metrics labels. */
      route?: string;
      /** Aborts when the client goes away or the route's deadline passes. */
      signal: AbortSignal;
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

const neverAborted = new AbortController().signal;

/** Labels the request with its route, without a deadline (the benchmark's "deadlines off"). */
export function routeLabel(route: Route): RequestHandler {
  return (_req, res, next) => {
    res.locals.route = route.path;
    res.locals.signal = neverAborted;
    next();
  };
}

/**
 * Labels the request with its route and gives handlers an AbortSignal that fires when the client
 * disconnects or `route.timeoutMs` passes. At the deadline, a handler that has not answered gets a
 * 503 sent for it; whatever it answers later is dropped.
 */
export function routeContext(route: Route): RequestHandler {
  return (req, res, next) => {
    res.locals.route = route.path;
    const controller = new AbortController();
    res.locals.signal = controller.signal;
    const timer = setTimeout(() => {
      const detail = `No answer within ${route.timeoutMs} ms.`;
      controller.abort(new HttpError(503, detail, { 'Retry-After': '1' }));
      if (!res.headersSent) sendProblem(req, res, new HttpError(503, detail, { 'Retry-After': '1' }));
    }, route.timeoutMs);
    res.once('close', () => {
      clearTimeout(timer);
      if (!res.writableFinished) controller.abort(new ClientGoneError());
    });
    next();
  };
}
