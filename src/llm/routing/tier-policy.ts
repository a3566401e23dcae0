/**
 * The learning tier policy: which of cheap, balanced and reasoning answers a message, from the scorer's score, the
 * tenant's quality knob and what the tenant's customers said about earlier answers of the same kind.
 *
 * Each (message kind, tier) cell has a Beta posterior of "the answer was good". Its prior comes from the offline
 * scorer: for a message with score s (P(the cheap tier is not good enough)), the cheap tier is good with
 * probability 1 - s, balanced with 1 - s/2 and reasoning with 1 - s/4 (a stronger tier recovers part of the gap),
 * worth `priorStrength` observations. A tier's value is its posterior helpful rate minus its cost in helpful-rate
 * units, and the costs are set from the knob's thresholds so that with no feedback at all the policy picks exactly
 * the knob's tier (cheap below `thresholds.balanced`, reasoning above `thresholds.reasoning`): feedback then moves
 * a kind's messages to the cheapest tier that serves them well.
 *
 * Exploration is Thompson sampling, bounded: with probability 1 - explorationShare the policy exploits (the tier
 * of highest posterior mean value); otherwise it takes the tier of highest value under one draw from the
 * posteriors. A message whose score is at or above `safetyScore` never goes to a tier cheaper than the knob's.
 * The decision carries its propensity, the probability the policy gave the chosen tier (the exploration part
 * estimated from the same draws), so logged decisions support off-policy evaluation.
 */

/** The tiers the policy chooses between; long context, budget and forced models are the router's hard rules. */
export const POLICY_TIERS = ['cheap', 'balanced', 'reasoning'] as const;
export type PolicyTier = (typeof POLICY_TIERS)[number];

/** Scores above which a message leaves the cheap tier, and goes to the reasoning tier, when nothing is learnt. */
export interface KnobThresholds {
  balanced: number;
  reasoning: number;
}

/** Observations of one cell: weighted good and bad outcomes. */
export interface CellPosterior {
  good: number;
  bad: number;
}

/** A tenant's cells, keyed by `cellKey(kind, tier)`. */
export type PosteriorCells = ReadonlyMap<string, CellPosterior>;

export interface TierPolicyOptions {
  /** Share of decisions that explore (0 disables); at most this share differs from the exploiting choice. */
  explorationShare: number;
  /** A message at or above this score never goes cheaper than the knob's tier. */
  safetyScore: number;
  /** How many observations the offline prior is worth. */
  priorStrength: number;
  /** Posterior draws per decision (the first drives exploration; all estimate its probabilities). */
  draws: number;
}

// The prior is worth 20 observations: one unlucky click does not move a whole kind of message, about ten
// consistent ones do (bench/routing-learning.ts converges to the oracle by 500 clicks with it).
export const DEFAULT_TIER_POLICY_OPTIONS: TierPolicyOptions = { explorationShare: 0.05, safetyScore: 0.85, priorStrength: 20, draws: 32 };

export interface TierPolicyInput {
  score: number;
  kind: string;
  thresholds: KnobThresholds;
  /** Tiers with at least one usable model; the policy never picks another. */
  available: ReadonlySet<PolicyTier>;
  /** Tiers up after not-helpful answers in this conversation (0 = none). */
  escalation: number;
  cells: PosteriorCells;
  random: () => number;
  options?: Partial<TierPolicyOptions>;
}

export interface TierPolicyDecision {
  /** The tier to answer with (after the conversation's escalation). */
  tier: PolicyTier;
  /** What the knob alone picks for this score. */
  knobTier: PolicyTier;
  /** What the policy picked before escalation. */
  policyTier: PolicyTier;
  /** The exploiting choice (highest posterior mean value). */
  greedyTier: PolicyTier;
  explored: boolean;
  /** Probability the policy gave `policyTier` (exploit share plus the exploration share of draws picking it). */
  propensity: number;
  /** Posterior mean helpful rate of each candidate tier for this message. */
  helpfulRates: Partial<Record<PolicyTier, number>>;
  reason: string;
}

