/**
 * The usage breakdowns the dashboard's charts need and the usage API does not give: cost per UTC day per model, and
 * latency percentiles per model over a whole period. Percentiles do not add up across days, so they are computed
 * from the raw attempts of the period (kept for the tenant's retention, 90 days by default), in SQL.
 */
import type { EntityManager } from 'typeorm';

export interface DailyModelCost {
  date: string;
  provider: string;
  model: string;
  calls: number;
  failedCalls: number;
  /** Dollars, exact decimal string. */
  costUsd: string;
}

export interface ModelLatency {
  provider: string;
  model: string;
  calls: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

/** Cost and calls per UTC day and model, and latency percentiles per model, over the tenant's last `days` days. */
export async function queryUsageBreakdown(
  manager: EntityManager,
  tenantId: string,
  days: number,
): Promise<{ byDayAndModel: DailyModelCost[]; latencyByModel: ModelLatency[] }> {
  // Whole UTC days: today and the days - 1 before it, like the charts' x axis.
  const window = `tenant_id = $1 AND created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - make_interval(days => $2::int - 1)`;
  const dailyRows: Array<{ date: string; provider: string; model: string; calls: number; failed_calls: number; cost_usd: string }> =
    await manager.query(
      `SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS date, provider, model,
            count(*)::int AS calls, count(*) FILTER (WHERE NOT success)::int AS failed_calls, sum(cost_usd)::text AS cost_usd
       FROM provider_usage WHERE ${window}
      GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      [tenantId, days],
    );
  const latencyRows: Array<{ provider: string; model: string; calls: number; p50: number | null; p95: number | null; p99: number | null }> =
    await manager.query(
      `SELECT provider, model, count(*)::int AS calls,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY latency_ms) AS p99
       FROM provider_usage WHERE ${window} AND success
      GROUP BY 1, 2 ORDER BY 1, 2`,
      [tenantId, days],
    );
  const rounded = (value: number | null) => (value === null ? null : Math.round(Number(value)));
  return {
    byDayAndModel: dailyRows.map((row) => ({
      date: row.date,
      provider: row.provider,
      model: row.model,
      calls: row.calls,
      failedCalls: row.failed_calls,
      costUsd: row.cost_usd,
    })),
    latencyByModel: latencyRows.map((row) => ({
      provider: row.provider,
      model: row.model,
      calls: row.calls,
      p50Ms: rounded(row.p50),
      p95Ms: rounded(row.p95),
      p99Ms: rounded(row.p99),
    })),
  };
}
