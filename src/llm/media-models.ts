/**
 * What the provider layer offers for a customer's media: speech to text with failover across providers (each
 * attempt behind the breaker of its model and credential, paced by the provider gate, and recorded as a
 * provider_usage row with its cost), and whether a tenant can show a photo to a vision-capable model right now.
 */
import type { Logger } from 'pino';
import type { Metrics } from '../metrics';
import type { TenantCredentials } from '../tenants/tenant-credentials';
import type { StoredTenantSettings } from '../tenants/tenant-settings';
import { loadDefaultCatalog, type ModelCatalog, type ModelRef, modelKey } from './catalog/model-catalog';
import type { CircuitBreaker } from './circuit-breaker';
import { costDollars, formatDollars, toMicros } from './cost';
import type { ProviderGate } from './provider-gate';
import type { ProviderRegistry, TenantProviders } from './provider-registry';
import { resolveRoutingPolicy, type RoutingPolicy, routingPolicySchema, TIER_NAMES } from './routing-policy';
import { emptyUsage, type ImageInput, type LanguageModelProvider, type TokenUsage, type TranscriptionResult, UpstreamError } from './types';
import type { UsageRecorder } from './usage-recording';
import { withAttemptTimeout } from './attempt-timeout';

/** A speech-to-text model: the audio formats it takes and how it bills. */
export interface TranscriptionModel extends ModelRef {
  /** Media types it accepts (the container WhatsApp sends, as Twilio reports it). */
  formats: readonly string[];
  /** Per minute of audio (OpenAI's transcription models), or per token (Gemini: audio input and text output). */
  pricing: { perMinute: string } | { audioInputPerMillion: string; outputPerMillion: string };
}

// OpenAI takes flac, mp3, mp4, mpeg, mpga, m4a, ogg, wav and webm; Gemini wav, mp3, aiff, aac, ogg and flac. Neither
// takes AMR (old Android voice notes): those get the friendly "please type" reply instead of a failed call.
const OPENAI_FORMATS = ['audio/ogg', 'audio/mpeg', 'audio/mp4'];
const GEMINI_FORMATS = ['audio/ogg', 'audio/mpeg'];

/**
 * The default chain, cheapest first and alternating providers so an outage of one fails over to the other.
 * Prices: gpt-4o-mini-transcribe $0.003/min, whisper-1 $0.006/min; gemini-2.0-flash $0.70 per million audio input
 * tokens (32 tokens a second) and $0.40 per million output tokens.
 */
export const TRANSCRIPTION_MODELS: readonly TranscriptionModel[] = [
  { provider: 'openai', model: 'gpt-4o-mini-transcribe', formats: OPENAI_FORMATS, pricing: { perMinute: '0.003' } },
  {
    provider: 'gemini',
    model: 'gemini-2.0-flash',
    formats: GEMINI_FORMATS,
    pricing: { audioInputPerMillion: '0.70', outputPerMillion: '0.40' },
  },
  { provider: 'openai', model: 'whisper-1', formats: OPENAI_FORMATS, pricing: { perMinute: '0.006' } },
];

/** The tenant a media call is for, as the reply generator takes it. */
export interface MediaCallTenant {
  tenantId: string;
  tenantSettings: StoredTenantSettings;
  credentials: TenantCredentials;
  conversationId: string;
}

export interface TranscriptionCall extends MediaCallTenant {
  audio: Buffer;
  /** The media type without parameters (audio/ogg). */
  mediaType: string;
  /** The clip's length when the caller could read it from the container (an OGG voice note); used for per-minute prices. */
  audioSeconds?: number;
}

export type TranscriptionOutcome =
  | { ok: true; text: string; provider: string; model: string; costUsd: string; audioSeconds: number | undefined; attempts: number }
  /** no_provider: no model for this format has a provider the tenant can use; failed: every one that was tried failed. */
  | { ok: false; reason: 'no_provider' | 'failed'; attempts: number };

