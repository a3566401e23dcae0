/**
 * Each instance's view of the tenants' (kind, tier) posteriors, which live in PostgreSQL and are shared by every
 * instance. Like the circuit breakers, a decision reads an in-memory snapshot (no query on the routing path) that
 * is refreshed at most every `refreshMs` per tenant; the cache is bounded in tenants and age.
 */
import { LRUCache } from 'lru-cache';
import { cellKey, type PosteriorCells } from './tier-policy';

/** Where the observations come from (db/repositories/routing-posterior-repository.ts). */
export interface PosteriorSource {
  cells(tenantId: string): Promise<Array<{ messageKind: string; tier: string; good: number; bad: number }>>;
}

export interface RoutingPosteriorsOptions {
  /** How old a tenant's snapshot may be before a decision refreshes it. */
  refreshMs: number;
  /** How many tenants' snapshots one process keeps. */
  maxTenants: number;
}

const EMPTY: PosteriorCells = new Map();

/** The posteriors as seen by this instance. */
export class RoutingPosteriors {
  private readonly snapshots: LRUCache<string, { cells: PosteriorCells; loadedAt: number }>;
  private readonly loading = new Map<string, Promise<void>>();
  private readonly options: RoutingPosteriorsOptions;

  constructor(
    private readonly source: PosteriorSource,
    options: Partial<RoutingPosteriorsOptions> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.options = { refreshMs: 2_000, maxTenants: 10_000, ...options };
    this.snapshots = new LRUCache({ max: this.options.maxTenants });
  }

  /** Reloads the tenant's snapshot when it is older than refreshMs; concurrent callers share one query. */
  async ensureFresh(tenantId: string): Promise<void> {
    const current = this.snapshots.get(tenantId);
    if (current && this.now() - current.loadedAt < this.options.refreshMs) return;
    let pending = this.loading.get(tenantId);
    if (!pending) {
      pending = this.load(tenantId).finally(() => this.loading.delete(tenantId));
      this.loading.set(tenantId, pending);
    }
    await pending;
  }

  /** The tenant's cells as last loaded (empty before the first load). */
  cells(tenantId: string): PosteriorCells {
    return this.snapshots.get(tenantId)?.cells ?? EMPTY;
  }

  /** Forgets a tenant's snapshot, so the next decision reads the database (after feedback in this process). */
  invalidate(tenantId: string): void {
    this.snapshots.delete(tenantId);
  }

  private async load(tenantId: string): Promise<void> {
    const rows = await this.source.cells(tenantId);
    const cells = new Map(rows.map((row) => [cellKey(row.messageKind, row.tier), { good: row.good, bad: row.bad }]));
    this.snapshots.set(tenantId, { cells, loadedAt: this.now() });
  }
}
