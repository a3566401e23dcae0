/**
 * `npm run eval:routing -- --off-policy`: the logged decisions it reads from agent_interactions, interaction_feedback
 * and provider_usage, its options, and its report.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_OFF_POLICY_DAYS,
  DEFAULT_QUALITIES,
  estimateQualities,
  formatOffPolicyReport,
  loadLoggedDecisions,
  parseOffPolicyArgs,
  resolveTenantId,
} from '../../../scripts/routing/off-policy-report';
import { answeredInteraction } from '../../support/correction-factories';
import { createTenant } from '../../support/factories';
import { seedFeedback } from '../../support/feedback-factories';
import { useTestContext } from '../../support/test-context';

const context = useTestContext();

interface Logged {
  tier: string | null;
  propensity: number | null;
  score: number | null;
  kind: string;
  costs: string[];
  minutesAgo: number;
}

/** Sets an interaction's routing columns, its created_at and its model attempts' costs (replacing the real ones). */
async function logDecision(interactionId: string, logged: Logged): Promise<void> {
  const database = context.database.dataSource;
  await database.query(
    `UPDATE agent_interactions SET routing_tier = $2, routing_propensity = $3, message_kind = $4,
       routing = CASE WHEN $5::float8 IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('score', $5::float8) END,
       created_at = now() - make_interval(mins => $6)
     WHERE id = $1`,
    [interactionId, logged.tier, logged.propensity, logged.kind, logged.score, logged.minutesAgo],
  );
  await database.query('DELETE FROM provider_usage WHERE agent_interaction_id = $1', [interactionId]);
  for (const [attempt, cost] of logged.costs.entries()) {
    await database.query(
      `INSERT INTO provider_usage (tenant_id, agent_interaction_id, provider, model, cost_usd, latency_ms, success, attempt_number)
       SELECT tenant_id, id, 'openai', 'gpt-4o-mini', $2, 10, true, $3 FROM agent_interactions WHERE id = $1`,
      [interactionId, cost, attempt + 1],
    );
  }
}

