/**
 * Cost from real usage, in exact integer arithmetic: prices are held as micro-dollars per million tokens,
 * so tokens x price is an integer number of picodollars (1e-12 $). Stored as a decimal string, never a float.
 */
import type { ModelEntry } from './catalog/model-catalog';
import type { TokenUsage } from './types';

const DECIMALS = 6;

/** "2.50" dollars -> 2_500_000 micro-dollars; exact for prices with at most 6 decimals. */
export function toMicros(price: string): number {
  const [whole, fraction = ''] = price.split('.');
  return Number(whole) * 1_000_000 + Number(fraction.padEnd(DECIMALS, '0').slice(0, DECIMALS));
}

export interface AppliedRates {
  inputMicrosPerMillion: number;
  cachedInputMicrosPerMillion: number;
  outputMicrosPerMillion: number;
  /** The prompt size above which these rates apply; 0 for the base tier. */
  tierAboveInputTokens: number;
}

/** The rates for a prompt of this size: the highest tier whose threshold it exceeds applies to the whole request. */
export function ratesFor(entry: ModelEntry, inputTokens: number): AppliedRates {
  let chosen: { input: string; cachedInput: string; output: string } = entry.pricing;
  let threshold = 0;
  for (const tier of entry.pricing.above) {
    if (inputTokens > tier.inputTokens && tier.inputTokens >= threshold) {
      chosen = tier;
      threshold = tier.inputTokens;
    }
  }
  return {
    inputMicrosPerMillion: toMicros(chosen.input),
    cachedInputMicrosPerMillion: toMicros(chosen.cachedInput),
    outputMicrosPerMillion: toMicros(chosen.output),
    tierAboveInputTokens: threshold,
  };
}

/** Cost in picodollars: uncached input at the input rate, cached input at the cached rate, output (reasoning included) at the output rate. */
export function costPicodollars(entry: ModelEntry, usage: Pick<TokenUsage, 'inputTokens' | 'cachedInputTokens' | 'outputTokens'>): bigint {
  const rates = ratesFor(entry, usage.inputTokens);
  const cached = Math.min(usage.cachedInputTokens, usage.inputTokens);
  const uncached = usage.inputTokens - cached;
  return (
    BigInt(uncached) * BigInt(rates.inputMicrosPerMillion) +
    BigInt(cached) * BigInt(rates.cachedInputMicrosPerMillion) +
    BigInt(usage.outputTokens) * BigInt(rates.outputMicrosPerMillion)
  );
}

/** Picodollars as a dollar decimal string with 12 decimals, e.g. 2_500_000n -> "0.000002500000". */
export function formatDollars(picodollars: bigint): string {
  const negative = picodollars < 0n;
  const absolute = negative ? -picodollars : picodollars;
  const whole = absolute / 1_000_000_000_000n;
  const fraction = (absolute % 1_000_000_000_000n).toString().padStart(12, '0');
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

/** The dollar cost of a usage as a decimal string (numeric in the database). */
export function costDollars(entry: ModelEntry, usage: Pick<TokenUsage, 'inputTokens' | 'cachedInputTokens' | 'outputTokens'>): string {
  return formatDollars(costPicodollars(entry, usage));
}

/** Parses a dollar decimal string (as PostgreSQL returns numeric) back to picodollars. */
export function parseDollars(value: string): bigint {
  const negative = value.startsWith('-');
  const [whole, fraction = ''] = (negative ? value.slice(1) : value).split('.');
  const picodollars = BigInt(whole || '0') * 1_000_000_000_000n + BigInt(fraction.padEnd(12, '0').slice(0, 12) || '0');
  return negative ? -picodollars : picodollars;
}
