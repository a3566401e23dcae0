/**
 * The failover engine: tries the routed model, then the fallback chain, skipping models already tried or
 * behind an open breaker. Each attempt has its own timeout (enforced by an AbortSignal and a race, so even an
 * adapter that ignores the signal cannot hold the reply), the whole reply has a deadline, retryable errors are
 * retried with exponential backoff and jitter (Retry-After honoured up to a cap), other errors move on, and a
 * context-length error moves to a model with a larger window. The offline model answers last, always.
 */
import { type ModelCatalog, type ModelEntry, type ModelRef, modelKey } from './catalog/model-catalog';
import type { BreakerPermit, BreakerTarget } from './circuit-breaker';
import { costDollars } from './cost';
import type { ProviderCredential } from './provider-credential';
import type { ProviderGate } from './provider-gate';
import {
  type ChatMessage,
  emptyUsage,
  type GenerateResult,
  type KnowledgeSnippet,
  type LanguageModelProvider,
  UpstreamError,
} from './types';
import { OFFLINE_MODEL } from './router';
import { withAttemptTimeout } from './attempt-timeout';

/** The breakers, each of a model reached with one credential (the one this request's adapter sends). */
export interface BreakerGate {
  acquire(target: BreakerTarget): Promise<BreakerPermit>;
  recordSuccess(target: BreakerTarget): Promise<void>;
  recordFailure(target: BreakerTarget, kind: UpstreamError['kind']): Promise<void>;
}

/** What the engine reports for each attempt; the caller turns it into a ProviderUsage row. */
export interface AttemptReport {
  provider: string;
  model: string;
  /** The fingerprint of the credential the attempt used (its breaker's); null for the offline model. */
  credentialFingerprint: string | null;
  attemptNumber: number;
  wasFailover: boolean;
  latencyMs: number;
  costUsd: string;
  result?: GenerateResult;
  error?: UpstreamError;
}

export interface AttemptSummary {
  model: string;
  outcome: 'success' | UpstreamError['kind'] | 'skipped_breaker_open' | 'skipped_deadline' | 'skipped_rate_limited';
  latencyMs?: number;
}

export interface FailoverOptions {
  attemptTimeoutMs: number;
  deadlineMs: number;
  maxRetriesPerModel: number;
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** Longest Retry-After we wait for; a longer one moves on to the next model instead. */
  retryAfterCapMs: number;
  temperature?: number;
  maxOutputTokens?: number;
}

export const DEFAULT_FAILOVER_OPTIONS: FailoverOptions = {
  attemptTimeoutMs: 30_000,
  deadlineMs: 60_000,
  maxRetriesPerModel: 1,
  baseBackoffMs: 250,
  maxBackoffMs: 4_000,
  retryAfterCapMs: 5_000,
};

export interface FailoverDependencies {
  catalog: ModelCatalog;
  /** The adapter for a provider id, or undefined when the tenant cannot use it. */
  providerFor(provider: string): LanguageModelProvider | undefined;
  /** The credential that adapter sends: the breaker consulted and fed is the one of the model with it. */
  credentialFor(provider: string): ProviderCredential | undefined;
  /** Per-credential concurrency and rate-limit pauses (provider-gate.ts); absent: calls are not paced. */
  gate?: ProviderGate;
  /** Whose calls these are (the tenant): the gate serves the waiting parties in turn. */
  gateParty?: string;
  breaker: BreakerGate;
  /** Called after every attempt (success or failure), before the next one starts. */
  onAttempt(report: AttemptReport): Promise<void>;
  sleep?: (milliseconds: number) => Promise<void>;
  random?: () => number;
  /** The engine's clock in milliseconds (default performance.now): deadlines, attempt timeouts and latencies read it. */
  now?: () => number;
}

export interface FailoverRequest {
  /** The clock's reading (`now`) when the reply began; the deadline counts from there (default: now). */
  startedAt?: number;
  chain: ModelRef[];
  messages: ChatMessage[];
  knowledge: KnowledgeSnippet[];
  options: FailoverOptions;
}

export interface FailoverOutcome {
  result: GenerateResult;
  provider: string;
  model: string;
  attempts: number;
  summary: AttemptSummary[];
}

