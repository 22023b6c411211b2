import { setTimeout as delay } from 'node:timers/promises';
import type { RequestHandler } from 'express';
import { HttpError } from '../http/problem.js';
import type { Metrics } from '../metrics.js';
import type { FaultSwitch } from './fault-switch.js';

/**
 * Wraps a work route's handler with the faults switched on. With none on (always, but in a demo)
 * it costs one property read. Probes, /metrics and /faults are never wrapped: a fault breaks the
 * work, not the means to watch or undo it.
 */
export function withFaults(faults: FaultSwitch, metrics: Metrics, handler: RequestHandler): RequestHandler {
  return (req, res, next) => {
    if (!faults.active) return handler(req, res, next);
    return (async () => {
      const { unready, latencyMs, errorRate } = faults.state;
      if (unready) {
        metrics.faultInjections.inc({ fault: 'unready' });
        // No answer at all: the edge sees the connection fail and replays the GET on another
        // instance, as it would for one that just died, so no client sees this instance. (A 503
        // would reach the client: the edges retry on failures, not on answers.)
        req.socket.destroy();
        return;
      }
      if (latencyMs > 0) {
        metrics.faultInjections.inc({ fault: 'latency' });
        await delay(latencyMs);
        // The route's deadline may have answered meanwhile, or the client left.
        if (res.headersSent || res.closed) return;
      }
      if (errorRate > 0 && Math.random() < errorRate) {
        metrics.faultInjections.inc({ fault: 'errors' });
        throw new HttpError(500, `Injected error: this instance fails ${Math.round(errorRate * 1000) / 10}% of its requests on demand (fault "errors").`);
      }
      return handler(req, res, next);
    })();
  };
}