describe('npm run eval:routing -- --off-policy', () => {
  it('builds one log row per policy-routed reply of the tenant and window, with its rating and total cost', async () => {
    const shop = await createTenant(context);
    const other = await createTenant(context);
    const [helpful, notHelpful, implicitOnly, hardRule, old] = await seedFeedback(context, shop, [
      { rating: 'helpful' },
      { rating: 'not_helpful' },
      { rating: null, continued: true },
      { rating: 'helpful' },
      { rating: 'helpful' },
    ]);
    const { interactionId: unrated } = await answeredInteraction(context, shop, 'Do you deliver on Sundays?', 'whatsapp:+14157001999');
    const [otherTenant] = await seedFeedback(context, other, [{ rating: 'helpful' }]);
    await logDecision(helpful, {
      tier: 'cheap',
      propensity: 0.95,
      score: 0.04,
      kind: 'faq',
      costs: ['0.000120', '0.000030'],
      minutesAgo: 50,
    });
    await logDecision(notHelpful, { tier: 'balanced', propensity: 0.05, score: 0.08, kind: 'account', costs: ['0.002'], minutesAgo: 40 });
    await logDecision(implicitOnly, { tier: 'balanced', propensity: 1, score: 0.3, kind: 'maths', costs: [], minutesAgo: 30 });
    await logDecision(unrated, { tier: 'reasoning', propensity: 0.9, score: 0.7, kind: 'analysis', costs: ['0.01'], minutesAgo: 20 });
    // A hard rule (long context, a forced model) chose the model: no propensity, not a decision of the policy.
    await logDecision(hardRule, { tier: null, propensity: null, score: 0.5, kind: 'long_document', costs: ['0.05'], minutesAgo: 10 });
    await logDecision(old, { tier: 'cheap', propensity: 1, score: 0.01, kind: 'greeting', costs: ['0.0001'], minutesAgo: 60 * 24 * 8 });
    await logDecision(otherTenant, { tier: 'cheap', propensity: 1, score: 0.02, kind: 'faq', costs: ['0.0001'], minutesAgo: 5 });

    const log = await loadLoggedDecisions(context.database.dataSource, { tenantId: shop.tenant.id, days: 7 });

    expect(log.skipped).toBe(1);
    expect(log.decisions.map(({ context: logged, ...decision }) => ({ ...decision, score: logged.score, kind: logged.kind }))).toEqual([
      { tier: 'cheap', propensity: 0.95, reward: 1, cost: 0.00015, score: 0.04, kind: 'faq' },
      { tier: 'balanced', propensity: 0.05, reward: 0, cost: 0.002, score: 0.08, kind: 'account' },
      { tier: 'balanced', propensity: 1, reward: null, cost: 0, score: 0.3, kind: 'maths' },
      { tier: 'reasoning', propensity: 0.9, reward: null, cost: 0.01, score: 0.7, kind: 'analysis' },
    ]);
    expect(log.decisions.map((decision) => decision.context.interactionId)).toEqual([helpful, notHelpful, implicitOnly, unrated]);

    const everyone = await loadLoggedDecisions(context.database.dataSource, { days: 30 });
    expect(everyone.decisions).toHaveLength(6);
    expect(await resolveTenantId(context.database.dataSource, shop.tenant.whatsappNumber)).toBe(shop.tenant.id);
    expect(await resolveTenantId(context.database.dataSource, shop.tenant.id)).toBe(shop.tenant.id);
    expect(await resolveTenantId(context.database.dataSource, '+19995550000')).toBeUndefined();
  });

  it('estimates each knob value and says when too few decisions are rated', () => {
    const decisions = [
      { context: { interactionId: 'a', score: 0.05, kind: 'faq' }, tier: 'cheap', propensity: 0.5, reward: 1 as const, cost: 1 },
      { context: { interactionId: 'b', score: 0.05, kind: 'faq' }, tier: 'balanced', propensity: 0.5, reward: 0 as const, cost: 3 },
      { context: { interactionId: 'c', score: 0.3, kind: 'maths' }, tier: 'balanced', propensity: 1, reward: 1 as const, cost: 3 },
    ];
    const rows = estimateQualities(decisions, [0.5], 200);
    // The logged policy: plain means.
    expect(rows[0].result.helpfulRate.value).toBeCloseTo(2 / 3);
    expect(rows[0].result.costPerReply.value).toBeCloseTo(7 / 3);
    // Quality 0.5 sends score 0.05 to cheap and 0.3 to balanced: it matches a (weight 2) and c (weight 1).
    expect(rows[1].result.helpfulRate.value).toBeCloseTo(1);
    expect(rows[1].result.costPerReply.value).toBeCloseTo((2 * 1 + 3) / 3);
    const report = formatOffPolicyReport({ decisions, skipped: 2 }, rows, 'all tenants, the last 30 days');
    expect(report).toContain('| quality 0.5 | 100.0% |');
    expect(report).toContain('3 logged decisions (cheap 1, balanced 2), 3 with a rating; 2 replies left out');
    expect(report).toContain('Too few logged decisions with a rating (3');
  });

  it('parses its options', () => {
    expect(parseOffPolicyArgs(['--off-policy'])).toEqual({
      tenant: undefined,
      days: DEFAULT_OFF_POLICY_DAYS,
      qualities: DEFAULT_QUALITIES,
      bootstrap: 1000,
    });
    expect(parseOffPolicyArgs(['--off-policy', '--tenant', '+14155238886', '--days', '7', '--quality', '0.2, 0.9'])).toMatchObject({
      tenant: '+14155238886',
      days: 7,
      qualities: [0.2, 0.9],
    });
    expect(parseOffPolicyArgs(['--tenant', '3f2b6a0e-8c1d-4e5f-9a7b-1c2d3e4f5a6b']).tenant).toBe('3f2b6a0e-8c1d-4e5f-9a7b-1c2d3e4f5a6b');
    expect(() => parseOffPolicyArgs(['--tenant', 'acme'])).toThrow(/--tenant/);
    expect(() => parseOffPolicyArgs(['--days', '0'])).toThrow(/--days/);
    expect(() => parseOffPolicyArgs(['--days', '2.5'])).toThrow(/--days/);
    expect(() => parseOffPolicyArgs(['--quality', '0.5,1.5'])).toThrow(/--quality/);
    expect(() => parseOffPolicyArgs(['--quality', ''])).toThrow(/--quality/);
    expect(() => parseOffPolicyArgs(['--fold-seed', '3'])).toThrow();
  });
});
