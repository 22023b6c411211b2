import express, { type Express, type RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { FaultSwitch } from './faults/fault-switch.js';
import { withFaults } from './faults/inject.js';
import { exchange } from './http/exchange.js';
import { mountRoutes } from './http/mount.js';
import { notFound, problemHandler } from './http/problem.js';
import { refuseMalformed } from './http/refuse-malformed.js';
import type { Instance } from './instance.js';
import type { LoadPool } from './load/pool.js';
import type { Metrics } from './metrics.js';
import type { PageScript } from './page/page-script.js';
import type { VisitCounter } from './redis/counter.js';
import { counterHandler } from './routes/counter.js';
import { livenessHandler, readinessHandler } from './routes/health.js';
import { mountFaultRoutes } from './routes/faults.js';
import { infoHandler } from './routes/info.js';
import { instanceHandler } from './routes/instance.js';
import { loadHandler } from './routes/load.js';
import { metricsHandler } from './routes/metrics.js';
import { pageHandler } from './routes/page.js';

export interface AppDependencies {
  readonly instance: Instance;
  /** Express's `trust proxy`: whose X-Forwarded-For to believe. */
  readonly trustProxy: string | false;
  readonly counter: VisitCounter;
  readonly pool: LoadPool;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** The live page's script and its CSP hash, as the build bundled it (loadPageScript, at boot). */
  readonly pageScript: PageScript;
  /** Where the per-request lines go; by default `logger`. */
  readonly requestLogger?: Logger;
  /** True once shutdown began: /readyz fails and responses close their connection. */
  readonly isDraining: () => boolean;
  /** The faults this instance is switched to; the work routes obey them. */
  readonly faults: FaultSwitch;
  /**
   * When set, /faults is mounted on this app and its exit fault calls this (the entry point exits
   * the process); undefined: no fault routes (FAULTS=off), they answer 404.
   */
  readonly exitOnDemand?: () => void;
  /** All on by default; `npm run bench` switches one off at a time to measure what it costs. */
  readonly features?: Partial<AppFeatures>;
}

/** What every request pays for; each can be switched off, but only the benchmark does. */
export interface AppFeatures {
  /** One log line per request (probes and scrapes aside). */
  readonly requestLogs: boolean;
  /** The request duration histogram. */
  readonly metrics: boolean;
  /** Per-route deadlines and cancellation when the client leaves. */
  readonly deadlines: boolean;
  /** The security headers and the CSP. */
  readonly securityHeaders: boolean;
}

const allFeatures: AppFeatures = { requestLogs: true, metrics: true, deadlines: true, securityHeaders: true };

/**
 * Builds the Express app from its dependencies. Reads no environment, opens no connection and never
 * listens: startApi (main.ts) and the tests do that.
 */
export function createApp(deps: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', deps.trustProxy);
  // Exact paths, as the edge matches them: /redis/ and /REDIS are not /redis.
  app.set('strict routing', true);
  app.set('case sensitive routing', true);

  const features = { ...allFeatures, ...deps.features };
  app.use(
    exchange({
      logger: features.requestLogs ? (deps.requestLogger ?? deps.logger) : undefined,
      metrics: features.metrics ? deps.metrics : undefined,
      securityHeaders: features.securityHeaders,
      isDraining: deps.isDraining,
    }),
  );
  app.use(refuseMalformed);
  // The work routes obey the faults; probes and metrics never do.
  const work = (handler: RequestHandler): RequestHandler => withFaults(deps.faults, deps.metrics, handler);
  // The table mounted on the app itself: a nested router would add a layer to every request.
  mountRoutes(app, features.deadlines, {
    info: work(infoHandler(deps.instance)),
    redis: work(counterHandler(deps.counter, deps.instance, deps.logger)),
    html: work(pageHandler(deps.counter, deps.instance, deps.logger, deps.pageScript)),
    load: work(loadHandler(deps.pool, deps.instance)),
    instance: work(instanceHandler(deps.counter, deps.instance, deps.faults, deps.isDraining)),
    healthz: livenessHandler,
    readyz: readinessHandler(deps.counter, deps.isDraining, deps.faults),
    metrics: metricsHandler(deps.metrics),
  });
  if (deps.exitOnDemand) {
    mountFaultRoutes(app, { faults: deps.faults, instance: deps.instance, logger: deps.logger, exit: deps.exitOnDemand });
  }
  app.use(notFound);
  app.use(problemHandler(deps.logger));
  return app;
}
