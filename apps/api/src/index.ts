/**
 * The api's entry point: the only place that reads the environment, creates clients and listens.
 * Everything it builds is handed to createApp, which the tests call with their own.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { createLogger, exitOnFatalErrors, handleShutdownSignals } from '@three-tier/service-kit';
import { ConfigError } from '@three-tier/shared';
import { createApp, type Instance } from './app.js';
import { configFromEnv, type ApiConfig } from './config.js';
import { cpuBudget } from './load/cpu-budget.js';
import { LoadPool } from './load/pool.js';
import { createMetrics } from './metrics.js';
import { closeRedis, createRedisClient } from './redis/client.js';
import { VisitCounter } from './redis/counter.js';
import { createHttpServer } from './server.js';

function loadConfig(): ApiConfig {
  try {
    return configFromEnv(process.env, process.stdout.isTTY);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`api: ${error.message}\n`);
    process.exit(1);
  }
}

const config = loadConfig();
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  name: string;
  version: string;
};
const instance: Instance = { name: pkg.name, version: pkg.version, hostname: hostname() };
const logger = createLogger({ name: 'api', level: config.log.level, pretty: config.log.pretty });

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
  isDraining: () => draining,
});

const server = createHttpServer(app);
server.on('error', (error) => {
  logger.fatal({ err: error, port: config.port }, 'cannot listen');
  process.exit(1);
});
server.listen(config.port, config.host, () => {
  logger.info({ host: config.host, port: config.port, loadWorkers: workers, version: instance.version }, 'listening');
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
