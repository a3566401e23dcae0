import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OpenAIChatProvider } from '../../../src/llm/providers/openai/openai-chat-model';
import { UpstreamError, type UpstreamErrorKind } from '../../../src/llm/types';
import { type FakeOpenAIServer, startFakeOpenAI } from '../../fakes/openai-server';
import type { LlmFault } from '../../fakes/llm-faults';

let fake: FakeOpenAIServer;
let provider: OpenAIChatProvider;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  provider = new OpenAIChatProvider({ apiKey: 'sk-test', baseUrl: fake.baseUrl });
});
afterAll(() => fake.close());
beforeEach(() => fake.book.reset());

const messages = [
  { role: 'system' as const, content: 'Be brief.' },
  { role: 'user' as const, content: 'Where is my order?' },
];

async function failureOf(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}

describe('OpenAIChatProvider', () => {
  it('returns the text and the usage with cached and reasoning tokens', async () => {
    fake.book.answer = () => ({ text: 'It ships today.', usage: { input: 1200, cached: 1024, output: 50, reasoning: 30 } });
    const result = await provider.generate({ model: 'gpt-4o', messages, temperature: 0.3 });
    expect(result.text).toBe('It ships today.');
    expect(result.finishReason).toBe('stop');
    expect(result.usage).toEqual({ inputTokens: 1200, cachedInputTokens: 1024, outputTokens: 50, reasoningTokens: 30, totalTokens: 1250 });
    expect(fake.book.requests[0].body).toMatchObject({ model: 'gpt-4o', temperature: 0.3, messages });
    expect(fake.book.requests[0].headers.authorization).toBe('Bearer sk-test');
  });

  it('sends no temperature and max_completion_tokens to reasoning models', async () => {
    await provider.generate({ model: 'o3-mini', messages, temperature: 0.7, maxOutputTokens: 500 });
    const body = fake.book.requests[0].body;
    expect(body).not.toHaveProperty('temperature');
    expect(body).not.toHaveProperty('max_tokens');
    expect(body.max_completion_tokens).toBe(500);
  });

  it('serves an OpenAI-compatible endpoint under its own provider id, with its headers and query', async () => {
    const compatible = new OpenAIChatProvider({
      id: 'ollama',
      apiKey: 'none',
      baseUrl: fake.baseUrl,
      headers: { 'api-key': 'az' },
      query: { 'api-version': '2024-10-21' },
    });
    const result = await compatible.generate({ model: 'llama3.1', messages });
    expect(compatible.id).toBe('ollama');
    expect(result.text).toBe('echo: Where is my order?');
    expect(fake.book.requests[0].headers['api-key']).toBe('az');
    expect(fake.book.requests[0].path).toContain('api-version=2024-10-21');
  });

  const matrix: Array<[LlmFault, UpstreamErrorKind, boolean, number | undefined]> = [
    ['server_error', 'server', true, 500],
    ['unavailable', 'server', true, 503],
    ['rate_limit', 'rate_limit', true, 429],
    ['unauthorized', 'auth', false, 401],
    ['context_length', 'context_length', false, 400],
    ['reset', 'network', true, undefined],
    ['malformed_json', 'server', true, undefined],
    ['empty', 'server', true, undefined],
    ['safety', 'content_filter', false, undefined],
  ];
  it.each(matrix)('maps %s to an UpstreamError of kind %s', async (fault, kind, isRetryable, status) => {
    fake.book.fail(fault);
    const error = await failureOf(provider.generate({ model: 'gpt-4o-mini', messages }));
    expect(error).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini', kind, isRetryable, status });
  });

  it('reads Retry-After on a 429', async () => {
    fake.book.retryAfterSeconds = 7;
    fake.book.fail('rate_limit');
    const error = await failureOf(provider.generate({ model: 'gpt-4o', messages }));
    expect(error.retryAfterMs).toBe(7000);
    fake.book.retryAfterSeconds = 1;
  });

  it('turns an aborted hanging request into a timeout', async () => {
    fake.book.fail('hang');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await failureOf(provider.generate({ model: 'gpt-4o', messages, signal: controller.signal }));
    expect(error.kind).toBe('timeout');
    expect(error.isRetryable).toBe(true);
  });
});
