/**
 * Routing insights for supervisors: where replies went (share per tier, against the period before), how helpful
 * each tier was per message kind with the posterior's 95% interval, what a reply cost against sending every reply
 * to the balanced tier, and the latest decisions with their reasons. Computed in SQL from agent_interactions,
 * interaction_feedback, provider_usage and routing_posteriors; the money arithmetic stays in decimal strings.
 */
import type { EntityManager } from 'typeorm';
import type { ModelCatalog } from '../llm/catalog/model-catalog';
import { costDollars } from '../llm/cost';
import { resolveRoutingPolicy, type RoutingPolicy } from '../llm/routing-policy';
import { betaInterval } from '../llm/routing/beta-interval';
import type { TenantService } from '../tenants/tenant-service';

export interface TierShare {
  tier: string;
  replies: number;
  share: number;
  previousReplies: number;
  previousShare: number;
}

export interface KindTierCell {
  kind: string;
  tier: string;
  /** Answers of the period in this cell, and their explicit ratings. */
  replies: number;
  helpful: number;
  notHelpful: number;
  /** helpful / rated in the period; null without ratings. */
  helpfulRate: number | null;
  /** What routing has learnt in this cell (all time, weighted signals): the observations and a 95% interval. */
  posterior: { good: number; bad: number; mean: number; low: number; high: number } | null;
}

export interface RoutingDecisionSummary {
  interactionId: string;
  createdAt: string;
  kind: string | null;
  tier: string | null;
  policyTier: string | null;
  score: number | null;
  propensity: number | null;
  explored: boolean;
  provider: string;
  model: string;
  reason: string | null;
}

export interface RoutingInsights {
  days: number;
  from: string;
  to: string;
  tiers: TierShare[];
  cells: KindTierCell[];
  cost: {
    replies: number;
    /** Every model attempt of the period, failed ones included. */
    totalUsd: string;
    perReplyUsd: string | null;
    /** The same replies' tokens priced at the tenant's first balanced model. */
    alwaysBalancedPerReplyUsd: string | null;
    /** perReply / alwaysBalancedPerReply. */
    ratioToAlwaysBalanced: number | null;
  };
  changes: string[];
  recentDecisions: RoutingDecisionSummary[];
}

const round4 = (value: number) => Math.round(value * 10_000) / 10_000;