/** The provider layer's media abilities, for the media-understanding step of a turn. */
export interface MediaModels {
  /** Transcribes a clip, moving to the next model when one fails; never throws for a provider's failure. */
  transcribe(call: TranscriptionCall): Promise<TranscriptionOutcome>;
  /** True when some transcription model takes this format at all, whatever the tenant's keys (AMR: none does). */
  takesFormat(mediaType: string): boolean;
  /** True when a transcription model for this format has a provider the tenant can use now (checked before downloading). */
  canTranscribe(tenant: MediaCallTenant, mediaType: string): Promise<boolean>;
  /** A factual description of a customer's photo, kept for the record (the photo is not); ok false when no model could. */
  describeImage(
    call: MediaCallTenant & { image: ImageInput; caption: string },
  ): Promise<{ ok: true; text: string; provider: string; model: string } | { ok: false }>;
  /** True when one of the tenant's routed models can see images and is usable now (provider, key, breaker). */
  canSee(tenant: MediaCallTenant): Promise<boolean>;
}

export interface MediaModelsDependencies {
  registry: ProviderRegistry;
  breaker: CircuitBreaker;
  usage: UsageRecorder;
  gate?: ProviderGate;
  catalog?: ModelCatalog;
  logger?: Logger;
  metrics?: Pick<Metrics, 'recordProviderCall'>;
  models?: readonly TranscriptionModel[];
  /** Longest wait for one transcription attempt (default 30 s; a voice note is at most a few minutes). */
  attemptTimeoutMs?: number;
}

/** Builds the media abilities over the same registry, breakers and usage recorder as the replies. */
export function createMediaModels(dependencies: MediaModelsDependencies): MediaModels {
  const models = dependencies.models ?? TRANSCRIPTION_MODELS;
  const baseCatalog = dependencies.catalog ?? loadDefaultCatalog();

  const policyFor = (tenant: MediaCallTenant): RoutingPolicy => {
    try {
      return resolveRoutingPolicy(tenant.tenantSettings);
    } catch {
      // As for replies: an invalid policy never widens what the tenant may use.
      return routingPolicySchema.parse({ enabledProviders: [] });
    }
  };

  return {
    async transcribe(call) {
      const providers = dependencies.registry.forTenant(call.credentials, policyFor(call), call.tenantId);
      const chain = models.filter((model) => model.formats.includes(call.mediaType) && providers.get(model.provider)?.transcribe);
      const outcome = await runChain(dependencies, call, providers, chain, {
        name: 'transcription',
        reason: 'transcription of a voice note',
        run: (provider, reference, signal) =>
          provider.transcribe!({ model: reference.model, audio: call.audio, mediaType: call.mediaType, signal }),
        cost: (reference, result) => (result ? transcriptionCost(reference, result.usage, result.audioSeconds ?? call.audioSeconds) : '0'),
        metadata: (reference, result) => {
          const audioSeconds = result?.audioSeconds ?? call.audioSeconds;
          return {
            mediaType: call.mediaType,
            ...(audioSeconds !== undefined ? { audioSeconds } : {}),
            ...('perMinute' in reference.pricing && audioSeconds === undefined ? { costUnknown: 'no duration' } : {}),
          };
        },
      });
      if (!outcome.ok) return outcome;
      return {
        ok: true,
        text: outcome.result.text.trim(),
        provider: outcome.reference.provider,
        model: outcome.reference.model,
        costUsd: outcome.costUsd,
        audioSeconds: outcome.result.audioSeconds ?? call.audioSeconds,
        attempts: outcome.attempts,
      };
    },

    async describeImage(call) {
      const policy = policyFor(call);
      const catalog = baseCatalog.withOverrides(policy.models);
      const providers = dependencies.registry.forTenant(call.credentials, policy, call.tenantId);
      const chain = DESCRIPTION_MODELS.filter((reference) => catalog.find(reference)?.capabilities.vision);
      const outcome = await runChain(dependencies, call, providers, chain, {
        name: 'image_description',
        reason: "description of a customer's photo",
        run: (provider, reference, signal) =>
          provider.generate({
            model: reference.model,
            messages: [
              { role: 'system', content: DESCRIBE_INSTRUCTION },
              { role: 'user', content: call.caption ? `Caption: ${call.caption}` : '', images: [call.image] },
            ],
            temperature: 0,
            maxOutputTokens: 150,
            signal,
          }),
        cost: (reference, result) => {
          const entry = catalog.find(reference);
          return result && entry ? costDollars(entry, result.usage) : '0';
        },
        metadata: () => ({ mediaType: call.image.mediaType }),
      });
      if (!outcome.ok || outcome.result.text.trim() === '') return { ok: false };
      return { ok: true, text: outcome.result.text.trim(), provider: outcome.reference.provider, model: outcome.reference.model };
    },

    takesFormat(mediaType) {
      return models.some((reference) => reference.formats.includes(mediaType));
    },

    async canTranscribe(tenant, mediaType) {
      const providers = dependencies.registry.forTenant(tenant.credentials, policyFor(tenant), tenant.tenantId);
      await dependencies.breaker.ensureFresh();
      return models.some((reference) => {
        if (!reference.formats.includes(mediaType) || !providers.get(reference.provider)?.transcribe) return false;
        const credential = providers.credential(reference.provider);
        return credential !== undefined && !dependencies.breaker.isOpen({ ...reference, credential });
      });
    },

    async canSee(tenant) {
      const policy = policyFor(tenant);
      const catalog = baseCatalog.withOverrides(policy.models);
      const providers = dependencies.registry.forTenant(tenant.credentials, policy, tenant.tenantId);
      await dependencies.breaker.ensureFresh();
      const routed = [...TIER_NAMES.flatMap((tier) => policy.tiers[tier]), ...(policy.fallbackOrder ?? [])];
      return routed.some((reference) => {
        if (!catalog.find(reference)?.capabilities.vision || !providers.has(reference.provider)) return false;
        const credential = providers.credential(reference.provider);
        return credential !== undefined && !dependencies.breaker.isOpen({ ...reference, credential });
      });
    },
  };
}

