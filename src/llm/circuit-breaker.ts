/**
 * Circuit breakers per (provider, model, credential), shared by every instance through PostgreSQL. The credential
 * is the fingerprint of the key and base URL a request uses (llm/provider-credential.ts): the platform's key is one
 * credential, so its breaker is shared by every tenant on it; a tenant's own key opens only that tenant's breaker.
 * The health window is read from provider_usage (the attempts every instance records, each with its credential's
 * fingerprint), so all instances judge the same history. Reads come from an in-memory snapshot refreshed at least
 * every `refreshMs` (well under the 5 s visibility target), so skipping an open breaker costs no query; the
 * half-open probe is claimed atomically in SQL.
 */
import crypto from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { BreakerState } from '../db/entities/circuit-breaker-state';
import { runAsSharedLoad } from '../db/fair-connections';
import { type ModelRef, modelKey } from './catalog/model-catalog';
import type { ProviderCredential } from './provider-credential';
import type { UpstreamErrorKind } from './types';

export interface CircuitBreakerOptions {
  windowMs: number;
  minimumCalls: number;
  failureRateThreshold: number;
  consecutiveFailures: number;
  cooldownMs: number;
  /** A probe that has not reported after this long is presumed lost; another instance may probe. */
  probeLeaseMs: number;
  refreshMs: number;
}

export const DEFAULT_BREAKER_OPTIONS: CircuitBreakerOptions = {
  windowMs: 60 * 60_000,
  minimumCalls: 5,
  failureRateThreshold: 0.5,
  consecutiveFailures: 3,
  cooldownMs: 30_000,
  probeLeaseMs: 60_000,
  refreshMs: 2_000,
};

/**
 * Failures that say something about the health of a model reached with one credential: a rejected key (auth) or an
 * exhausted quota (rate_limit) are the credential's, which is why a breaker is per credential. A bad request, a
 * blocked answer or a destination Parley refuses to call (forbidden_destination) say nothing of the provider.
 */
export const HEALTH_FAILURE_KINDS: ReadonlySet<UpstreamErrorKind> = new Set(['rate_limit', 'timeout', 'server', 'network', 'auth']);

export type BreakerPermit = 'closed' | 'probe' | 'open';

/** One breaker: a model reached with one credential. */
export interface BreakerTarget extends ModelRef {
  credential: ProviderCredential;
}

/** The snapshot's key of a breaker. */
function breakerKey(target: ModelRef & { credential: Pick<ProviderCredential, 'fingerprint'> }): string {
  return `${modelKey(target)}#${target.credential.fingerprint}`;
}

interface Snapshot {
  state: BreakerState;
  consecutiveFailures: number;
  openedAt: number | null;
  probeClaimedAt: number | null;
}

interface BreakerRow {
  provider: string;
  model: string;
  credential_fingerprint: string;
  state: BreakerState;
  consecutive_failures: number;
  opened_at: Date | null;
  closed_at: Date;
  probe_claimed_at: Date | null;
}

const COLUMNS = 'provider, model, credential_fingerprint, state, consecutive_failures, opened_at, closed_at, probe_claimed_at';

/** The primary key of a breaker's row, as query parameters $1..$3. */
function identify(target: BreakerTarget): [string, string, string] {
  return [target.provider, target.model, target.credential.fingerprint];
}

