import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import calibration from '../fixtures/router-calibration.json';
import { loadDefaultCatalog, type ModelRef } from '../../src/llm/catalog/model-catalog';
import { route, type RouteInput } from '../../src/llm/router';
import { resolveRoutingPolicy, TIER_NAMES } from '../../src/llm/routing-policy';
import type { RoutingAssessment } from '../../src/llm/routing/routing-scorer';
import type { ChatMessage } from '../../src/llm/types';
import { testSeed } from '../support/seeded-random';

interface LabelledMessage {
  label: string;
  text: string;
  repeat?: string;
  times?: number;
}

const longDocument = (calibration.messages as LabelledMessage[]).find((item) => item.label === 'long_context')!;
const longText = longDocument.text + (longDocument.repeat ?? '').repeat(longDocument.times ?? 1);

/** A scorer that gives every message the same score and kind, so the tests pin the decision logic, not the weights. */
function fixedScorer(score: number, kind: RoutingAssessment['kind'] = 'faq') {
  return {
    assessText: (text: string, turnsBefore = 0): RoutingAssessment => ({
      score,
      messageScore: score,
      kind,
      kindProbability: 1,
      language: 'en',
      lastMessageTokens: text.length,
      turnsBefore,
      modelVersion: 'test-fixed',
    }),
  };
}

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

const hi: ChatMessage[] = [{ role: 'user', content: 'Hi' }];

describe('route: the trained scorer and the quality knob', () => {
  it('sends a low score to the cheap tier, a middling one to balanced and a high one to reasoning (default quality 0.5)', () => {
    const tierOf = (score: number) => route(routeInput(hi, { scorer: fixedScorer(score) })).tier;
    expect([0.05, 0.24, 0.26, 0.5, 0.56, 0.95].map(tierOf)).toEqual(['cheap', 'cheap', 'balanced', 'balanced', 'reasoning', 'reasoning']);
  });

  it('never picks a cheaper tier at a higher quality setting (monotone knob)', () => {
    const rank = (tier: string) => ['cheap', 'balanced', 'reasoning'].indexOf(tier);
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (score, low, high) => {
          const [lower, higher] = low <= high ? [low, high] : [high, low];
          const at = (quality: number) =>
            route(routeInput(hi, { scorer: fixedScorer(score), policy: resolveRoutingPolicy({ llm: { quality } }) })).tier;
          expect(rank(at(higher))).toBeGreaterThanOrEqual(rank(at(lower)));
        },
      ),
      { seed: testSeed(), numRuns: 300 },
    );
  });

  it('records score, kind, model version and a propensity of 1 when nothing is learnt yet', () => {
    const decision = route(routeInput(hi, { scorer: fixedScorer(0.4, 'account') }));
    expect(decision).toMatchObject({
      tier: 'balanced',
      score: 0.4,
      kind: 'account',
      modelVersion: 'test-fixed',
      knobTier: 'balanced',
      policyTier: 'balanced',
      propensity: 1,
      explored: false,
    });
    expect(decision.reason).toContain('score 0.400 (account)');
  });

  it('scores a greeting low and a multi-step maths problem high with the committed weights', () => {
    const greeting = route(routeInput([{ role: 'user', content: 'Hello there, good morning!' }]));
    expect(greeting).toMatchObject({ tier: 'cheap', kind: 'greeting' });
    const maths = route(
      routeInput([
        {
          role: 'user',
          content:
            'A train leaves at 9:40 travelling 84 km/h; a second leaves the same station at 10:15 at 112 km/h on the same track. ' +
            'At what time does the second train catch up, and how far from the station are they then? Show each step.',
        },
      ]),
    );
    expect(maths.score).toBeGreaterThan(greeting.score);
    expect(maths.kind).toBe('maths');
    // At the highest quality setting only a message the scorer is sure about stays cheap.
    const demanding = resolveRoutingPolicy({ llm: { quality: 1 } });
    expect(route(routeInput([{ role: 'user', content: 'Hello there, good morning!' }], { policy: demanding })).tier).toBe('balanced');
  });
});

