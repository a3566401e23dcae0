import { describe, expect, it } from 'vitest';
import { TokenBucketLimiter } from '../../src/http/rate-limit';

describe('TokenBucketLimiter', () => {
  it('allows a burst, then refills at the configured rate, per key', () => {
    let now = 0;
    const limiter = new TokenBucketLimiter({ perMinute: 60, burst: 3, now: () => now });
    expect([1, 2, 3].map(() => limiter.take('a').allowed)).toEqual([true, true, true]);
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(limiter.take('b').allowed).toBe(true);
    now += 1000;
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
    now += 60_000;
    expect([1, 2, 3, 4].map(() => limiter.take('a').allowed)).toEqual([true, true, true, false]);
  });

  it('forgets idle buckets when the map grows, without letting a busy key reset', () => {
    let now = 0;
    const limiter = new TokenBucketLimiter({ perMinute: 1, burst: 1, now: () => now, maxKeys: 2 });
    expect(limiter.take('busy').allowed).toBe(true);
    now += 120_000;
    limiter.take('x');
    expect(limiter.take('y').allowed).toBe(true);
    // 'x' and 'y' were just drained; sweeping them would give a free token, and it must not.
    expect(limiter.take('x').allowed).toBe(false);
    expect(limiter.take('y').allowed).toBe(false);
  });
});
