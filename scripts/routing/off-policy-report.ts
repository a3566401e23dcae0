/**
 * `npm run eval:routing -- --off-policy [--tenant <id|+E164>] [--days N] [--quality 0.3,0.5,0.7]`: what helpful rate
 * and cost per reply each candidate quality knob value would have had on the replies production logged, estimated
 * from the logged decisions with their propensities (self-normalised inverse propensity, src/llm/routing/off-policy.ts).
 *
 * A logged decision is one agent interaction whose tier the learning policy chose (routing_tier and routing_propensity
 * set; replies whose tier a hard rule decided, long context or a forced model, carry no propensity and are left out):
 * context = its stored score (routing->>'score') and message kind; reward = the customer's explicit rating (helpful 1,
 * not helpful 0, none null: implicit signals are left out, the estimate is of the explicit helpful rate); cost = the
 * sum of provider_usage.cost_usd of the interaction's model attempts (failed attempts and failovers included: they
 * are paid). The candidate policy is the knob alone: tier = tierForScore(score, quality) with probability 1, so the
 * estimate uses only the logged replies whose tier the knob would have picked, reweighted by 1 / propensity.
 */
import { parseArgs } from 'node:util';
import type { DataSource } from 'typeorm';
import { type LoggedDecision, estimateOffPolicy, type OffPolicyResult } from '../../src/llm/routing/off-policy';
import { DEFAULT_QUALITY, tierForScore } from '../../src/llm/routing/quality-knob';

export interface OffPolicyOptions {
  /** A tenant id (uuid) or its WhatsApp number (+E164); all tenants when absent. */
  tenant?: string;
  /** Decisions of the last `days` days. */
  days: number;
  qualities: number[];
  bootstrap: number;
}

export interface LoggedContext {
  interactionId: string;
  score: number;
  kind: string | null;
}

export const DEFAULT_OFF_POLICY_DAYS = 30;
export const DEFAULT_QUALITIES = [0.3, DEFAULT_QUALITY, 0.7];
/** Below this many rated decisions (or effective sample size) an estimate is reported as too uncertain to act on. */
export const MINIMUM_RATED_DECISIONS = 30;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const E164 = /^\+[1-9]\d{6,14}$/;

/** Parses the off-policy options (the arguments after `--off-policy`'s own flag have been removed or not: both work). */
export function parseOffPolicyArgs(argv: readonly string[]): OffPolicyOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      'off-policy': { type: 'boolean', default: false },
      tenant: { type: 'string' },
      days: { type: 'string', default: String(DEFAULT_OFF_POLICY_DAYS) },
      quality: { type: 'string', default: DEFAULT_QUALITIES.join(',') },
      bootstrap: { type: 'string', default: '1000' },
    },
    strict: true,
  });
  if (values.tenant !== undefined && !UUID.test(values.tenant) && !E164.test(values.tenant))
    throw new RangeError('--tenant must be a tenant id (uuid) or its WhatsApp number (+E164)');
  const days = Number(values.days);
  if (!Number.isInteger(days) || days < 1 || days > 3660) throw new RangeError('--days must be a whole number of days from 1 to 3660');
  const qualities = values.quality.split(',').map((entry) => Number(entry.trim()));
  if (qualities.length === 0 || qualities.some((quality) => values.quality.trim() === '' || !(quality >= 0 && quality <= 1)))
    throw new RangeError('--quality must be a comma-separated list of numbers from 0 to 1');
  const bootstrap = Number(values.bootstrap);
  if (!Number.isInteger(bootstrap) || bootstrap < 0) throw new RangeError('--bootstrap must be a whole number');
  return { tenant: values.tenant, days, qualities, bootstrap };
}

/** The tenant id of an id or a WhatsApp number; undefined when no tenant matches. */
export async function resolveTenantId(dataSource: DataSource, tenant: string): Promise<string | undefined> {
  const rows: Array<{ id: string }> = await dataSource.query(
    UUID.test(tenant) ? 'SELECT id FROM tenants WHERE id = $1' : 'SELECT id FROM tenants WHERE whatsapp_number = $1',
    [tenant],
  );
  return rows[0]?.id;
}

export interface LoadedLog {
  decisions: LoggedDecision<LoggedContext>[];
  /** Interactions in the window whose tier a hard rule decided (no propensity) or with no stored score. */
  skipped: number;
}

