import { countDeadlineMs, redisReplication } from '@three-tier/shared';
import type { Redis, Result } from 'ioredis';
import type { CounterReplication } from '../config.js';
import type { Metrics } from '../metrics.js';
import { connectedTo } from './client.js';

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

/** The visit counted once per key: after the deadline check, what `found` does with a counted key. */
function onceScript(found: string): string {
  return `${unlessLate}
local seen = redis.call('GET', KEYS[2])
if seen then${found}return tonumber(seen) end
local hits = redis.call('INCR', KEYS[1])
redis.call('SET', KEYS[2], hits, 'EX', ARGV[2])
return hits
`;
}

/**
 * Counts a visit once per idempotency key: a request the edge replays on another instance (because
 * the first one died or answered too slowly) gets the count the first attempt made, instead of a
 * second increment. Atomic in Redis, so two attempts racing each other agree too.
 */
const incrementOnceScript = onceScript(' ');

/**
 * Sentinel mode: a key already counted is written again as it is (same count, same expiry). The
 * first count may have been made on another connection whose WAIT failed; this write of the
 * connection's own comes after it in the replication stream, so the WAIT that follows returns only
 * once a replica has both. Redis 7.2 and later (the official image) keep, per connection, the
 * offset of its last command that propagated, and WAIT waits for that: without a write of its own
 * a fresh connection's WAIT returns at once. (7.0, Debian's, takes the master's offset after every
 * command, so there the rewrite changes nothing.)
 */
const incrementOnceReplicatedScript = onceScript(`
  redis.call('SET', KEYS[2], seen, 'KEEPTTL')
  `);

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
  /** Sentinel mode: a count is acknowledged only once replicas have it (WAIT). */
  readonly replication?: CounterReplication | undefined;
}

/** Redis ran the count after its deadline, so it counted nothing; the api says so. */
export class TooLateError extends Error {
  constructor() {
    super('redis ran the count after its deadline and counted nothing');
    this.name = 'TooLateError';
  }
}

/** Sentinel mode: the count did not happen (not connected, or Redis refused it: NOREPLICAS, READONLY). */
export class NotCountedError extends Error {
  constructor(reason: string) {
    super(`the visit was not counted: ${reason}`);
    this.name = 'NotCountedError';
  }
}

/**
 * Sentinel mode: the count may have been made on the master, but no replica confirmed it in time on
 * the connection that made it, so a failover could still lose it.
 */
export class UnconfirmedCountError extends Error {
  constructor(reason: string) {
    super(`the visit may have been counted, but no replica confirmed it: ${reason}`);
    this.name = 'UnconfirmedCountError';
  }
}

/**
 * One Redis (no replicas): the count was sent, and may have run before its deadline, but no answer
 * came (a command timeout while Redis stalled on its disk, a connection lost after the write).
 */
export class UnansweredCountError extends Error {
  constructor(reason: string) {
    super(`the visit may have been counted, but Redis did not answer: ${reason}`);
    this.name = 'UnansweredCountError';
  }
}

/** The master as the api sees it (Sentinel mode), from INFO replication on its own connection. */
export interface ReplicationState {
  /** host:port of the server the connection reached. */
  readonly master: string;
  readonly role: string;
  /** Redis's own count of replicas in sync (min_slaves_good_slaves), 0 when not a master. */
  readonly replicasInSync: number;
  readonly replicasRequired: number;
}

/**
 * Whether a failed command may still have run: it was written, and what came back (nothing, in
 * time) says nothing about it. An error reply means Redis refused it at its first write or before
 * (NOREPLICAS, READONLY, MISCONF); one that could not be written never reached Redis.
 */
function mayHaveCounted(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.name !== 'ReplyError' && !/^Stream isn't writeable/.test(error.message);
}

/** A TIME round trip this short is always good enough for the clock offset (its error is half of it). */
const clockSampleSlackMs = 2;

/** A connection that no sample was taken on (ioredis makes a new socket for each connection). */
const noConnection = Symbol('no connection');

