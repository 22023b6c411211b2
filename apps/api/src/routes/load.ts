import { load, type LoadBody } from '@three-tier/shared';
import type { RequestHandler } from 'express';
import { sendJson } from '../http/send-json.js';
import type { Instance } from '../instance.js';
import { HttpError } from '../http/problem.js';
import { abortSignal } from '../http/request-context.js';
import { PoolSaturatedError, type LoadPool } from '../load/pool.js';

const msError = `ms must be an integer from ${load.minMs} to ${load.maxMs} (CPU milliseconds).`;

/** `?ms=`: absent means the default; anything but one plain integer in range is a 400. */
export function parseMs(value: unknown): number {
  if (value === undefined) return load.defaultMs;
  if (typeof value !== 'string' || !/^[1-9][0-9]{0,5}$/.test(value)) throw new HttpError(400, msError);
  const ms = Number(value);
  if (ms < load.minMs || ms > load.maxMs) throw new HttpError(400, msError);
  return ms;
}

/** GET /load?ms=N : burns N ms of CPU on a worker thread and says how much it measured. */
export function loadHandler(pool: LoadPool, instance: Instance): RequestHandler {
  return async (req, res) => {
    const ms = parseMs(req.query.ms);
    const signal = abortSignal(res);
    let cpuMs: number;
    try {
      cpuMs = await pool.run(ms, signal);
    } catch (error) {
      // The client left (the work was cancelled) or the deadline already answered: nothing to send.
      if (signal.aborted) return;
      if (error instanceof PoolSaturatedError) {
        throw new HttpError(503, `Busy: ${error.message}. Try again shortly.`, {
          'Retry-After': String(load.retryAfterSeconds),
        });
      }
      throw error;
    }
    if (res.headersSent) return;
    const body: LoadBody = { requestedMs: ms, cpuMs: Math.round(cpuMs * 100) / 100, hostname: instance.hostname };
    sendJson(res, body);
  };
}
