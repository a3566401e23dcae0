/**
 * The per-tenant quality/cost knob: one number `settings.llm.quality` in [0,1], default 0.5, that turns the trained
 * score, P(the cheap tier is not good enough), into a tier.
 *
 * Meaning: the cheap tier answers while the estimated risk that it fails where a stronger model would succeed is
 * at most (1 - quality) / 2; above that the balanced tier answers, and 0.3 higher still the reasoning tier.
 * - quality 0.5 (default): cheap up to a 25% risk, reasoning above 55%. Everyday customer-service messages score
 *   about 0 and stay cheap; about half of GSM8K's maths problems go up (median score 0.26); MMLU's exam questions,
 *   scored 0.13 to 0.15 (the scorer sees a 14% risk in nearly all of them), stay cheap until quality 0.7.
 * - quality 0: cheap up to 50% (only messages more likely than not to need it go up), reasoning above 80%.
 * - quality 1: never cheap, reasoning from 30%.
 * Operating points per data set: docs/routing-eval.md.
 * Monotone by construction: both thresholds fall as quality rises, so a higher quality never picks a cheaper tier.
 * The 0.3 step to the reasoning tier is a judgement: the labelled data has one weak and one strong model only.
 * Long context, the budget cap and forced models stay the router's hard rules, applied before this.
 */

export const DEFAULT_QUALITY = 0.5;
/** How far above the balanced threshold the reasoning tier starts. */
export const REASONING_MARGIN = 0.3;

export type ScoredTier = 'cheap' | 'balanced' | 'reasoning';

/** The score thresholds above which the balanced and the reasoning tiers answer, for a quality setting. */
export function tierThresholds(quality: number = DEFAULT_QUALITY): { balanced: number; reasoning: number } {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(quality) ? quality : DEFAULT_QUALITY));
  // Rounded to 1e-9, so a threshold is the decimal it is meant to be (0.15 + 0.3 would be 0.44999999999999996).
  const round = (value: number) => Math.round(value * 1e9) / 1e9;
  const balanced = round((1 - clamped) / 2);
  return { balanced, reasoning: Math.min(1, round(balanced + REASONING_MARGIN)) };
}

/** The tier for a score at a quality setting (strictly above a threshold goes up). */
export function tierForScore(score: number, quality: number = DEFAULT_QUALITY): ScoredTier {
  const thresholds = tierThresholds(quality);
  if (score > thresholds.reasoning) return 'reasoning';
  if (score > thresholds.balanced) return 'balanced';
  return 'cheap';
}
