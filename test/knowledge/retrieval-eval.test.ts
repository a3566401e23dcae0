import { describe, expect, it } from 'vitest';
import { retrievalMetrics } from '../../scripts/retrieval/metrics';

describe('retrieval metrics', () => {
  it('counts recall at 1 and 5 and the mean reciprocal rank over the top 5', () => {
    const metrics = retrievalMetrics([
      { relevant: 'a', ranked: ['a', 'b'] },
      { relevant: 'a', ranked: ['b', 'c', 'a'] },
      { relevant: 'a', ranked: ['b', 'c', 'd', 'e', 'f', 'a'] },
      { relevant: 'a', ranked: [] },
    ]);
    expect(metrics.recallAt1).toBe(0.25);
    expect(metrics.recallAt5).toBe(0.5);
    expect(metrics.mrr).toBeCloseTo((1 + 1 / 3) / 4, 12);
  });
});
