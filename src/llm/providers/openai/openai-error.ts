/** Maps errors of the openai SDK (and of OpenAI-compatible servers behind it) to the one UpstreamError. */
import OpenAI from 'openai';
import { UpstreamError, type UpstreamErrorKind } from '../../types';
import { outboundUpstreamError } from '../../outbound-upstream-error';
import { parseRetryAfter } from '../../retry-after';

interface ErrorBody {
  code?: unknown;
  type?: unknown;
  message?: unknown;
}

/** The kind of an HTTP failure, refined by the error code OpenAI puts in the body. */
export function openaiKindForStatus(status: number, body: ErrorBody | undefined): UpstreamErrorKind {
  const code = typeof body?.code === 'string' ? body.code : '';
  if (code === 'context_length_exceeded' || code === 'string_above_max_length') return 'context_length';
  if (code === 'content_filter' || code === 'content_policy_violation') return 'content_filter';
  if (status === 401 || status === 403) return 'auth';
  if (status === 408) return 'timeout';
  if (status === 429) return 'rate_limit';
  if (status >= 500) return 'server';
  return 'bad_request';
}

/** Converts anything the openai SDK throws into an UpstreamError; `aborted` tells a timeout from a reset. */
export function toOpenAIUpstreamError(error: unknown, provider: string, model: string, aborted: boolean): UpstreamError {
  if (error instanceof UpstreamError) return error;
  const base = { provider, model, cause: error };
  if (aborted || error instanceof OpenAI.APIUserAbortError || error instanceof OpenAI.APIConnectionTimeoutError) {
    return new UpstreamError({ ...base, kind: 'timeout', message: `${provider}/${model}: request timed out` });
  }
  // A tenant URL's request refused or cut short by the SafeHttpClient: the SDK wraps it as a connection error.
  const outbound = outboundUpstreamError(error, provider, model);
  if (outbound) return outbound;
  if (error instanceof OpenAI.APIConnectionError) {
    return new UpstreamError({ ...base, kind: 'network', message: `${provider}/${model}: connection failed` });
  }
  if (error instanceof OpenAI.APIError && typeof error.status === 'number') {
    const body = (error.error ?? undefined) as ErrorBody | undefined;
    const kind = openaiKindForStatus(error.status, body);
    // 409 (a conflicting concurrent request) is transient although it is a 4xx.
    const isRetryable = error.status === 409 ? true : undefined;
    return new UpstreamError({
      ...base,
      kind,
      status: error.status,
      isRetryable,
      retryAfterMs: parseRetryAfter(error.headers?.get('retry-after')) ?? parseRetryAfterMs(error.headers?.get('retry-after-ms')),
      message: `${provider}/${model}: HTTP ${error.status} ${typeof body?.code === 'string' ? body.code : kind}`,
      metadata: { code: body?.code, type: body?.type },
    });
  }
  // A body that is not JSON, or a response of an unexpected shape: the upstream misbehaved, try again or elsewhere.
  return new UpstreamError({ ...base, kind: 'server', message: `${provider}/${model}: unreadable response` });
}

function parseRetryAfterMs(value: string | null | undefined): number | undefined {
  if (!value || !/^\d+(\.\d+)?$/.test(value.trim())) return undefined;
  return Math.round(Number(value));
}
