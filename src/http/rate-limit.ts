/**
 * In-memory token buckets, one per key (a client IP, an interaction id). Each bucket holds up to `burst` tokens and
 * refills at `perMinute`; a request takes one token or is refused with the seconds until the next one. The state
 * is per process: with N web instances a client gets up to N times the rate, which is acceptable for abuse damping
 * (not for quotas). Idle buckets are swept once the map grows, so memory stays bounded.
 */

export interface RateLimitOptions {
  /** Tokens refilled per minute. */
  perMinute: number;
  /** Bucket size: how many requests may come at once. */
  burst: number;
  /** Clock in milliseconds (tests pass a fake one). */
  now?: () => number;
  /** Sweep idle buckets when the map holds more keys than this. */
  maxKeys?: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export type RateLimitDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** A keyed token-bucket limiter. */
export class TokenBucketLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;
  private readonly refillPerMs: number;

  constructor(private readonly options: RateLimitOptions) {
    this.now = options.now ?? Date.now;
    this.refillPerMs = options.perMinute / 60_000;
  }

  /** Takes one token for `key`, or says how long to wait. */
  take(key: string): RateLimitDecision {
    const now = this.now();
    const bucket = this.refilled(this.buckets.get(key), now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      this.buckets.set(key, bucket);
      if (this.buckets.size > (this.options.maxKeys ?? 10_000)) this.sweep(now);
      return { allowed: true };
    }
    this.buckets.set(key, bucket);
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.refillPerMs / 1000)) };
  }

  private refilled(bucket: Bucket | undefined, now: number): Bucket {
    if (!bucket) return { tokens: this.options.burst, updatedAt: now };
    const tokens = Math.min(this.options.burst, bucket.tokens + (now - bucket.updatedAt) * this.refillPerMs);
    return { tokens, updatedAt: now };
  }

  /** Drops buckets that have refilled completely: forgetting them changes nothing. */
  private sweep(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (this.refilled(bucket, now).tokens >= this.options.burst) this.buckets.delete(key);
    }
  }
}
