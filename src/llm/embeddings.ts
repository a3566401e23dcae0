/**
 * Embeddings through the provider layer: the tenant's own or the platform's OpenAI or Gemini credential, the same
 * per-credential circuit breakers as replies, one `provider_usage` row (with its cost) per batch attempt, retries
 * with backoff on retryable errors. There is no failover to another embedding model: vectors of two models cannot
 * be compared, so a tenant's passages and its queries must use the same one. When the model is unavailable (open
 * breaker, errors) the caller falls back to the keyword leg.
 */
import type { Logger } from 'pino';
import type { TenantCredentials } from '../tenants/tenant-credentials';
import type { BreakerTarget } from './circuit-breaker';
import { formatDollars, toMicros } from './cost';
import { type BreakerGate, backoffDelay } from './failover';
import type { ProviderRegistry } from './provider-registry';
import { resolveRoutingPolicy } from './routing-policy';
import { type LanguageModelProvider, UpstreamError } from './types';
import type { UsageRecorder } from './usage-recording';
import { withAttemptTimeout } from './attempt-timeout';

/** An embedding model Parley can use, at the reduced dimensions it stores. */
export interface EmbeddingModel {
  provider: 'openai' | 'gemini';
  model: string;
  dimensions: number;
  /** Dollars per million input tokens. */
  pricePerMillion: string;
}

/**
 * In order of preference. 256 dimensions: 1 KiB a passage, and both models keep most of their retrieval quality at
 * that size (OpenAI's and Google's published Matryoshka results). Prices: OpenAI $0.02 / 1M tokens; Gemini
 * gemini-embedding-001 $0.15 / 1M tokens (paid tier).
 */
export const EMBEDDING_MODELS: readonly EmbeddingModel[] = [
  { provider: 'openai', model: 'text-embedding-3-small', dimensions: 256, pricePerMillion: '0.02' },
  { provider: 'gemini', model: 'gemini-embedding-001', dimensions: 256, pricePerMillion: '0.15' },
];

/** The stored name of a model at its dimensions: a passage is comparable only with a query of the same key. */
export function embeddingModelKey(model: Pick<EmbeddingModel, 'provider' | 'model' | 'dimensions'>): string {
  return `${model.provider}/${model.model}@${model.dimensions}`;
}

/** The exact dollar cost of embedding `tokens` input tokens. */
export function embeddingCost(model: EmbeddingModel, tokens: number): string {
  return formatDollars(BigInt(tokens) * BigInt(toMicros(model.pricePerMillion)));
}

/** Scales a vector to unit length (so cosine similarity is a dot product). */
export function normalize(vector: readonly number[]): Float32Array {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const length = Math.sqrt(sum) || 1;
  return Float32Array.from(vector, (value) => value / length);
}

/** The embedding model cannot answer now (open breaker, repeated errors); the caller uses the keyword leg. */
export class EmbeddingUnavailableError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'EmbeddingUnavailableError';
  }
}

/** Where the usage rows of a call point to. */
export interface EmbeddingContext {
  conversationId?: string | null;
  interactionId?: string | null;
  purpose: 'document' | 'query';
}

/** A tenant's embedding model, resolved for its credentials. */
export interface TenantEmbedder {
  /** embeddingModelKey of the model: what stored passages are tagged with. */
  key: string;
  model: EmbeddingModel;
  /** Unit-length vectors, one per text, batched; throws EmbeddingUnavailableError. */
  embed(texts: string[], context: EmbeddingContext): Promise<Float32Array[]>;
}

/** The breakers, as the chat path uses them (llm/circuit-breaker.ts): the failover engine's gate, kept fresh. */
export interface EmbeddingBreaker extends BreakerGate {
  ensureFresh(): Promise<void>;
}

export interface EmbeddingServiceOptions {
  registry: ProviderRegistry;
  breaker: EmbeddingBreaker;
  usage: UsageRecorder;
  logger?: Logger;
  /** Texts per request (OpenAI takes up to 2,048, Gemini's batch up to 100). */
  batchSize?: number;
  attemptTimeoutMs?: number;
  maxRetries?: number;
  sleep?: (milliseconds: number) => Promise<void>;
  random?: () => number;
}

const defaultSleep = (milliseconds: number) => new Promise<void>((resolve) => setTimeout(resolve, milliseconds));

/** Resolves each tenant's embedding model and runs its calls. */
export class EmbeddingService {
  private readonly batchSize: number;

  constructor(private readonly options: EmbeddingServiceOptions) {
    this.batchSize = options.batchSize ?? 96;
  }

