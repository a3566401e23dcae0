/**
 * The one entry point the agent uses to get a model's reply: route the request, run the failover chain,
 * record every attempt as ProviderUsage, and return the answer with its explainable routing decision.
 */
import type { Logger } from 'pino';
import type { EntityManager } from 'typeorm';
import type { StoredTenantSettings } from '../tenants/tenant-settings';
import type { Metrics } from '../metrics';
import type { TenantCredentials } from '../tenants/tenant-credentials';
import { loadDefaultCatalog, type ModelCatalog, type ModelRef } from './catalog/model-catalog';
import { CircuitBreaker } from './circuit-breaker';
import { parseDollars } from './cost';
import { DEFAULT_FAILOVER_OPTIONS, type FailoverOptions, type FailoverOutcome, generateWithFailover } from './failover';
import { ProviderRegistry, type RegistryEnvironment } from './provider-registry';
import { cachedSpend } from './spend-cache';
import { route, type SkippedModel } from './router';
import { resolveRoutingPolicy, type RoutingPolicy, routingPolicySchema } from './routing-policy';
import type { ChatMessage, FinishReason, KnowledgeSnippet, TokenUsage } from './types';
import { OFFLINE_PROVIDER_ID } from './providers/offline/offline-provider';
import type { ProviderGate } from './provider-gate';
import type { RoutingPosteriors } from './routing/routing-posteriors';
import type { UsageRecorder } from './usage-recording';

export interface ReplyRequest {
  tenantId: string;
  /** The tenant's validated settings (an invalid stored `llm` is already replaced by offline-only). */
  tenantSettings: StoredTenantSettings;
  credentials: TenantCredentials;
  conversationId: string;
  /** Pre-generated id of the AgentInteraction this reply will be stored as; usage rows point to it. */
  interactionId: string;
  messages: ChatMessage[];
  knowledge: KnowledgeSnippet[];
  force?: { provider: string; model: string };
  /** Tiers up after not-helpful answers in this conversation (see llm/routing/feedback-rewards.ts). */
  routingEscalation?: number;
}

/** What the feedback loop needs of a decision: the cell it belongs to and how likely the policy was to choose it. */
export interface RoutingLearningRecord {
  messageKind: string;
  /** The tier the learning policy chose; null when a hard rule (forced, long context, budget) decided. */
  policyTier: string | null;
  propensity: number;
}

export interface ReplyOutcome {
  text: string;
  finishReason: FinishReason;
  usage: TokenUsage;
  provider: string;
  model: string;
  /** Measured wall time of the model work, retries included. */
  latencyMs: number;
  /** The explainable routing decision. */
  routing: Record<string, unknown> | null;
  /** The decision's feedback cell; null when no routing happened (a test double). */
  learning: RoutingLearningRecord | null;
  attempts: number;
  /**
   * The tenant had a remote model for this request and every one failed, was skipped (deadline, rate limit) or had
   * its breaker open, so the offline answerer replied. False when the tenant simply has no remote model (offline by
   * choice). Absent from generators that cannot tell (test doubles): treated as false.
   */
  providersFailed?: boolean;
}

export interface ReplyGenerator {
  generate(request: ReplyRequest): Promise<ReplyOutcome>;
}

export interface ReplyGeneratorDependencies {
  /** The platform's providers, and the policy for tenant base URLs (config.outbound; the strictest when absent). */
  config: RegistryEnvironment;
  /** The database the shared circuit breakers live in (when `breaker` is not given). */
  manager: EntityManager;
  /** Where every attempt is recorded (tracking's ProviderUsageRecorder). */
  usage: UsageRecorder;
  logger?: Logger;
  catalog?: ModelCatalog;
  breaker?: CircuitBreaker;
  registry?: ProviderRegistry;
  /** Engine settings that are not per tenant (backoff shape, Retry-After cap). */
  failover?: Partial<FailoverOptions>;
  sleep?: (milliseconds: number) => Promise<void>;
  /** The backoff jitter's source of randomness (default Math.random); tests pass a seeded one. */
  random?: () => number;
  /** The clock the deadline and latencies are measured on (default performance.now); tests pass their own. */
  now?: () => number;
  /** How long a tenant's month-to-date spend is reused for the budget check. */
  budgetCacheMs?: number;
  /** Prometheus metrics: every attempt's latency, outcome and cost by provider and model. */
  metrics?: Pick<Metrics, 'recordProviderCall'>;
  /** The tenants' feedback posteriors; without them the router decides from the offline model and never explores. */
  posteriors?: RoutingPosteriors;
  /** The exploration's source of randomness (default Math.random). */
  routingRandom?: () => number;
  /** Per-credential concurrency and rate-limit pauses, shared by the process's replies (absent: not paced). */
  gate?: ProviderGate;
}