const defaultSleep = (milliseconds: number) => new Promise<void>((resolve) => setTimeout(resolve, milliseconds));

/** Exponential backoff with full jitter: a random delay in [0, min(cap, base x 2^retry)]. */
export function backoffDelay(
  retry: number,
  options: Pick<FailoverOptions, 'baseBackoffMs' | 'maxBackoffMs'>,
  random: () => number,
): number {
  return Math.round(random() * Math.min(options.maxBackoffMs, options.baseBackoffMs * 2 ** retry));
}

function asUpstreamError(error: unknown, reference: ModelRef): UpstreamError {
  if (error instanceof UpstreamError) return error;
  // An adapter bug is treated like a server fault of that model: move on, never fail the customer's reply.
  return new UpstreamError({ ...reference, kind: 'server', message: `${modelKey(reference)}: adapter error`, cause: error });
}

/** Generates a reply, moving along the chain until a model answers; the offline model always does. */
export async function generateWithFailover(dependencies: FailoverDependencies, request: FailoverRequest): Promise<FailoverOutcome> {
  const { catalog, breaker, options } = { ...dependencies, options: request.options };
  const sleep = dependencies.sleep ?? defaultSleep;
  const random = dependencies.random ?? Math.random;
  const now = dependencies.now ?? (() => performance.now());
  const deadline = (request.startedAt ?? now()) + options.deadlineMs;
  // Remote attempts stop this long before the deadline, so the offline answer and the bookkeeping of the last
  // attempt (usage row, breaker) still finish inside it: the deadline is for the whole reply, not the last call.
  const remoteDeadline = deadline - Math.min(1_000, options.deadlineMs * 0.15);
  const queue: ModelRef[] = [...request.chain];
  if (!queue.some((reference) => reference.provider === OFFLINE_MODEL.provider)) queue.push(OFFLINE_MODEL);
  const tried = new Set<string>();
  const routedKey = queue[0] ? modelKey(queue[0]) : '';
  const summary: AttemptSummary[] = [];
  let attemptNumber = 0;

  while (queue.length > 0) {
    const reference = queue.shift()!;
    const key = modelKey(reference);
    if (tried.has(key)) continue;
    tried.add(key);
    const isOffline = reference.provider === OFFLINE_MODEL.provider;
    const provider = dependencies.providerFor(reference.provider);
    const credential = isOffline ? undefined : dependencies.credentialFor(reference.provider);
    // A remote model without a known credential would have no breaker to consult: never call it blind.
    if (!provider || (!isOffline && !credential)) continue;
    const target: BreakerTarget | undefined = credential && { ...reference, credential };
    if (!isOffline && now() >= remoteDeadline) {
      summary.push({ model: key, outcome: 'skipped_deadline' });
      continue;
    }
    const permit = target ? await breaker.acquire(target) : 'closed';
    if (permit === 'open') {
      summary.push({ model: key, outcome: 'skipped_breaker_open' });
      continue;
    }
    const credentialFingerprint = credential?.fingerprint ?? null;
    // A half-open probe is one call: its outcome alone decides the breaker.
    const maxRetries = permit === 'probe' ? 0 : options.maxRetriesPerModel;
    const entry = catalog.find(reference);
    for (let retry = 0; ; retry += 1) {
      // A slot of this credential, waited for at most until the remote deadline: a rate-limited or saturated key
      // holds back only the requests that use it, and one that cannot start in time moves on to the next model.
      const release =
        credential && dependencies.gate
          ? await dependencies.gate.acquire(credential.fingerprint, remoteDeadline - now(), dependencies.gateParty)
          : () => {};
      if (!release) {
        summary.push({ model: key, outcome: 'skipped_rate_limited' });
        break;
      }
      attemptNumber += 1;
      const remaining = remoteDeadline - now();
      // The offline model runs locally and always answers: the deadline does not apply to it.
      const timeoutMs = isOffline ? options.attemptTimeoutMs : Math.max(1, Math.min(options.attemptTimeoutMs, remaining));
      const started = now();
      const temperature = entry && !entry.capabilities.temperature ? undefined : options.temperature;
      try {
        let result: GenerateResult;
        try {
          result = await withAttemptTimeout(
            (signal) =>
              provider.generate({
                model: reference.model,
                messages: request.messages,
                knowledge: request.knowledge,
                temperature,
                maxOutputTokens: options.maxOutputTokens,
                signal,
              }),
            timeoutMs,
            () =>
              new UpstreamError({
                provider: provider.id,
                model: reference.model,
                kind: 'timeout',
                message: `${modelKey(reference)}: no answer within ${timeoutMs} ms`,
              }),
          );
        } finally {
          release();
        }
        const latencyMs = Math.round(now() - started);
        await dependencies.onAttempt({
          ...reference,
          credentialFingerprint,
          attemptNumber,
          wasFailover: key !== routedKey,
          latencyMs,
          costUsd: costOf(entry, result.usage),
          result,
        });
        if (target) await breaker.recordSuccess(target);
        summary.push({ model: key, outcome: 'success', latencyMs });
        return { result, provider: reference.provider, model: reference.model, attempts: attemptNumber, summary };
      } catch (caught) {
        const error = asUpstreamError(caught, reference);
        // The provider asked this credential to slow down: every request that uses it waits, not just this one.
        if (error.kind === 'rate_limit' && credential && dependencies.gate)
          dependencies.gate.pause(credential.fingerprint, error.retryAfterMs);
        const latencyMs = Math.round(now() - started);
        const usage = (error.metadata?.usage as GenerateResult['usage'] | undefined) ?? emptyUsage();
        // Sequential on purpose: the breaker's windowed failure rate reads the usage row just written.
        await dependencies.onAttempt({
          ...reference,
          credentialFingerprint,
          attemptNumber,
          wasFailover: key !== routedKey,
          latencyMs,
          costUsd: costOf(entry, usage),
          error,
        });
        if (target) await breaker.recordFailure(target, error.kind);
        summary.push({ model: key, outcome: error.kind, latencyMs });
        if (error.kind === 'context_length') {
          // A turn with a photo may only move to a model that can see it, like the router's chain.
          const needsVision = request.messages.some((message) => (message.images?.length ?? 0) > 0);
          escalateToLargerWindow(queue, catalog, entry, tried, dependencies.providerFor, needsVision);
          break;
        }
        if (!error.isRetryable || retry >= maxRetries) break;
        const delay = error.retryAfterMs !== undefined ? error.retryAfterMs : backoffDelay(retry, options, random);
        if (delay > options.retryAfterCapMs || now() + delay >= remoteDeadline) break;
        await sleep(delay);
      }
    }
  }
  // Unreachable with a working offline provider; kept so a misconfigured registry fails loudly.
  throw new Error('No model answered and the offline provider is unavailable');
}

