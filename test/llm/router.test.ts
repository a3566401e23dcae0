import { describe, expect, it } from 'vitest';
import calibration from '../fixtures/router-calibration.json';
import { loadDefaultCatalog, type ModelRef } from '../../src/llm/catalog/model-catalog';
import { extractFeatures, scoreComplexity } from '../../src/llm/complexity';
import { route, type RouteInput } from '../../src/llm/router';
import { resolveRoutingPolicy } from '../../src/llm/routing-policy';
import type { ChatMessage } from '../../src/llm/types';

interface LabelledMessage {
  label: 'simple' | 'ordinary' | 'complex' | 'long_context';
  category: string;
  text: string;
  repeat?: string;
  times?: number;
}

const labelled = calibration.messages as LabelledMessage[];
const textOf = (item: LabelledMessage) => item.text + (item.repeat ? item.repeat.repeat(item.times ?? 1) : '');
const SYSTEM: ChatMessage = { role: 'system', content: 'You are a helpful shop assistant.' };

function routeInput(messages: ChatMessage[], overrides: Partial<RouteInput> = {}): RouteInput {
  return {
    messages,
    catalog: loadDefaultCatalog(),
    policy: resolveRoutingPolicy({}),
    hasProvider: () => true,
    isOpen: () => false,
    overBudget: false,
    ...overrides,
  };
}

describe('complexity score calibration', () => {
  it('has at least 40 labelled messages covering every category', () => {
    expect(labelled.length).toBeGreaterThanOrEqual(40);
    expect(new Set(labelled.map((item) => item.category))).toEqual(
      new Set(['greeting', 'thanks', 'faq', 'complaint', 'support', 'analytical', 'maths', 'code', 'multi-part', 'long_document', 'pasted_document']),
    );
  });

  const scored = labelled.filter((item) => item.label !== 'long_context');
  it.each(scored.map((item) => [item.label, item.text.slice(0, 60), item] as const))('scores a %s message in its band: %s', (label, _title, item) => {
    const score = scoreComplexity(extractFeatures([SYSTEM, { role: 'user', content: textOf(item) }]));
    expect(score).toBeGreaterThanOrEqual(0);
    expect(score).toBeLessThanOrEqual(1);
    if (label === 'simple') expect(score).toBeLessThan(0.3);
    if (label === 'ordinary') {
      expect(score).toBeGreaterThanOrEqual(0.3);
      expect(score).toBeLessThanOrEqual(0.7);
    }
    if (label === 'complex') expect(score).toBeGreaterThan(0.7);
  });

  it('lets a single message reach the complex tier (the seed router could not)', () => {
    const decision = route(routeInput([{ role: 'user', content: 'Solve for x: 3x^2 - 12x + 9 = 0, and prove that both roots are real.' }]));
    expect(decision.tier).toBe('reasoning');
  });

  it('raises the score of an ordinary question in a long conversation', () => {
    const question: ChatMessage = { role: 'user', content: 'I ordered a medium but I think I need a large, is it possible to exchange it?' };
    const history: ChatMessage[] = Array.from({ length: 20 }, (_, index) => ({ role: index % 2 ? 'assistant' : 'user', content: `message ${index}` }));
    const alone = scoreComplexity(extractFeatures([question]));
    const late = scoreComplexity(extractFeatures([...history, question]));
    expect(late).toBeGreaterThan(alone);
  });
});

