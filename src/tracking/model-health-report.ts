/** Per-model health for a tenant: calls, success rate and latency percentiles over a window, with the shared breaker state. */
import type { EntityManager } from 'typeorm';

export interface ModelHealth {
  provider: string;
  model: string;
  calls: number;
  successes: number;
  /** successes / calls, rounded to 4 decimals; null without calls. */
  successRate: number | null;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  breaker: { state: 'closed' | 'open' | 'half_open'; since: string | null; consecutiveFailures: number };
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

/** Health of every model the tenant called in the window, plus every model whose breaker is not closed. */
export async function queryProviderHealth(manager: EntityManager, tenantId: string, windowMinutes: number): Promise<ModelHealth[]> {
  const rows: HealthRow[] = await manager.query(
    `WITH usage AS (
       SELECT provider, model, count(*)::int AS calls, count(*) FILTER (WHERE success)::int AS successes,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95
         FROM provider_usage
        WHERE tenant_id = $1 AND created_at > now() - make_interval(mins => $2::int)
        GROUP BY provider, model
     )
     SELECT COALESCE(usage.provider, breakers.provider) AS provider, COALESCE(usage.model, breakers.model) AS model,
            usage.calls, usage.successes, usage.p50, usage.p95,
            breakers.state, breakers.opened_at, breakers.closed_at, breakers.consecutive_failures
       FROM usage
       FULL JOIN (SELECT * FROM llm_circuit_breakers) breakers ON breakers.provider = usage.provider AND breakers.model = usage.model
      WHERE usage.calls IS NOT NULL OR breakers.state <> 'closed'
      ORDER BY 1, 2`,
    [tenantId, windowMinutes],
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
      },
    };
  });
}
