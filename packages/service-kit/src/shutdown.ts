import type { Server } from 'node:http';
import { constants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { gracePeriodMs } from '@three-tier/shared';
import type { Logger } from 'pino';
import { closeServer } from './http-server.js';
import { abandonPendingLogs } from './logger.js';

export interface ShutdownOptions {
  readonly server: Server;
  readonly logger: Logger;
  /** Keep serving this long with /readyz failing, so load balancers notice first. */
  readonly delayMs: number;
  /** In-flight requests get this long once the listener closes. */
  readonly timeoutMs: number;
  /** Flips readiness to 503 and makes responses close their connections. */
  readonly beginDrain: () => void;
  /** Closes what the entry point opened (the load pool, Redis), once no request needs it. */
  readonly release: () => Promise<void>;
}

/** How long an exit waits for the last log lines to be written; less when it must be quick. */
const logFlushTimeoutMs = 1_000;
const quickExitFlushMs = 200;

/**
 * Writes what the logger holds, asynchronously, before an exit. Left to the synchronous flush that
 * runs on exit, a stdout nobody reads any more (the runner that started us was SIGKILLed) would
 * hang the process for good: sonic-boom retries a failed synchronous write forever. An
 * asynchronous write that fails with EPIPE makes pino drop the stream instead. Bounded, so a
 * stdout that is merely slow cannot hold the exit either; what is still pending after the bound
 * is abandoned (see `abandonPendingLogs`), never retried synchronously.
 */
export async function flushLogs(logger: Logger, timeoutMs = logFlushTimeoutMs): Promise<void> {
  await Promise.race([new Promise<void>((resolve) => logger.flush(() => resolve())), sleep(timeoutMs)]);
  abandonPendingLogs();
}

/**
 * SIGTERM or SIGINT: readiness flips, new work drains away, in-flight requests finish, clients are
 * released, exit 0. A second signal exits at once; a shutdown that overruns its budget exits 1.
 */
export function handleShutdownSignals(options: ShutdownOptions): void {
  const { server, logger, delayMs, timeoutMs, beginDrain, release } = options;
  let stopping = false;

  const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      void flushLogs(logger, quickExitFlushMs).then(() => process.exit(128 + constants.signals[signal]));
      return;
    }
    stopping = true;
    logger.info({ signal, delayMs, timeoutMs }, 'shutting down: draining');
    // The last resort, should a step below hang.
    setTimeout(() => {
      logger.error('shutdown overran its budget; exiting');
      void flushLogs(logger, quickExitFlushMs).then(() => process.exit(1));
    }, gracePeriodMs(delayMs + timeoutMs)).unref();

    beginDrain();
    await sleep(delayMs);
    await closeServer(server, timeoutMs, () => {
      logger.warn({ timeoutMs }, 'requests still in flight at the deadline; closing their connections');
    });
    await release();
    logger.info('stopped');
    await flushLogs(logger);
    process.exit(0);
  };

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, (received: NodeJS.Signals) => {
      shutdown(received).catch((error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        void flushLogs(logger, quickExitFlushMs).then(() => process.exit(1));
      });
    });
  }
}

/**
 * A bug that escapes every handler is logged as one JSON line, then the process exits 1 so its
 * supervisor (compose, Kubernetes, the stack runner) restarts it clean.
 */
export function exitOnFatalErrors(logger: Logger): void {
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception; exiting');
    void flushLogs(logger, quickExitFlushMs).then(() => process.exit(1));
  });
  process.on('unhandledRejection', (reason) => {
    logger.fatal({ err: reason }, 'unhandled promise rejection; exiting');
    void flushLogs(logger, quickExitFlushMs).then(() => process.exit(1));
  });
}
