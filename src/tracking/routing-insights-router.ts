/** GET /v1/bot/routing/insights (analytics:view): where replies went, how helpful each tier was per kind, and why. */
import { Router } from 'express';
import { z } from 'zod';
import { authOf, requireScope } from '../http/auth';
import { registerRoute } from '../http/openapi/route-registry';
import { parseRequest } from '../http/validate';
import type { RoutingInsights, RoutingInsightsService } from './routing-insights';

export const insightsQuerySchema = z.object({
  days: z.coerce.number().int().min(1).max(365).default(30).describe('The period: the last N days, compared with the N days before'),
});

const insightsSchema = z.object({
  days: z.number().int(),
  from: z.string(),
  to: z.string(),
  tiers: z.array(
    z.object({
      tier: z.string(),
      replies: z.number().int(),
      share: z.number(),
      previous_replies: z.number().int(),
      previous_share: z.number(),
    }),
  ),
  cells: z.array(
    z.object({
      kind: z.string(),
      tier: z.string(),
      replies: z.number().int(),
      helpful: z.number().int(),
      not_helpful: z.number().int(),
      helpful_rate: z.number().nullable(),
      posterior: z.object({ good: z.number(), bad: z.number(), mean: z.number(), low: z.number(), high: z.number() }).nullable(),
    }),
  ),
  cost: z.object({
    replies: z.number().int(),
    total_usd: z.string(),
    per_reply_usd: z.string().nullable(),
    always_balanced_per_reply_usd: z.string().nullable(),
    ratio_to_always_balanced: z.number().nullable(),
  }),
  changes: z.array(z.string()),
  recent_decisions: z.array(
    z.object({
      interaction_id: z.uuid(),
      created_at: z.string(),
      kind: z.string().nullable(),
      tier: z.string().nullable(),
      policy_tier: z.string().nullable(),
      score: z.number().nullable(),
      propensity: z.number().nullable(),
      explored: z.boolean(),
      provider: z.string(),
      model: z.string(),
      reason: z.string().nullable(),
    }),
  ),
});

registerRoute({
  method: 'get',
  path: '/v1/bot/routing/insights/',
  scope: 'analytics:view',
  tags: ['routing'],
  summary: 'Share of replies per tier, helpful rate per tier and message kind with the posterior interval, cost against always-balanced',
  description:
    'cells[].posterior is what routing learnt from feedback in that (kind, tier) cell, all time: weighted good and bad outcomes ' +
    '(a click counts 1, an implicit signal 0.5) and a 95% interval of the helpful rate under a uniform prior. ' +
    'recent_decisions explains the latest 20 routing decisions. Money is a decimal string in dollars.',
  query: insightsQuerySchema,
  responses: { 200: { description: 'The insights', schema: insightsSchema } },
});

/** The wire shape (snake_case like the rest of the API). */
function present(insights: RoutingInsights): z.infer<typeof insightsSchema> {
  return {
    days: insights.days,
    from: insights.from,
    to: insights.to,
    tiers: insights.tiers.map((tier) => ({
      tier: tier.tier,
      replies: tier.replies,
      share: tier.share,
      previous_replies: tier.previousReplies,
      previous_share: tier.previousShare,
    })),
    cells: insights.cells.map((cell) => ({
      kind: cell.kind,
      tier: cell.tier,
      replies: cell.replies,
      helpful: cell.helpful,
      not_helpful: cell.notHelpful,
      helpful_rate: cell.helpfulRate,
      posterior: cell.posterior,
    })),
    cost: {
      replies: insights.cost.replies,
      total_usd: insights.cost.totalUsd,
      per_reply_usd: insights.cost.perReplyUsd,
      always_balanced_per_reply_usd: insights.cost.alwaysBalancedPerReplyUsd,
      ratio_to_always_balanced: insights.cost.ratioToAlwaysBalanced,
    },
    changes: insights.changes,
    recent_decisions: insights.recentDecisions.map((decision) => ({
      interaction_id: decision.interactionId,
      created_at: decision.createdAt,
      kind: decision.kind,
      tier: decision.tier,
      policy_tier: decision.policyTier,
      score: decision.score,
      propensity: decision.propensity,
      explored: decision.explored,
      provider: decision.provider,
      model: decision.model,
      reason: decision.reason,
    })),
  };
}

/** Routes under /v1/bot/routing. */
export function createRoutingInsightsRouter(deps: { insights: RoutingInsightsService }): Router {
  const router = Router();
  router.get('/insights', requireScope('analytics:view'), async (request, response) => {
    const { days } = parseRequest(insightsQuerySchema, request.query, 'query');
    response.json(present(await deps.insights.insights(authOf(response).tenantId, days)));
  });
  return router;
}
