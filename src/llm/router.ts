/**
 * The router: the trained scorer's score, the tenant's quality knob and its customers' feedback -> a tier -> the
 * first usable model of that tier, plus the ordered fallback chain. Hard rules come first and are never learnt
 * over: a forced model; a prompt whose exact token count exceeds the long-context threshold; the monthly budget
 * cap. The decision explains itself: score, kind, tier, propensity, tokens, cost estimate, reason.
 */
import { type ModelCatalog, type ModelEntry, type ModelRef, modelKey } from './catalog/model-catalog';
import { type ComplexityFeatures, extractFeatures } from './complexity';
import { costDollars } from './cost';
import { OFFLINE_MODEL_ID, OFFLINE_PROVIDER_ID } from './providers/offline/offline-provider';
import { type RoutingPolicy, type TierName, tierChain } from './routing-policy';
import type { MessageKind } from './routing/message-kinds';
import { tierThresholds } from './routing/quality-knob';
import { viewConversation } from './routing/routing-features';
import { defaultRoutingScorer, type RoutingScorer } from './routing/routing-scorer';
import { decideTier, knobTier, POLICY_TIERS, type PolicyTier, type PosteriorCells, type TierPolicyOptions } from './routing/tier-policy';
import { countMessageTokens } from './token-counter';
import type { ChatMessage } from './types';

export const OFFLINE_MODEL: ModelRef = { provider: OFFLINE_PROVIDER_ID, model: OFFLINE_MODEL_ID };

/** What the tenant's feedback has taught the router, and the randomness of its exploration. */
export interface RouteLearning {
  cells: PosteriorCells;
  /** Tiers up after not-helpful answers in this conversation. */
  escalation: number;
  random: () => number;
  options?: Partial<Omit<TierPolicyOptions, 'explorationShare'>>;
}

export interface RouteInput {
  messages: readonly ChatMessage[];
  catalog: ModelCatalog;
  policy: RoutingPolicy;
  /** Provider enabled for the tenant and a key available. */
  hasProvider(provider: string): boolean;
  /** The breaker of this model is open (skip at no cost). */
  isOpen(reference: ModelRef): boolean;
  overBudget: boolean;
  force?: ModelRef;
  /** Without it the policy decides from the offline prior alone and never explores (tests, benchmarks). */
  learning?: RouteLearning;
  /** The trained scorer (default: the committed router-model.json). */
  scorer?: Pick<RoutingScorer, 'assessText'>;
}

export interface SkippedModel {
  model: string;
  why: 'unknown_model' | 'provider_unavailable' | 'breaker_open' | 'context_too_small' | 'no_vision';
}

export interface RoutingDecision {
  provider: string;
  model: string;
  tier: TierName | 'forced' | 'offline';
  /** P(the cheap tier is not good enough) for the last customer message, from the trained scorer. */
  score: number;
  kind: MessageKind;
  /** The weights' version that produced score and kind. */
  modelVersion: string;
  /** The tier the knob alone gives this score. */
  knobTier: PolicyTier;
  /** The tier the learning policy chose (the feedback cell's tier); null when a hard rule decided. */
  policyTier: PolicyTier | null;
  /** Probability the policy gave policyTier (1 for hard rules). */
  propensity: number;
  explored: boolean;
  /** Posterior mean helpful rate of each tier the policy weighed. */
  helpfulRates: Partial<Record<PolicyTier, number>>;
  features: ComplexityFeatures;
  language: string;
  inputTokens: number;
  estimatedCostUsd: string;
  reason: string;
  /** Models to try after the chosen one, in order; the offline model is always last. */
  fallbacks: ModelRef[];
  skipped: SkippedModel[];
}

