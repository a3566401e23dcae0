import { describe, expect, it } from 'vitest';
import { loadDefaultCatalog, parseCatalog } from '../../src/llm/catalog/model-catalog';
import { costDollars, costPicodollars, formatDollars, parseDollars, ratesFor, toMicros } from '../../src/llm/cost';

const catalog = loadDefaultCatalog();
const entry = (provider: string, model: string) => {
  const found = catalog.find({ provider, model });
  if (!found) throw new Error(`${provider}/${model} missing from the catalog`);
  return found;
};

describe('cost', () => {
  it('converts decimal prices to integer micro-dollars exactly', () => {
    expect(toMicros('2.50')).toBe(2_500_000);
    expect(toMicros('0.01875')).toBe(18_750);
    expect(toMicros('0')).toBe(0);
  });

  it('bills uncached input, cached input and output at their own rates', () => {
    // gpt-4o: $2.50 input, $1.25 cached, $10 output per million.
    const usage = { inputTokens: 10_000, cachedInputTokens: 4_000, outputTokens: 500 };
    // 6000 x 2.5 + 4000 x 1.25 + 500 x 10 = 15000 + 5000 + 5000 micro-dollars = $0.025
    expect(costDollars(entry('openai', 'gpt-4o'), usage)).toBe('0.025000000000');
  });

  it('keeps fractions of a micro-dollar exact', () => {
    // gemini-1.5-flash cached: $0.01875 per million -> 3 tokens = 0.05625 micro-dollars.
    expect(costPicodollars(entry('gemini', 'gemini-1.5-flash'), { inputTokens: 3, cachedInputTokens: 3, outputTokens: 0 })).toBe(56_250n);
    expect(formatDollars(56_250n)).toBe('0.000000056250');
  });

  it('bills the whole request at the higher tier once the prompt exceeds the threshold', () => {
    const pro = entry('gemini', 'gemini-1.5-pro');
    expect(ratesFor(pro, 128_000).inputMicrosPerMillion).toBe(1_250_000);
    expect(ratesFor(pro, 128_001)).toMatchObject({
      inputMicrosPerMillion: 2_500_000,
      outputMicrosPerMillion: 10_000_000,
      tierAboveInputTokens: 128_000,
    });
    // 200,000 input (50,000 cached) and 1,000 output, all at the >128k tier:
    // 150000 x 2.5 + 50000 x 0.625 + 1000 x 10 = 375000 + 31250 + 10000 = 416250 micro-dollars.
    expect(costDollars(pro, { inputTokens: 200_000, cachedInputTokens: 50_000, outputTokens: 1_000 })).toBe('0.416250000000');
    const gemini25 = entry('gemini', 'gemini-2.5-pro');
    expect(costDollars(gemini25, { inputTokens: 200_000, cachedInputTokens: 0, outputTokens: 0 })).toBe('0.250000000000');
    expect(costDollars(gemini25, { inputTokens: 200_001, cachedInputTokens: 0, outputTokens: 0 })).toBe('0.500002500000');
  });

  it('counts reasoning tokens as output, since outputTokens includes them', () => {
    expect(costDollars(entry('openai', 'o3-mini'), { inputTokens: 0, cachedInputTokens: 0, outputTokens: 1_000_000 })).toBe(
      '4.400000000000',
    );
  });

  it('never bills more cached tokens than input tokens', () => {
    expect(costPicodollars(entry('openai', 'gpt-4o'), { inputTokens: 10, cachedInputTokens: 50, outputTokens: 0 })).toBe(12_500_000n);
  });

  it('round-trips decimal strings as PostgreSQL returns them', () => {
    expect(parseDollars('0.416250000000')).toBe(416_250_000_000n);
    expect(parseDollars('12.5')).toBe(12_500_000_000_000n);
  });
});

describe('model catalog', () => {
  it('lists the required models with list prices', () => {
    for (const key of [
      'openai/gpt-4o',
      'openai/gpt-4o-mini',
      'openai/o1',
      'openai/o3-mini',
      'openai/gpt-4.1',
      'openai/gpt-4.1-mini',
      'openai/gpt-4.1-nano',
      'gemini/gemini-1.5-flash',
      'gemini/gemini-1.5-pro',
      'gemini/gemini-2.0-flash',
      'gemini/gemini-2.5-flash',
      'gemini/gemini-2.5-pro',
    ]) {
      const [provider, model] = key.split('/');
      expect(catalog.find({ provider, model }), key).toBeDefined();
    }
    expect(entry('openai', 'o1').capabilities.temperature).toBe(false);
  });

  it('rejects a float-looking or malformed price at load', () => {
    expect(() =>
      parseCatalog({
        models: [
          { provider: 'x', model: 'y', contextWindow: 1, maxOutputTokens: 1, pricing: { input: '1e-7', cachedInput: '0', output: '0' } },
        ],
      }),
    ).toThrow();
  });

  it('applies a tenant override over a bundled entry and adds unknown models', () => {
    const tenantCatalog = catalog.withOverrides([
      {
        provider: 'openai',
        model: 'gpt-4o',
        contextWindow: 128_000,
        maxOutputTokens: 4096,
        pricing: { input: '2.00', cachedInput: '1.00', output: '8.00' },
      },
      {
        provider: 'ollama',
        model: 'llama3.1',
        contextWindow: 8192,
        maxOutputTokens: 2048,
        pricing: { input: '0', cachedInput: '0', output: '0' },
      },
    ]);
    expect(tenantCatalog.find({ provider: 'openai', model: 'gpt-4o' })?.pricing.input).toBe('2.00');
    expect(tenantCatalog.find({ provider: 'ollama', model: 'llama3.1' })?.capabilities.temperature).toBe(true);
    expect(catalog.find({ provider: 'openai', model: 'gpt-4o' })?.pricing.input).toBe('2.50');
  });
});
