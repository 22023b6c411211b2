import type { RequestHandler } from 'express';
import type { Metrics } from '../metrics.js';

/** GET /metrics : Prometheus text. Served on the api's port; the edge never exposes it. */
export function metricsHandler(metrics: Metrics): RequestHandler {
  return async (_req, res) => {
    const text = await metrics.registry.metrics();
    res.type(metrics.registry.contentType).send(text);
  };
}
