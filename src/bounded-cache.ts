/**
 * Every in-process cache is an LRU bounded in entries and in age (lru-cache), so no traffic, however hostile, can
 * grow a process: the least recently used entry goes when the cache is full, and an entry older than its time to
 * live is never returned (it is dropped when next touched or pushed out). Expired entries are not swept by timers:
 * the entry bound alone caps the memory, and a timer per entry would cost more than the entries.
 */
import { LRUCache } from 'lru-cache';

export interface BoundedCacheOptions<K extends {}, V extends {}> {
  /** Most entries kept. */
  max: number;
  /** Milliseconds an entry may be returned for, counted from when it was set (or last read, with refreshOnRead). */
  ttlMs: number;
  /** Age counts from the last read: an entry in use stays, an idle one expires. */
  refreshOnRead?: boolean;
  /** Also bound the total of sizeOf over the entries (e.g. string lengths), when entries vary widely in size. */
  maxSize?: number;
  sizeOf?: (value: V, key: K) => number;
  /** Millisecond clock (default performance.now); tests pass their own. */
  now?: () => number;
}

/** An LRU cache bounded in entries and age. */
export function boundedCache<K extends {}, V extends {}>(options: BoundedCacheOptions<K, V>): LRUCache<K, V> {
  if (!(options.max >= 1) || !(options.ttlMs > 0))
    throw new RangeError(`a bounded cache needs max >= 1 and ttlMs > 0 (got ${options.max}, ${options.ttlMs})`);
  const now = options.now;
  return new LRUCache<K, V>({
    max: options.max,
    ttl: options.ttlMs,
    updateAgeOnGet: options.refreshOnRead ?? false,
    // lru-cache reuses one clock reading for ttlResolution ms through a timer; reading the clock each time is
    // cheaper than that timer, and an injected clock must be read when it is asked.
    ttlResolution: 0,
    // lru-cache takes a start time of 0 to mean "no expiry", so a test clock starting at 0 is shifted by 1 ms.
    ...(now ? { perf: { now: () => now() + 1 } } : {}),
    ...(options.maxSize !== undefined && options.sizeOf ? { maxSize: options.maxSize, sizeCalculation: options.sizeOf } : {}),
  });
}
