/**
 * Feedback analytics computed in SQL (aggregates with FILTER, GROUP BY day and by provider/model): the rows are
 * never loaded into the application, so the cost is one indexed scan of the window whatever its size.
 */
import type { EntityManager } from 'typeorm';
import type { AnalyticsBody, FeedbackMetrics } from './feedback-api-schemas';

/** The aggregate columns shared by the totals and both breakdowns; rates are fractions rounded to 4 places. */
const METRICS_SQL = `
  count(*)::int AS total,
  count(*) FILTER (WHERE feedback.rating = 'helpful')::int AS helpful,
  count(*) FILTER (WHERE feedback.rating = 'not_helpful')::int AS not_helpful,
  round(count(*) FILTER (WHERE feedback.rating = 'helpful')::numeric / NULLIF(count(feedback.rating), 0), 4)::text AS helpful_rate,
  round(avg(feedback.implicit_satisfaction), 4)::text AS avg_implicit_score,
  count(*) FILTER (WHERE feedback.feedback_text IS NOT NULL AND feedback.feedback_text <> '')::int AS with_comments,
  round(avg(feedback.user_continued::int), 4)::text AS user_continued_rate,
  round(avg(feedback.completed_action::int), 4)::text AS completed_action_rate,
  round(avg(feedback.requested_human::int), 4)::text AS requested_human_rate`;

type MetricsRow = Record<keyof FeedbackMetrics, number | string | null>;

// numeric arrives as text so no precision is lost on the way; it becomes a JSON number only here.
const decimal = (value: number | string | null) => (value === null ? null : Number(value));

function presentMetrics(row: MetricsRow): FeedbackMetrics {
  return {
    total: Number(row.total),
    helpful: Number(row.helpful),
    not_helpful: Number(row.not_helpful),
    helpful_rate: decimal(row.helpful_rate),
    avg_implicit_score: decimal(row.avg_implicit_score),
    with_comments: Number(row.with_comments),
    user_continued_rate: decimal(row.user_continued_rate),
    completed_action_rate: decimal(row.completed_action_rate),
    requested_human_rate: decimal(row.requested_human_rate),
  };
}

/** Totals, per-UTC-day and per-provider/model metrics of the tenant's feedback recorded in the last `days` days. */
export async function feedbackAnalytics(manager: EntityManager, tenantId: string, days: number): Promise<AnalyticsBody> {
  const [{ since }]: Array<{ since: Date }> = await manager.query(`SELECT now() - make_interval(days => $1) AS since`, [days]);
  const window = `FROM interaction_feedback feedback WHERE feedback.tenant_id = $1 AND feedback.created_at >= $2`;
  const parameters = [tenantId, since];
  const [[totals], byDay, byModel] = await Promise.all([
    manager.query(`SELECT ${METRICS_SQL} ${window}`, parameters) as Promise<MetricsRow[]>,
    manager.query(
      `SELECT to_char(date_trunc('day', feedback.created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day, ${METRICS_SQL}
       ${window} GROUP BY 1 ORDER BY 1`,
      parameters,
    ) as Promise<Array<MetricsRow & { day: string }>>,
    manager.query(
      `SELECT interaction.provider, interaction.model, ${METRICS_SQL}
       FROM interaction_feedback feedback JOIN agent_interactions interaction ON interaction.id = feedback.agent_interaction_id
       WHERE feedback.tenant_id = $1 AND feedback.created_at >= $2
       GROUP BY interaction.provider, interaction.model ORDER BY count(*) DESC, interaction.provider, interaction.model`,
      parameters,
    ) as Promise<Array<MetricsRow & { provider: string; model: string }>>,
  ]);
  return {
    days,
    since: new Date(since).toISOString(),
    ...presentMetrics(totals),
    by_day: byDay.map((row) => ({ day: row.day, ...presentMetrics(row) })),
    by_model: byModel.map((row) => ({ provider: row.provider, model: row.model, ...presentMetrics(row) })),
  };
}
