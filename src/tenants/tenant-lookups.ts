/**
 * The tenant lookups the webhook and the workers reuse for a few seconds: by WhatsApp number and by id, each bounded
 * in entries and age. Numbers no tenant owns are kept apart, in a small cache of their own: the webhook looks up its
 * `To` number before any signature can be checked (the number picks the tenant whose token signs), so anyone can
 * send webhooks to random numbers, as many as they like. Those entries push out only each other, never a tenant's,
 * and a flood of them costs at most MAX_UNKNOWN_NUMBERS small entries.
 */
import type { LRUCache } from 'lru-cache';
import { boundedCache } from '../bounded-cache';
import type { ResolvedTenant } from './resolved-tenant';

export interface TenantLookupsOptions {
  /** Most tenants kept, by number and by id each (default 10,000). */
  maxTenants?: number;
  /** Most numbers remembered as unknown (default 1,000). */
  maxUnknownNumbers?: number;
  /** Millisecond clock (tests pass their own). */
  now?: () => number;
}

/** Used when an entry is set without its own time to live. */
const DEFAULT_TTL_MS = 5_000;

/** Recent lookups of tenants, bounded. */
export class TenantLookups {
  private readonly byNumberCache: LRUCache<string, ResolvedTenant>;
  private readonly unknownNumbers: LRUCache<string, true>;
  private readonly byIdCache: LRUCache<string, ResolvedTenant>;

  constructor(options: TenantLookupsOptions = {}) {
    const maxTenants = options.maxTenants ?? 10_000;
    this.byNumberCache = boundedCache({ max: maxTenants, ttlMs: DEFAULT_TTL_MS, now: options.now });
    this.unknownNumbers = boundedCache({ max: options.maxUnknownNumbers ?? 1_000, ttlMs: DEFAULT_TTL_MS, now: options.now });
    this.byIdCache = boundedCache({ max: maxTenants, ttlMs: DEFAULT_TTL_MS, now: options.now });
  }

  /** The tenant owning `number`; null when it is known to be nobody's; undefined when not looked up lately. */
  byNumber(number: string): ResolvedTenant | null | undefined {
    const tenant = this.byNumberCache.get(number);
    if (tenant) return tenant;
    return this.unknownNumbers.has(number) ? null : undefined;
  }

  /** Remembers a lookup by number (null: no tenant owns it) for `ttlMs`. */
  rememberNumber(number: string, tenant: ResolvedTenant | null, ttlMs: number): void {
    if (tenant) {
      this.unknownNumbers.delete(number);
      this.byNumberCache.set(number, tenant, { ttl: ttlMs });
    } else {
      this.byNumberCache.delete(number);
      this.unknownNumbers.set(number, true, { ttl: ttlMs });
    }
  }

  /** Forgets what is known about a number (a tenant was just created with it). */
  forgetNumber(number: string): void {
    this.byNumberCache.delete(number);
    this.unknownNumbers.delete(number);
  }

  /** The tenant with this id, if looked up lately. */
  byId(id: string): ResolvedTenant | undefined {
    return this.byIdCache.get(id);
  }

  /** Remembers a lookup by id for `ttlMs`. */
  rememberId(id: string, tenant: ResolvedTenant, ttlMs: number): void {
    this.byIdCache.set(id, tenant, { ttl: ttlMs });
  }

  /** Forgets everything (a tenant's settings or credentials changed in this process). */
  clear(): void {
    this.byNumberCache.clear();
    this.unknownNumbers.clear();
    this.byIdCache.clear();
  }

  /** How many entries each cache holds now (expired ones dropped first). */
  sizes(): { tenantsByNumber: number; unknownNumbers: number; tenantsById: number } {
    for (const cache of [this.byNumberCache, this.unknownNumbers, this.byIdCache]) cache.purgeStale();
    return { tenantsByNumber: this.byNumberCache.size, unknownNumbers: this.unknownNumbers.size, tenantsById: this.byIdCache.size };
  }
}
