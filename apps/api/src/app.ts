import express, { type Express } from 'express';
import type { Logger } from 'pino';
import { requestLogging } from './http/logging.js';
import { recordRequests } from './http/metrics.js';
import { mountRoutes } from './http/mount.js';
import { notFound, problemHandler } from './http/problem.js';
import { baseHeaders } from './http/request-context.js';
import type { LoadPool } from './load/pool.js';
import type { Metrics } from './metrics.js';
import type { VisitCounter } from './redis/counter.js';
import { counterHandler } from './routes/counter.js';
import { livenessHandler, readinessHandler } from './routes/health.js';
import { infoHandler } from './routes/info.js';
import { loadHandler } from './routes/load.js';
import { metricsHandler } from './routes/metrics.js';
import { pageHandler } from './routes/page.js';

/** Who is answering: shown by GET /, /redis, /html and /load. */
export interface Instance {
  readonly name: string;
  readonly version: string;
  /** The container or pod name in a deployment. */
  readonly hostname: string;
}

export interface AppDependencies {
  readonly instance: Instance;
  /** Express's `trust proxy`: whose X-Forwarded-For to believe. */
  readonly trustProxy: string | false;
  readonly counter: VisitCounter;
  readonly pool: LoadPool;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** True once shutdown began: /readyz fails and responses close their connection. */
  readonly isDraining: () => boolean;
}

/**
 * Builds the Express app from its dependencies. Reads no environment, opens no connection and never
 * listens: the entry point (index.ts) and the tests do that.
 */
export function createApp(deps: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', deps.trustProxy);

  app.use(requestLogging(deps.logger));
  app.use(baseHeaders(deps.isDraining));
  app.use(recordRequests(deps.metrics));

  // Exact paths, as the edge matches them: /redis/ and /REDIS are not /redis.
  const router = express.Router({ strict: true, caseSensitive: true });
  mountRoutes(router, {
    info: infoHandler(deps.instance),
    redis: counterHandler(deps.counter, deps.instance, deps.logger),
    html: pageHandler(deps.counter, deps.instance, deps.logger),
    load: loadHandler(deps.pool, deps.instance),
    healthz: livenessHandler,
    readyz: readinessHandler(deps.counter, deps.isDraining),
    metrics: metricsHandler(deps.metrics),
  });
  app.use(router);
  app.use(notFound);
  app.use(problemHandler(deps.logger));
  return app;
}
