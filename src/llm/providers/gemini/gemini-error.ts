/** Maps errors of @google/generative-ai, and blocked answers, to the one UpstreamError. */
import { GoogleGenerativeAIAbortError, GoogleGenerativeAIFetchError } from '@google/generative-ai';
import { UpstreamError, type UpstreamErrorKind } from '../../types';
import type { OutboundRequestError } from '../../../net/outbound-error';
import { outboundUpstreamError } from '../../outbound-upstream-error';
import { isAbortError, parseDurationString } from '../../retry-after';

interface ErrorDetail {
  '@type'?: string;
  retryDelay?: unknown;
  reason?: unknown;
}

/** The kind of an HTTP failure from Gemini; a 400 whose message speaks of the token limit is a context-length error. */
export function geminiKindForStatus(status: number, details: ErrorDetail[] | undefined, message: string): UpstreamErrorKind {
  if (status === 401 || status === 403) return 'auth';
  if (details?.some((detail) => detail.reason === 'API_KEY_INVALID')) return 'auth';
  if (status === 408) return 'timeout';
  if (status === 429) return 'rate_limit';
  if (status >= 500) return 'server';
  // Gemini reports an oversized prompt as INVALID_ARGUMENT with no structured reason; the status text is all there is.
  if (status === 400 && /exceeds the maximum number of tokens|input token count/i.test(message)) return 'context_length';
  return 'bad_request';
}

/**
 * Converts anything the Gemini SDK throws into an UpstreamError; `aborted` tells a timeout from a reset, and
 * `refusal` is the outbound guard's error behind a failed fetch (the SDK's own error does not keep it as a cause).
 */
export function toGeminiUpstreamError(
  error: unknown,
  provider: string,
  model: string,
  aborted: boolean,
  refusal?: OutboundRequestError,
): UpstreamError {
  if (error instanceof UpstreamError) return error;
  const base = { provider, model, cause: error };
  if (aborted || error instanceof GoogleGenerativeAIAbortError || isAbortError(error)) {
    return new UpstreamError({ ...base, kind: 'timeout', message: `${provider}/${model}: request timed out` });
  }
  // A tenant URL's request refused or cut short by the SafeHttpClient.
  const outbound = outboundUpstreamError(refusal ?? error, provider, model, error);
  if (outbound) return outbound;
  if (error instanceof GoogleGenerativeAIFetchError && typeof error.status === 'number') {
    const details = Array.isArray(error.errorDetails) ? (error.errorDetails as ErrorDetail[]) : undefined;
    const retryInfo = details?.find((detail) => detail['@type']?.endsWith('google.rpc.RetryInfo'));
    const kind = geminiKindForStatus(error.status, details, error.message);
    return new UpstreamError({
      ...base,
      kind,
      status: error.status,
      retryAfterMs: parseDurationString(retryInfo?.retryDelay),
      message: `${provider}/${model}: HTTP ${error.status} ${kind}`,
    });
  }
  if (error instanceof SyntaxError) {
    return new UpstreamError({ ...base, kind: 'server', message: `${provider}/${model}: unreadable response` });
  }
  // The SDK wraps fetch failures (reset, refused, DNS) in a plain GoogleGenerativeAIError.
  return new UpstreamError({ ...base, kind: 'network', message: `${provider}/${model}: connection failed` });
}