describe('route', () => {
  it.each(labelled.map((item) => [item.label, item.text.slice(0, 50), item] as const))('sends a %s message to its tier: %s', (label, _title, item) => {
    const decision = route(routeInput([SYSTEM, { role: 'user', content: textOf(item) }]));
    const expected = { simple: 'cheap', ordinary: 'balanced', complex: 'reasoning', long_context: 'longContext' }[label];
    expect(decision.tier).toBe(expected);
  });

  it('routes by default: cheap to Gemini Flash, balanced to gpt-4o, reasoning to o3-mini, long documents to Gemini Pro', () => {
    const pick = (text: string) => {
      const decision = route(routeInput([{ role: 'user', content: text }]));
      return `${decision.provider}/${decision.model}`;
    };
    expect(pick('Hi')).toBe('gemini/gemini-2.0-flash');
    expect(pick('My order #48213 still hasn\'t arrived and it has been 10 days. Can you check?')).toBe('openai/gpt-4o');
    expect(pick('Calculate the monthly payment for a $24,000 loan at 6.5% over 5 years, step by step.')).toBe('openai/o3-mini');
    const long = labelled.find((item) => item.label === 'long_context')!;
    expect(pick(textOf(long))).toBe('gemini/gemini-2.5-pro');
  });

  it('counts tokens exactly and explains the decision', () => {
    const decision = route(routeInput([{ role: 'user', content: 'Hello there!' }]));
    // "Hello there!" is 3 o200k tokens, plus 4 for the message frame and 3 for the reply primer.
    expect(decision.inputTokens).toBe(10);
    expect(decision).toMatchObject({ tier: 'cheap', score: 0, reason: expect.stringContaining('below 0.3') });
    expect(decision.features).toHaveProperty('reasoning', 0);
    expect(Number(decision.estimatedCostUsd)).toBeGreaterThan(0);
  });

  it('never chooses a model whose window the prompt does not fit', () => {
    const long = labelled.find((item) => item.label === 'long_context')!;
    const policy = resolveRoutingPolicy({ llm: { thresholds: { longContextTokens: 10_000_000 } } });
    const decision = route(routeInput([{ role: 'user', content: textOf(long) + textOf(long) }], { policy }));
    expect(decision.inputTokens).toBeGreaterThan(128_000);
    expect(decision.model).not.toBe('gpt-4o');
    expect(decision.skipped).toContainEqual({ model: 'openai/gpt-4o', why: 'context_too_small' });
    const all = [{ provider: decision.provider, model: decision.model }, ...decision.fallbacks];
    for (const reference of all) {
      const entry = loadDefaultCatalog().find(reference)!;
      expect(entry.contextWindow, reference.model).toBeGreaterThan(decision.inputTokens);
    }
  });

  it('skips open breakers and providers without a key, and records why', () => {
    const decision = route(
      routeInput([{ role: 'user', content: 'Hi' }], {
        isOpen: (reference: ModelRef) => reference.model === 'gemini-2.0-flash',
        hasProvider: (provider) => provider !== 'openai',
      }),
    );
    expect(decision.model).toBe('gemini-1.5-flash');
    expect(decision.skipped).toEqual(
      expect.arrayContaining([
        { model: 'gemini/gemini-2.0-flash', why: 'breaker_open' },
        { model: 'openai/gpt-4o-mini', why: 'provider_unavailable' },
      ]),
    );
    expect(decision.fallbacks.every((reference) => reference.provider !== 'openai')).toBe(true);
  });

  it('puts the other tiers after the routed model and offline last', () => {
    const decision = route(routeInput([{ role: 'user', content: 'Hi' }]));
    expect(decision.fallbacks[0]).toEqual({ provider: 'openai', model: 'gpt-4o-mini' });
    expect(decision.fallbacks.at(-1)).toEqual({ provider: 'offline', model: 'offline-v1' });
    expect(decision.fallbacks.map((reference) => reference.model)).toContain('gpt-4o');
  });

  it('routes a tenant over its monthly budget to the cheap tier', () => {
    const decision = route(routeInput([{ role: 'user', content: 'Compare plan A and plan B and calculate the cheaper one over 2 years, step by step.' }], { overBudget: true }));
    expect(decision).toMatchObject({ tier: 'cheap', reason: 'monthly budget exceeded' });
  });

  it('honours a forced provider and model, then falls back', () => {
    const decision = route(routeInput([{ role: 'user', content: 'Hi' }], { force: { provider: 'openai', model: 'gpt-4.1' } }));
    expect(decision).toMatchObject({ provider: 'openai', model: 'gpt-4.1', tier: 'forced' });
    expect(decision.fallbacks.length).toBeGreaterThan(1);
  });

  it('follows tenant tiers, thresholds and fallback order', () => {
    const policy = resolveRoutingPolicy({
      llm: {
        thresholds: { simple: 0.01 },
        tiers: { balanced: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
        fallbackOrder: [{ provider: 'gemini', model: 'gemini-2.5-flash' }, { provider: 'openai', model: 'gpt-4o-mini' }],
      },
    });
    const decision = route(routeInput([{ role: 'user', content: 'I forgot my password and the reset email never arrives.' }], { policy }));
    expect(decision).toMatchObject({ tier: 'balanced', model: 'gemini-2.5-flash' });
    expect(decision.fallbacks).toEqual([{ provider: 'openai', model: 'gpt-4o-mini' }, { provider: 'offline', model: 'offline-v1' }]);
  });

  it('answers offline when nothing else is usable', () => {
    const decision = route(routeInput([{ role: 'user', content: 'Hi' }], { hasProvider: (provider) => provider === 'offline' }));
    expect(decision).toMatchObject({ provider: 'offline', model: 'offline-v1', tier: 'offline' });
  });
});
