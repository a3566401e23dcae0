/**
 * The model catalog: context windows, output limits, prices and capabilities, as data (models.json),
 * validated at load and overridable per tenant.
 */
import { z } from 'zod';
import bundled from './models.json';

const decimalPrice = z.string().regex(/^\d+(\.\d{1,6})?$/, 'a decimal price in dollars per million tokens, at most 6 decimals');

const priceSchema = z.object({ input: decimalPrice, cachedInput: decimalPrice, output: decimalPrice });

export const modelEntrySchema = z.object({
  provider: z.string().min(1),
  model: z.string().min(1),
  contextWindow: z.number().int().positive(),
  maxOutputTokens: z.number().int().positive(),
  pricing: priceSchema.extend({
    /** Higher tiers: when the prompt exceeds inputTokens, the whole request is billed at that tier's rates. */
    above: z.array(priceSchema.extend({ inputTokens: z.number().int().positive() })).default([]),
  }),
  capabilities: z
    .object({
      temperature: z.boolean().default(true),
      systemPrompt: z.boolean().default(true),
      reasoning: z.boolean().default(false),
      /** Takes images: a turn with a customer's photo is routed only to such models. */
      vision: z.boolean().default(false),
    })
    .prefault({}),
});

export type ModelEntry = z.infer<typeof modelEntrySchema>;
export type ModelEntryInput = z.input<typeof modelEntrySchema>;

export const catalogSchema = z.object({ models: z.array(modelEntrySchema).min(1) });

/** A provider + model pair, the unit of routing, failover and breakers. */
export interface ModelRef {
  provider: string;
  model: string;
}

/** "provider/model", for logs, maps and routing explanations. */
export function modelKey(reference: ModelRef): string {
  return `${reference.provider}/${reference.model}`;
}

/** An immutable set of models, looked up by provider and model id. */
export class ModelCatalog {
  private readonly byKey: Map<string, ModelEntry>;

  constructor(readonly models: readonly ModelEntry[]) {
    this.byKey = new Map(models.map((entry) => [modelKey(entry), entry]));
  }

  /** The entry for a provider/model; undefined when the catalog does not list it. */
  find(reference: ModelRef): ModelEntry | undefined {
    return this.byKey.get(modelKey(reference));
  }

  /**
   * This catalog with a tenant's overrides: an entry naming a known provider/model replaces its fields,
   * an unknown one is added (e.g. a model on the tenant's own OpenAI-compatible server).
   */
  withOverrides(overrides: readonly ModelEntryInput[] | undefined): ModelCatalog {
    if (!overrides || overrides.length === 0) return this;
    const merged = new Map(this.byKey);
    for (const override of overrides) {
      const existing = merged.get(modelKey(override));
      merged.set(modelKey(override), modelEntrySchema.parse(existing ? { ...existing, ...override } : override));
    }
    return new ModelCatalog([...merged.values()]);
  }
}

/** Validates a catalog document; throws a ZodError listing every problem. */
export function parseCatalog(document: unknown): ModelCatalog {
  const parsed = catalogSchema.parse(document);
  const keys = new Set<string>();
  for (const entry of parsed.models) {
    if (keys.has(modelKey(entry))) throw new Error(`models.json lists ${modelKey(entry)} twice`);
    keys.add(modelKey(entry));
  }
  return new ModelCatalog(parsed.models);
}

let defaultCatalog: ModelCatalog | undefined;

/** The bundled catalog, validated once on first use. */
export function loadDefaultCatalog(): ModelCatalog {
  defaultCatalog ??= parseCatalog(bundled);
  return defaultCatalog;
}