/** The production generator: router + failover + shared breakers + usage tracking. */
export function createReplyGenerator(dependencies: ReplyGeneratorDependencies): ReplyGenerator {
  const baseCatalog = dependencies.catalog ?? loadDefaultCatalog();
  const breaker = dependencies.breaker ?? new CircuitBreaker(dependencies.manager);
  const registry = dependencies.registry ?? new ProviderRegistry(dependencies.config);
  const recorder = dependencies.usage;
  const spendOf = cachedSpend((tenantId) => recorder.monthToDateSpend(tenantId), { ttlMs: dependencies.budgetCacheMs ?? 60_000 });
  const now = dependencies.now ?? (() => performance.now());

  const policyFor = (request: ReplyRequest): RoutingPolicy => {
    try {
      return resolveRoutingPolicy(request.tenantSettings);
    } catch (error) {
      // Settings come validated (tenants/tenant-settings.ts); should an invalid policy reach this far anyway, it must
      // never widen what the tenant may spend: the offline answerer only, and say so.
      dependencies.logger?.warn({ tenantId: request.tenantId, err: error }, 'invalid settings.llm; answering offline');
      return routingPolicySchema.parse({ enabledProviders: [] });
    }
  };

  const isOverBudget = async (tenantId: string, policy: RoutingPolicy): Promise<boolean> => {
    if (!policy.monthlyBudgetUsd) return false;
    return (await spendOf(tenantId)) >= parseDollars(policy.monthlyBudgetUsd);
  };

  return {
    async generate(request) {
      const started = now();
      const policy = policyFor(request);
      const catalog = baseCatalog.withOverrides(policy.models);
      const providers = registry.forTenant(request.credentials, policy, request.tenantId);
      await Promise.all([breaker.ensureFresh(), dependencies.posteriors?.ensureFresh(request.tenantId)]);
      const posteriors = dependencies.posteriors;
      const decision = route({
        messages: request.messages,
        catalog,
        policy,
        hasProvider: providers.has,
        // The breaker of the model with the credential this tenant's request would use: its own key's, or the platform's.
        isOpen: (reference) => {
          const credential = providers.credential(reference.provider);
          return credential !== undefined && breaker.isOpen({ ...reference, credential });
        },
        overBudget: await isOverBudget(request.tenantId, policy),
        force: request.force,
        learning: posteriors
          ? {
              cells: posteriors.cells(request.tenantId),
              escalation: request.routingEscalation ?? 0,
              random: dependencies.routingRandom ?? Math.random,
            }
          : undefined,
      });
      const chain: ModelRef[] = [{ provider: decision.provider, model: decision.model }, ...decision.fallbacks];
      const outcome = await generateWithFailover(
        {
          catalog,
          providerFor: providers.get,
          credentialFor: providers.credential,
          breaker,
          gate: dependencies.gate,
          gateParty: request.tenantId,
          sleep: dependencies.sleep,
          random: dependencies.random,
          now,
          onAttempt: (report) => {
            dependencies.metrics?.recordProviderCall({
              provider: report.provider,
              model: report.model,
              outcome: report.error?.kind ?? 'success',
              latencySeconds: report.latencyMs / 1000,
              costUsd: Number(report.costUsd),
            });
            return recorder.record({
              tenantId: request.tenantId,
              conversationId: request.conversationId,
              interactionId: request.interactionId,
              provider: report.provider,
              model: report.model,
              credentialFingerprint: report.credentialFingerprint,
              usage: report.result?.usage ??
                (report.error?.metadata?.usage as TokenUsage | undefined) ?? {
                  inputTokens: 0,
                  cachedInputTokens: 0,
                  outputTokens: 0,
                  reasoningTokens: 0,
                  totalTokens: 0,
                },
              costUsd: report.costUsd,
              latencyMs: report.latencyMs,
              success: report.result !== undefined,
              errorKind: report.error?.kind,
              errorStatus: report.error?.status,
              errorMessage: report.error?.message,
              finishReason: report.result?.finishReason,
              wasFailover: report.wasFailover,
              attemptNumber: report.attemptNumber,
              routingReason: decision.reason,
              complexityScore: decision.score,
              metadata: {
                tier: decision.tier,
                kind: decision.kind,
                routerVersion: decision.modelVersion,
                ...(report.error?.metadata?.safetyRatings ? { safetyRatings: report.error.metadata.safetyRatings } : {}),
                ...(report.error?.metadata?.blockReason ? { blockReason: report.error.metadata.blockReason } : {}),
                ...(report.error?.retryAfterMs !== undefined ? { retryAfterMs: report.error.retryAfterMs } : {}),
              },
            });
          },
        },
        {
          startedAt: started,
          chain,
          messages: request.messages,
          knowledge: request.knowledge,
          options: {
            ...DEFAULT_FAILOVER_OPTIONS,
            ...dependencies.failover,
            attemptTimeoutMs: policy.attemptTimeoutMs,
            deadlineMs: policy.deadlineMs,
            maxRetriesPerModel: policy.maxRetriesPerModel,
            temperature: policy.temperature,
            maxOutputTokens: policy.maxOutputTokens,
          },
        },
      );
      const latencyMs = Math.round(now() - started);
      if (outcome.attempts > 1) {
        dependencies.logger?.info(
          {
            tenantId: request.tenantId,
            conversationId: request.conversationId,
            routed: `${decision.provider}/${decision.model}`,
            answered: `${outcome.provider}/${outcome.model}`,
            attempts: outcome.summary,
          },
          'reply needed failover',
        );
      }
      return {
        text: outcome.result.text,
        finishReason: outcome.result.finishReason,
        usage: outcome.result.usage,
        provider: outcome.provider,
        model: outcome.model,
        latencyMs,
        routing: { ...decision, answeredBy: { provider: outcome.provider, model: outcome.model }, attempts: outcome.summary },
        learning: { messageKind: decision.kind, policyTier: decision.policyTier, propensity: decision.propensity },
        attempts: outcome.attempts,
        providersFailed: providersFailed(decision.skipped, outcome),
      };
    },
  };
}

/**
 * True when the offline answerer replied although a remote model was in reach: the engine tried (or skipped) one,
 * or the router passed one over because its breaker was open. A tenant without remote models is not a failure.
 */
function providersFailed(skipped: readonly SkippedModel[], outcome: Pick<FailoverOutcome, 'provider' | 'summary'>): boolean {
  if (outcome.provider !== OFFLINE_PROVIDER_ID) return false;
  const remoteInChain = outcome.summary.some((attempt) => !attempt.model.startsWith(`${OFFLINE_PROVIDER_ID}/`));
  return remoteInChain || skipped.some((model) => model.why === 'breaker_open');
}
