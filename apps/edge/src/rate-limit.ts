/**
 * Per-client token buckets, as nginx's `limit_req ... burst=N nodelay`: up to burst + 1 requests at
 * once, then `perSecond` on average. Idle clients' buckets refill to full and are forgotten.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; updated: number }>();
  private readonly capacity: number;

  constructor(
    private readonly perSecond: number,
    burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.capacity = burst + 1;
  }

  /** Takes a token for `key`; false when its bucket is empty. */
  take(key: string): boolean {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.capacity, updated: now };
    bucket.tokens = Math.min(this.capacity, bucket.tokens + ((now - bucket.updated) / 1_000) * this.perSecond);
    bucket.updated = now;
    if (bucket.tokens < 1) {
      this.buckets.set(key, bucket);
      return false;
    }
    bucket.tokens -= 1;
    this.buckets.set(key, bucket);
    if (this.buckets.size > 10_000) this.forgetIdle(now);
    return true;
  }

  /** Drops buckets that would be full by now: they carry no information. */
  forgetIdle(now = this.now()): void {
    const refill = (this.capacity / this.perSecond) * 1_000;
    for (const [key, bucket] of this.buckets) if (now - bucket.updated >= refill) this.buckets.delete(key);
  }

  get size(): number {
    return this.buckets.size;
  }
}