/** The map key of a cell. */
export const cellKey = (kind: string, tier: string) => `${kind}|${tier}`;

/** The knob's tier for a score: balanced strictly above the balanced threshold, reasoning strictly above the reasoning one. */
export function knobTier(score: number, thresholds: KnobThresholds): PolicyTier {
  if (score > thresholds.reasoning) return 'reasoning';
  if (score > thresholds.balanced) return 'balanced';
  return 'cheap';
}

/** The offline prior's helpful rate of a tier for a message of this score. */
export function priorHelpfulRate(tier: PolicyTier, score: number): number {
  const gapRecovered = tier === 'cheap' ? 0 : tier === 'balanced' ? 0.5 : 0.75;
  return 1 - score * (1 - gapRecovered);
}

/**
 * The cost of each tier in helpful-rate units, chosen so that the prior alone reproduces the knob's thresholds:
 * cheap = balanced exactly at `thresholds.balanced` (s/2 = cost), balanced = reasoning at `thresholds.reasoning`.
 */
export function tierCosts(thresholds: KnobThresholds): Record<PolicyTier, number> {
  const balanced = thresholds.balanced / 2;
  return { cheap: 0, balanced, reasoning: balanced + thresholds.reasoning / 4 };
}

/** One draw from Gamma(shape, 1) (Marsaglia and Tsang; shape < 1 by the boost x U^(1/shape)). */
function sampleGamma(shape: number, random: () => number): number {
  if (shape < 1) return sampleGamma(shape + 1, random) * random() ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = standardNormal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = random();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** One standard normal draw (Box-Muller; one of the pair is enough here). */
function standardNormal(random: () => number): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** One draw from Beta(alpha, beta). */
export function sampleBeta(alpha: number, beta: number, random: () => number): number {
  const x = sampleGamma(alpha, random);
  const y = sampleGamma(beta, random);
  return x / (x + y);
}

const up = (tier: PolicyTier, steps: number): PolicyTier =>
  POLICY_TIERS[Math.min(POLICY_TIERS.length - 1, POLICY_TIERS.indexOf(tier) + steps)];

/** Chooses the tier for one message. */
export function decideTier(input: TierPolicyInput): TierPolicyDecision {
  const options = { ...DEFAULT_TIER_POLICY_OPTIONS, ...input.options };
  const knob = knobTier(input.score, input.thresholds);
  const costs = tierCosts(input.thresholds);
  const floor = input.score >= options.safetyScore ? POLICY_TIERS.indexOf(knob) : 0;
  const candidates = POLICY_TIERS.filter((tier, index) => index >= floor && input.available.has(tier));
  if (candidates.length === 0) {
    // Nothing usable at or above the floor: the cheapest usable tier is the only answer there is.
    const fallback = POLICY_TIERS.find((tier) => input.available.has(tier)) ?? knob;
    return finish(
      { policyTier: fallback, knob, greedyTier: fallback, explored: false, propensity: 1, helpfulRates: {} },
      { steps: input.escalation, available: input.available },
      `${fallback}: no usable tier at or above the safety floor`,
    );
  }
  const posteriors = candidates.map((tier) => {
    const observed = input.cells.get(cellKey(input.kind, tier)) ?? { good: 0, bad: 0 };
    const prior = priorHelpfulRate(tier, Math.min(1, Math.max(0, input.score)));
    const alpha = options.priorStrength * prior + observed.good;
    const beta = options.priorStrength * (1 - prior) + observed.bad;
    return { tier, alpha: Math.max(alpha, 1e-3), beta: Math.max(beta, 1e-3), observations: observed.good + observed.bad };
  });
  const helpfulRates: Partial<Record<PolicyTier, number>> = {};
  let greedy = posteriors[0];
  let greedyValue = -Infinity;
  for (const posterior of posteriors) {
    const mean = posterior.alpha / (posterior.alpha + posterior.beta);
    helpfulRates[posterior.tier] = Math.round(mean * 10_000) / 10_000;
    // Ties go to the cheaper tier (candidates are in cost order).
    if (mean - costs[posterior.tier] > greedyValue + 1e-12) {
      greedy = posterior;
      greedyValue = mean - costs[posterior.tier];
    }
  }
  const escalation = { steps: input.escalation, available: input.available };
  if (candidates.length === 1 || options.explorationShare <= 0) {
    return finish(
      { policyTier: greedy.tier, knob, greedyTier: greedy.tier, explored: false, propensity: 1, helpfulRates },
      escalation,
      reasonOf(greedy.tier, knob, helpfulRates),
    );
  }
  // Thompson draws: how often each candidate wins under the posteriors. The first draw is the exploring choice.
  const wins = new Map<PolicyTier, number>();
  let firstDraw: PolicyTier = greedy.tier;
  for (let draw = 0; draw < options.draws; draw += 1) {
    let best: PolicyTier = posteriors[0].tier;
    let bestValue = -Infinity;
    for (const posterior of posteriors) {
      const value = sampleBeta(posterior.alpha, posterior.beta, input.random) - costs[posterior.tier];
      if (value > bestValue) {
        bestValue = value;
        best = posterior.tier;
      }
    }
    wins.set(best, (wins.get(best) ?? 0) + 1);
    if (draw === 0) firstDraw = best;
  }
  const explored = input.random() < options.explorationShare;
  const policyTier = explored ? firstDraw : greedy.tier;
  const propensity =
    (1 - options.explorationShare) * (policyTier === greedy.tier ? 1 : 0) +
    (options.explorationShare * (wins.get(policyTier) ?? 0)) / options.draws;
  const reason = explored
    ? `exploring ${policyTier} (Thompson draw); exploit would pick ${greedy.tier}`
    : reasonOf(greedy.tier, knob, helpfulRates);
  return finish({ policyTier, knob, greedyTier: greedy.tier, explored, propensity, helpfulRates }, escalation, reason);
}

function reasonOf(chosen: PolicyTier, knob: PolicyTier, rates: Partial<Record<PolicyTier, number>>): string {
  const rate = rates[chosen];
  const shown = rate === undefined ? '' : ` (helpful ${Math.round(rate * 100)}%)`;
  return chosen === knob ? `${chosen}: the knob's tier${shown}` : `${chosen} instead of the knob's ${knob}: feedback on this kind${shown}`;
}

interface PolicyChoice {
  policyTier: PolicyTier;
  knob: PolicyTier;
  greedyTier: PolicyTier;
  explored: boolean;
  propensity: number;
  helpfulRates: Partial<Record<PolicyTier, number>>;
}

/** Applies the conversation's escalation (to the wanted tier, or the nearest usable one below it) and rounds the figures. */
function finish(
  choice: PolicyChoice,
  escalation: { steps: number; available: ReadonlySet<PolicyTier> },
  reason: string,
): TierPolicyDecision {
  let tier = choice.policyTier;
  if (escalation.steps > 0) {
    const wanted = up(choice.policyTier, escalation.steps);
    for (let index = POLICY_TIERS.indexOf(wanted); index > POLICY_TIERS.indexOf(choice.policyTier); index -= 1) {
      if (escalation.available.has(POLICY_TIERS[index])) {
        tier = POLICY_TIERS[index];
        break;
      }
    }
  }
  return {
    tier,
    knobTier: choice.knob,
    policyTier: choice.policyTier,
    greedyTier: choice.greedyTier,
    explored: choice.explored,
    propensity: Math.round(choice.propensity * 1_000_000) / 1_000_000,
    helpfulRates: choice.helpfulRates,
    reason: tier === choice.policyTier ? reason : `${reason}; escalated to ${tier} after a not-helpful answer`,
  };
}
