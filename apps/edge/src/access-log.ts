/**
 * The edge's access log: one line per exchange once its response closes, with the fields nginx's
 * JSON access log has.
 */
import type { ServerResponse } from 'node:http';
import { recordedStatus } from '@three-tier/shared';
import type { Logger } from 'pino';
import type { EdgeRequest } from './edge-request.js';

export interface AccessLogEntry {
  readonly requestId: string;
  readonly remoteAddr: string | undefined;
  readonly method: string | undefined;
  /** The target as sent upstream: origin form. */
  readonly uri: string | undefined;
  /** As sent, or 499 when the client left first. */
  readonly status: number;
  readonly seconds: number;
  /** The instance of the last try; absent when the edge answered by itself. */
  readonly upstream: string | undefined;
}

/** The access log line of an exchange that ended at `now` (performance.now()). */
export function accessLogEntry(req: EdgeRequest, res: ServerResponse, now: number): AccessLogEntry {
  return {
    requestId: req.requestId,
    remoteAddr: req.remoteAddr,
    method: req.method,
    uri: req.url,
    status: recordedStatus(res),
    seconds: Math.round(now - req.started) / 1_000,
    upstream: req.forwarding?.tries.last?.upstream.url,
  };
}

/**
 * A 'close' listener for responses that writes their access log line. One function for every
 * response (it finds the request through the response), so no closure is made per request.
 */
export function createAccessLog(logger: Logger): (this: ServerResponse<EdgeRequest>) => void {
  return function logAccess(this: ServerResponse<EdgeRequest>): void {
    logger.info(accessLogEntry(this.req, this, performance.now()));
  };
}