/** Replicas a master's INFO replication counts in sync; Redis's own figure when it gives one. */
function replicasInSync(info: Map<string, string>): number {
  if (info.get('role') !== 'master') return 0;
  const good = info.get('min_slaves_good_slaves');
  if (good !== undefined) return Number(good);
  return [...info]
    .filter(([name]) => /^slave\d+$/.test(name))
    .map(([, value]) => new Map(value.split(',').map((pair) => pair.split('=') as [string, string])))
    .filter((replica) => replica.get('state') === 'online' && Number(replica.get('lag')) <= redisReplication.minReplicasMaxLagSeconds).length;
}

function infoFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/** The visit counter, and the Redis checks the api makes, each timed into the metrics. */
export class VisitCounter {
  /** Redis's clock minus ours, in ms, from a fast TIME; deadlines are set on Redis's clock. */
  private clockOffsetMs = 0;
  /** The shortest round trip of recent TIME samples. */
  private bestRoundTripMs = Number.POSITIVE_INFINITY;
  /**
   * The connection the offset was measured on. Another connection may reach another server (a new
   * master after a failover, with its own clock): its first count waits for a sample of its own.
   */
  private clockConnection: unknown = noConnection;
  private clockSample: Promise<unknown> | undefined;
  /**
   * Why Redis last failed the api (a connection error, or a command that timed out), until it
   * answers again: tells a frozen Redis from a gone one. Refusals while reconnecting say nothing
   * new and do not replace it.
   */
  private lastFailure: string | undefined;
  /** The server the last connection reached (the master, in Sentinel mode). */
  private masterAddress: string | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly options: CounterOptions,
    private readonly metrics: Metrics,
  ) {
    redis.defineCommand('incrementBefore', { numberOfKeys: 1, lua: incrementScript });
    redis.defineCommand('incrementOnceBefore', { numberOfKeys: 2, lua: incrementOnceScript });
    metrics.redisReplicasRequired.set(options.replication?.replicas ?? 0);
    if (options.replication) metrics.beforeScrape.replication = () => this.replication();
    redis.on('ready', () => {
      this.lastFailure = undefined;
      this.noteMaster();
      this.sampleClock().catch(() => undefined);
    });
    redis.on('error', (error: Error) => {
      this.lastFailure = error.message;
    });
  }

  /** True in Sentinel mode: counts wait for replicas. */
  get replicated(): boolean {
    return this.options.replication !== undefined;
  }

  /** How long a counted idempotency key is remembered. */
  get idempotencyTtlSeconds(): number {
    return this.options.idempotencyTtlSeconds;
  }

  /** The server the api writes to, e.g. `127.0.0.1:6401`; undefined before a first connection. */
  get master(): string | undefined {
    return this.masterAddress;
  }

  /**
   * One more visit, or the count already made for `idempotencyKey`. Redis counts only if it runs
   * the command within half the api's timeout, leaving the other half for the answer to come back:
   * a visit Redis did not run in time is not counted later, however long Redis was frozen. One it
   * ran whose answer did not come back (Redis stalled on its fsync, say) was counted: that failure
   * is an UnansweredCountError, not "not counted". In Sentinel mode the count is acknowledged only
   * once replicas have it (see countReplicated).
   */
  async increment(idempotencyKey?: string): Promise<number> {
    if (this.replicated && this.redis.status !== 'ready') throw new NotCountedError(`not connected to the master (${this.redis.status})`);
    // Not connected: the count fails at once below, as it always did.
    if (this.redis.status === 'ready' && this.clockConnection !== this.redis.stream) {
      // No count was sent yet: in Sentinel mode, say so.
      await this.sampleClock().catch((error: unknown) => {
        throw this.replicated ? new NotCountedError(`no clock sample from the master (${(error as Error).message})`) : error;
      });
    }
    const { key, idempotencyTtlSeconds, timeoutMs } = this.options;
    const deadline = Date.now() + this.clockOffsetMs + countDeadlineMs(timeoutMs);
    if (this.options.replication) return this.countReplicated(this.options.replication, deadline, idempotencyKey);
    const hits = await (idempotencyKey === undefined
      ? this.timed('incr', () => this.redis.incrementBefore(key, deadline))
      : this.timed('increment_once', () => this.redis.incrementOnceBefore(key, `${key}:once:${idempotencyKey}`, deadline, idempotencyTtlSeconds))
    ).catch((error: unknown) => {
      throw mayHaveCounted(error) ? new UnansweredCountError((error as Error).message) : error;
    });
    if (hits < 0) throw new TooLateError();
    return hits;
  }

  /**
   * Sentinel mode: the count and `WAIT replicas timeout` go out as one pipeline, in one write on one
   * connection, and the count is acknowledged only if WAIT answers that enough replicas have it
   * and the connection is still the one they were written to. ioredis replaces `stream` with a
   * new socket for every connection and never reuses one, and the client never sends a command
   * again on a later connection (see createRedisClient); so the same stream before and after means
   * both ran, in order, on one connection to one server, and WAIT spoke of this count. A WAIT
   * answered on a new connection would say nothing about it: WAIT waits for the replication stream
   * of its connection's server as far as that connection's earlier commands took it (7.0: any
   * command; 7.2: writes), and a new connection may reach another server, or none of its commands
   * may have come after the count.
   *
   * WAIT, not WAITAOF. Every server of the set writes and fsyncs its AOF before it replies
   * (appendfsync always; Redis flushes the AOF before the pending replies in each turn of its
   * loop), and a replica's acknowledgement to its master is such a reply: WAIT 1 already means a
   * replica has the visit on its disk, in 7.0 and later alike. The exception is a replica
   * rewriting its AOF just after a full resync, which only WAITAOF (Redis 7.2+, the official
   * image) can see. It would cost a second wait, and a branch that Debian's 7.0, which every test
   * here runs, cannot execute; the failures tested are process deaths, which the page cache
   * survives.
   */
  private async countReplicated(replication: CounterReplication, deadline: number, idempotencyKey: string | undefined): Promise<number> {
    const { key, idempotencyTtlSeconds } = this.options;
    if (this.redis.status !== 'ready') throw new NotCountedError(`not connected to the master (${this.redis.status})`);
    const connection = this.redis.stream;
    const pair = this.redis.pipeline();
    if (idempotencyKey === undefined) pair.eval(incrementScript, 1, key, deadline);
    else pair.eval(incrementOnceReplicatedScript, 2, key, `${key}:once:${idempotencyKey}`, deadline, idempotencyTtlSeconds);
    pair.wait(replication.replicas, replication.waitMs);
    const end = this.metrics.redisCommandDuration.startTimer({ command: idempotencyKey === undefined ? 'incr_wait' : 'increment_once_wait' });
    const [counted, waited] = (await pair.exec()) ?? [];
    const sameConnection = this.redis.stream === connection;
    const [countError, hits] = counted ?? [new Error('no answer to the count')];
    const [waitError, replicas] = waited ?? [new Error('no answer to WAIT')];
    const failure = countError ?? waitError;
    end({ outcome: failure || !sameConnection ? 'error' : 'ok' });
    if (countError) throw this.countFailure(countError);
    if (typeof hits !== 'number' || hits < 0) throw new TooLateError();
    if (waitError) throw new UnconfirmedCountError(this.noteFailure(waitError));
    if (!sameConnection) throw new UnconfirmedCountError('the connection changed before WAIT answered');
    if (typeof replicas !== 'number' || replicas < replication.replicas) {
      throw new UnconfirmedCountError(`${String(replicas)} of ${String(replication.replicas)} replicas within ${String(replication.waitMs)} ms`);
    }
    this.lastFailure = undefined;
    return hits;
  }

  /**
   * What a failed count means. An error reply means Redis refused the script at its first write,
   * or before (NOREPLICAS, READONLY): nothing counted. A command that could not be written counted
   * nothing either. Anything else (the connection lost, a timeout) came after sending it: Redis
   * may have counted.
   */
  private countFailure(error: Error): Error {
    const reason = this.noteFailure(error);
    return mayHaveCounted(error) ? new UnconfirmedCountError(reason) : new NotCountedError(reason);
  }

  /** Records a failure as `timed` does (a timeout drops the connection); returns its message. */
  private noteFailure(error: Error): string {
    if (error.message === 'Command timed out') this.dropHungConnection();
    else if (error.name !== 'ReplyError') this.lastFailure = error.message;
    return error.message;
  }

  /** The count as it stands, counting nothing (HEAD). */
  async current(): Promise<number> {
    const value = await this.timed('get', () => this.redis.get(this.options.key));
    return Number(value ?? 0);
  }

  /** Sentinel mode: the master this connection reached and how many replicas it has in sync. */
  async replication(): Promise<ReplicationState> {
    const info = infoFields(await this.timed('info', () => this.redis.info('replication')));
    const state: ReplicationState = {
      master: this.masterAddress ?? 'unknown',
      role: info.get('role') ?? 'unknown',
      replicasInSync: replicasInSync(info),
      replicasRequired: this.options.replication?.replicas ?? 0,
    };
    this.metrics.redisReplicasInSync.set(state.replicasInSync);
    return state;
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
    const connection = this.redis.stream;
    const sent = Date.now();
    const started = performance.now();
    const [seconds, micros] = await this.timed('time', () => this.redis.time());
    const roundTrip = performance.now() - started;
    // Answered on a connection that is gone by now: its server's clock may not be the next one's.
    if (this.redis.stream !== connection) return roundTrip;
    // A new connection may have reached another server: its clock starts afresh.
    if (this.clockConnection !== connection) this.bestRoundTripMs = Number.POSITIVE_INFINITY;
    const offset = Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000) - (sent + roundTrip / 2);
    // The offset is wrong by up to half the round trip, and a TIME that waited behind other work
    // (a busy script, a long pipeline) has a long one: its offset could push deadlines past the
    // api's own timeout. Only a sample about as fast as the best recent one is kept; the best
    // drifts up with each sample, so a lasting change of latency is followed within a few.
    if (roundTrip <= Math.max(clockSampleSlackMs, this.bestRoundTripMs * 2)) {
      this.clockOffsetMs = offset;
      this.clockConnection = connection;
    }
    this.bestRoundTripMs = Math.min(roundTrip, this.bestRoundTripMs * 1.5);
    return roundTrip;
  }

  /** Redis's clock minus ours, in ms, as the deadlines use it. */
  get clockOffset(): number {
    return this.clockOffsetMs;
  }

  /** One TIME for every count that finds the connection new (the 'ready' handler sends it too). */
  private async sampleClock(): Promise<void> {
    this.clockSample ??= this.ping().finally(() => {
      this.clockSample = undefined;
    });
    await this.clockSample;
  }

  /** On each new connection: which server it reached, and whether that is a failover. */
  private noteMaster(): void {
    const address = connectedTo(this.redis);
    if (address === undefined || address === this.masterAddress) return;
    if (this.masterAddress !== undefined) {
      this.metrics.redisMaster.remove({ address: this.masterAddress });
      if (this.replicated) this.metrics.redisFailoversSeen.inc();
    }
    this.masterAddress = address;
    this.metrics.redisMaster.set({ address }, 1);
  }

  /**
   * A Redis that let a command time out is hung (or gone without a word): drop the connection.
   * Commands queued behind the one in flight are refused at once instead of each waiting out a
   * timeout of its own (ioredis sends one auto-pipeline at a time), and new ones fail fast until a
   * reconnect gets a ready Redis again.
   */
  private dropHungConnection(): void {
    this.lastFailure = 'Command timed out';
    if (this.redis.status === 'ready') this.redis.disconnect(true);
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
      if (error instanceof Error && error.message === 'Command timed out') this.dropHungConnection();
      throw error;
    }
  }
}
