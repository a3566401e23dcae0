/** Retrieval metrics of ranked lists, each against its one relevant id. */

/** Recall@1, recall@5 and MRR@5 of ranked lists against the relevant id of each query. */
export function retrievalMetrics(results: Array<{ relevant: string; ranked: string[] }>): {
  recallAt1: number;
  recallAt5: number;
  mrr: number;
} {
  let hits1 = 0;
  let hits5 = 0;
  let reciprocal = 0;
  for (const { relevant, ranked } of results) {
    const position = ranked.slice(0, 5).indexOf(relevant);
    if (position === 0) hits1 += 1;
    if (position >= 0) {
      hits5 += 1;
      reciprocal += 1 / (position + 1);
    }
  }
  const count = Math.max(1, results.length);
  return { recallAt1: hits1 / count, recallAt5: hits5 / count, mrr: reciprocal / count };
}