  /**
   * The tenant's embedder: the first model of EMBEDDING_MODELS whose provider the tenant can reach (its routing
   * policy's enabled providers, its own key or the platform's); null when none (keyword search only).
   */
  forTenant(
    tenantId: string,
    credentials: Pick<TenantCredentials, 'openaiApiKey' | 'geminiApiKey' | 'providerApiKeys'>,
    settings: Record<string, unknown>,
  ): TenantEmbedder | null {
    let policy: ReturnType<typeof resolveRoutingPolicy>;
    try {
      policy = resolveRoutingPolicy(settings);
    } catch {
      return null;
    }
    const providers = this.options.registry.forTenant(credentials, policy, tenantId);
    for (const model of EMBEDDING_MODELS) {
      const adapter = providers.get(model.provider);
      const credential = providers.credential(model.provider);
      if (!adapter?.embed || !credential) continue;
      const target: BreakerTarget = { provider: model.provider, model: model.model, credential };
      return {
        key: embeddingModelKey(model),
        model,
        embed: (texts, context) => this.embedAll(tenantId, adapter, model, target, texts, context),
      };
    }
    return null;
  }

  private async embedAll(
    tenantId: string,
    adapter: LanguageModelProvider,
    model: EmbeddingModel,
    target: BreakerTarget,
    texts: string[],
    context: EmbeddingContext,
  ): Promise<Float32Array[]> {
    await this.options.breaker.ensureFresh();
    const vectors: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += this.batchSize) {
      vectors.push(...(await this.embedBatch(tenantId, adapter, model, target, texts.slice(start, start + this.batchSize), context)));
    }
    return vectors;
  }

  private async embedBatch(
    tenantId: string,
    adapter: LanguageModelProvider,
    model: EmbeddingModel,
    target: BreakerTarget,
    texts: string[],
    context: EmbeddingContext,
  ): Promise<Float32Array[]> {
    const { breaker, usage } = this.options;
    const sleep = this.options.sleep ?? defaultSleep;
    const maxRetries = this.options.maxRetries ?? 1;
    const timeoutMs = this.options.attemptTimeoutMs ?? 20_000;
    for (let retry = 0, attemptNumber = 1; ; retry += 1, attemptNumber += 1) {
      const permit = await breaker.acquire(target);
      if (permit === 'open') throw new EmbeddingUnavailableError(`${embeddingModelKey(model)}: circuit breaker open`);
      const started = performance.now();
      const record = (fields: { success: boolean; inputTokens: number; error?: UpstreamError }) =>
        usage.record({
          tenantId,
          conversationId: context.conversationId ?? null,
          interactionId: context.interactionId ?? null,
          provider: model.provider,
          model: model.model,
          credentialFingerprint: target.credential.fingerprint,
          usage: {
            inputTokens: fields.inputTokens,
            cachedInputTokens: 0,
            outputTokens: 0,
            reasoningTokens: 0,
            totalTokens: fields.inputTokens,
          },
          costUsd: embeddingCost(model, fields.inputTokens),
          latencyMs: Math.round(performance.now() - started),
          success: fields.success,
          errorKind: fields.error?.kind,
          errorStatus: fields.error?.status,
          errorMessage: fields.error?.message,
          wasFailover: false,
          attemptNumber,
          routingReason: `embedding (${context.purpose})`,
          metadata: { embedding: true, purpose: context.purpose, texts: texts.length, dimensions: model.dimensions },
        });
      try {
        const result = await withAttemptTimeout(
          (signal) => adapter.embed!({ model: model.model, texts, dimensions: model.dimensions, purpose: context.purpose, signal }),
          timeoutMs,
          () =>
            new UpstreamError({
              provider: model.provider,
              model: model.model,
              kind: 'timeout',
              message: `${model.provider}/${model.model}: no embeddings within ${timeoutMs} ms`,
            }),
        );
        await record({ success: true, inputTokens: result.inputTokens });
        await breaker.recordSuccess(target);
        return result.vectors.map((vector) => normalize(vector));
      } catch (caught) {
        const error =
          caught instanceof UpstreamError
            ? caught
            : new UpstreamError({
                provider: model.provider,
                model: model.model,
                kind: 'server',
                message: 'embedding adapter error',
                cause: caught,
              });
        await record({ success: false, inputTokens: 0, error });
        await breaker.recordFailure(target, error.kind);
        // A half-open probe is one call; a non-retryable error will not change on retry.
        if (permit === 'probe' || !error.isRetryable || retry >= maxRetries) {
          this.options.logger?.warn({ tenantId, model: embeddingModelKey(model), kind: error.kind }, 'embedding failed');
          throw new EmbeddingUnavailableError(`${embeddingModelKey(model)}: ${error.kind}`, error);
        }
        const delay =
          error.retryAfterMs ?? backoffDelay(retry, { baseBackoffMs: 250, maxBackoffMs: 4_000 }, this.options.random ?? Math.random);
        await sleep(Math.min(delay, 5_000));
      }
    }
  }
}