/** Routes one request; never throws: with nothing usable it falls back to the offline model. */
export function route(input: RouteInput): RoutingDecision {
  const { catalog, policy } = input;
  // The hand-made features of the last customer message alone (as the scorer was trained); the scorer adds the
  // conversation's length itself.
  const view = viewConversation(input.messages);
  const features = extractFeatures([{ role: 'user', content: view.text }]);
  const assessment = (input.scorer ?? defaultRoutingScorer()).assessText(view.text, view.turnsBefore, { complexity: features });
  const inputTokens = countMessageTokens(input.messages);
  const thresholds = tierThresholds(policy.quality);
  // A customer's photo is worth answering only by a model that can see it.
  const needsVision = input.messages.some((message) => (message.images?.length ?? 0) > 0);

  // Usability of a model for this request, without side effects (tiers are weighed before the chain is built).
  const check = (reference: ModelRef): { entry: ModelEntry } | { why: SkippedModel['why'] } => {
    const entry = catalog.find(reference);
    if (!entry) return { why: 'unknown_model' };
    if (needsVision && !entry.capabilities.vision) return { why: 'no_vision' };
    if (!input.hasProvider(reference.provider)) return { why: 'provider_unavailable' };
    // Leave room for the answer: a prompt that fills the window leaves the model nothing to say.
    if (inputTokens + Math.min(policy.maxOutputTokens, entry.maxOutputTokens) > entry.contextWindow) return { why: 'context_too_small' };
    if (input.isOpen(reference)) return { why: 'breaker_open' };
    return { entry };
  };
  const tierUsable = (tier: TierName) => policy.tiers[tier].some((reference) => 'entry' in check(reference));

  const decided = decide();
  // Documented order: the forced model or the routed tier's models, then the tenant's fallbackOrder (default: the
  // other tiers, balanced first after a forced model), then offline.
  const routedTier: TierName = decided.tier === 'forced' ? 'balanced' : decided.tier;
  const head: ModelRef[] = input.force ? [input.force] : policy.tiers[routedTier];
  const chain: ModelRef[] = [...head, ...(policy.fallbackOrder ?? tierChain(policy, routedTier))];

  const skipped: SkippedModel[] = [];
  const seen = new Set<string>();
  const candidates: ModelEntry[] = [];
  for (const reference of chain) {
    const key = modelKey(reference);
    if (seen.has(key)) continue;
    seen.add(key);
    const usable = check(reference);
    if ('entry' in usable) candidates.push(usable.entry);
    else skipped.push({ model: key, why: usable.why });
  }
  const [chosen, ...rest] = candidates;
  const fallbacks: ModelRef[] = rest.map(({ provider, model }) => ({ provider, model }));
  if (!candidates.some((entry) => entry.provider === OFFLINE_MODEL.provider)) fallbacks.push(OFFLINE_MODEL);
  const common = {
    score: assessment.score,
    kind: assessment.kind,
    modelVersion: assessment.modelVersion,
    knobTier: decided.knobTier,
    policyTier: decided.policyTier,
    propensity: decided.propensity,
    explored: decided.explored,
    helpfulRates: decided.helpfulRates,
    features,
    language: assessment.language,
    inputTokens,
    skipped,
  };
  if (!chosen || chosen.provider === OFFLINE_MODEL.provider) {
    return {
      ...OFFLINE_MODEL,
      ...common,
      tier: 'offline',
      estimatedCostUsd: '0.000000000000',
      reason: `${decided.reason}; no usable model, offline`,
      fallbacks: [],
    };
  }
  const reason =
    chain[0] && modelKey(chain[0]) !== modelKey(chosen) ? `${decided.reason}; ${modelKey(chosen)} first usable` : decided.reason;
  return {
    provider: chosen.provider,
    model: chosen.model,
    ...common,
    tier: decided.tier,
    estimatedCostUsd: costDollars(chosen, { inputTokens, cachedInputTokens: 0, outputTokens: policy.expectedOutputTokens }),
    reason,
    fallbacks,
  };

  function decide(): {
    tier: TierName | 'forced';
    knobTier: PolicyTier;
    policyTier: PolicyTier | null;
    propensity: number;
    explored: boolean;
    helpfulRates: Partial<Record<PolicyTier, number>>;
    reason: string;
  } {
    const knob = knobTier(assessment.score, thresholds);
    const rule = (tier: TierName | 'forced', reason: string) => ({
      tier,
      knobTier: knob,
      policyTier: null,
      propensity: 1,
      explored: false,
      helpfulRates: {},
      reason,
    });
    if (input.force) return rule('forced', `forced to ${modelKey(input.force)}`);
    const longContextTokens = policy.thresholds.longContextTokens;
    if (inputTokens > longContextTokens) return rule('longContext', `prompt of ${inputTokens} tokens exceeds ${longContextTokens}`);
    if (input.overBudget) return rule('cheap', 'monthly budget exceeded');
    const available = new Set(POLICY_TIERS.filter((tier) => tierUsable(tier)));
    const learning = input.learning;
    const decision = decideTier({
      score: assessment.score,
      kind: assessment.kind,
      thresholds,
      available,
      escalation: learning?.escalation ?? 0,
      cells: learning?.cells ?? new Map(),
      random: learning?.random ?? Math.random,
      options: { ...learning?.options, explorationShare: learning ? policy.exploration : 0 },
    });
    return {
      tier: decision.tier,
      knobTier: decision.knobTier,
      policyTier: decision.policyTier,
      propensity: decision.propensity,
      explored: decision.explored,
      helpfulRates: decision.helpfulRates,
      reason: `score ${assessment.score.toFixed(3)} (${assessment.kind}); ${decision.reason}`,
    };
  }
}
