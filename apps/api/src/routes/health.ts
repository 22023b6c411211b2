import type { Checks, CheckResult, HealthBody, ReadyBody } from '@three-tier/shared';
import type { RequestHandler } from 'express';
import { sendJson } from '../http/send-json.js';
import { HttpError } from '../http/problem.js';
import type { FaultSwitch } from '../faults/fault-switch.js';
import type { VisitCounter } from '../redis/counter.js';

/** GET /healthz : the process answers. Nothing else is checked, so a Redis outage never restarts us. */
export const livenessHandler: RequestHandler = (_req, res) => {
  const body: HealthBody = { status: 'ok', uptimeSeconds: Math.round(process.uptime()) };
  sendJson(res, body);
};

async function redisCheck(counter: VisitCounter): Promise<CheckResult> {
  // Not connected: say so plainly rather than relay the client library's wording.
  if (counter.connection !== 'ready') return { status: 'fail', detail: `not connected (${counter.connection})` };
  try {
    const latencyMs = await counter.ping();
    return { status: 'pass', latencyMs: Math.round(latencyMs * 100) / 100 };
  } catch (error) {
    return { status: 'fail', detail: (error as Error).message };
  }
}

/**
 * GET /readyz : ready when Redis answers a PING, we are not draining and no one switched us to
 * unready on demand; 503 names what failed.
 */
export function readinessHandler(counter: VisitCounter, isDraining: () => boolean, faults: FaultSwitch): RequestHandler {
  return async (_req, res) => {
    const checks: Checks = {
      redis: await redisCheck(counter),
      shutdown: isDraining() ? { status: 'fail', detail: 'draining: this instance is shutting down' } : { status: 'pass' },
      faults: faults.state.unready ? { status: 'fail', detail: 'switched to unready on demand (DELETE /faults/unready)' } : { status: 'pass' },
    };
    const failed = Object.entries(checks).filter(([, check]) => check.status === 'fail');
    if (failed.length > 0) {
      const names = failed.map(([name, check]) => `${name} (${check.detail ?? 'failed'})`).join(', ');
      throw new HttpError(503, `Not ready: ${names}.`, { 'Retry-After': '1' }, { checks });
    }
    const body: ReadyBody = { status: 'ready', checks };
    sendJson(res, body);
  };
}
