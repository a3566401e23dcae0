/**
 * Exact token counts with gpt-tokenizer (o200k_base, OpenAI's current encoding; for other providers a close
 * estimate). Conversations re-send their history every turn, so counts of recent strings are memoised.
 */
import { countTokens } from 'gpt-tokenizer';
import { boundedCache } from '../bounded-cache';
import type { ChatMessage } from './types';

/** Per-message framing tokens of the chat format (role markers). */
const MESSAGE_OVERHEAD_TOKENS = 4;
/** Only strings up to this length are memoised. */
const CACHEABLE_LENGTH = 32_768;

/**
 * Counts by text, bounded in entries, in total characters (5,000 strings of 32 kB would otherwise be 320 MB) and in
 * age (a count never goes stale; the age bound only lets an idle process give the memory back).
 */
export const tokenCountCache = boundedCache<string, number>({
  max: 5_000,
  ttlMs: 30 * 60_000,
  maxSize: 4_000_000,
  sizeOf: (_count, text) => Math.max(1, text.length),
});

/** Exact tokens of one text. */
export function countTextTokens(text: string): number {
  if (text.length > CACHEABLE_LENGTH) return countTokens(text);
  const cached = tokenCountCache.get(text);
  if (cached !== undefined) return cached;
  const count = countTokens(text);
  tokenCountCache.set(text, count);
  return count;
}

/** Exact prompt tokens of a conversation, framing included. */
export function countMessageTokens(messages: readonly ChatMessage[]): number {
  let total = 3;
  for (const message of messages) total += MESSAGE_OVERHEAD_TOKENS + countTextTokens(message.content);
  return total;
}
