/**
 * Tenants' month-to-date spend for the budget check, read from the usage rows at most once per `ttlMs` per tenant
 * and kept for at most `maxTenants` tenants (the least recently checked go first).
 */
import { boundedCache } from '../bounded-cache';
import { parseDollars } from './cost';

export interface SpendCacheOptions {
  /** How long a tenant's spend is reused. */
  ttlMs: number;
  /** Most tenants whose spend is kept (default 10,000). */
  maxTenants?: number;
  /** Millisecond clock (tests pass their own). */
  now?: () => number;
}

/** A reader of tenants' spend (in picodollars, as parseDollars gives it) that reuses recent answers. */
export function cachedSpend(
  read: (tenantId: string) => Promise<string>,
  options: SpendCacheOptions,
): (tenantId: string) => Promise<bigint> {
  // A zero or negative time means "read every time": the shortest time to live lru-cache accepts, 1 ms.
  const cache = boundedCache<string, bigint>({ max: options.maxTenants ?? 10_000, ttlMs: Math.max(1, options.ttlMs), now: options.now });
  return async (tenantId) => {
    const cached = cache.get(tenantId);
    if (cached !== undefined) return cached;
    const spend = parseDollars(await read(tenantId));
    cache.set(tenantId, spend);
    return spend;
  };
}
