import { problem, problemContentType, safeJson } from '@three-tier/shared';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { logFor } from './exchange.js';

/** An error that knows its HTTP status; thrown by handlers, rendered by `problemHandler`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly headers: Readonly<Record<string, string>> = {},
    readonly extensions: Readonly<Record<string, unknown>> = {},
  ) {
    super(detail);
    this.name = 'HttpError';
  }
}

/** Writes an application/problem+json response carrying the request id. */
export function sendProblem(req: Request, res: Response, error: HttpError): void {
  res.status(error.status).set(error.headers).type(problemContentType);
  res.send(safeJson(problem(error.status, error.detail, { ...error.extensions, instance: req.path, requestId: req.id })));
}

/** Closes the chain: no route matched the path. */
export const notFound: RequestHandler = (req) => {
  throw new HttpError(404, `No route for ${req.method} ${req.path}.`);
};

/** Errors Express or its parsers raise carry a 4xx status meant for the client (a malformed URL, say). */
function clientStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

/**
 * The one error middleware. Known errors keep their status and detail; anything else is a 500 whose
 * detail says nothing about the internals (the log has the stack, the client gets the request id).
 */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    if (res.headersSent) {
      // An answer already went out (the deadline's 503, say). If it is incomplete, cut it short so
      // the client sees it failed rather than waiting for the rest.
      if (!res.writableFinished) res.destroy();
      logFor(logger, req).warn({ err: error }, 'error after the response started');
      return;
    }
    if (error instanceof HttpError) {
      sendProblem(req, res, error);
      return;
    }
    const status = clientStatus(error);
    if (status !== undefined) {
      sendProblem(req, res, new HttpError(status, 'The request could not be understood.'));
      return;
    }
    logFor(logger, req).error({ err: error }, 'unhandled error');
    sendProblem(req, res, new HttpError(500, 'Something went wrong on our side; the request id identifies it in the logs.'));
  };
}