/** The shared breakers as seen by this instance. */
export class CircuitBreaker {
  readonly options: CircuitBreakerOptions;
  /** Identifies this instance's probe claims. */
  readonly instanceId = crypto.randomUUID().slice(0, 18);
  private snapshot = new Map<string, Snapshot>();
  private refreshedAt = -Infinity;
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly manager: EntityManager,
    options: Partial<CircuitBreakerOptions> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.options = { ...DEFAULT_BREAKER_OPTIONS, ...options };
  }

  /** Reloads the snapshot when it is older than refreshMs (one small query for every breaker). */
  async ensureFresh(): Promise<void> {
    if (this.now() - this.refreshedAt < this.options.refreshMs) return;
    // Every tenant's turns wait for this refresh: it must not queue behind the backlog of the tenant that started it.
    this.refreshing ??= runAsSharedLoad(() => this.refresh()).finally(() => {
      this.refreshing = null;
    });
    await this.refreshing;
  }

  /**
   * Reloads the snapshot now. Only breakers that are not healthy are loaded (open, probing, or with failures in a
   * row): a missing one is closed with none, so the snapshot stays small however many tenants bring their own keys.
   */
  async refresh(): Promise<void> {
    const rows: BreakerRow[] = await this.manager.query(
      `SELECT ${COLUMNS} FROM llm_circuit_breakers WHERE state <> 'closed' OR consecutive_failures > 0`,
    );
    this.snapshot = new Map(
      rows.map((row) => [breakerKey({ ...row, credential: { fingerprint: row.credential_fingerprint } }), this.toSnapshot(row)]),
    );
    this.refreshedAt = this.now();
  }

  /** True while the breaker is open or another instance holds the probe: the router skips the model. */
  isOpen(target: BreakerTarget): boolean {
    const current = this.snapshot.get(breakerKey(target));
    if (!current || current.state === 'closed') return false;
    // Another instance is probing; once its claim is stale the model is offered again so someone can re-probe.
    if (current.state === 'half_open') return this.now() - (current.probeClaimedAt ?? 0) < this.options.probeLeaseMs;
    return this.now() - (current.openedAt ?? 0) < this.options.cooldownMs;
  }

  /** May this instance call the model now? After the cooldown exactly one instance wins the probe. */
  async acquire(target: BreakerTarget): Promise<BreakerPermit> {
    const key = breakerKey(target);
    const current = this.snapshot.get(key);
    if (!current || current.state === 'closed') return 'closed';
    if (current.state === 'open' && this.now() - (current.openedAt ?? 0) < this.options.cooldownMs) return 'open';
    const claimed = await this.update(
      `UPDATE llm_circuit_breakers
          SET state = 'half_open', probe_claimed_at = now(), probe_owner = $4, updated_at = now()
        WHERE provider = $1 AND model = $2 AND credential_fingerprint = $3
          AND ((state = 'open' AND opened_at <= now() - make_interval(secs => $5::double precision / 1000))
            OR (state = 'half_open' AND probe_claimed_at <= now() - make_interval(secs => $6::double precision / 1000)))
        RETURNING ${COLUMNS}`,
      [...identify(target), this.instanceId, this.options.cooldownMs, this.options.probeLeaseMs],
    );
    if (claimed.length === 1) {
      this.snapshot.set(key, this.toSnapshot(claimed[0]));
      return 'probe';
    }
    // Someone else probes (or the state moved on): treat as open until the next refresh says otherwise.
    this.snapshot.set(key, { ...current, state: 'half_open', probeClaimedAt: current.probeClaimedAt ?? this.now() });
    return 'open';
  }

  /** A successful call: resets the consecutive count, and closes the breaker after a probe. */
  async recordSuccess(target: BreakerTarget): Promise<void> {
    const key = breakerKey(target);
    const current = this.snapshot.get(key);
    // The common case, a healthy model, costs no write.
    if (!current || (current.state === 'closed' && current.consecutiveFailures === 0)) return;
    const rows = await this.update(
      `UPDATE llm_circuit_breakers
          SET consecutive_failures = 0,
              state = CASE WHEN state = 'half_open' THEN 'closed' ELSE state END,
              closed_at = CASE WHEN state = 'half_open' THEN now() ELSE closed_at END,
              probe_claimed_at = NULL, probe_owner = NULL, updated_at = now()
        WHERE provider = $1 AND model = $2 AND credential_fingerprint = $3
        RETURNING ${COLUMNS}`,
      identify(target),
    );
    if (rows[0]) this.snapshot.set(key, this.toSnapshot(rows[0]));
  }

  /**
   * A failed call (recorded in provider_usage first): opens the breaker after `consecutiveFailures` in a row,
   * when the window's failure rate reaches the threshold over enough calls, or when a probe fails.
   */
  async recordFailure(target: BreakerTarget, kind: UpstreamErrorKind): Promise<void> {
    if (!HEALTH_FAILURE_KINDS.has(kind)) return;
    const key = breakerKey(target);
    const [row]: BreakerRow[] = await this.manager.query(
      // A new breaker has never closed: its window reaches back the full health window ('epoch').
      `INSERT INTO llm_circuit_breakers (provider, model, credential_fingerprint, tenant_id, state, consecutive_failures, closed_at, updated_at)
       VALUES ($1, $2, $3, $4, 'closed', 1, 'epoch', now())
       ON CONFLICT (provider, model, credential_fingerprint) DO UPDATE
         SET consecutive_failures = llm_circuit_breakers.consecutive_failures + 1, updated_at = now()
       RETURNING ${COLUMNS}`,
      [...identify(target), target.credential.tenantId],
    );
    let open = row.state === 'half_open' || row.consecutive_failures >= this.options.consecutiveFailures;
    if (!open && row.state === 'closed') {
      const [window]: Array<{ calls: number; failures: number }> = await this.manager.query(
        // Only the attempts made with this credential: another tenant's key says nothing about this one.
        `SELECT count(*)::int AS calls,
                count(*) FILTER (WHERE NOT success)::int AS failures
           FROM provider_usage
          WHERE credential_fingerprint = $3 AND model = $2 AND provider = $1
            AND created_at > greatest(now() - make_interval(secs => $4::double precision / 1000), $5::timestamptz)
            AND (success OR error_kind = ANY($6::text[]))`,
        [...identify(target), this.options.windowMs, row.closed_at, [...HEALTH_FAILURE_KINDS]],
      );
      open = window.calls >= this.options.minimumCalls && window.failures / window.calls >= this.options.failureRateThreshold;
    }
    if (!open || row.state === 'open') {
      this.snapshot.set(key, this.toSnapshot(row));
      return;
    }
    const [opened] = await this.update(
      `UPDATE llm_circuit_breakers
          SET state = 'open', opened_at = now(), probe_claimed_at = NULL, probe_owner = NULL, updated_at = now()
        WHERE provider = $1 AND model = $2 AND credential_fingerprint = $3
        RETURNING ${COLUMNS}`,
      identify(target),
    );
    this.snapshot.set(key, this.toSnapshot(opened));
  }

  /** Runs an UPDATE ... RETURNING; TypeORM's postgres driver answers those as [rows, affected]. */
  private async update(sql: string, parameters: unknown[]): Promise<BreakerRow[]> {
    const result: unknown = await this.manager.query(sql, parameters);
    return (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as BreakerRow[];
  }

  private toSnapshot(row: BreakerRow): Snapshot {
    // opened_at comes from the database clock; compared with this process's clock, skew only shifts the cooldown.
    const time = (value: Date | null) => (value ? new Date(value).getTime() : null);
    return {
      state: row.state,
      consecutiveFailures: row.consecutive_failures,
      openedAt: time(row.opened_at),
      probeClaimedAt: time(row.probe_claimed_at),
    };
  }
}
