/**
 * Off-policy evaluation of a routing policy from logged decisions: what helpful rate and cost per reply a candidate
 * policy (another knob value, another exploration share) would have had on the traffic a different policy routed.
 *
 * Self-normalised inverse propensity scoring (SNIPS): each logged reply is weighted by
 * w = P_candidate(logged tier | context) / P_logged(logged tier | context), and
 *   helpful rate = sum(w x helpful) / sum(w)   over replies with feedback,
 *   cost per reply = sum(w x cost) / sum(w)    over all replies.
 * Unbiased in the limit when every tier the candidate may pick had a non-zero logged propensity (hence the bounded
 * exploration), and when whether a reply got feedback does not depend on the tier beyond the context (feedback
 * missing at random given the context). The interval is a seeded percentile bootstrap over logged replies.
 *
 *   const estimate = estimateOffPolicy(rows, (context) => knobPolicy(context.score, 0.7), { seed: 1 });
 */
import { percentile, seededRandom } from './routing-metrics';

export interface LoggedDecision<Context> {
  /** What the policy saw (score, kind, ...): passed to the candidate policy unchanged. */
  context: Context;
  /** The tier the logging policy chose. */
  tier: string;
  /** The probability the logging policy gave that tier, in (0, 1]. */
  propensity: number;
  /** Helpful (1), not helpful (0), or no feedback (null). */
  reward: 0 | 1 | null;
  /** Cost of the reply, in any unit (the estimate is in the same unit). */
  cost: number;
}

/** A candidate policy: the probability of each tier for a context (tiers it never picks may be absent). */
export type CandidatePolicy<Context> = (context: Context) => Readonly<Partial<Record<string, number>>>;

export interface OffPolicyEstimate {
  value: number;
  /** Percentile bootstrap interval. */
  interval: [number, number];
  /** (sum w)^2 / sum w^2 over the replies used: how many logged replies the estimate is effectively worth. */
  effectiveSampleSize: number;
  /** Replies used (with feedback, for the helpful rate). */
  replies: number;
}

export interface OffPolicyResult {
  helpfulRate: OffPolicyEstimate;
  costPerReply: OffPolicyEstimate;
}

export interface OffPolicyOptions {
  bootstrapSamples?: number;
  seed?: number;
  confidence?: number;
}

/** The SNIPS estimate of a candidate policy's helpful rate and cost per reply, with bootstrap intervals. */
export function estimateOffPolicy<Context>(
  log: readonly LoggedDecision<Context>[],
  policy: CandidatePolicy<Context>,
  options: OffPolicyOptions = {},
): OffPolicyResult {
  const weights = log.map((decision, index) => {
    if (!(decision.propensity > 0 && decision.propensity <= 1))
      throw new RangeError(`logged decision ${index}: propensity ${decision.propensity} is not in (0, 1]`);
    return (policy(decision.context)[decision.tier] ?? 0) / decision.propensity;
  });
  const rewards = log.map((decision) => decision.reward);
  const costs = log.map((decision) => decision.cost);
  const helpful = (multiplicity?: ArrayLike<number>) => weightedMean(weights, rewards, multiplicity);
  const cost = (multiplicity?: ArrayLike<number>) => weightedMean(weights, costs, multiplicity);

  const samples = options.bootstrapSamples ?? 1000;
  const random = seededRandom(options.seed ?? 1);
  const counts = new Float64Array(log.length);
  const helpfulDraws: number[] = [];
  const costDraws: number[] = [];
  for (let sample = 0; sample < samples && log.length > 0; sample += 1) {
    counts.fill(0);
    for (let draw = 0; draw < log.length; draw += 1) counts[Math.floor(random() * log.length)] += 1;
    // A resample where the candidate matches no logged reply has no estimate; it is left out of the interval.
    const helpfulDraw = helpful(counts);
    const costDraw = cost(counts);
    if (!Number.isNaN(helpfulDraw)) helpfulDraws.push(helpfulDraw);
    if (!Number.isNaN(costDraw)) costDraws.push(costDraw);
  }
  const tail = (1 - (options.confidence ?? 0.95)) / 2;
  const interval = (draws: number[]): [number, number] =>
    draws.length ? [percentile(draws, tail), percentile(draws, 1 - tail)] : [Number.NaN, Number.NaN];
  const withFeedback = log.flatMap((decision, index) => (decision.reward === null ? [] : [index]));
  return {
    helpfulRate: {
      value: helpful(),
      interval: interval(helpfulDraws),
      effectiveSampleSize: effectiveSampleSize(withFeedback.map((index) => weights[index])),
      replies: withFeedback.length,
    },
    costPerReply: { value: cost(), interval: interval(costDraws), effectiveSampleSize: effectiveSampleSize(weights), replies: log.length },
  };
}

/** sum(w x value) / sum(w) over entries whose value is not null, each counted `multiplicity` times. */
function weightedMean(weights: readonly number[], values: ReadonlyArray<number | null>, multiplicity?: ArrayLike<number>): number {
  let numerator = 0;
  let denominator = 0;
  for (let index = 0; index < weights.length; index += 1) {
    const value = values[index];
    if (value === null) continue;
    const weight = weights[index] * (multiplicity ? multiplicity[index] : 1);
    numerator += weight * value;
    denominator += weight;
  }
  return denominator > 0 ? numerator / denominator : Number.NaN;
}

function effectiveSampleSize(weights: readonly number[]): number {
  let sum = 0;
  let squares = 0;
  for (const weight of weights) {
    sum += weight;
    squares += weight * weight;
  }
  return squares > 0 ? (sum * sum) / squares : 0;
}