/** Dollars of one transcription: by the minute (to the millisecond) or by tokens; "0" when the length is unknown. */
export function transcriptionCost(
  model: TranscriptionModel,
  usage: Pick<TranscriptionResult['usage'], 'inputTokens' | 'outputTokens'>,
  audioSeconds: number | undefined,
): string {
  if ('perMinute' in model.pricing) {
    if (audioSeconds === undefined) return '0';
    // micro-dollars per minute x milliseconds / 60,000 = micro-dollars; x 1e6 = picodollars (exact integer arithmetic).
    const milliseconds = BigInt(Math.round(audioSeconds * 1000));
    return formatDollars((BigInt(toMicros(model.pricing.perMinute)) * 1_000_000n * milliseconds) / 60_000n);
  }
  // Tokens x micro-dollars per million tokens = picodollars.
  return formatDollars(
    BigInt(usage.inputTokens) * BigInt(toMicros(model.pricing.audioInputPerMillion)) +
      BigInt(usage.outputTokens) * BigInt(toMicros(model.pricing.outputPerMillion)),
  );
}

/** Cheap vision models that describe a customer's photo for the record (kept; the photo is not). */
const DESCRIPTION_MODELS: readonly ModelRef[] = [
  { provider: 'gemini', model: 'gemini-2.0-flash' },
  { provider: 'openai', model: 'gpt-4o-mini' },
];

const DESCRIBE_INSTRUCTION =
  "Describe this customer's photo in one or two factual sentences for a support agent who cannot see it: what it " +
  'shows, any visible damage, text, labels, order or serial numbers. No greeting, no advice.';

/** One media task over a chain of models: how to call a model, what the call costs, what its usage row adds. */
interface ChainTask<R extends { usage: TokenUsage }, M extends ModelRef> {
  /** metadata.task of the usage rows. */
  name: string;
  /** routing_reason of the usage rows. */
  reason: string;
  run(provider: LanguageModelProvider, reference: M, signal: AbortSignal): Promise<R>;
  cost(reference: M, result: R | undefined): string;
  metadata(reference: M, result: R | undefined): Record<string, unknown>;
}

