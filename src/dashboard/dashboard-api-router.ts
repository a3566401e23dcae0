/**
 * The dashboard's own read-only API: `GET /v1/bot/me` (who the key belongs to and what it may do, so the page hides
 * what it may not) and `GET /v1/bot/dashboard/overview` (the headline figures with their change) and `GET /v1/bot/dashboard/usage`
 * (the per-day-and-model and per-model breakdowns its charts draw).
 */
import { Router } from 'express';
import type { EntityManager } from 'typeorm';
import { z } from 'zod';
import type { ApiKeyService } from '../access/api-key-service';
import { API_SCOPES } from '../db/entities/api-key';
import { authOf, requireScope } from '../http/auth';
import { registerRoute } from '../http/openapi/route-registry';
import { parseRequest } from '../http/validate';
import type { TenantService } from '../tenants/tenant-service';
import { queryOverview, type Overview, type OverviewFigure } from './overview';
import { queryUsageBreakdown } from './usage-breakdown';

export const overviewQuerySchema = z.object({
  days: z.enum(['7', '30', '90']).default('7').transform(Number).describe('The period: the last 7, 30 or 90 days'),
});

const meSchema = z.object({
  tenant_id: z.uuid(),
  settings_problems: z
    .array(z.object({ setting: z.string(), message: z.string(), fallback: z.string() }))
    .describe('Stored settings that are invalid, and the restrictive value Parley uses instead (fix them with PATCH /v1/bot/settings)'),
  user: z.object({ id: z.uuid(), name: z.string(), role: z.string() }),
  api_key_id: z.uuid(),
  scopes: z.array(z.enum(API_SCOPES)),
});

const figureSchema = <Value extends z.ZodType>(value: Value) => z.object({ value, previous: value, change: z.number().nullable() });

const overviewSchema = z.object({
  days: z.number().int(),
  from: z.string(),
  to: z.string(),
  conversations: figureSchema(z.number().int()),
  bot_replies: figureSchema(z.number().int()),
  helpful_rate: figureSchema(z.number().nullable()),
  avg_implicit_satisfaction: figureSchema(z.number().nullable()),
  handoff_rate: figureSchema(z.number().nullable()),
  total_cost_usd: figureSchema(z.string()),
  cost_per_conversation_usd: figureSchema(z.string().nullable()),
  routing_mix: z.array(z.object({ tier: z.string(), replies: z.number().int(), share: z.number() })),
});

const usageBreakdownSchema = z.object({
  days: z.number().int(),
  by_day_and_model: z.array(
    z.object({
      date: z.string(),
      provider: z.string(),
      model: z.string(),
      calls: z.number().int(),
      failed_calls: z.number().int(),
      cost_usd: z.string(),
    }),
  ),
  latency_by_model: z.array(
    z.object({
      provider: z.string(),
      model: z.string(),
      calls: z.number().int(),
      p50_ms: z.number().nullable(),
      p95_ms: z.number().nullable(),
      p99_ms: z.number().nullable(),
    }),
  ),
});

registerRoute({
  method: 'get',
  path: '/v1/bot/me/',
  scope: 'authenticated',
  tags: ['dashboard'],
  summary: "The calling key's user, tenant and scopes",
  responses: { 200: { description: 'The caller', schema: meSchema } },
});
registerRoute({
  method: 'get',
  path: '/v1/bot/dashboard/overview/',
  scope: 'analytics:view',
  tags: ['dashboard'],
  summary: 'Headline figures of the last N days with their change against the N days before',
  description:
    'Counts and money carry a relative change ((value - previous) / previous, null when previous is 0); rates ' +
    '(helpful, implicit satisfaction, handoff) carry the difference in points. Money is a decimal string in dollars.',
  query: overviewQuerySchema,
  responses: { 200: { description: 'The overview', schema: overviewSchema } },
});

registerRoute({
  method: 'get',
  path: '/v1/bot/dashboard/usage/',
  scope: 'analytics:view',
  tags: ['dashboard'],
  summary: 'Cost and calls per UTC day and model, and p50/p95/p99 latency of successful calls per model, over the last N days',
  description:
    'Computed from the raw model attempts (percentiles do not add up across daily summaries). Money is a decimal string in dollars.',
  query: overviewQuerySchema,
  responses: { 200: { description: 'The breakdowns', schema: usageBreakdownSchema } },
});

const figure = <Value>(value: OverviewFigure<Value>) => ({ value: value.value, previous: value.previous, change: value.change });

/** The wire shape of an overview (snake_case like the rest of the API). */
function presentOverview(overview: Overview): z.infer<typeof overviewSchema> {
  return {
    days: overview.days,
    from: overview.from,
    to: overview.to,
    conversations: figure(overview.conversations),
    bot_replies: figure(overview.botReplies),
    helpful_rate: figure(overview.helpfulRate),
    avg_implicit_satisfaction: figure(overview.avgImplicitSatisfaction),
    handoff_rate: figure(overview.handoffRate),
    total_cost_usd: figure(overview.totalCostUsd),
    cost_per_conversation_usd: figure(overview.costPerConversationUsd),
    routing_mix: overview.routingMix,
  };
}

/** Routes `/me`, `/dashboard/overview` and `/dashboard/usage`, mounted on the authenticated /v1/bot router. */
export function createDashboardApiRouter(deps: {
  apiKeys: ApiKeyService;
  tenants: Pick<TenantService, 'findById'>;
  manager: EntityManager;
}): Router {
  const { manager } = deps;
  const router = Router();

  router.get('/me', async (_request, response) => {
    const auth = authOf(response);
    const [user, tenant] = await Promise.all([deps.apiKeys.findUser(auth.tenantId, auth.userId), deps.tenants.findById(auth.tenantId)]);
    response.json({
      tenant_id: auth.tenantId,
      settings_problems: tenant?.settingsProblems ?? [],
      user: { id: auth.userId, name: user?.name ?? '', role: user?.role ?? '' },
      api_key_id: auth.apiKeyId,
      scopes: API_SCOPES.filter((scope) => auth.scopes.has(scope)),
    });
  });

  router.get('/dashboard/overview', requireScope('analytics:view'), async (request, response) => {
    const { days } = parseRequest(overviewQuerySchema, request.query, 'query');
    response.json(presentOverview(await queryOverview(manager, authOf(response).tenantId, days)));
  });

  router.get('/dashboard/usage', requireScope('analytics:view'), async (request, response) => {
    const { days } = parseRequest(overviewQuerySchema, request.query, 'query');
    const breakdown = await queryUsageBreakdown(manager, authOf(response).tenantId, days);
    const body: z.infer<typeof usageBreakdownSchema> = {
      days,
      by_day_and_model: breakdown.byDayAndModel.map((row) => ({
        date: row.date,
        provider: row.provider,
        model: row.model,
        calls: row.calls,
        failed_calls: row.failedCalls,
        cost_usd: row.costUsd,
      })),
      latency_by_model: breakdown.latencyByModel.map((row) => ({
        provider: row.provider,
        model: row.model,
        calls: row.calls,
        p50_ms: row.p50Ms,
        p95_ms: row.p95Ms,
        p99_ms: row.p99Ms,
      })),
    };
    response.json(body);
  });
  return router;
}