function costOf(entry: ModelEntry | undefined, usage: GenerateResult['usage']): string {
  return entry ? costDollars(entry, usage) : '0';
}

/** After a context-length error: keep only larger-window models queued; if none, add the largest usable one. */
function escalateToLargerWindow(
  queue: ModelRef[],
  catalog: ModelCatalog,
  failed: ModelEntry | undefined,
  tried: Set<string>,
  providerFor: FailoverDependencies['providerFor'],
  needsVision: boolean,
): void {
  const window = failed?.contextWindow ?? 0;
  const larger = (reference: ModelRef) =>
    reference.provider === OFFLINE_MODEL.provider || (catalog.find(reference)?.contextWindow ?? 0) > window;
  const kept = queue.filter(larger);
  if (!kept.some((reference) => reference.provider !== OFFLINE_MODEL.provider)) {
    const widest = catalog.models
      .filter(
        (entry) =>
          entry.provider !== OFFLINE_MODEL.provider &&
          entry.contextWindow > window &&
          (!needsVision || entry.capabilities.vision) &&
          !tried.has(modelKey(entry)) &&
          providerFor(entry.provider),
      )
      .sort((left, right) => right.contextWindow - left.contextWindow)[0];
    if (widest) kept.unshift({ provider: widest.provider, model: widest.model });
  }
  queue.splice(0, queue.length, ...kept);
}
