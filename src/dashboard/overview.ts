/**
 * The dashboard overview: the headline figures of a period (the last N days) next to the same figures of the
 * period before it, computed in one SQL statement so the two periods are read from the same snapshot.
 */
import type { EntityManager } from 'typeorm';

/** A figure of the current period, the same figure of the previous one, and the change between them. */
export interface OverviewFigure<Value> {
  value: Value;
  previous: Value;
  /**
   * Counts and money: relative change ((value - previous) / previous, 4 decimals), null when previous is 0.
   * Rates: the difference in points (value - previous), null when either is null.
   */
  change: number | null;
}

export interface Overview {
  days: number;
  from: string;
  to: string;
  conversations: OverviewFigure<number>;
  botReplies: OverviewFigure<number>;
  helpfulRate: OverviewFigure<number | null>;
  avgImplicitSatisfaction: OverviewFigure<number | null>;
  handoffRate: OverviewFigure<number | null>;
  /** Dollars as exact decimal strings (6 places). */
  totalCostUsd: OverviewFigure<string>;
  costPerConversationUsd: OverviewFigure<string | null>;
  /** Share of the current period's bot replies by routing tier, largest first. */
  routingMix: Array<{ tier: string; replies: number; share: number }>;
}

interface PeriodRow {
  period: 'current' | 'previous';
  starts: Date;
  ends: Date;
  conversations: number;
  bot_replies: number;
  helpful: number;
  rated: number;
  avg_implicit: string | null;
  handoff_conversations: number;
  cost_usd: string;
  cost_per_conversation_usd: string | null;
}

const round4 = (value: number) => Math.round(value * 10_000) / 10_000;

/** Relative change of a count or an amount. */
function relativeChange(value: number, previous: number): number | null {
  return previous === 0 ? null : round4((value - previous) / previous);
}

/** Difference in points between two rates. */
function pointChange(value: number | null, previous: number | null): number | null {
  return value === null || previous === null ? null : round4(value - previous);
}

function countFigure(current: number, previous: number): OverviewFigure<number> {
  return { value: current, previous, change: relativeChange(current, previous) };
}

function rateFigure(current: number | null, previous: number | null): OverviewFigure<number | null> {
  return { value: current, previous, change: pointChange(current, previous) };
}

function moneyFigure<Value extends string | null>(current: Value, previous: Value): OverviewFigure<Value> {
  const change = current === null || previous === null ? null : relativeChange(Number(current), Number(previous));
  return { value: current, previous, change };
}

const ratio = (part: number, whole: number) => (whole === 0 ? null : round4(part / whole));

/**
 * Figures of the tenant's last `days` days and of the `days` before them.
 * conversations: distinct conversations with a customer message; bot replies: agent interactions; helpful rate:
 * helpful / rated answers; implicit satisfaction: mean of the feedback rows' computed score; handoff rate:
 * conversations in which the customer asked for a person / conversations; cost: every model attempt's cost.
 */
export async function queryOverview(manager: EntityManager, tenantId: string, days: number): Promise<Overview> {
  const rows: PeriodRow[] = await manager.query(
    `WITH periods AS (
       SELECT 'current' AS period, now() - make_interval(days => $2::int) AS starts, now() AS ends
       UNION ALL
       SELECT 'previous', now() - make_interval(days => 2 * $2::int), now() - make_interval(days => $2::int)
     )
     SELECT periods.period, periods.starts, periods.ends, activity.conversations, replies.bot_replies,
            feedback.helpful, feedback.rated, feedback.avg_implicit::text AS avg_implicit, feedback.handoff_conversations,
            round(usage.cost, 6)::text AS cost_usd,
            CASE WHEN activity.conversations > 0 THEN round(usage.cost / activity.conversations, 6)::text END AS cost_per_conversation_usd
       FROM periods
       CROSS JOIN LATERAL (
         -- Through the tenant's conversations and the (conversation_id, seq) index: messages has no tenant/time index,
         -- and this reads only this tenant's messages instead of scanning everyone's.
         SELECT count(*)::int AS conversations FROM conversations
          WHERE conversations.tenant_id = $1
            AND EXISTS (SELECT 1 FROM messages
                         WHERE messages.conversation_id = conversations.id AND messages.direction = 'inbound'
                           AND messages.created_at >= periods.starts AND messages.created_at < periods.ends)
       ) activity
       CROSS JOIN LATERAL (
         SELECT count(*)::int AS bot_replies FROM agent_interactions
          WHERE tenant_id = $1 AND created_at >= periods.starts AND created_at < periods.ends
       ) replies
       CROSS JOIN LATERAL (
         SELECT count(*) FILTER (WHERE rating = 'helpful')::int AS helpful, count(rating)::int AS rated,
                round(avg(implicit_satisfaction), 4) AS avg_implicit,
                count(DISTINCT conversation_id) FILTER (WHERE requested_human)::int AS handoff_conversations
           FROM interaction_feedback
          WHERE tenant_id = $1 AND created_at >= periods.starts AND created_at < periods.ends
       ) feedback
       CROSS JOIN LATERAL (
         SELECT COALESCE(sum(cost_usd), 0) AS cost FROM provider_usage
          WHERE tenant_id = $1 AND created_at >= periods.starts AND created_at < periods.ends
       ) usage`,
    [tenantId, days],
  );
  const current = rows.find((row) => row.period === 'current');
  const previous = rows.find((row) => row.period === 'previous');
  if (!current || !previous) throw new Error('overview query returned no periods');

  const mixRows: Array<{ tier: string; replies: number }> = await manager.query(
    `SELECT COALESCE(routing->>'tier', CASE WHEN routing IS NULL THEN 'unrecorded' ELSE 'offline' END) AS tier,
            count(*)::int AS replies
       FROM agent_interactions
      WHERE tenant_id = $1 AND created_at >= now() - make_interval(days => $2::int)
      GROUP BY 1 ORDER BY 2 DESC, 1`,
    [tenantId, days],
  );
  const totalReplies = mixRows.reduce((sum, row) => sum + row.replies, 0);

  const implicit = (row: PeriodRow) => (row.avg_implicit === null ? null : Number(row.avg_implicit));
  return {
    days,
    from: current.starts.toISOString(),
    to: current.ends.toISOString(),
    conversations: countFigure(current.conversations, previous.conversations),
    botReplies: countFigure(current.bot_replies, previous.bot_replies),
    helpfulRate: rateFigure(ratio(current.helpful, current.rated), ratio(previous.helpful, previous.rated)),
    avgImplicitSatisfaction: rateFigure(implicit(current), implicit(previous)),
    handoffRate: rateFigure(
      ratio(current.handoff_conversations, current.conversations),
      ratio(previous.handoff_conversations, previous.conversations),
    ),
    totalCostUsd: moneyFigure(current.cost_usd, previous.cost_usd),
    costPerConversationUsd: moneyFigure(current.cost_per_conversation_usd, previous.cost_per_conversation_usd),
    routingMix: mixRows.map((row) => ({ tier: row.tier, replies: row.replies, share: round4(row.replies / totalReplies) })),
  };
}
