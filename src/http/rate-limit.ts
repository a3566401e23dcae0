/**
 * In-memory token buckets, one per key (a client IP, an interaction id). Each bucket holds up to `burst` tokens and
 * refills at `perMinute`; a request takes one token or is refused with the seconds until the next one. The state
 * is per process: with N web instances a client gets up to N times the rate, which is acceptable for abuse damping
 * (not for quotas). Buckets live in an LRU bounded in keys and age: a bucket untouched for as long as a full refill
 * takes is forgotten (it would be full again, so nothing changes), and past `maxKeys` keys the least recently seen
 * goes first. Only a flood of more than `maxKeys` distinct keys within one refill period can hand a key that was
 * pushed out a fresh burst: the price of a memory bound that no number of clients can exceed.
 */
import type { LRUCache } from 'lru-cache';
import { boundedCache } from '../bounded-cache';

export interface RateLimitOptions {
  /** Tokens refilled per minute. */
  perMinute: number;
  /** Bucket size: how many requests may come at once. */
  burst: number;
  /** Clock in milliseconds (tests pass a fake one). */
  now?: () => number;
  /** Most keys tracked at once (default 10,000). */
  maxKeys?: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** A bucket refilling slower than this is still forgotten after a day idle. */
const DAY_MS = 24 * 3_600_000;

export type RateLimitDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** A keyed token-bucket limiter. */
export class TokenBucketLimiter {
  private readonly buckets: LRUCache<string, Bucket>;
  private readonly now: () => number;
  private readonly refillPerMs: number;

  constructor(private readonly options: RateLimitOptions) {
    this.now = options.now ?? Date.now;
    this.refillPerMs = options.perMinute / 60_000;
    this.buckets = boundedCache({
      max: options.maxKeys ?? 10_000,
      ttlMs: Math.min(Math.ceil(options.burst / this.refillPerMs), DAY_MS),
      now: this.now,
    });
  }

  /** Keys with a bucket that is not full yet (what the limiter holds in memory). */
  trackedKeys(): number {
    this.buckets.purgeStale();
    return this.buckets.size;
  }

  /** Takes one token for `key`, or says how long to wait. */
  take(key: string): RateLimitDecision {
    const now = this.now();
    const bucket = this.refilled(this.buckets.get(key), now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      this.buckets.set(key, bucket);
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
}
