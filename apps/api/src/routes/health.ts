import type { HealthBody, ReadyBody } from '@three-tier/shared';
import type { RequestHandler } from 'express';
import { sendJson } from '../http/send-json.js';
import { HttpError } from '../http/problem.js';
import type { FaultSwitch } from '../faults/fault-switch.js';
import { readiness } from '../readiness.js';
import type { VisitCounter } from '../redis/counter.js';

/** GET /healthz : the process answers. Nothing else is checked, so a Redis outage never restarts us. */
export const livenessHandler: RequestHandler = (_req, res) => {
  const body: HealthBody = { status: 'ok', uptimeSeconds: Math.round(process.uptime()) };
  sendJson(res, body);
};

/**
 * GET /readyz : ready when Redis answers (in Sentinel mode, a master with its replicas), we are not
 * draining and no one switched us to unready on demand; 503 names what failed (see readiness).
 */
export function readinessHandler(counter: VisitCounter, isDraining: () => boolean, faults: FaultSwitch): RequestHandler {
  return async (_req, res) => {
    const { ready, checks } = await readiness(counter, isDraining, faults);
    if (!ready) {
      const failed = Object.entries(checks).filter(([, check]) => check.status === 'fail');
      const names = failed.map(([name, check]) => `${name} (${check.detail ?? 'failed'})`).join(', ');
      throw new HttpError(503, `Not ready: ${names}.`, { 'Retry-After': '1' }, { checks });
    }
    const body: ReadyBody = { status: 'ready', checks };
    sendJson(res, body);
  };
}
