/**
 * Cost/quality metrics of a router on labelled prompts (RouteLLM's definitions). Sort the prompts by the router's
 * score, send the highest-scored share x to the strong model and the rest to the weak one; performance(x) is the mean
 * correctness of the answers so obtained. PGR(x) = (performance(x) - weak) / (strong - weak) is the share of the
 * strong-vs-weak quality gap recovered.
 * - APGR: the area under PGR(x) for x from 0 to 1. Random routing recovers the gap linearly: 0.5.
 * - CPT(p): the smallest share of strong calls at which PGR reaches p (CPT50, CPT80).
 *
 * RouteLLM samples about ten thresholds and applies the trapezoid rule; here the curve is exact: every prompt is a
 * step, and prompts with equal scores form one block that is routed in proportion (a router that cannot tell them
 * apart picks among them at random), so the curve is linear across a block and a constant score gives exactly 0.5.
 */
import { mulberry32 } from '../../seeded-random';

export interface LabelledOutcome {
  score: number;
  weakCorrect: boolean;
  strongCorrect: boolean;
}

/** The PGR curve as its corner points: share of strong calls (0..1, increasing) and gap recovered. */
export interface GapRecoveredCurve {
  strongShare: number[];
  gapRecovered: number[];
  weakAccuracy: number;
  strongAccuracy: number;
}

/**
 * The exact PGR curve; `multiplicity` (one count per outcome, e.g. from a bootstrap draw) weights each outcome, and
 * `order` may pass the outcomes' indices already sorted by descending score to skip the sort.
 */
export function gapRecoveredCurve(
  outcomes: readonly LabelledOutcome[],
  multiplicity?: ArrayLike<number>,
  order?: ArrayLike<number>,
): GapRecoveredCurve {
  const sorted = order ?? descendingOrder(outcomes);
  const weightOf = (index: number) => (multiplicity ? multiplicity[index] : 1);
  let total = 0;
  let weakSum = 0;
  let strongSum = 0;
  for (let index = 0; index < outcomes.length; index += 1) {
    const weight = weightOf(index);
    total += weight;
    if (outcomes[index].weakCorrect) weakSum += weight;
    if (outcomes[index].strongCorrect) strongSum += weight;
  }
  const weakAccuracy = total ? weakSum / total : 0;
  const strongAccuracy = total ? strongSum / total : 0;
  const gap = strongAccuracy - weakAccuracy;
  const strongShare = [0];
  const gapRecovered = [0];
  let routedWeight = 0;
  // Correct answers gained (strong right, weak wrong) minus lost (weak right, strong wrong) by the strong calls so far.
  let gained = 0;
  let position = 0;
  while (position < sorted.length) {
    const blockScore = outcomes[sorted[position]].score;
    while (position < sorted.length && outcomes[sorted[position]].score === blockScore) {
      const index = sorted[position];
      const weight = weightOf(index);
      routedWeight += weight;
      gained += weight * (Number(outcomes[index].strongCorrect) - Number(outcomes[index].weakCorrect));
      position += 1;
    }
    strongShare.push(total ? routedWeight / total : 0);
    gapRecovered.push(gap === 0 || total === 0 ? Number.NaN : gained / total / gap);
  }
  return { strongShare, gapRecovered, weakAccuracy, strongAccuracy };
}

/** Indices of the outcomes sorted by descending score (stable: equal scores keep their input order). */
export function descendingOrder(outcomes: readonly LabelledOutcome[]): Uint32Array {
  const order = Uint32Array.from(outcomes.keys());
  return order.sort((left, right) => outcomes[right].score - outcomes[left].score || left - right);
}

/** Area under the PGR curve over the share of strong calls (exact trapezoids between the curve's corners). */
export function averageGapRecovered(curve: GapRecoveredCurve): number {
  let area = 0;
  for (let index = 1; index < curve.strongShare.length; index += 1) {
    const width = curve.strongShare[index] - curve.strongShare[index - 1];
    area += (width * (curve.gapRecovered[index] + curve.gapRecovered[index - 1])) / 2;
  }
  return area;
}

/** The smallest share of strong calls at which the curve first recovers `target` of the gap (linear within a segment). */
export function callsToRecover(curve: GapRecoveredCurve, target: number): number {
  for (let index = 1; index < curve.strongShare.length; index += 1) {
    const before = curve.gapRecovered[index - 1];
    const after = curve.gapRecovered[index];
    if (after >= target) {
      if (before >= target) return curve.strongShare[index - 1];
      const fraction = (target - before) / (after - before);
      return curve.strongShare[index - 1] + fraction * (curve.strongShare[index] - curve.strongShare[index - 1]);
    }
  }
  return Number.NaN;
}

export interface RoutingQuality {
  apgr: number;
  cpt50: number;
  cpt80: number;
  /** Percentile bootstrap interval of the APGR, when asked for. */
  apgrInterval?: [number, number];
}

/** APGR, CPT50 and CPT80, with a seeded percentile bootstrap interval on the APGR when `bootstrap.samples` > 0. */
export function routingQuality(
  outcomes: readonly LabelledOutcome[],
  bootstrap?: { samples: number; seed: number; confidence?: number },
): RoutingQuality {
  const order = descendingOrder(outcomes);
  const curve = gapRecoveredCurve(outcomes, undefined, order);
  const quality: RoutingQuality = {
    apgr: averageGapRecovered(curve),
    cpt50: callsToRecover(curve, 0.5),
    cpt80: callsToRecover(curve, 0.8),
  };
  if (bootstrap && bootstrap.samples > 0) {
    const random = seededRandom(bootstrap.seed);
    const counts = new Float64Array(outcomes.length);
    const values: number[] = [];
    for (let sample = 0; sample < bootstrap.samples; sample += 1) {
      counts.fill(0);
      for (let draw = 0; draw < outcomes.length; draw += 1) counts[Math.floor(random() * outcomes.length)] += 1;
      values.push(averageGapRecovered(gapRecoveredCurve(outcomes, counts, order)));
    }
    const tail = (1 - (bootstrap.confidence ?? 0.95)) / 2;
    quality.apgrInterval = [percentile(values, tail), percentile(values, 1 - tail)];
  }
  return quality;
}

/** Value at quantile q of the numbers (linear interpolation between order statistics). */
export function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  if (sorted.length === 0) return Number.NaN;
  const position = q * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.min(sorted.length - 1, lower + 1);
  return sorted[lower] + (position - lower) * (sorted[upper] - sorted[lower]);
}

/** A seeded generator (src/seeded-random.ts), so bootstraps and splits repeat exactly. */
export const seededRandom = mulberry32;