/** The tenant's routing insights over the last `days` days. */
export async function queryRoutingInsights(
  manager: EntityManager,
  tenantId: string,
  days: number,
  pricing: { catalog: ModelCatalog; policy: RoutingPolicy },
): Promise<RoutingInsights> {
  const [{ from, to, previous_from }]: Array<{ from: Date; to: Date; previous_from: Date }> = await manager.query(
    `SELECT now() - make_interval(days => $1) AS from, now() AS to, now() - make_interval(days => 2 * $1) AS previous_from`,
    [days],
  );
  const window = [tenantId, previous_from, from, to];
  const [tierRows, cellRows, posteriorRows, costRows, recentRows] = await Promise.all([
    manager.query(
      `SELECT COALESCE(routing->>'tier', 'unrecorded') AS tier,
              count(*) FILTER (WHERE created_at >= $3)::int AS replies,
              count(*) FILTER (WHERE created_at < $3)::int AS previous_replies
         FROM agent_interactions WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $4
        GROUP BY 1 ORDER BY 2 DESC, 1`,
      window,
    ) as Promise<Array<{ tier: string; replies: number; previous_replies: number }>>,
    manager.query(
      `SELECT interaction.message_kind AS kind, interaction.routing_tier AS tier,
              count(*) FILTER (WHERE interaction.created_at >= $3)::int AS replies,
              count(*) FILTER (WHERE interaction.created_at >= $3 AND feedback.rating = 'helpful')::int AS helpful,
              count(*) FILTER (WHERE interaction.created_at >= $3 AND feedback.rating = 'not_helpful')::int AS not_helpful,
              count(*) FILTER (WHERE interaction.created_at < $3 AND feedback.rating = 'helpful')::int AS previous_helpful,
              count(*) FILTER (WHERE interaction.created_at < $3 AND feedback.rating IS NOT NULL)::int AS previous_rated
         FROM agent_interactions interaction
         LEFT JOIN interaction_feedback feedback ON feedback.agent_interaction_id = interaction.id
        WHERE interaction.tenant_id = $1 AND interaction.created_at >= $2 AND interaction.created_at < $4
          AND interaction.message_kind IS NOT NULL AND interaction.routing_tier IS NOT NULL
        GROUP BY 1, 2 ORDER BY 1, 2`,
      window,
    ) as Promise<
      Array<{
        kind: string;
        tier: string;
        replies: number;
        helpful: number;
        not_helpful: number;
        previous_helpful: number;
        previous_rated: number;
      }>
    >,
    manager.query(
      'SELECT message_kind AS kind, tier, good::float8 AS good, bad::float8 AS bad FROM routing_posteriors WHERE tenant_id = $1',
      [tenantId],
    ) as Promise<Array<{ kind: string; tier: string; good: number; bad: number }>>,
    manager.query(
      `SELECT (SELECT count(*)::int FROM agent_interactions WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3) AS replies,
              (SELECT COALESCE(sum(input_tokens), 0)::bigint FROM agent_interactions WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3) AS input_tokens,
              (SELECT COALESCE(sum(cached_input_tokens), 0)::bigint FROM agent_interactions WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3) AS cached_input_tokens,
              (SELECT COALESCE(sum(output_tokens), 0)::bigint FROM agent_interactions WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3) AS output_tokens,
              (SELECT COALESCE(sum(cost_usd), 0)::text FROM provider_usage WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3) AS cost_usd`,
      [tenantId, from, to],
    ) as Promise<Array<{ replies: number; input_tokens: string; cached_input_tokens: string; output_tokens: string; cost_usd: string }>>,
    manager.query(
      `SELECT id, created_at, message_kind, routing_tier, provider, model, routing FROM agent_interactions
        WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT 20`,
      [tenantId],
    ) as Promise<
      Array<{
        id: string;
        created_at: Date;
        message_kind: string | null;
        routing_tier: string | null;
        provider: string;
        model: string;
        routing: Record<string, unknown> | null;
      }>
    >,
  ]);

  const totalReplies = tierRows.reduce((sum, row) => sum + row.replies, 0);
  const totalPrevious = tierRows.reduce((sum, row) => sum + row.previous_replies, 0);
  const tiers: TierShare[] = tierRows.map((row) => ({
    tier: row.tier,
    replies: row.replies,
    share: totalReplies ? round4(row.replies / totalReplies) : 0,
    previousReplies: row.previous_replies,
    previousShare: totalPrevious ? round4(row.previous_replies / totalPrevious) : 0,
  }));

  const posteriors = new Map(posteriorRows.map((row) => [`${row.kind}|${row.tier}`, row]));
  const cellKeys = new Set([...cellRows.map((row) => `${row.kind}|${row.tier}`), ...posteriors.keys()]);
  const rowsByKey = new Map(cellRows.map((row) => [`${row.kind}|${row.tier}`, row]));
  const cells: KindTierCell[] = [...cellKeys].sort().map((key) => {
    const [kind, tier] = key.split('|');
    const row = rowsByKey.get(key);
    const observed = posteriors.get(key);
    const rated = (row?.helpful ?? 0) + (row?.not_helpful ?? 0);
    // Shown with a uniform prior, so the interval is what the observations alone say.
    const interval = observed ? betaInterval(1 + observed.good, 1 + observed.bad) : null;
    return {
      kind,
      tier,
      replies: row?.replies ?? 0,
      helpful: row?.helpful ?? 0,
      notHelpful: row?.not_helpful ?? 0,
      helpfulRate: rated ? round4((row?.helpful ?? 0) / rated) : null,
      posterior:
        observed && interval
          ? {
              good: observed.good,
              bad: observed.bad,
              mean: round4((1 + observed.good) / (2 + observed.good + observed.bad)),
              low: round4(interval.low),
              high: round4(interval.high),
            }
          : null,
    };
  });

  const [costRow] = costRows;
  const balanced = pricing.policy.tiers.balanced.map((reference) => pricing.catalog.find(reference)).find((entry) => entry !== undefined);
  const alwaysBalanced =
    balanced && costRow.replies > 0
      ? costDollars(balanced, {
          inputTokens: Number(costRow.input_tokens),
          cachedInputTokens: Number(costRow.cached_input_tokens),
          outputTokens: Number(costRow.output_tokens),
        })
      : null;
  const perReply = costRow.replies > 0 ? (Number(costRow.cost_usd) / costRow.replies).toFixed(6) : null;
  const alwaysBalancedPerReply = alwaysBalanced !== null ? (Number(alwaysBalanced) / costRow.replies).toFixed(6) : null;

  const changes: string[] = [];
  for (const tier of tiers) {
    const points = Math.round((tier.share - tier.previousShare) * 1000) / 10;
    if (tier.previousReplies > 0 && Math.abs(points) >= 5)
      changes.push(`${tier.tier}: ${points > 0 ? '+' : ''}${points} points of replies`);
    if (tier.previousReplies === 0 && tier.replies > 0 && totalPrevious > 0)
      changes.push(`${tier.tier}: new this period (${tier.replies} replies)`);
  }
  for (const row of cellRows) {
    const rated = row.helpful + row.not_helpful;
    if (rated < 5 || row.previous_rated < 5) continue;
    const points = Math.round((row.helpful / rated - row.previous_helpful / row.previous_rated) * 1000) / 10;
    if (Math.abs(points) >= 10) changes.push(`${row.kind} on ${row.tier}: helpful rate ${points > 0 ? '+' : ''}${points} points`);
  }

  return {
    days,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    tiers,
    cells,
    cost: {
      replies: costRow.replies,
      totalUsd: costRow.cost_usd,
      perReplyUsd: perReply,
      alwaysBalancedPerReplyUsd: alwaysBalancedPerReply,
      ratioToAlwaysBalanced:
        perReply !== null && alwaysBalancedPerReply !== null && Number(alwaysBalancedPerReply) > 0
          ? round4(Number(perReply) / Number(alwaysBalancedPerReply))
          : null,
    },
    changes,
    recentDecisions: recentRows.map((row) => {
      const routing = row.routing ?? {};
      return {
        interactionId: row.id,
        createdAt: new Date(row.created_at).toISOString(),
        kind: row.message_kind,
        tier: typeof routing.tier === 'string' ? routing.tier : null,
        policyTier: row.routing_tier,
        score: typeof routing.score === 'number' ? routing.score : null,
        propensity: typeof routing.propensity === 'number' ? routing.propensity : null,
        explored: routing.explored === true,
        provider: row.provider,
        model: row.model,
        reason: typeof routing.reason === 'string' ? routing.reason : null,
      };
    }),
  };
}

/** Reads a tenant's routing insights with its own routing policy and catalog overrides. */
export class RoutingInsightsService {
  constructor(
    private readonly manager: EntityManager,
    private readonly tenants: Pick<TenantService, 'findById'>,
    private readonly catalog: ModelCatalog,
  ) {}

  /** The insights of the tenant's last `days` days. */
  async insights(tenantId: string, days: number): Promise<RoutingInsights> {
    const resolved = await this.tenants.findById(tenantId);
    let policy: RoutingPolicy;
    try {
      policy = resolveRoutingPolicy(resolved?.tenant.settings);
    } catch {
      // The report prices replies even when the tenant's stored settings are invalid; routing handles those itself.
      policy = resolveRoutingPolicy({});
    }
    return queryRoutingInsights(this.manager, tenantId, days, { catalog: this.catalog.withOverrides(policy.models), policy });
  }
}
