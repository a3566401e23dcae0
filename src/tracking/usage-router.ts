/** GET /v1/bot/providers/usage/ and /costs/ (analytics:view): model usage and spend of the caller's tenant. */
import { Router } from 'express';
import type { EntityManager } from 'typeorm';
import { z } from 'zod';
import { authOf, requireScope } from '../http/auth';
import { registerRoute } from '../http/openapi/route-registry';
import { parseRequest } from '../http/validate';
import type { TenantService } from '../tenants/tenant-service';
import { addDays, dayCount, isCalendarDay, lastDayOfMonth, MIN_DAY, utcDay } from './utc-days';
import { monthlySpend, usageReport } from './usage-report';

const MAX_RANGE_DAYS = 366;
const day = z.string().refine(isCalendarDay, 'must be a calendar day of the years 1970 to 9999, YYYY-MM-DD');

/** The query as sent (what the OpenAPI document shows); usageQuerySchema adds the defaults and the range checks. */
const usageQueryFieldsSchema = z.object({
  from: day.optional().describe('First UTC day, YYYY-MM-DD (default: 29 days before `to`)'),
  to: day.optional().describe('Last UTC day, YYYY-MM-DD (default: today)'),
  group_by: z.enum(['day', 'provider', 'model']).default('day'),
});

export const usageQuerySchema = usageQueryFieldsSchema
  .transform((query) => {
    const to = query.to ?? utcDay();
    const from = query.from ?? addDays(to, -29);
    // biome-ignore lint/complexity/useMathMinMax: ISO day strings compare as text; Math.max would coerce them to NaN
    return { from: from < MIN_DAY ? MIN_DAY : from, to, groupBy: query.group_by };
  })
  .refine((query) => query.from <= query.to, { message: 'from must not be after to', path: ['from'] })
  .refine((query) => dayCount(query.from, query.to) <= MAX_RANGE_DAYS, { message: `at most ${MAX_RANGE_DAYS} days`, path: ['from'] });

export const costsQuerySchema = z.object({
  month: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month, YYYY-MM')
    .refine((month) => month >= MIN_DAY.slice(0, 7), 'must be a month of the years 1970 to 9999')
    .optional(),
});

registerRoute({
  method: 'get',
  path: '/v1/bot/providers/usage/',
  scope: 'analytics:view',
  tags: ['providers'],
  summary: 'Model calls, tokens, cost and latency per day, provider or model (daily summaries; today live)',
  description: `At most ${MAX_RANGE_DAYS} days; from must not be after to.`,
  query: usageQueryFieldsSchema,
  responses: { 200: { description: 'Usage rows, oldest day or alphabetical first' } },
});
registerRoute({
  method: 'get',
  path: '/v1/bot/providers/costs/',
  scope: 'analytics:view',
  tags: ['providers'],
  summary: "A month's model spend against the tenant's monthly budget",
  query: costsQuerySchema,
  responses: { 200: { description: 'Spend, budget and spend per model; amounts are decimal strings in dollars' } },
});

/** Routes under /v1/bot/providers (usage and costs). */
export function createUsageRouter(deps: { manager: EntityManager; tenants: Pick<TenantService, 'findById'> }): Router {
  const router = Router();
  router.use(requireScope('analytics:view'));

  router.get('/usage', async (request, response) => {
    const query = parseRequest(usageQuerySchema, request.query, 'query');
    const rows = await usageReport(deps.manager, authOf(response).tenantId, query.from, query.to, query.groupBy);
    response.json({
      from: query.from,
      to: query.to,
      group_by: query.groupBy,
      data: rows.map((row) => ({
        ...(row.date !== undefined ? { date: row.date } : {}),
        ...(row.provider !== undefined ? { provider: row.provider } : {}),
        ...(row.model !== undefined ? { model: row.model } : {}),
        calls: row.calls,
        successful_calls: row.successfulCalls,
        failed_calls: row.failedCalls,
        input_tokens: row.inputTokens,
        cached_input_tokens: row.cachedInputTokens,
        output_tokens: row.outputTokens,
        total_tokens: row.totalTokens,
        cost_usd: row.costUsd,
        avg_latency_ms: row.avgLatencyMs,
        max_daily_p95_latency_ms: row.maxDailyP95LatencyMs,
        failover_count: row.failoverCount,
      })),
    });
  });

  router.get('/costs', async (request, response) => {
    const { month = utcDay().slice(0, 7) } = parseRequest(costsQuerySchema, request.query, 'query');
    const from = `${month}-01`;
    const to = lastDayOfMonth(month);
    const { tenantId } = authOf(response);
    const resolved = await deps.tenants.findById(tenantId);
    // The budget the router enforces: from the validated settings (an invalid llm section has none, and answers offline).
    const spend = await monthlySpend(deps.manager, tenantId, from, to, resolved?.settings.llm?.monthlyBudgetUsd ?? null);
    response.json({
      month,
      days: dayCount(from, to),
      spend_usd: spend.spendUsd,
      budget_usd: spend.budgetUsd,
      remaining_usd: spend.remainingUsd,
      used_percent: spend.usedPercent,
      over_budget: spend.overBudget,
      by_model: spend.byModel.map((row) => ({ provider: row.provider, model: row.model, calls: row.calls, cost_usd: row.costUsd })),
    });
  });
  return router;
}
