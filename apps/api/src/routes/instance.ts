import { instanceAlias, instanceHue, type InstanceBody, type InstanceState } from '@three-tier/shared';
import type { RequestHandler } from 'express';
import type { FaultSwitch } from '../faults/fault-switch.js';
import { sendJson } from '../http/send-json.js';
import type { Instance } from '../instance.js';
import type { VisitCounter } from '../redis/counter.js';

/** Failures that mean Redis is there but silent (SIGSTOP, a hung host), not gone. */
const silent = /timed out|ETIMEDOUT/i;

/** Redis as this instance sees it, and the count, read in the same round trip. */
async function redisView(counter: VisitCounter): Promise<Pick<InstanceBody, 'redis' | 'hits'>> {
  const started = performance.now();
  try {
    const hits = await counter.current();
    return { hits, redis: { state: 'up', latencyMs: Math.round((performance.now() - started) * 100) / 100 } };
  } catch (error) {
    const failure = counter.failure ?? (error as Error).message;
    if (silent.test(failure)) {
      return { hits: null, redis: { state: 'frozen', detail: `Redis does not answer in time (${failure}); the api keeps trying.` } };
    }
    return { hits: null, redis: { state: 'down', detail: `Redis is not reachable (${failure}); the api keeps trying.` } };
  }
}

/**
 * GET /instance : who answered and how it is, counting nothing. The live page polls it through
 * the edge a few times a second, so over a few seconds it sees every instance in rotation.
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
    const view = await redisView(counter);
    if (res.headersSent) return;
    const state: InstanceState = isDraining() ? 'draining' : faults.state.unready || view.redis.state !== 'up' ? 'unready' : 'ready';
    const body: InstanceBody = {
      hostname: instance.hostname,
      alias,
      hue,
      version: instance.version,
      uptimeSeconds: Math.round(process.uptime()),
      state,
      ...view,
      faults: faults.state,
    };
    sendJson(res, body);
  };
}
