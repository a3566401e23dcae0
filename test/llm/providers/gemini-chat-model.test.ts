import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GeminiChatProvider, toGeminiContents } from '../../../src/llm/providers/gemini/gemini-chat-model';
import { UpstreamError, type UpstreamErrorKind } from '../../../src/llm/types';
import { type FakeGeminiServer, startFakeGemini } from '../../fakes/gemini-server';
import type { LlmFault } from '../../fakes/llm-faults';

let fake: FakeGeminiServer;
let provider: GeminiChatProvider;

beforeAll(async () => {
  fake = await startFakeGemini();
  provider = new GeminiChatProvider({ apiKey: 'g-test', baseUrl: fake.baseUrl });
});
afterAll(() => fake.close());
beforeEach(() => fake.book.reset());

async function failureOf(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}

describe('toGeminiContents', () => {
  it('moves system messages to the system instruction, renames assistant to model and merges same-role turns', () => {
    const converted = toGeminiContents([
      { role: 'system', content: 'Be brief.' },
      { role: 'assistant', content: 'Hello! How can I help?' },
      { role: 'user', content: 'Hi' },
      { role: 'user', content: 'Where is my order?' },
      { role: 'assistant', content: 'Checking.' },
    ]);
    expect(converted.systemInstruction).toBe('Be brief.');
    expect(converted.contents.map((content) => content.role)).toEqual(['user', 'model', 'user', 'model']);
    expect(converted.contents[2].parts).toEqual([{ text: 'Hi' }, { text: 'Where is my order?' }]);
  });
});

describe('GeminiChatProvider', () => {
  const messages = [
    { role: 'system' as const, content: 'Be brief.' },
    { role: 'user' as const, content: 'Opening hours?' },
  ];

  it('posts to the base URL and returns text and usage with cached and thinking tokens', async () => {
    fake.book.answer = () => ({ text: '9 to 5.', usage: { input: 300, cached: 256, output: 12, reasoning: 40 } });
    const result = await provider.generate({ model: 'gemini-2.5-flash', messages, temperature: 0.2 });
    expect(result.text).toBe('9 to 5.');
    expect(result.usage).toEqual({ inputTokens: 300, cachedInputTokens: 256, outputTokens: 52, reasoningTokens: 40, totalTokens: 352 });
    const request = fake.book.requests[0];
    expect(request.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(request.headers['x-goog-api-key']).toBe('g-test');
    expect(request.body.systemInstruction).toMatchObject({ parts: [{ text: 'Be brief.' }] });
    expect(request.body.generationConfig).toMatchObject({ temperature: 0.2 });
  });

  const matrix: Array<[LlmFault, UpstreamErrorKind, boolean]> = [
    ['server_error', 'server', true],
    ['unavailable', 'server', true],
    ['rate_limit', 'rate_limit', true],
    ['unauthorized', 'auth', false],
    ['context_length', 'context_length', false],
    ['reset', 'network', true],
    ['malformed_json', 'server', true],
    ['empty', 'server', true],
    ['safety', 'content_filter', false],
  ];
  it.each(matrix)('maps %s to an UpstreamError of kind %s', async (fault, kind, isRetryable) => {
    fake.book.fail(fault);
    const error = await failureOf(provider.generate({ model: 'gemini-2.0-flash', messages }));
    expect(error).toMatchObject({ provider: 'gemini', model: 'gemini-2.0-flash', kind, isRetryable });
  });

  it('keeps the safety ratings of a blocked answer', async () => {
    fake.book.fail('safety');
    const error = await failureOf(provider.generate({ model: 'gemini-2.0-flash', messages }));
    expect(error.metadata?.finishReason).toBe('SAFETY');
    expect(error.metadata?.safetyRatings).toEqual(expect.arrayContaining([expect.objectContaining({ probability: 'HIGH' })]));
  });

  it('reads the RetryInfo delay of a 429', async () => {
    fake.book.retryAfterSeconds = 3;
    fake.book.fail('rate_limit');
    const error = await failureOf(provider.generate({ model: 'gemini-2.0-flash', messages }));
    expect(error.retryAfterMs).toBe(3000);
    fake.book.retryAfterSeconds = 1;
  });

  it('turns an aborted hanging request into a timeout', async () => {
    fake.book.fail('hang');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await failureOf(provider.generate({ model: 'gemini-2.0-flash', messages, signal: controller.signal }));
    expect(error.kind).toBe('timeout');
  });
});
