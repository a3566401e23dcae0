import { describe, expect, it } from 'vitest';
import { tierThresholds } from '../../../src/llm/routing/quality-knob';
import {
  cellKey,
  decideTier,
  knobTier,
  POLICY_TIERS,
  type PolicyTier,
  type PosteriorCells,
  sampleBeta,
  type TierPolicyInput,
} from '../../../src/llm/routing/tier-policy';
import { seededRandom } from '../../support/seeded-random';

const allTiers: ReadonlySet<PolicyTier> = new Set(POLICY_TIERS);
const thresholds = tierThresholds(0.5);

function input(overrides: Partial<TierPolicyInput> = {}): TierPolicyInput {
  return {
    score: 0.1,
    kind: 'faq',
    thresholds,
    available: allTiers,
    escalation: 0,
    cells: new Map(),
    random: seededRandom('tier policy'),
    ...overrides,
  };
}

/** Cells with `good` and `bad` observations per tier of one kind. */
function cells(kind: string, observed: Partial<Record<PolicyTier, [good: number, bad: number]>>): PosteriorCells {
  return new Map(Object.entries(observed).map(([tier, [good, bad]]) => [cellKey(kind, tier), { good, bad }]));
}

describe('the tier policy', () => {
  it('picks exactly the knob tier from the offline prior when nothing is learnt, at every score and quality', () => {
    for (const quality of [0, 0.25, 0.5, 0.75, 1]) {
      const knob = tierThresholds(quality);
      for (let percent = 0; percent <= 100; percent += 1) {
        const score = percent / 100;
        const decision = decideTier(input({ score, thresholds: knob, options: { explorationShare: 0 } }));
        expect(decision.tier, `quality ${quality}, score ${score.toFixed(2)}`).toBe(knobTier(score, knob));
        expect(decision.propensity).toBe(1);
      }
    }
  });

  it('moves a kind the cheap tier serves badly up, and keeps a kind it serves well cheap', () => {
    const learnt = new Map([...cells('account', { cheap: [40, 60], balanced: [18, 2] }), ...cells('faq', { cheap: [95, 5] })]);
    const exploit = { explorationShare: 0 };
    expect(decideTier(input({ score: 0.1, kind: 'account', cells: learnt, options: exploit })).tier).toBe('balanced');
    expect(decideTier(input({ score: 0.1, kind: 'faq', cells: learnt, options: exploit })).tier).toBe('cheap');
    // Feedback can also bring a kind down: balanced is no better than cheap for these FAQ messages.
    const decision = decideTier(input({ score: 0.4, kind: 'faq', cells: learnt, options: exploit }));
    expect(decision).toMatchObject({ knobTier: 'balanced', tier: 'cheap' });
    expect(decision.reason).toContain('feedback on this kind');
  });

  it('never goes cheaper than the knob tier for a message above the safety score, even when feedback says cheap is fine', () => {
    const learnt = cells('maths', { cheap: [500, 0], balanced: [0, 50], reasoning: [0, 50] });
    const random = seededRandom('safety');
    for (let index = 0; index < 2_000; index += 1) {
      const decision = decideTier(input({ score: 0.9, kind: 'maths', cells: learnt, random, options: { explorationShare: 0.5 } }));
      expect(decision.tier).toBe('reasoning');
    }
  });

  it('explores at most its share of decisions, and never when the share is 0', () => {
    // Uncertain posteriors: the Thompson draw often disagrees with the exploiting choice.
    const uncertain = cells('faq', { cheap: [1, 1], balanced: [1, 1] });
    const count = (explorationShare: number) => {
      const random = seededRandom(`exploration ${explorationShare}`);
      let differs = 0;
      let explored = 0;
      for (let index = 0; index < 10_000; index += 1) {
        const decision = decideTier(input({ score: 0.26, cells: uncertain, random, options: { explorationShare } }));
        if (decision.policyTier !== decision.greedyTier) differs += 1;
        if (decision.explored) explored += 1;
      }
      return { differs: differs / 10_000, explored: explored / 10_000 };
    };
    const bounded = count(0.05);
    expect(bounded.differs).toBeGreaterThan(0);
    expect(bounded.differs).toBeLessThanOrEqual(0.05);
    expect(bounded.explored).toBeGreaterThan(0.035);
    expect(bounded.explored).toBeLessThan(0.065);
    expect(count(0)).toEqual({ differs: 0, explored: 0 });
  });

  it('logs propensities that match how often the policy really picks each tier', () => {
    const uncertain = cells('faq', { cheap: [3, 2], balanced: [4, 1], reasoning: [1, 1] });
    const random = seededRandom('propensity');
    const picks = new Map<PolicyTier, { count: number; propensity: number }>();
    const runs = 8_000;
    for (let index = 0; index < runs; index += 1) {
      const decision = decideTier(input({ score: 0.3, cells: uncertain, random, options: { explorationShare: 0.3 } }));
      const entry = picks.get(decision.policyTier) ?? { count: 0, propensity: 0 };
      entry.count += 1;
      entry.propensity += decision.propensity;
      picks.set(decision.policyTier, entry);
    }
    for (const [tier, { count, propensity }] of picks) {
      // The average logged propensity of a tier estimates the share of decisions that pick it.
      expect(propensity / count, tier).toBeCloseTo(count / runs, 1);
    }
  });

  it('sends the next turns of a conversation one tier up after a not-helpful answer, to the next usable tier', () => {
    expect(decideTier(input({ escalation: 1, options: { explorationShare: 0 } }))).toMatchObject({ policyTier: 'cheap', tier: 'balanced' });
    expect(decideTier(input({ escalation: 2, options: { explorationShare: 0 } })).tier).toBe('reasoning');
    const noBalanced = new Set<PolicyTier>(['cheap', 'reasoning']);
    expect(decideTier(input({ escalation: 1, available: noBalanced, options: { explorationShare: 0 } })).tier).toBe('cheap');
    expect(decideTier(input({ escalation: 2, available: noBalanced, options: { explorationShare: 0 } })).tier).toBe('reasoning');
    expect(decideTier(input({ escalation: 1, options: { explorationShare: 0 } })).reason).toContain('escalated to balanced');
  });

  it('draws Beta samples with the right mean', () => {
    const random = seededRandom('beta');
    let sum = 0;
    for (let index = 0; index < 20_000; index += 1) sum += sampleBeta(2, 6, random);
    expect(sum / 20_000).toBeCloseTo(0.25, 2);
  });
});
