import { describe, expect, it } from 'vitest';
import {
  averageGapRecovered,
  callsToRecover,
  gapRecoveredCurve,
  type LabelledOutcome,
  routingQuality,
  seededRandom,
} from '../../../src/llm/routing/routing-metrics';

/** Ten prompts: 3 only the strong model answers, 1 only the weak one, 4 both, 2 neither (gap = (3 - 1) / 10). */
function tenPrompts(score: (kind: 'strongOnly' | 'weakOnly' | 'both' | 'neither', index: number) => number): LabelledOutcome[] {
  const kinds = ['strongOnly', 'strongOnly', 'strongOnly', 'weakOnly', 'both', 'both', 'both', 'both', 'neither', 'neither'] as const;
  return kinds.map((kind, index) => ({
    score: score(kind, index),
    weakCorrect: kind === 'weakOnly' || kind === 'both',
    strongCorrect: kind === 'strongOnly' || kind === 'both',
  }));
}

describe('APGR and CPT (RouteLLM definitions, exact curve)', () => {
  it('gives a router that cannot tell prompts apart (one score for all) exactly 0.5', () => {
    const quality = routingQuality(tenPrompts(() => 0.3));
    expect(quality.apgr).toBeCloseTo(0.5, 12);
    expect(quality.cpt50).toBeCloseTo(0.5, 12);
    expect(quality.cpt80).toBeCloseTo(0.8, 12);
  });

  it('gives random scores about 0.5 on many prompts', () => {
    const random = seededRandom(7);
    const outcomes = Array.from({ length: 20_000 }, () => ({
      score: random(),
      weakCorrect: random() < 0.6,
      strongCorrect: random() < 0.8,
    }));
    expect(routingQuality(outcomes).apgr).toBeGreaterThan(0.47);
    expect(routingQuality(outcomes).apgr).toBeLessThan(0.53);
  });

  it('gives the perfect ranking its analytic value', () => {
    // Strong-only first (PGR climbs to 0.3 / 0.2 = 1.5 at 30% strong calls), ties flat, the weak-only prompt last
    // (back to 1 at 100%): area = 0.3 x 0.75 + 0.6 x 1.5 + 0.1 x 1.25 = 1.25.
    const order = { strongOnly: 3, both: 2, neither: 2, weakOnly: 1 };
    const quality = routingQuality(tenPrompts((kind) => order[kind]));
    expect(quality.apgr).toBeCloseTo(1.25, 12);
    // 50% of the gap is 0.1 correct answers per prompt: one strong-only prompt, 10% of calls; 80% is 1.6 of them.
    expect(quality.cpt50).toBeCloseTo(0.1, 12);
    expect(quality.cpt80).toBeCloseTo(0.16, 12);
  });

  it('gives the reversed ranking the mirror value', () => {
    // Weak-only first (down to -0.5), ties flat, strong-only last: 0.1 x -0.25 + 0.6 x -0.5 + 0.3 x 0.25 = -0.25.
    const order = { strongOnly: 1, both: 2, neither: 2, weakOnly: 3 };
    expect(routingQuality(tenPrompts((kind) => order[kind])).apgr).toBeCloseTo(-0.25, 12);
  });

  it('routes a block of equal scores in proportion (a straight segment across it)', () => {
    const outcomes = tenPrompts((kind) => (kind === 'strongOnly' ? 1 : 0));
    const curve = gapRecoveredCurve(outcomes);
    expect(curve.strongShare).toEqual([0, 0.3, 1]);
    expect(curve.gapRecovered[1]).toBeCloseTo(1.5, 12);
    expect(curve.gapRecovered[2]).toBeCloseTo(1, 12);
    expect(averageGapRecovered(curve)).toBeCloseTo(0.3 * 0.75 + 0.7 * 1.25, 12);
    expect(callsToRecover(curve, 2)).toBeNaN();
  });

  it('draws the same bootstrap interval for the same seed, and it contains the estimate', () => {
    const random = seededRandom(3);
    const outcomes = Array.from({ length: 500 }, () => {
      const score = random();
      return { score, weakCorrect: random() < 0.7 - score * 0.3, strongCorrect: random() < 0.85 };
    });
    const first = routingQuality(outcomes, { samples: 200, seed: 11 });
    const second = routingQuality(outcomes, { samples: 200, seed: 11 });
    expect(first.apgrInterval).toEqual(second.apgrInterval);
    const [lower, upper] = first.apgrInterval ?? [Number.NaN, Number.NaN];
    expect(lower).toBeLessThan(first.apgr);
    expect(upper).toBeGreaterThan(first.apgr);
  });
});
