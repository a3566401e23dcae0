import { describe, expect, it } from 'vitest';
import { DEFAULT_QUALITY, tierForScore, tierThresholds } from '../../../src/llm/routing/quality-knob';

const RANK = { cheap: 0, balanced: 1, reasoning: 2 } as const;

describe('the quality knob', () => {
  it('puts the default at a 25% risk for the balanced tier and 55% for reasoning', () => {
    expect(DEFAULT_QUALITY).toBe(0.5);
    expect(tierThresholds()).toEqual({ balanced: 0.25, reasoning: 0.55 });
    expect(tierForScore(0.25)).toBe('cheap');
    expect(tierForScore(0.26)).toBe('balanced');
    expect(tierForScore(0.56)).toBe('reasoning');
  });

  it('never picks a cheaper tier for a higher quality, at any score', () => {
    for (let score = 0; score <= 1; score += 0.01) {
      let previous = -1;
      for (let quality = 0; quality <= 1; quality += 0.05) {
        const rank = RANK[tierForScore(score, quality)];
        expect(rank).toBeGreaterThanOrEqual(previous);
        previous = rank;
      }
    }
  });

  it('clamps settings outside [0, 1]', () => {
    expect(tierThresholds(7)).toEqual(tierThresholds(1));
    expect(tierThresholds(-1)).toEqual(tierThresholds(0));
    expect(tierThresholds(Number.NaN)).toEqual(tierThresholds(DEFAULT_QUALITY));
  });
});
