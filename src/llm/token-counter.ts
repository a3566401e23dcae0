/**
 * Exact token counts with gpt-tokenizer (o200k_base, OpenAI's current encoding; for other providers a close
 * estimate). Conversations re-send their history every turn, so counts of recent strings are memoised.
 */
import { countTokens } from 'gpt-tokenizer';
import type { ChatMessage } from './types';

/** Per-message framing tokens of the chat format (role markers). */
const MESSAGE_OVERHEAD_TOKENS = 4;
const CACHE_LIMIT = 5_000;
/** Only strings up to this length are memoised, so the cache stays small in memory. */
const CACHEABLE_LENGTH = 32_768;

const cache = new Map<string, number>();

/** Exact tokens of one text. */
export function countTextTokens(text: string): number {
  if (text.length > CACHEABLE_LENGTH) return countTokens(text);
  const cached = cache.get(text);
  if (cached !== undefined) return cached;
  const count = countTokens(text);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(text, count);
  return count;
}

/** Exact prompt tokens of a conversation, framing included. */
export function countMessageTokens(messages: readonly ChatMessage[]): number {
  let total = 3;
  for (const message of messages) total += MESSAGE_OVERHEAD_TOKENS + countTextTokens(message.content);
  return total;
}