describe('route: hard rules', () => {
  it('counts tokens exactly and sends a prompt over the long-context threshold to the long-context tier', () => {
    const short = route(routeInput([{ role: 'user', content: 'Hello there!' }]));
    // "Hello there!" is 3 o200k tokens, plus 4 for the message frame and 3 for the reply primer.
    expect(short.inputTokens).toBe(10);
    const long = route(routeInput([{ role: 'user', content: longText }]));
    expect(long).toMatchObject({ tier: 'longContext', provider: 'gemini', model: 'gemini-2.5-pro', policyTier: null, propensity: 1 });
    expect(long.reason).toMatch(/^prompt of \d+ tokens exceeds 100000/);
  });

  it('never chooses a model whose window the prompt does not fit', () => {
    const policy = resolveRoutingPolicy({ llm: { thresholds: { longContextTokens: 10_000_000 } } });
    const decision = route(routeInput([{ role: 'user', content: longText + longText }], { policy, scorer: fixedScorer(0.4) }));
    expect(decision.inputTokens).toBeGreaterThan(128_000);
    expect(decision.model).not.toBe('gpt-4o');
    expect(decision.skipped).toContainEqual({ model: 'openai/gpt-4o', why: 'context_too_small' });
    for (const reference of [{ provider: decision.provider, model: decision.model }, ...decision.fallbacks]) {
      const entry = loadDefaultCatalog().find(reference)!;
      expect(entry.contextWindow, reference.model).toBeGreaterThan(decision.inputTokens);
    }
  });

  it('skips open breakers and providers without a key, and records why', () => {
    const decision = route(
      routeInput(hi, {
        scorer: fixedScorer(0.1),
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

  it('moves to the next tier up when no model of the knob tier is usable', () => {
    const policy = resolveRoutingPolicy({});
    const decision = route(
      routeInput(hi, {
        scorer: fixedScorer(0.1),
        isOpen: (reference) => policy.tiers.cheap.some((cheap) => cheap.model === reference.model),
      }),
    );
    expect(decision).toMatchObject({ tier: 'balanced', knobTier: 'cheap', policyTier: 'balanced' });
  });

  it('routes a tenant over its monthly budget to the cheap tier', () => {
    const decision = route(routeInput(hi, { scorer: fixedScorer(0.9), overBudget: true }));
    expect(decision).toMatchObject({ tier: 'cheap', reason: 'monthly budget exceeded', policyTier: null });
  });

  it('honours a forced provider and model, then falls back through the balanced tier first', () => {
    const decision = route(routeInput(hi, { force: { provider: 'openai', model: 'gpt-4.1' } }));
    expect(decision).toMatchObject({ provider: 'openai', model: 'gpt-4.1', tier: 'forced' });
    expect(decision.fallbacks[0]).toEqual({ provider: 'openai', model: 'gpt-4o' });
  });

  it('answers offline when nothing else is usable', () => {
    const decision = route(routeInput(hi, { hasProvider: (provider) => provider === 'offline' }));
    expect(decision).toMatchObject({ provider: 'offline', model: 'offline-v1', tier: 'offline' });
  });
});

describe('route: the fallback chain', () => {
  it('puts the routed tier first, then the other tiers, and offline last', () => {
    const decision = route(routeInput(hi, { scorer: fixedScorer(0.1) }));
    expect(decision).toMatchObject({ tier: 'cheap', model: 'gemini-2.0-flash' });
    expect(decision.fallbacks[0]).toEqual({ provider: 'openai', model: 'gpt-4o-mini' });
    expect(decision.fallbacks.at(-1)).toEqual({ provider: 'offline', model: 'offline-v1' });
    expect(decision.fallbacks.map((reference) => reference.model)).toContain('gpt-4o');
  });

  it("answers with the routed tier's model first even when the tenant sets a fallback order, then follows that order", () => {
    // Every tier on OpenAI and a Gemini fallback: the routed tier's OpenAI model answers, Gemini only after it.
    const openaiOnly = Object.fromEntries(
      TIER_NAMES.map((tier) => [tier, [{ provider: 'openai', model: tier === 'cheap' ? 'gpt-4o-mini' : 'gpt-4o' }]]),
    );
    const policy = resolveRoutingPolicy({ llm: { tiers: openaiOnly, fallbackOrder: [{ provider: 'gemini', model: 'gemini-2.0-flash' }] } });
    const decision = route(routeInput(hi, { policy, scorer: fixedScorer(0.1) }));
    expect(decision).toMatchObject({ tier: 'cheap', provider: 'openai', model: 'gpt-4o-mini' });
    expect(decision.fallbacks).toEqual([
      { provider: 'gemini', model: 'gemini-2.0-flash' },
      { provider: 'offline', model: 'offline-v1' },
    ]);
  });
});
