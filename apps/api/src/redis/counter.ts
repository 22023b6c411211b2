import type { Redis, Result } from 'ioredis';
import type { Metrics } from '../metrics.js';

/**
 * The first lines of both scripts: give up, counting nothing, when Redis runs the command after its
 * deadline (ARGV[1], milliseconds on Redis's own clock). A Redis frozen for longer than the api
 * waits would otherwise wake up and count visits the api had already answered 503, "not counted".
 */
const unlessLate = `
local now = redis.call('TIME')
if tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) > tonumber(ARGV[1]) then return -1 end
`;

/** INCR before the deadline. */
const incrementScript = `${unlessLate}
return redis.call('INCR', KEYS[1])
`;

/**
 * Counts a visit once per idempotency key: a request the edge replays on another instance (because
 * the first one died or answered too slowly) gets the count the first attempt made, instead of a
 * second increment. Atomic in Redis, so two attempts racing each other agree too.
 */
const incrementOnceScript = `${unlessLate}
local seen = redis.call('GET', KEYS[2])
if seen then return tonumber(seen) end
local hits = redis.call('INCR', KEYS[1])
redis.call('SET', KEYS[2], hits, 'EX', ARGV[2])
return hits
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    incrementBefore(counterKey: string, deadlineMs: number): Result<number, Context>;
    incrementOnceBefore(counterKey: string, onceKey: string, deadlineMs: number, ttlSeconds: number): Result<number, Context>;
  }
}

export interface CounterOptions {
  readonly key: string;
  readonly idempotencyTtlSeconds: number;
  /** How long the api waits for Redis (REDIS_TIMEOUT_MS); a count must be made within half of it. */
  readonly timeoutMs: number;
}

/** Redis ran the count after its deadline, so it counted nothing; the api says so. */
export class TooLateError extends Error {
  constructor() {
    super('redis ran the count after its deadline and counted nothing');
    this.name = 'TooLateError';
  }
}

/** A TIME round trip this short is always good enough for the clock offset (its error is half of it). */
const clockSampleSlackMs = 2;

/** The visit counter, and the Redis checks the api makes, each timed into the metrics. */
export class VisitCounter {
  /** Redis's clock minus ours, in ms, from a fast TIME; deadlines are set on Redis's clock. */
  private clockOffsetMs = 0;
  /** The shortest round trip of recent TIME samples. */
  private bestRoundTripMs = Number.POSITIVE_INFINITY;
  /**
   * Why Redis last failed the api (a connection error, or a command that timed out), until it
   * answers again: tells a frozen Redis from a gone one. Refusals while reconnecting say nothing
   * new and do not replace it.
   */
  private lastFailure: string | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly options: CounterOptions,
    private readonly metrics: Metrics,
  ) {
    redis.defineCommand('incrementBefore', { numberOfKeys: 1, lua: incrementScript });
    redis.defineCommand('incrementOnceBefore', { numberOfKeys: 2, lua: incrementOnceScript });
    redis.on('ready', () => {
      this.lastFailure = undefined;
      this.ping().catch(() => undefined);
    });
    redis.on('error', (error: Error) => {
      this.lastFailure = error.message;
    });
  }

  /**
   * One more visit, or the count already made for `idempotencyKey`. Redis counts only if it runs
   * the command within half the api's timeout, leaving the other half for the answer to come back:
   * a visit answered 503 is not counted later, however long Redis was frozen.
   */
  async increment(idempotencyKey?: string): Promise<number> {
    const { key, idempotencyTtlSeconds, timeoutMs } = this.options;
    const deadline = Date.now() + this.clockOffsetMs + Math.floor(timeoutMs / 2);
    const hits =
      idempotencyKey === undefined
        ? await this.timed('incr', () => this.redis.incrementBefore(key, deadline))
        : await this.timed('increment_once', () =>
            this.redis.incrementOnceBefore(key, `${key}:once:${idempotencyKey}`, deadline, idempotencyTtlSeconds),
          );
    if (hits < 0) throw new TooLateError();
    return hits;
  }

  /** The count as it stands, counting nothing (HEAD). */
  async current(): Promise<number> {
    const value = await this.timed('get', () => this.redis.get(this.options.key));
    return Number(value ?? 0);
  }

  /** The last error Redis gave the api since it last answered, e.g. "connect ECONNREFUSED ...". */
  get failure(): string | undefined {
    return this.lastFailure;
  }

  /** ioredis's connection state: `ready` when commands can be sent. */
  get connection(): string {
    return this.redis.status;
  }

  /**
   * Round-trip time to Redis, in milliseconds. Asks for TIME rather than PING, and keeps the clock
   * offset it implies (half the round trip is the error), so deadlines follow Redis's clock even
   * when it runs on another machine.
   */
  async ping(): Promise<number> {
    const sent = Date.now();
    const started = performance.now();
    const [seconds, micros] = await this.timed('time', () => this.redis.time());
    const roundTrip = performance.now() - started;
    const offset = Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000) - (sent + roundTrip / 2);
    // The offset is wrong by up to half the round trip, and a TIME that waited behind other work
    // (a busy script, a long pipeline) has a long one: its offset could push deadlines past the
    // api's own timeout. Only a sample about as fast as the best recent one is kept; the best
    // drifts up with each sample, so a lasting change of latency is followed within a few.
    if (roundTrip <= Math.max(clockSampleSlackMs, this.bestRoundTripMs * 2)) this.clockOffsetMs = offset;
    this.bestRoundTripMs = Math.min(roundTrip, this.bestRoundTripMs * 1.5);
    return roundTrip;
  }

  /** Redis's clock minus ours, in ms, as the deadlines use it. */
  get clockOffset(): number {
    return this.clockOffsetMs;
  }

  private async timed<T>(command: string, run: () => Promise<T>): Promise<T> {
    const end = this.metrics.redisCommandDuration.startTimer({ command });
    try {
      const result = await run();
      end({ outcome: 'ok' });
      this.lastFailure = undefined;
      return result;
    } catch (error) {
      end({ outcome: 'error' });
      // A Redis that let a command time out is hung (or gone without a word): drop the connection.
      // Commands queued behind the one in flight are refused at once instead of each waiting out
      // a timeout of its own (ioredis sends one auto-pipeline at a time), and new ones fail fast
      // until a reconnect gets a ready Redis again.
      if (error instanceof Error && error.message === 'Command timed out') {
        this.lastFailure = error.message;
        if (this.redis.status === 'ready') this.redis.disconnect(true);
      }
      throw error;
    }
  }
}
