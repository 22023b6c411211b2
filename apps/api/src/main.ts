/**
 * The api's composition: parse the configuration, create the clients, build the app, listen, and
 * handle the stop signals. Called by the entry point (index.ts) with the process's environment;
 * `npm run bench` calls it too, with one feature switched off at a time to price each.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { createLogger, exitOnFatalErrors, flushLogs, handleShutdownSignals, logDestination } from '@three-tier/service-kit';
import { releaseVersion } from '@three-tier/cli-kit';
import { ConfigError } from '@three-tier/shared';
import { createApp, type AppFeatures } from './app.js';
import { configFromEnv, type ApiConfig } from './config.js';
import { FaultSwitch } from './faults/fault-switch.js';
import type { Instance } from './instance.js';
import { cpuBudget } from './load/cpu-budget.js';
import { LoadPool } from './load/pool.js';
import { createMetrics } from './metrics.js';
import { loadPageScript } from './page/page-script.js';
import { closeRedis, createRedisClient, readyWithin } from './redis/client.js';
import { VisitCounter } from './redis/counter.js';
import { createHttpServer } from './server.js';

export type { AppFeatures } from './app.js';

export interface StartOptions {
  /** Every feature is on unless switched off here; only the benchmark does. */
  readonly features?: Partial<AppFeatures>;
}

function loadConfig(env: Readonly<Record<string, string | undefined>>): ApiConfig {
  try {
    return configFromEnv(env, process.stdout.isTTY);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`api: ${error.message}\n`);
    process.exit(1);
  }
}

/**
 * How long a starting api waits for its first Redis connection before it listens. Meanwhile its
 * port refuses connections, which both edges retry on another instance, so a new replica takes no
 * work it would answer 503. Next to a running Redis the wait is a few milliseconds; 1 s proved too
 * short on a loaded machine (a replica added during a rolling replacement answered three visits
 * 503), and a Redis that is down delays a start by this much at most.
 */
const firstConnectionWaitMs = 5_000;

/** The exit fault: a crash on purpose, so nothing drains; only the log gets out first. */
function exitOnDemand(logger: ReturnType<typeof createLogger>): void {
  logger.fatal('exiting on demand (fault "exit"): no drain, as a crash would');
  void flushLogs(logger).finally(() => process.exit(1));
}

/** Starts the api as a process: exits 1 on bad configuration, 0 after a graceful stop. */
export function startApi(env: Readonly<Record<string, string | undefined>>, options: StartOptions = {}): void {
  const config = loadConfig(env);
  const { name } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string };
  // The release's version, the one its images are tagged with, not the workspace's own.
  const instance: Instance = { name, version: releaseVersion(), hostname: config.instanceId ?? hostname() };
  const logOptions = {
    name: 'api',
    level: config.log.level,
    pretty: config.log.pretty,
    ...(config.log.pretty ? {} : { destination: logDestination() }),
  };
  const logger = createLogger(logOptions);
  // Request lines hold fixed fields and no credentials: they skip the redaction pass.
  const requestLogger = config.log.pretty ? logger : createLogger({ ...logOptions, redact: false });

  exitOnFatalErrors(logger);

  const metrics = createMetrics();
  const redis = createRedisClient(config.redis, logger, metrics, `api:${instance.hostname}`);
  const counter = new VisitCounter(redis, config.counter, metrics);
  const workers = config.load.workers ?? cpuBudget();
  const pool = new LoadPool({ size: workers, maxQueue: config.load.queue ?? workers * 2, metrics });

  let draining = false;
  const app = createApp({
    instance,
    trustProxy: config.trustProxy,
    counter,
    pool,
    metrics,
    logger,
    requestLogger,
    pageScript: loadPageScript(),
    isDraining: () => draining,
    faults: new FaultSwitch(metrics),
    ...(config.faults ? { exitOnDemand: () => exitOnDemand(logger) } : {}),
    ...(options.features ? { features: options.features } : {}),
  });

  const server = createHttpServer(app);
  server.on('error', (error) => {
    logger.fatal({ err: error, port: config.port }, 'cannot listen');
    void flushLogs(logger).finally(() => process.exit(1));
  });
  void readyWithin(redis, firstConnectionWaitMs).then(() => {
    if (draining) return; // stopped before it ever served
    server.listen(config.port, config.host, () => {
      logger.info({ host: config.host, port: config.port, loadWorkers: workers, version: instance.version }, 'listening');
    });
  });

  handleShutdownSignals({
    server,
    logger,
    delayMs: config.shutdown.delayMs,
    timeoutMs: config.shutdown.timeoutMs,
    beginDrain: () => {
      draining = true;
    },
    release: async () => {
      await pool.close();
      await closeRedis(redis, 2_000);
    },
  });
}