type ChainOutcome<R, M> =
  | { ok: true; result: R; reference: M; costUsd: string; attempts: number }
  | { ok: false; reason: 'no_provider' | 'failed'; attempts: number };

/**
 * Tries the chain in order until a model answers: each model only when the tenant can use its provider and its
 * breaker is not open, one attempt each under a timeout, paced by the gate, every attempt a provider_usage row
 * and a breaker outcome. Never throws for a provider's failure.
 */
async function runChain<R extends { usage: TokenUsage }, M extends ModelRef>(
  dependencies: MediaModelsDependencies,
  call: MediaCallTenant,
  providers: TenantProviders,
  chain: readonly M[],
  task: ChainTask<R, M>,
): Promise<ChainOutcome<R, M>> {
  const attemptTimeoutMs = dependencies.attemptTimeoutMs ?? 30_000;
  await dependencies.breaker.ensureFresh();
  let attempts = 0;
  for (const [index, reference] of chain.entries()) {
    const provider = providers.get(reference.provider);
    const credential = providers.credential(reference.provider);
    if (!provider || !credential) continue;
    const target = { provider: reference.provider, model: reference.model, credential };
    if ((await dependencies.breaker.acquire(target)) === 'open') continue;
    const release = dependencies.gate ? await dependencies.gate.acquire(credential.fingerprint, attemptTimeoutMs) : () => {};
    if (!release) continue;
    attempts += 1;
    const started = performance.now();
    let result: R | undefined;
    let failure: UpstreamError | undefined;
    try {
      result = await withAttemptTimeout(
        (signal) => task.run(provider, reference, signal),
        attemptTimeoutMs,
        () =>
          new UpstreamError({
            ...reference,
            kind: 'timeout',
            message: `${modelKey(reference)}: no transcript within ${attemptTimeoutMs} ms`,
          }),
      );
    } catch (error) {
      failure =
        error instanceof UpstreamError
          ? error
          : new UpstreamError({ ...reference, kind: 'server', message: `${modelKey(reference)}: adapter error`, cause: error });
      if (failure.kind === 'rate_limit') dependencies.gate?.pause(credential.fingerprint, failure.retryAfterMs);
    } finally {
      release();
    }
    const latencyMs = Math.round(performance.now() - started);
    const usage = result?.usage ?? (failure?.metadata?.usage as TokenUsage | undefined) ?? emptyUsage();
    const costUsd = task.cost(reference, result);
    dependencies.metrics?.recordProviderCall({
      provider: reference.provider,
      model: reference.model,
      outcome: failure?.kind ?? 'success',
      latencySeconds: latencyMs / 1000,
      costUsd: Number(costUsd),
    });
    // Sequential on purpose: the breaker's failure window reads the row just written.
    await dependencies.usage.record({
      tenantId: call.tenantId,
      conversationId: call.conversationId,
      interactionId: null,
      provider: reference.provider,
      model: reference.model,
      credentialFingerprint: credential.fingerprint,
      usage,
      costUsd,
      latencyMs,
      success: result !== undefined,
      errorKind: failure?.kind,
      errorStatus: failure?.status,
      errorMessage: failure?.message,
      wasFailover: index > 0,
      attemptNumber: attempts,
      routingReason: task.reason,
      metadata: { task: task.name, ...task.metadata(reference, result) },
    });
    if (result) {
      await dependencies.breaker.recordSuccess(target);
      return { ok: true, result, reference, costUsd, attempts };
    }
    await dependencies.breaker.recordFailure(target, failure!.kind);
    dependencies.logger?.warn(
      { tenantId: call.tenantId, conversationId: call.conversationId, model: modelKey(reference), kind: failure!.kind, task: task.name },
      'media model attempt failed',
    );
  }
  return { ok: false, reason: attempts === 0 ? 'no_provider' : 'failed', attempts };
}
