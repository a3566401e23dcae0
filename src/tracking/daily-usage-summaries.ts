/**
 * Daily usage summaries: one INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO UPDATE per UTC day turns that day's
 * provider_usage rows into one ProviderDailySummary per tenant, provider and model. Percentiles are computed by
 * PostgreSQL (percentile_cont), never by loading latencies into memory. The per-group figures are shared with the
 * live "today" report (usage-report.ts).
 */
import type { EntityManager } from 'typeorm';
import { retentionDaysSql } from './usage-retention-sql';

export const DEFAULT_RETENTION_DAYS = 90;

/** The per-group figures, shared by the summary upsert and the live "today" report. */
export const USAGE_AGGREGATES_SQL = `
  count(*)::int AS total_calls,
  (count(*) FILTER (WHERE u.success))::int AS successful_calls,
  (count(*) FILTER (WHERE NOT u.success))::int AS failed_calls,
  COALESCE(sum(u.input_tokens), 0)::bigint AS input_tokens,
  COALESCE(sum(u.cached_input_tokens), 0)::bigint AS cached_input_tokens,
  COALESCE(sum(u.output_tokens), 0)::bigint AS output_tokens,
  COALESCE(sum(u.total_tokens), 0)::bigint AS total_tokens,
  COALESCE(sum(u.cost_usd), 0)::numeric(24,12) AS total_cost_usd,
  round(avg(u.latency_ms), 3)::numeric(12,3) AS avg_latency_ms,
  round(percentile_cont(0.5) WITHIN GROUP (ORDER BY u.latency_ms)::numeric, 3)::numeric(12,3) AS p50_latency_ms,
  round(percentile_cont(0.95) WITHIN GROUP (ORDER BY u.latency_ms)::numeric, 3)::numeric(12,3) AS p95_latency_ms,
  round(percentile_cont(0.99) WITHIN GROUP (ORDER BY u.latency_ms)::numeric, 3)::numeric(12,3) AS p99_latency_ms,
  (count(*) FILTER (WHERE u.was_failover))::int AS failover_count`;

// $1 day, $2 default retention days, $3 optional tenant. A final summary (computed after its day ended) of a day
// past the tenant's retention is frozen: cleanup deletes exactly those groups' rows, and recomputing from what is
// left would shrink it. Groups without a final summary still have all their rows, so they can be aggregated late.
const AGGREGATE_DAY_SQL = `
INSERT INTO provider_daily_summaries AS s
  (tenant_id, date, provider, model, total_calls, successful_calls, failed_calls, input_tokens, cached_input_tokens,
   output_tokens, total_tokens, total_cost_usd, avg_latency_ms, p50_latency_ms, p95_latency_ms, p99_latency_ms,
   failover_count, computed_at)
SELECT u.tenant_id, $1::date, u.provider, u.model, ${USAGE_AGGREGATES_SQL}, clock_timestamp()
FROM provider_usage u
WHERE u.created_at >= ($1::date)::timestamp AT TIME ZONE 'UTC'
  AND u.created_at < ($1::date + 1)::timestamp AT TIME ZONE 'UTC'
  AND ($3::uuid IS NULL OR u.tenant_id = $3::uuid)
GROUP BY u.tenant_id, u.provider, u.model
ON CONFLICT (tenant_id, date, provider, model) DO UPDATE SET
  total_calls = EXCLUDED.total_calls, successful_calls = EXCLUDED.successful_calls, failed_calls = EXCLUDED.failed_calls,
  input_tokens = EXCLUDED.input_tokens, cached_input_tokens = EXCLUDED.cached_input_tokens,
  output_tokens = EXCLUDED.output_tokens, total_tokens = EXCLUDED.total_tokens, total_cost_usd = EXCLUDED.total_cost_usd,
  avg_latency_ms = EXCLUDED.avg_latency_ms, p50_latency_ms = EXCLUDED.p50_latency_ms,
  p95_latency_ms = EXCLUDED.p95_latency_ms, p99_latency_ms = EXCLUDED.p99_latency_ms,
  failover_count = EXCLUDED.failover_count, computed_at = EXCLUDED.computed_at
WHERE s.computed_at < (s.date + 1)::timestamp AT TIME ZONE 'UTC'
   OR s.date >= (now() AT TIME ZONE 'UTC')::date - (SELECT ${retentionDaysSql('t', '$2')} FROM tenants t WHERE t.id = s.tenant_id)
RETURNING s.id`;

export interface DaySummaryOptions {
  defaultRetentionDays?: number;
  /** Only this tenant (tests, support); every tenant by default. */
  tenantId?: string;
}

/** Recomputes the summaries of one UTC day; returns how many summary rows were written. */
export async function aggregateDay(manager: EntityManager, day: string, options: DaySummaryOptions = {}): Promise<number> {
  const rows: unknown[] = await manager.query(AGGREGATE_DAY_SQL, [
    day,
    options.defaultRetentionDays ?? DEFAULT_RETENTION_DAYS,
    options.tenantId ?? null,
  ]);
  return rows.length;
}