/** The logged decisions of the window, oldest first (see the module comment for what a row is). */
export async function loadLoggedDecisions(dataSource: DataSource, options: { tenantId?: string; days: number }): Promise<LoadedLog> {
  const rows: Array<{
    id: string;
    message_kind: string | null;
    routing_tier: string | null;
    routing_propensity: string | null;
    score: string | null;
    rating: string | null;
    cost: string;
  }> = await dataSource.query(
    `SELECT interaction.id, interaction.message_kind, interaction.routing_tier, interaction.routing_propensity,
            interaction.routing->>'score' AS score, feedback.rating,
            COALESCE((SELECT SUM(usage.cost_usd) FROM provider_usage usage WHERE usage.agent_interaction_id = interaction.id), 0)::text AS cost
     FROM agent_interactions interaction
     LEFT JOIN interaction_feedback feedback ON feedback.agent_interaction_id = interaction.id
     WHERE interaction.created_at >= now() - make_interval(days => $1)
       AND ($2::uuid IS NULL OR interaction.tenant_id = $2::uuid)
     ORDER BY interaction.created_at, interaction.id`,
    [options.days, options.tenantId ?? null],
  );
  const decisions: LoggedDecision<LoggedContext>[] = [];
  let skipped = 0;
  for (const row of rows) {
    const propensity = row.routing_propensity === null ? Number.NaN : Number(row.routing_propensity);
    const score = row.score === null ? Number.NaN : Number(row.score);
    if (row.routing_tier === null || !(propensity > 0 && propensity <= 1) || !Number.isFinite(score)) {
      skipped += 1;
      continue;
    }
    decisions.push({
      context: { interactionId: row.id, score, kind: row.message_kind },
      tier: row.routing_tier,
      propensity,
      reward: row.rating === 'helpful' ? 1 : row.rating === 'not_helpful' ? 0 : null,
      // A report, not stored money: float dollars are precise enough for an estimate with an interval.
      cost: Number(row.cost),
    });
  }
  return { decisions, skipped };
}

export interface OffPolicyRow {
  label: string;
  result: OffPolicyResult;
}

/** The estimate for each quality (the knob alone), and the logging policy itself (plain means) as a reference. */
export function estimateQualities(
  decisions: readonly LoggedDecision<LoggedContext>[],
  qualities: readonly number[],
  bootstrap: number,
): OffPolicyRow[] {
  const options = { bootstrapSamples: bootstrap, seed: 1 };
  return [
    { label: 'logged policy', result: estimateOffPolicy(decisions, loggingPolicy(decisions), options) },
    ...qualities.map((quality) => ({
      label: `quality ${quality}`,
      result: estimateOffPolicy(decisions, (context: LoggedContext) => ({ [tierForScore(context.score, quality)]: 1 }), options),
    })),
  ];
}

/** The logging policy as a candidate: the logged tier with its logged propensity (so every weight is 1). */
function loggingPolicy(decisions: readonly LoggedDecision<LoggedContext>[]) {
  const byInteraction = new Map(decisions.map((decision) => [decision.context.interactionId, decision]));
  return (context: LoggedContext) => {
    const decision = byInteraction.get(context.interactionId);
    return decision ? { [decision.tier]: decision.propensity } : {};
  };
}

/** The printed report: a table, and a warning when the data are too thin. */
export function formatOffPolicyReport(log: LoadedLog, rows: readonly OffPolicyRow[], scope: string): string {
  const rated = log.decisions.filter((decision) => decision.reward !== null).length;
  const tiers = new Map<string, number>();
  for (const decision of log.decisions) tiers.set(decision.tier, (tiers.get(decision.tier) ?? 0) + 1);
  const lines = [
    `Off-policy estimate (self-normalised inverse propensity) over ${scope}`,
    `${log.decisions.length} logged decisions (${[...tiers].map(([tier, count]) => `${tier} ${count}`).join(', ') || 'none'}), ${rated} with a rating; ${log.skipped} replies left out (tier set by a hard rule, or no score)`,
    '',
    '| policy | helpful rate | 95% interval | rated replies used (effective) | cost per reply (USD) | 95% interval | replies used (effective) |',
    '|---|---|---|---|---|---|---|',
  ];
  const rate = (value: number) => (Number.isNaN(value) ? 'n/a' : `${(value * 100).toFixed(1)}%`);
  const dollars = (value: number) => (Number.isNaN(value) ? 'n/a' : `$${value.toFixed(6)}`);
  for (const { label, result } of rows) {
    const helpful = result.helpfulRate;
    const cost = result.costPerReply;
    lines.push(
      `| ${label} | ${rate(helpful.value)} | ${rate(helpful.interval[0])}–${rate(helpful.interval[1])} | ${helpful.replies} (${helpful.effectiveSampleSize.toFixed(1)}) | ${dollars(cost.value)} | ${dollars(cost.interval[0])}–${dollars(cost.interval[1])} | ${cost.replies} (${cost.effectiveSampleSize.toFixed(1)}) |`,
    );
  }
  const thin = rows.filter((row) => row.result.helpfulRate.effectiveSampleSize < MINIMUM_RATED_DECISIONS).map((row) => row.label);
  if (rated < MINIMUM_RATED_DECISIONS)
    lines.push(
      '',
      `Too few logged decisions with a rating (${rated}, fewer than ${MINIMUM_RATED_DECISIONS}): the helpful rates above are not estimates to act on.`,
    );
  else if (thin.length)
    lines.push(
      '',
      `Effective sample size under ${MINIMUM_RATED_DECISIONS} for: ${thin.join(', ')} (the logged policy rarely picked what these would): read their intervals, not their values.`,
    );
  lines.push(
    '',
    'Candidate = the quality knob alone (tier = tierForScore(score, quality), probability 1, no exploration, no feedback correction); helpful rate over replies with an explicit rating; cost = all model attempts of a reply.',
  );
  return `${lines.join('\n')}\n`;
}
