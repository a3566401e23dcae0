/**
 * The UpstreamError of a model call that the SafeHttpClient (net/safe-http.ts) refused or cut short, read from its
 * OutboundRequestError's code anywhere in the error's cause chain (each SDK wraps it in its own connection error).
 * Both provider adapters map their errors through this before their own network fallback.
 */
import { findOutboundError, type OutboundErrorCode } from '../net/outbound-error';
import { UpstreamError, type UpstreamErrorKind } from './types';

/** Each code's kind, and whether another attempt could do better (only time and the network can change). */
const KINDS: Record<OutboundErrorCode, { kind: UpstreamErrorKind; isRetryable: boolean }> = {
  // A refusal of the destination itself: the same URL is refused every time, and says nothing of the provider.
  forbidden_url: { kind: 'forbidden_destination', isRetryable: false },
  forbidden_address: { kind: 'forbidden_destination', isRetryable: false },
  // The endpoint answered in a way Parley will not follow (a redirect with the key, an oversized body): its fault,
  // so its breaker counts it, but the same request gets the same answer.
  too_many_redirects: { kind: 'server', isRetryable: false },
  redirect_not_replayable: { kind: 'server', isRetryable: false },
  response_too_large: { kind: 'server', isRetryable: false },
  content_type: { kind: 'server', isRetryable: false },
  timeout: { kind: 'timeout', isRetryable: true },
  network: { kind: 'network', isRetryable: true },
};

/** The UpstreamError for an OutboundRequestError in `error`'s causes (kept as `cause`, default `error`); undefined when there is none. */
export function outboundUpstreamError(error: unknown, provider: string, model: string, cause: unknown = error): UpstreamError | undefined {
  const outbound = findOutboundError(error);
  if (!outbound) return undefined;
  const { kind, isRetryable } = KINDS[outbound.code];
  // The message names the code only: the target (even its origin) belongs to the tenant's settings, not to logs.
  return new UpstreamError({
    provider,
    model,
    kind,
    isRetryable,
    cause,
    message: `${provider}/${model}: outbound request refused (${outbound.code})`,
  });
}
