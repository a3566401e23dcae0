/**
 * The router: complexity score and exact prompt size -> a tier -> the first usable model of that tier,
 * plus the ordered fallback chain. The decision explains itself: features, score, tokens, cost estimate, reason.
 */
import { type ModelCatalog, type ModelEntry, type ModelRef, modelKey } from './catalog/model-catalog';
import { type ComplexityFeatures, extractFeatures, scoreComplexity } from './complexity';
import { costDollars } from './cost';
import { OFFLINE_MODEL_ID, OFFLINE_PROVIDER_ID } from './providers/offline/offline-provider';
import { type RoutingPolicy, type TierName, tierChain } from './routing-policy';
import { countMessageTokens } from './token-counter';
import type { ChatMessage } from './types';

export const OFFLINE_MODEL: ModelRef = { provider: OFFLINE_PROVIDER_ID, model: OFFLINE_MODEL_ID };

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
}

export interface SkippedModel {
  model: string;
  why: 'unknown_model' | 'provider_unavailable' | 'breaker_open' | 'context_too_small';
}

export interface RoutingDecision {
  provider: string;
  model: string;
  tier: TierName | 'forced' | 'offline';
  score: number;
  features: ComplexityFeatures;
  inputTokens: number;
  estimatedCostUsd: string;
  reason: string;
  /** Models to try after the chosen one, in order; the offline model is always last. */
  fallbacks: ModelRef[];
  skipped: SkippedModel[];
}

/** Chooses the tier from the score, the prompt size and the budget. */
export function chooseTier(policy: RoutingPolicy, score: number, inputTokens: number, overBudget: boolean): { tier: TierName; reason: string } {
  if (inputTokens > policy.thresholds.longContextTokens) return { tier: 'longContext', reason: `prompt of ${inputTokens} tokens exceeds ${policy.thresholds.longContextTokens}` };
  if (overBudget) return { tier: 'cheap', reason: 'monthly budget exceeded' };
  if (score < policy.thresholds.simple) return { tier: 'cheap', reason: `score ${score} below ${policy.thresholds.simple}` };
  if (score > policy.thresholds.complex) return { tier: 'reasoning', reason: `score ${score} above ${policy.thresholds.complex}` };
  return { tier: 'balanced', reason: `score ${score} between thresholds` };
}

/** Routes one request; never throws: with nothing usable it falls back to the offline model. */
export function route(input: RouteInput): RoutingDecision {
  const { catalog, policy } = input;
  const features = extractFeatures(input.messages);
  const score = scoreComplexity(features);
  const inputTokens = countMessageTokens(input.messages);
  const skipped: SkippedModel[] = [];
  const seen = new Set<string>();

  const usable = (reference: ModelRef): ModelEntry | undefined => {
    const key = modelKey(reference);
    if (seen.has(key)) return undefined;
    seen.add(key);
    const entry = catalog.find(reference);
    if (!entry) return void skipped.push({ model: key, why: 'unknown_model' });
    if (!input.hasProvider(reference.provider)) return void skipped.push({ model: key, why: 'provider_unavailable' });
    // Leave room for the answer: a prompt that fills the window leaves the model nothing to say.
    if (inputTokens + Math.min(policy.maxOutputTokens, entry.maxOutputTokens) > entry.contextWindow) {
      return void skipped.push({ model: key, why: 'context_too_small' });
    }
    if (input.isOpen(reference)) return void skipped.push({ model: key, why: 'breaker_open' });
    return entry;
  };

  const { tier, reason } = input.force
    ? { tier: 'forced' as const, reason: `forced to ${modelKey(input.force)}` }
    : chooseTier(policy, score, inputTokens, input.overBudget);
  const chain = input.force ? [input.force] : [];
  chain.push(...(policy.fallbackOrder ?? tierChain(policy, tier === 'forced' ? 'balanced' : tier)));

  const candidates: ModelEntry[] = [];
  for (const reference of chain) {
    const entry = usable(reference);
    if (entry) candidates.push(entry);
  }
  const [chosen, ...rest] = candidates;
  const fallbacks: ModelRef[] = rest.map(({ provider, model }) => ({ provider, model }));
  if (!candidates.some((entry) => entry.provider === OFFLINE_MODEL.provider)) fallbacks.push(OFFLINE_MODEL);
  if (!chosen || chosen.provider === OFFLINE_MODEL.provider) {
    return { ...OFFLINE_MODEL, tier: 'offline', score, features, inputTokens, estimatedCostUsd: '0.000000000000', reason: `${reason}; no usable model, offline`, fallbacks: [], skipped };
  }
  const chosenReason = chain[0] && modelKey(chain[0]) !== modelKey(chosen) ? `${reason}; ${modelKey(chosen)} first usable` : reason;
  return {
    provider: chosen.provider,
    model: chosen.model,
    tier,
    score,
    features,
    inputTokens,
    estimatedCostUsd: costDollars(chosen, { inputTokens, cachedInputTokens: 0, outputTokens: policy.expectedOutputTokens }),
    reason: chosenReason,
    fallbacks,
    skipped,
  };
}
