import type { Redis, Result } from 'ioredis';
import type { Metrics } from '../metrics.js';

/**
 * Counts a visit once per idempotency key: a request the edge replays on another instance (because
 * the first one died or answered too slowly) gets the count the first attempt made, instead of a
 * second increment. Atomic in Redis, so two attempts racing each other agree too.
 */
const incrementOnceScript = `
local seen = redis.call('GET', KEYS[2])
if seen then return tonumber(seen) end
local hits = redis.call('INCR', KEYS[1])
redis.call('SET', KEYS[2], hits, 'EX', ARGV[1])
return hits
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    incrementOnce(counterKey: string, onceKey: string, ttlSeconds: number): Result<number, Context>;
  }
}

export interface CounterOptions {
  readonly key: string;
  readonly idempotencyTtlSeconds: number;
}

/** The visit counter, and the Redis checks the api makes, each timed into the metrics. */
export class VisitCounter {
  constructor(
    private readonly redis: Redis,
    private readonly options: CounterOptions,
    private readonly metrics: Metrics,
  ) {
    redis.defineCommand('incrementOnce', { numberOfKeys: 2, lua: incrementOnceScript });
  }

  /** INCR, or the count already made for `idempotencyKey`. */
  async increment(idempotencyKey?: string): Promise<number> {
    const { key, idempotencyTtlSeconds } = this.options;
    if (idempotencyKey === undefined) return this.timed('incr', () => this.redis.incr(key));
    return this.timed('increment_once', () =>
      this.redis.incrementOnce(key, `${key}:once:${idempotencyKey}`, idempotencyTtlSeconds),
    );
  }

  /** ioredis's connection state: `ready` when commands can be sent. */
  get connection(): string {
    return this.redis.status;
  }

  /** Round-trip time of a PING, in milliseconds. */
  async ping(): Promise<number> {
    const started = performance.now();
    await this.timed('ping', () => this.redis.ping());
    return performance.now() - started;
  }

  private async timed<T>(command: string, run: () => Promise<T>): Promise<T> {
    const end = this.metrics.redisCommandDuration.startTimer({ command });
    try {
      const result = await run();
      end({ outcome: 'ok' });
      return result;
    } catch (error) {
      end({ outcome: 'error' });
      // A Redis that let a command time out is hung (or gone without a word): drop the connection.
      // Commands queued behind the one in flight are refused at once instead of each waiting out
      // a timeout of its own (ioredis sends one auto-pipeline at a time), and new ones fail fast
      // until a reconnect gets a ready Redis again.
      if (error instanceof Error && error.message === 'Command timed out' && this.redis.status === 'ready') {
        this.redis.disconnect(true);
      }
      throw error;
    }
  }
}
