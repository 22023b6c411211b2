/**
 * The http-proxy edge's entry point: reads the environment, listens, drains on SIGTERM.
 */
import { createLogger, exitOnFatalErrors, flushLogs, handleShutdownSignals } from '@three-tier/service-kit';
import { budgets, ConfigError, edgeEnvSchema, parseEnv, type EdgeEnv } from '@three-tier/shared';
import { createEdge } from './edge.js';
import { createEdgeServer } from './server.js';

function loadEnv(): EdgeEnv {
  try {
    return parseEnv(edgeEnvSchema, process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`edge: ${error.message}\n`);
    process.exit(1);
  }
}

const env = loadEnv();
const logger = createLogger({
  name: 'edge',
  level: env.LOG_LEVEL,
  pretty: (env.LOG_FORMAT ?? (process.stdout.isTTY ? 'pretty' : 'json')) === 'pretty',
});
exitOnFatalErrors(logger);

let draining = false;
const edge = createEdge({ upstreams: env.API_UPSTREAM, logger, isDraining: () => draining });
const server = createEdgeServer(edge.listener);
server.on('error', (error) => {
  logger.fatal({ err: error, port: env.EDGE_PORT }, 'cannot listen');
  void flushLogs(logger).finally(() => process.exit(1));
});
server.listen(env.EDGE_PORT, env.EDGE_HOST, () => {
  logger.info({ host: env.EDGE_HOST, port: env.EDGE_PORT, upstreams: env.API_UPSTREAM }, 'listening');
});

handleShutdownSignals({
  server,
  logger,
  delayMs: 0,
  // The drain nginx and compose use (see budgets.edgeDrainMs); the watchdog at gracePeriodMs of it.
  timeoutMs: budgets.edgeDrainMs,
  beginDrain: () => {
    draining = true;
  },
  release: () => {
    edge.close();
    return Promise.resolve();
  },
});
