/**
 * Per-model health for a tenant: calls, success rate and latency percentiles over a window (its own attempts), with
 * the state of the breaker that applies to it: the one of the credential it reaches the model with now (its own
 * key's, or the platform's shared one). Another tenant's breakers are never read.
 */
import type { EntityManager } from 'typeorm';
import type { TenantProviderCredential } from '../llm/tenant-breakers';

export interface ModelHealth {
  provider: string;
  model: string;
  calls: number;
  successes: number;
  /** successes / calls, rounded to 4 decimals; null without calls. */
  successRate: number | null;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  breaker: {
    state: 'closed' | 'open' | 'half_open';
    since: string | null;
    consecutiveFailures: number;
    /** Whose credential the breaker guards: the platform's (shared) or the tenant's own; null when the tenant no longer reaches the provider. */
    credential: 'platform' | 'tenant' | null;
  };
}

interface HealthRow {
  provider: string;
  model: string;
  calls: number | null;
  successes: number | null;
  p50: number | null;
  p95: number | null;
  state: ModelHealth['breaker']['state'] | null;
  opened_at: Date | null;
  closed_at: Date | null;
  consecutive_failures: number | null;
}

/**
 * Health of every model the tenant called in the window, plus every model whose applicable breaker is not closed.
 * `credentials` are the tenant's credential per provider (llm/tenant-breakers.ts): only their breakers are read.
 */
export async function queryProviderHealth(
  manager: EntityManager,
  tenantId: string,
  windowMinutes: number,
  credentials: TenantProviderCredential[],
): Promise<ModelHealth[]> {
  const rows: HealthRow[] = await manager.query(
    `WITH usage AS (
       SELECT provider, model, count(*)::int AS calls, count(*) FILTER (WHERE success)::int AS successes,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95
         FROM provider_usage
        WHERE tenant_id = $1 AND created_at > now() - make_interval(mins => $2::int)
        GROUP BY provider, model
     ),
     breakers AS (
       -- One credential per provider, so at most one breaker per model. The tenant_id condition holds even if a
       -- fingerprint were wrong: a row is the tenant's own or the platform's, never another tenant's.
       SELECT b.provider, b.model, b.state, b.opened_at, b.closed_at, b.consecutive_failures
         FROM llm_circuit_breakers b
         JOIN unnest($3::text[], $4::text[]) AS applicable(provider, fingerprint)
           ON applicable.provider = b.provider AND applicable.fingerprint = b.credential_fingerprint
        WHERE b.tenant_id = $1 OR b.tenant_id IS NULL
     )
     SELECT COALESCE(usage.provider, breakers.provider) AS provider, COALESCE(usage.model, breakers.model) AS model,
            usage.calls, usage.successes, usage.p50, usage.p95,
            breakers.state, breakers.opened_at, breakers.closed_at, breakers.consecutive_failures
       FROM usage
       FULL JOIN breakers ON breakers.provider = usage.provider AND breakers.model = usage.model
      WHERE usage.calls IS NOT NULL OR breakers.state <> 'closed'
      ORDER BY 1, 2`,
    [
      tenantId,
      windowMinutes,
      credentials.map((credential) => credential.provider),
      credentials.map((credential) => credential.fingerprint),
    ],
  );
  const owners = new Map(
    credentials.map((credential) => [credential.provider, credential.tenantId === null ? ('platform' as const) : ('tenant' as const)]),
  );
  return rows.map((row) => {
    const calls = row.calls ?? 0;
    const state = row.state ?? 'closed';
    return {
      provider: row.provider,
      model: row.model,
      calls,
      successes: row.successes ?? 0,
      successRate: calls ? Math.round(((row.successes ?? 0) / calls) * 10_000) / 10_000 : null,
      latencyP50Ms: row.p50 === null ? null : Math.round(Number(row.p50)),
      latencyP95Ms: row.p95 === null ? null : Math.round(Number(row.p95)),
      breaker: {
        state,
        // A breaker that never opened has been closed since its row was created, or since always.
        since: (state === 'closed' ? row.closed_at : row.opened_at)?.toISOString() ?? null,
        consecutiveFailures: row.consecutive_failures ?? 0,
        credential: owners.get(row.provider) ?? null,
      },
    };
  });
}
