import { describe, expect, it } from 'vitest';
import { estimateOffPolicy, type LoggedDecision } from '../../../src/llm/routing/off-policy';
import { seededRandom } from '../../../src/llm/routing/routing-metrics';

type Kind = 'faq' | 'maths';
const HELPFUL: Record<Kind, Record<'cheap' | 'balanced', number>> = {
  faq: { cheap: 0.9, balanced: 0.92 },
  maths: { cheap: 0.5, balanced: 0.85 },
};
const COST = { cheap: 1, balanced: 10 };

/**
 * A synthetic log with a known answer: half faq, half maths; the logging policy picks cheap with probability 0.8 for
 * faq and 0.3 for maths; the customer clicks a button on 40% of replies, whatever the tier.
 */
function syntheticLog(rows: number, seed: number): Array<LoggedDecision<{ kind: Kind }>> {
  const random = seededRandom(seed);
  return Array.from({ length: rows }, () => {
    const kind: Kind = random() < 0.5 ? 'faq' : 'maths';
    const cheapShare = kind === 'faq' ? 0.8 : 0.3;
    const tier = random() < cheapShare ? 'cheap' : 'balanced';
    const helpful = random() < HELPFUL[kind][tier] ? 1 : 0;
    return {
      context: { kind },
      tier,
      propensity: tier === 'cheap' ? cheapShare : 1 - cheapShare,
      reward: random() < 0.4 ? helpful : null,
      cost: COST[tier],
    };
  });
}

describe('estimateOffPolicy (self-normalised inverse propensity)', () => {
  const log = syntheticLog(40_000, 5);
  // Candidate: cheap for faq, balanced for maths. Truth: helpful 0.5 x 0.9 + 0.5 x 0.85 = 0.875, cost 0.5 x 1 + 0.5 x 10 = 5.5.
  const candidate = ({ kind }: { kind: Kind }) => (kind === 'faq' ? { cheap: 1 } : { balanced: 1 });

  it("recovers a candidate policy's helpful rate and cost on a synthetic log with a known answer", () => {
    const estimate = estimateOffPolicy(log, candidate, { bootstrapSamples: 300, seed: 2 });
    expect(estimate.helpfulRate.value).toBeCloseTo(0.875, 1);
    expect(Math.abs(estimate.helpfulRate.value - 0.875)).toBeLessThan(0.015);
    expect(estimate.helpfulRate.interval[0]).toBeLessThan(0.875);
    expect(estimate.helpfulRate.interval[1]).toBeGreaterThan(0.875);
    expect(Math.abs(estimate.costPerReply.value - 5.5)).toBeLessThan(0.1);
    expect(estimate.costPerReply.interval[0]).toBeLessThan(5.5);
    expect(estimate.costPerReply.interval[1]).toBeGreaterThan(5.5);
    expect(estimate.helpfulRate.replies).toBeGreaterThan(15_000);
    expect(estimate.helpfulRate.effectiveSampleSize).toBeLessThan(estimate.helpfulRate.replies);
  });

  it('differs from the naive average of the log, which measures the logging policy instead', () => {
    const withFeedback = log.filter((decision) => decision.reward !== null);
    const naive = withFeedback.reduce((sum, decision) => sum + (decision.reward ?? 0), 0) / withFeedback.length;
    // Logging policy: 0.5 x (0.8 x 0.9 + 0.2 x 0.92) + 0.5 x (0.3 x 0.5 + 0.7 x 0.85) = 0.8245.
    expect(naive).toBeCloseTo(0.8245, 1);
    expect(estimateOffPolicy(log, candidate, { bootstrapSamples: 0 }).helpfulRate.value - naive).toBeGreaterThan(0.03);
  });

  it('returns the plain mean when the candidate is the logging policy', () => {
    const small = syntheticLog(300, 9);
    const same = ({ kind }: { kind: Kind }) => (kind === 'faq' ? { cheap: 0.8, balanced: 0.2 } : { cheap: 0.3, balanced: 0.7 });
    const cost = small.reduce((sum, decision) => sum + decision.cost, 0) / small.length;
    expect(estimateOffPolicy(small, same, { bootstrapSamples: 0 }).costPerReply.value).toBeCloseTo(cost, 12);
  });

  it('is reproducible for a seed, and has no estimate when the candidate matches no logged reply', () => {
    const small = syntheticLog(500, 4);
    expect(estimateOffPolicy(small, candidate, { bootstrapSamples: 100, seed: 8 })).toEqual(
      estimateOffPolicy(small, candidate, { bootstrapSamples: 100, seed: 8 }),
    );
    const never = estimateOffPolicy(small, () => ({ reasoning: 1 }), { bootstrapSamples: 10 });
    expect(never.helpfulRate.value).toBeNaN();
    expect(never.helpfulRate.interval).toEqual([Number.NaN, Number.NaN]);
  });

  it('rejects a propensity outside (0, 1]', () => {
    expect(() =>
      estimateOffPolicy([{ context: { kind: 'faq' as Kind }, tier: 'cheap', propensity: 0, reward: 1, cost: 1 }], candidate),
    ).toThrow(RangeError);
  });
});
