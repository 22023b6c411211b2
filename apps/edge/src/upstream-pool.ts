/**
 * Which api instance a try goes to, and what a failed try leads to, as nginx's upstream module
 * decides them (round robin, max_fails=1 fail_timeout, proxy_next_upstream). Pure: no sockets, a
 * clock of its own, so tests drive it try by try.
 */
import { edge, isRetryable } from '@three-tier/shared';

/** One try of one request against one upstream. */
export interface Attempt<Upstream> {
  /** Where the upstream is in the pool's list. */
  readonly index: number;
  readonly upstream: Upstream;
  /** The connection opened, so the request may have reached the api. */
  connected: boolean;
  timedOut: boolean;
}

/** Every try of one request, in order: what the pool reads to choose the next one and to judge a failure. */
export class Tries<Upstream> {
  readonly attempts: Attempt<Upstream>[] = [];

  constructor(readonly method: string) {}

  /** The try under way, or the one that just failed. */
  get last(): Attempt<Upstream> | undefined {
    return this.attempts[this.attempts.length - 1];
  }

  /** Whether a try of this request went to the upstream at `index`. */
  went(index: number): boolean {
    for (const attempt of this.attempts) if (attempt.index === index) return true;
    return false;
  }
}

/** What a failed try leads to: another try, or the edge's answer (`edgeProblems` names them). */
export type TryVerdict = 'retry' | 'badGateway' | 'gatewayTimeout';

export interface UpstreamPoolOptions {
  /** Tries per request, the first included. */
  readonly tries: number;
  /** How long an instance that failed a try is passed over. */
  readonly failTimeoutMs: number;
  readonly now: () => number;
}

/** An upstream and until when it is passed over. */
interface Slot<Upstream> {
  readonly index: number;
  readonly upstream: Upstream;
  failedUntil: number;
}

const contract: UpstreamPoolOptions = {
  tries: edge.upstreamTries,
  failTimeoutMs: edge.upstreamFailTimeoutMs,
  now: () => performance.now(),
};

/**
 * The api instances a request may go to. Concurrent requests share one round-robin turn; a retry
 * never goes where its request already went while another is left; an instance that failed a try
 * is passed over for `failTimeoutMs`, unless every one left failed lately: then one is tried anyway,
 * as nginx does.
 */
export class UpstreamPool<Upstream> {
  private turn = 0;
  private readonly slots: Slot<Upstream>[];
  private readonly options: UpstreamPoolOptions;

  constructor(upstreams: readonly Upstream[], options: Partial<UpstreamPoolOptions> = {}) {
    if (upstreams.length === 0) throw new Error('an upstream pool needs at least one upstream');
    this.options = { ...contract, ...options };
    this.slots = upstreams.map((upstream, index) => ({ index, upstream, failedUntil: Number.NEGATIVE_INFINITY }));
  }

  /** Chooses the upstream of the next try of `tries` and records the try there. */
  next(tries: Tries<Upstream>): Attempt<Upstream> {
    const { slots } = this;
    const now = this.options.now();
    const start = this.turn++ % slots.length;
    let chosen: Slot<Upstream> | undefined;
    let fallback: Slot<Upstream> | undefined;
    for (let offset = 0; offset < slots.length && !chosen; offset += 1) {
      const slot = slots[(start + offset) % slots.length];
      if (!slot || tries.went(slot.index)) continue;
      if (slot.failedUntil <= now) chosen = slot;
      else fallback ??= slot;
    }
    // Every instance left failed lately: the first of them in turn. None left (fewer instances
    // than tries): the one whose turn it is, tried again.
    chosen ??= fallback ?? slots[start];
    if (!chosen) throw new Error('no upstream to choose');
    const attempt: Attempt<Upstream> = { index: chosen.index, upstream: chosen.upstream, connected: false, timedOut: false };
    tries.attempts.push(attempt);
    return attempt;
  }

  /**
   * Records that the last try of `tries` failed, and says what follows. As nginx: a request that
   * never reached an api instance may go to another whatever its method; one that may have reached
   * it is replayed only when that is safe (GET, HEAD); never more than `tries` tries.
   */
  failed(tries: Tries<Upstream>): TryVerdict {
    const attempt = tries.last;
    const slot = attempt && this.slots[attempt.index];
    if (!attempt || !slot) throw new Error('no try of this request to fail');
    slot.failedUntil = this.options.now() + this.options.failTimeoutMs;
    const replayable = !attempt.connected || isRetryable(tries.method);
    if (replayable && tries.attempts.length < this.options.tries) return 'retry';
    return attempt.timedOut ? 'gatewayTimeout' : 'badGateway';
  }
}
