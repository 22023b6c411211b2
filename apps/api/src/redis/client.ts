import type { EventEmitter } from 'node:events';
import { budgets } from '@three-tier/shared';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { ApiConfig } from '../config.js';
import type { Metrics } from '../metrics.js';

/**
 * Sentinel mode: ask the Sentinels for the master (with the same password), listen to them for a
 * failover, and bound every wait on them. ioredis checks the role of what it reaches (INFO, the
 * ready check) and asks again when it is not a master. A lost master is sought again quickly: the
 * Sentinels may name a new one any moment.
 */
function sentinelOptions(options: ApiConfig['redis']): RedisOptions {
  const { sentinel, password, timeoutMs } = options;
  if (!sentinel) return {};
  const retry = (attempt: number): number => Math.min(50 * attempt, budgets.redisFailoverRetryMaxMs);
  return {
    sentinels: sentinel.sentinels.map(({ host, port }) => ({ host, port })),
    name: sentinel.masterName,
    role: 'master',
    ...(password ? { sentinelPassword: password } : {}),
    sentinelCommandTimeout: timeoutMs,
    // Every Sentinel unreachable: ask them all again soon.
    sentinelRetryStrategy: retry,
    // The +switch-master subscriptions: a Sentinel that went away is listened to again within a second.
    failoverDetector: true,
    sentinelReconnectStrategy: () => 1_000,
    retryStrategy: retry,
  };
}

/**
 * The connection to Redis, tuned to fail fast and heal alone: commands are refused at once while the
 * connection is down (no offline queue to hang on), time out when Redis hangs, and the client
 * reconnects forever with capped backoff. Nothing here can throw into the event loop.
 *
 * A command in flight when the connection drops is failed, never sent again on the next connection
 * (maxRetriesPerRequest 0 flushes it at the close, and autoResendUnfulfilledCommands is off): a
 * count and its WAIT must run on one connection (see VisitCounter, which checks it too).
 */
export function createRedisClient(
  options: ApiConfig['redis'],
  logger: Logger,
  metrics: Metrics,
  connectionName: string,
): Redis {
  const common: RedisOptions = {
    ...(options.password ? { password: options.password } : {}),
    connectionName,
    enableOfflineQueue: false,
    // Commands issued in the same turn of the event loop go out in one write: far fewer system
    // calls for Redis under load (it measured 18 -> 3 µs of redis-server CPU a request).
    enableAutoPipelining: true,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: options.timeoutMs,
    // A connection dropped because Redis hung (see VisitCounter) is destroyed at once rather than
    // after ioredis's 2 s wait for a goodbye that a hung Redis never sends.
    disconnectTimeout: 0,
    connectTimeout: Math.max(options.timeoutMs, 1_000),
    retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 10), 2_000),
    // Redis reloading its AOF answers LOADING; readiness waits for it rather than erroring.
    enableReadyCheck: true,
  };
  const redis = options.sentinel ? new Redis({ ...common, ...sentinelOptions(options) }) : new Redis(options.url, common);
  if (options.sentinel) {
    restartWhenEnded(redis, logger);
    listenToFailoverSubscriptions(redis, logger);
  }

  // Log transitions, not every failed reconnect: a Redis outage must not flood the log.
  let healthy = false;
  let lastError = '';
  redis.on('ready', () => {
    healthy = true;
    lastError = '';
    metrics.redisConnected.set(1);
    if (options.sentinel) logger.info({ master: connectedTo(redis), masterName: options.sentinel.masterName }, 'redis master connection ready');
    else logger.info({ redis: redactUrl(options.url) }, 'redis connection ready');
  });
  redis.on('error', (error: Error) => {
    if (error.message === lastError) return;
    lastError = error.message;
    logger.warn({ err: error }, 'redis error');
  });
  redis.on('close', () => {
    metrics.redisConnected.set(0);
    if (healthy) logger.warn('redis connection lost; reconnecting');
    healthy = false;
  });
  return redis;
}

/** The address of the server the connection reached, e.g. `127.0.0.1:6401` (in Sentinel mode, the master). */
export function connectedTo(redis: Redis): string | undefined {
  const { remoteAddress, remotePort } = redis.stream as { remoteAddress?: string; remotePort?: number } | undefined ?? {};
  if (remoteAddress === undefined || remotePort === undefined) return undefined;
  return `${remoteAddress.includes(':') ? `[${remoteAddress}]` : remoteAddress}:${String(remotePort)}`;
}

/** A Redis URL without its password, for logs. */
export function redactUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = 'redacted';
  return parsed.toString();
}

/** The Sentinel connections of ioredis's failover detector (not part of its public interface). */
interface WithFailoverDetector {
  readonly connector?: { readonly failoverDetector?: { readonly sentinels?: ReadonlyArray<{ readonly client?: EventEmitter }> } | null };
}

/**
 * ioredis's failover detector subscribes to every Sentinel on connections that nobody listens to
 * for errors, so while a Sentinel is down ioredis prints "Unhandled error event" and a stack to
 * stderr at each of their reconnects. Their errors are logged as the client's are, once each.
 */
function listenToFailoverSubscriptions(redis: Redis, logger: Logger): void {
  let lastError = '';
  const onError = (error: Error): void => {
    if (error.message === lastError) return;
    lastError = error.message;
    logger.warn({ err: error }, 'a Sentinel watched for failovers is unreachable');
  };
  redis.on('failoverSubscribed', () => {
    for (const { client } of (redis as unknown as WithFailoverDetector).connector?.failoverDetector?.sentinels ?? []) {
      if (client && client.listenerCount('error') === 0) client.on('error', onError);
    }
  });
}

/** Clients being closed on purpose (closeRedis): their end is final. */
const closing = new WeakSet<Redis>();

/**
 * ioredis ends a Sentinel-mode client for good when its failover detector hears of a failover
 * while the client is asking a Sentinel where the master is: the detector closes the connector
 * under the pending lookup, which then fails with "Connection is closed." and sets the status to
 * `end`, never to reconnect (seen here in most runs of three failovers in a row). Such an end is
 * started again; only closeRedis ends a client.
 */
function restartWhenEnded(redis: Redis, logger: Logger): void {
  redis.on('end', () => {
    if (closing.has(redis)) return;
    logger.warn('the redis client stopped by itself (a failover announced during a reconnect); connecting again');
    setTimeout(() => {
      if (!closing.has(redis) && redis.status === 'end') redis.connect().catch(() => undefined);
    }, budgets.redisFailoverRetryMaxMs).unref();
  });
}

/** QUIT politely, or drop the connection if Redis does not answer in time. */
export async function closeRedis(redis: Redis, timeoutMs: number): Promise<void> {
  closing.add(redis);
  if (redis.status !== 'end') {
    const timer = setTimeout(() => redis.disconnect(), timeoutMs);
    try {
      await redis.quit();
    } catch {
      redis.disconnect();
    } finally {
      clearTimeout(timer);
    }
  }
  // QUIT ends the connection but not, in Sentinel mode, the failover detector's subscriptions to
  // the Sentinels (only disconnect() closes those): they would keep the process alive, and
  // reconnect for ever once the Sentinels are gone.
  if (redis.options.sentinels) redis.disconnect();
}

/**
 * Resolves once the connection is ready, or after `timeoutMs` whatever its state. The api waits
 * this long before it listens: next to a running Redis, its first request finds a connection
 * instead of a 503; with Redis down, it serves after the wait, live but not ready.
 */
export function readyWithin(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    redis.once('ready', done);
  });
}
