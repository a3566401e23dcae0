/**
 * A tenant URL's request that the SafeHttpClient refuses or cuts short reaches the failover engine as the
 * UpstreamError its OutboundRequestError code calls for, through each SDK's own wrapping: a refused destination
 * is never retried and says nothing of the provider's health (kind forbidden_destination, not network).
 */
import { describe, expect, it } from 'vitest';
import { HEALTH_FAILURE_KINDS } from '../../../src/llm/circuit-breaker';
import { GeminiChatProvider } from '../../../src/llm/providers/gemini/gemini-chat-model';
import { OpenAIChatProvider } from '../../../src/llm/providers/openai/openai-chat-model';
import { type LanguageModelProvider, UpstreamError, type UpstreamErrorKind } from '../../../src/llm/types';
import { type OutboundErrorCode, OutboundRequestError } from '../../../src/net/outbound-error';

/** A fetch that fails as the SafeHttpClient's does: undici's "fetch failed" around the OutboundRequestError. */
function refusingFetch(code: OutboundErrorCode): typeof globalThis.fetch {
  return async () => {
    throw new TypeError('fetch failed', {
      cause: new OutboundRequestError(code, `refused: ${code}`, { target: 'http://models.tenant.invalid' }),
    });
  };
}

const adapters: Array<{ name: string; build: (fetch: typeof globalThis.fetch) => LanguageModelProvider; model: string }> = [
  {
    name: 'OpenAI',
    build: (fetch) => new OpenAIChatProvider({ apiKey: 'sk-tenant', baseUrl: 'http://models.tenant.invalid/v1', fetch }),
    model: 'gpt-4o-mini',
  },
  {
    name: 'Gemini',
    build: (fetch) => new GeminiChatProvider({ apiKey: 'g-tenant', baseUrl: 'http://models.tenant.invalid', fetch }),
    model: 'gemini-2.0-flash',
  },
];

const expectations: Array<{ code: OutboundErrorCode; kind: UpstreamErrorKind; isRetryable: boolean }> = [
  { code: 'forbidden_address', kind: 'forbidden_destination', isRetryable: false },
  { code: 'forbidden_url', kind: 'forbidden_destination', isRetryable: false },
  { code: 'too_many_redirects', kind: 'server', isRetryable: false },
  { code: 'response_too_large', kind: 'server', isRetryable: false },
  { code: 'timeout', kind: 'timeout', isRetryable: true },
  { code: 'network', kind: 'network', isRetryable: true },
];

describe.each(adapters)('$name adapter: outbound refusals', ({ build, model }) => {
  it.each(expectations)('maps $code to $kind (retryable: $isRetryable)', async ({ code, kind, isRetryable }) => {
    const error = await build(refusingFetch(code))
      .generate({ model, messages: [{ role: 'user', content: 'Where is my order?' }] })
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ kind, isRetryable });
  });
});

describe('a refused destination and the breakers', () => {
  it('is not a health failure: it opens no breaker, whoever configured the URL', () => {
    expect(HEALTH_FAILURE_KINDS.has('forbidden_destination')).toBe(false);
    expect(HEALTH_FAILURE_KINDS.has('network')).toBe(true);
  });
});
