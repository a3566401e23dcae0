/**
 * Routing as data (Portkey's idea): the quality knob, exploration, tiers, fallback order, enabled providers,
 * budget and timeouts, with defaults, overridable per tenant under `settings.llm`, validated before use.
 */
import { z } from 'zod';
import { modelEntrySchema, type ModelRef } from './catalog/model-catalog';
import { DEFAULT_QUALITY } from './routing/quality-knob';

const modelRefSchema = z.object({ provider: z.string().min(1), model: z.string().min(1) });

export const TIER_NAMES = ['cheap', 'balanced', 'reasoning', 'longContext'] as const;
export type TierName = (typeof TIER_NAMES)[number];

/** An OpenAI-compatible endpoint (Ollama, vLLM, an Azure-style gateway) offered as its own provider. */
export const compatibleProviderSchema = z.object({
  id: z.string().regex(/^[a-z][a-z0-9_-]{1,40}$/),
  baseUrl: z.url({ protocol: /^https?$/ }),
  headers: z.record(z.string(), z.string()).optional(),
  query: z.record(z.string(), z.string()).optional(),
  /** Servers that need no key (a local Ollama) still get a placeholder, since the SDK requires one. */
  requiresKey: z.boolean().default(true),
});

export const routingPolicySchema = z.object({
  /**
   * Quality against cost, 0 to 1 (llm/routing/quality-knob.ts): the cheap tier answers while the scorer's risk that
   * it fails where a stronger model would succeed is below (1 - quality) / 2; the reasoning tier 0.3 above that.
   * 0.5 by default: cheap below a 25% risk, reasoning above 55%. A higher value never picks a cheaper tier.
   */
  quality: z.number().min(0).max(1).default(DEFAULT_QUALITY),
  /** Share of decisions that explore another tier by Thompson sampling to learn from feedback; 0 disables. */
  exploration: z.number().min(0).max(0.5).default(0.05),
  thresholds: z.object({ longContextTokens: z.number().int().positive().default(100_000) }).prefault({}),
  tiers: z
    .object({
      cheap: z.array(modelRefSchema).default([
        { provider: 'gemini', model: 'gemini-2.0-flash' },
        { provider: 'openai', model: 'gpt-4o-mini' },
        { provider: 'gemini', model: 'gemini-1.5-flash' },
      ]),
      balanced: z.array(modelRefSchema).default([
        { provider: 'openai', model: 'gpt-4o' },
        { provider: 'gemini', model: 'gemini-2.5-flash' },
        { provider: 'openai', model: 'gpt-4.1' },
      ]),
      reasoning: z.array(modelRefSchema).default([
        { provider: 'openai', model: 'o3-mini' },
        { provider: 'gemini', model: 'gemini-2.5-pro' },
        { provider: 'openai', model: 'o1' },
      ]),
      // Gemini 2.5 Pro before 1.5 Pro: the newer model, and its lower price tier runs to 200k prompt tokens where
      // 1.5 Pro's ends at 128k, so a 150k-token document costs half as much.
      longContext: z.array(modelRefSchema).default([
        { provider: 'gemini', model: 'gemini-2.5-pro' },
        { provider: 'gemini', model: 'gemini-1.5-pro' },
        { provider: 'openai', model: 'gpt-4.1' },
      ]),
    })
    .prefault({}),
  /** Providers this tenant may use; all when absent. The offline provider is always allowed. */
  enabledProviders: z.array(z.string()).optional(),
  /** Explicit fallback chain after the routed model; default: the other tiers' models, then offline. */
  fallbackOrder: z.array(modelRefSchema).optional(),
  /** Monthly spend limit in dollars (decimal string); over it, every request goes to the cheap tier. */
  monthlyBudgetUsd: z
    .string()
    .regex(/^\d+(\.\d{1,6})?$/)
    .optional(),
  /** Tenant catalog overrides and additions (e.g. models served by a compatible provider). */
  models: z
    .array(modelEntrySchema.partial({ pricing: true, capabilities: true }).extend({ pricing: modelEntrySchema.shape.pricing }))
    .optional(),
  compatibleProviders: z.array(compatibleProviderSchema).default([]),
  openaiBaseUrl: z.url().optional(),
  geminiBaseUrl: z.url().optional(),
  temperature: z.number().min(0).max(2).default(0.3),
  maxOutputTokens: z.number().int().positive().default(600),
  /** Expected reply length, for the cost estimate in the routing decision. */
  expectedOutputTokens: z.number().int().positive().default(200),
  attemptTimeoutMs: z.number().int().positive().default(30_000),
  deadlineMs: z.number().int().positive().default(60_000),
  maxRetriesPerModel: z.number().int().min(0).max(5).default(1),
});

export type RoutingPolicy = z.infer<typeof routingPolicySchema>;
export type CompatibleProvider = z.infer<typeof compatibleProviderSchema>;

/** The policy for a tenant: its `settings.llm` over the defaults; an invalid setting throws listing the problems. */
export function resolveRoutingPolicy(settings: Record<string, unknown> | undefined): RoutingPolicy {
  return routingPolicySchema.parse(settings?.llm ?? {});
}

/** Tier models in the order: chosen tier, then the others (the default fallback chain). */
export function tierChain(policy: RoutingPolicy, first: TierName): ModelRef[] {
  const order: TierName[] = [first, ...TIER_NAMES.filter((name) => name !== first)];
  return order.flatMap((name) => policy.tiers[name]);
}
