/**
 * Usage and spend reports for one tenant. Days whose summary is final (computed after the day ended) come from
 * provider_daily_summaries; today, and any day not yet aggregated, are computed from the raw provider_usage rows
 * with the same SQL the aggregation job uses, so a dashboard is current without waiting for the hourly job.
 */
import type { EntityManager } from 'typeorm';
import { USAGE_AGGREGATES_SQL } from './daily-usage-summaries';

export type UsageGrouping = 'day' | 'provider' | 'model';

export interface UsageRow {
  date?: string;
  provider?: string;
  model?: string;
  calls: number;
  successfulCalls: number;
  failedCalls: number;
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  totalTokens: number;
  /** Exact dollars as a decimal string. */
  costUsd: string;
  /** Call-weighted average over the grouped days. */
  avgLatencyMs: number | null;
  /** Percentiles do not add up across days: the worst daily p95 of the group. */
  maxDailyP95LatencyMs: number | null;
  failoverCount: number;
}

// $1 tenant, $2 from, $3 to (days, inclusive). One row per day, provider and model.
const DAILY_SQL = `
WITH final_days AS (
  SELECT DISTINCT s.date FROM provider_daily_summaries s
  WHERE s.tenant_id = $1 AND s.date BETWEEN $2::date AND $3::date
    AND s.computed_at >= (s.date + 1)::timestamp AT TIME ZONE 'UTC'
),
live_days AS (
  SELECT d::date AS date
  FROM generate_series($2::date, LEAST($3::date, (now() AT TIME ZONE 'UTC')::date), interval '1 day') AS d
  WHERE d::date NOT IN (SELECT date FROM final_days)
),
daily AS (
  SELECT s.date, s.provider, s.model, s.total_calls, s.successful_calls, s.failed_calls, s.input_tokens, s.cached_input_tokens,
         s.output_tokens, s.total_tokens, s.total_cost_usd, s.avg_latency_ms, s.p95_latency_ms, s.failover_count
  FROM provider_daily_summaries s JOIN final_days f ON f.date = s.date
  WHERE s.tenant_id = $1
  UNION ALL
  SELECT l.date, u.provider, u.model, total_calls, successful_calls, failed_calls, input_tokens, cached_input_tokens,
         output_tokens, total_tokens, total_cost_usd, avg_latency_ms, p95_latency_ms, failover_count
  FROM live_days l
  CROSS JOIN LATERAL (
    SELECT u.provider, u.model, ${USAGE_AGGREGATES_SQL}
    FROM provider_usage u
    WHERE u.tenant_id = $1 AND u.created_at >= l.date::timestamp AT TIME ZONE 'UTC'
      AND u.created_at < (l.date + 1)::timestamp AT TIME ZONE 'UTC'
    GROUP BY u.provider, u.model
  ) u
)`;

const GROUP_COLUMNS: Record<UsageGrouping, string> = { day: 'date', provider: 'provider', model: 'provider, model' };

type Row = Record<string, string | number | null>;

/** Usage of a tenant between two days (inclusive), grouped by day, provider or provider + model. */
export async function usageReport(
  manager: EntityManager,
  tenantId: string,
  from: string,
  to: string,
  grouping: UsageGrouping,
): Promise<UsageRow[]> {
  const columns = GROUP_COLUMNS[grouping];
  const rows: Row[] = await manager.query(
    `${DAILY_SQL}
     SELECT ${grouping === 'day' ? 'date::text AS date' : columns},
            sum(total_calls)::bigint AS calls, sum(successful_calls)::bigint AS successful_calls, sum(failed_calls)::bigint AS failed_calls,
            sum(input_tokens)::bigint AS input_tokens, sum(cached_input_tokens)::bigint AS cached_input_tokens,
            sum(output_tokens)::bigint AS output_tokens, sum(total_tokens)::bigint AS total_tokens,
            sum(total_cost_usd)::text AS cost_usd,
            round(sum(avg_latency_ms * total_calls) / NULLIF(sum(total_calls), 0), 3)::text AS avg_latency_ms,
            max(p95_latency_ms)::text AS max_p95_latency_ms, sum(failover_count)::bigint AS failover_count
     FROM daily GROUP BY ${columns} ORDER BY ${columns}`,
    [tenantId, from, to],
  );
  return rows.map((row) => ({
    ...(grouping === 'day' ? { date: String(row.date) } : {}),
    ...(grouping !== 'day' ? { provider: String(row.provider) } : {}),
    ...(grouping === 'model' ? { model: String(row.model) } : {}),
    calls: Number(row.calls),
    successfulCalls: Number(row.successful_calls),
    failedCalls: Number(row.failed_calls),
    inputTokens: Number(row.input_tokens),
    cachedInputTokens: Number(row.cached_input_tokens),
    outputTokens: Number(row.output_tokens),
    totalTokens: Number(row.total_tokens),
    costUsd: String(row.cost_usd),
    avgLatencyMs: row.avg_latency_ms === null ? null : Number(row.avg_latency_ms),
    maxDailyP95LatencyMs: row.max_p95_latency_ms === null ? null : Number(row.max_p95_latency_ms),
    failoverCount: Number(row.failover_count),
  }));
}

export interface MonthlySpend {
  spendUsd: string;
  budgetUsd: string | null;
  remainingUsd: string | null;
  usedPercent: number | null;
  overBudget: boolean | null;
  byModel: Array<{ provider: string; model: string; costUsd: string; calls: number }>;
}

/**
 * Spend of a tenant over days `from`..`to` against its monthly budget (the validated settings.llm.monthlyBudgetUsd the
 * router enforces, or null); all arithmetic in PostgreSQL numeric.
 */
export async function monthlySpend(
  manager: EntityManager,
  tenantId: string,
  from: string,
  to: string,
  budget: string | null,
): Promise<MonthlySpend> {
  const byModel = await usageReport(manager, tenantId, from, to, 'model');
  const [totals] = await manager.query(
    `SELECT spend::text AS spend, ($2::numeric - spend)::text AS remaining,
            round(spend * 100 / NULLIF($2::numeric, 0), 2)::text AS used_percent, spend > $2::numeric AS over_budget
     FROM (SELECT COALESCE(sum(cost), 0)::numeric(24,12) AS spend FROM unnest($1::numeric[]) AS cost) totals`,
    [byModel.map((row) => row.costUsd), budget],
  );
  return {
    spendUsd: totals.spend,
    budgetUsd: budget,
    remainingUsd: budget === null ? null : totals.remaining,
    usedPercent: totals.used_percent === null ? null : Number(totals.used_percent),
    overBudget: budget === null ? null : totals.over_budget,
    byModel: byModel.map((row) => ({ provider: row.provider!, model: row.model!, costUsd: row.costUsd, calls: row.calls })),
  };
}
