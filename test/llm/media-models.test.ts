/**
 * The provider layer's media abilities: the vision capability the router honours, the price of a transcription,
 * and which transcription models a format can go to.
 */
import { describe, expect, it } from 'vitest';
import { loadDefaultCatalog } from '../../src/llm/catalog/model-catalog';
import { TRANSCRIPTION_MODELS, transcriptionCost } from '../../src/llm/media-models';
import { route } from '../../src/llm/router';
import { resolveRoutingPolicy } from '../../src/llm/routing-policy';
import type { ChatMessage } from '../../src/llm/types';

const model = (name: string) => TRANSCRIPTION_MODELS.find((entry) => entry.model === name)!;
const noTokens = { inputTokens: 0, outputTokens: 0 };

describe('transcriptionCost', () => {
  it('bills OpenAI by the minute, to the millisecond: gpt-4o-mini-transcribe $0.003, whisper-1 $0.006', () => {
    expect(transcriptionCost(model('gpt-4o-mini-transcribe'), noTokens, 60)).toBe('0.003000000000');
    expect(transcriptionCost(model('gpt-4o-mini-transcribe'), noTokens, 5)).toBe('0.000250000000');
    expect(transcriptionCost(model('whisper-1'), noTokens, 12.345)).toBe('0.001234500000');
  });

  it('is 0 for a per-minute model when the length is unknown (the usage row says so)', () => {
    expect(transcriptionCost(model('whisper-1'), { inputTokens: 500, outputTokens: 20 }, undefined)).toBe('0');
  });

  it('bills Gemini by tokens: audio input at $0.70/M, output at $0.40/M', () => {
    expect(transcriptionCost(model('gemini-2.0-flash'), { inputTokens: 1_000_000, outputTokens: 1_000_000 }, 30)).toBe('1.100000000000');
  });
});

describe('transcription formats', () => {
  it('sends an OGG voice note to both providers, and AMR to none (neither API takes it)', () => {
    const providersFor = (type: string) =>
      TRANSCRIPTION_MODELS.filter((entry) => entry.formats.includes(type)).map((entry) => entry.provider);
    expect(new Set(providersFor('audio/ogg'))).toEqual(new Set(['openai', 'gemini']));
    expect(providersFor('audio/amr')).toEqual([]);
  });
});

describe('route: a turn with a photo', () => {
  const photoTurn: ChatMessage[] = [
    { role: 'user', content: 'Is this broken?', images: [{ mediaType: 'image/jpeg', data: Buffer.from([0xff, 0xd8, 0xff, 0xd9]) }] },
  ];
  const input = (policy: Record<string, unknown>) => ({
    messages: photoTurn,
    catalog: loadDefaultCatalog(),
    policy: resolveRoutingPolicy({ llm: policy }),
    hasProvider: () => true,
    isOpen: () => false,
    overBudget: false,
  });

  it('considers only vision-capable models, in the chain and the fallbacks', () => {
    const catalog = loadDefaultCatalog();
    const decision = route(input({}));
    for (const reference of [decision, ...decision.fallbacks.filter((entry) => entry.provider !== 'offline')])
      expect(catalog.find(reference)?.capabilities.vision).toBe(true);
    expect(decision.skipped).toContainEqual({ model: 'openai/o3-mini', why: 'no_vision' });
  });

  it('falls back to the offline answerer when no routed model can see', () => {
    const blind = [{ provider: 'openai', model: 'o3-mini' }];
    const decision = route(input({ tiers: { cheap: blind, balanced: blind, reasoning: blind, longContext: blind } }));
    expect(decision.provider).toBe('offline');
  });

  it('leaves a text-only turn to every model', () => {
    const decision = route({ ...input({}), messages: [{ role: 'user', content: 'Hi' }] });
    expect(decision.skipped.some((skip) => skip.why === 'no_vision')).toBe(false);
  });
});
