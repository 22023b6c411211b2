import { instanceAlias, instanceHue, type InstanceBody } from '@three-tier/shared';
import type { RequestHandler } from 'express';
import type { FaultSwitch } from '../faults/fault-switch.js';
import { sendJson } from '../http/send-json.js';
import type { Instance } from '../instance.js';
import { readiness } from '../readiness.js';
import type { VisitCounter } from '../redis/counter.js';

/**
 * GET /instance : who answered and how it is, counting nothing. The live page polls it through
 * the edge a few times a second, so over a few seconds it sees every instance in rotation. Its
 * state is /readyz's verdict (see readiness).
 */
export function instanceHandler(
  counter: VisitCounter,
  instance: Instance,
  faults: FaultSwitch,
  isDraining: () => boolean,
): RequestHandler {
  const alias = instanceAlias(instance.hostname);
  const hue = instanceHue(instance.hostname);
  return async (_req, res) => {
    const { state, redis, hits } = await readiness(counter, isDraining, faults);
    if (res.headersSent) return;
    const body: InstanceBody = {
      hostname: instance.hostname,
      alias,
      hue,
      version: instance.version,
      uptimeSeconds: Math.round(process.uptime()),
      state,
      hits,
      redis,
      faults: faults.state,
    };
    sendJson(res, body);
  };
}
