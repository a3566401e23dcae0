/**
 * Splits an extracted document into passages: by headings first (a passage never spans two sections, so each
 * keeps one heading path), then into passages of at most `maxTokens` tokens, packed from whole sentences, each
 * starting with the last sentences of the previous one (about `overlapTokens`) so that an answer split across a
 * boundary is still found whole in one of them. Token counts are exact (o200k_base, as for long-context routing).
 */
import { decode, encode } from 'gpt-tokenizer';
import { countTextTokens } from '../llm/token-counter';
import type { ExtractedSection } from './sources/types';

export interface ChunkingOptions {
  /** Most tokens in a passage (default 300). */
  maxTokens: number;
  /** Tokens of the previous passage repeated at the start of the next (default 40). */
  overlapTokens: number;
}

export const DEFAULT_CHUNKING: ChunkingOptions = { maxTokens: 300, overlapTokens: 40 };

/** One passage of a document. */
export interface Chunk {
  ordinal: number;
  headingPath: string[];
  text: string;
  /** Exact tokens of `text`. */
  tokenCount: number;
}

/** Sentences (and lines) of a text: the units a passage is packed from. */
export function splitSentences(text: string): string[] {
  const units: string[] = [];
  for (const paragraph of text.split(/\n\s*\n/)) {
    const trimmed = paragraph.trim();
    if (trimmed === '') continue;
    // A sentence ends at . ! ? followed by space, or at a line break (list items, table rows).
    for (const sentence of trimmed.split(/(?<=[.!?])\s+|\n+/)) {
      const clean = sentence.trim();
      if (clean !== '') units.push(clean);
    }
  }
  return units;
}

/** A unit longer than a passage is cut into token windows (rare: a sentence of hundreds of tokens). */
function cutLongUnit(unit: string, maxTokens: number): string[] {
  const tokens = encode(unit);
  const pieces: string[] = [];
  for (let start = 0; start < tokens.length; start += maxTokens) pieces.push(decode(tokens.slice(start, start + maxTokens)).trim());
  return pieces.filter((piece) => piece !== '');
}

/** Passages of one section's text. */
export function chunkSectionText(text: string, options: ChunkingOptions = DEFAULT_CHUNKING): string[] {
  const units = splitSentences(text).flatMap((unit) =>
    countTextTokens(unit) > options.maxTokens ? cutLongUnit(unit, options.maxTokens) : [unit],
  );
  const passages: string[] = [];
  let current: string[] = [];
  // Whether `current` holds anything beyond the overlap carried from the previous passage.
  let hasNew = false;
  const joined = (parts: string[]) => parts.join(' ');
  for (const unit of units) {
    const candidate = [...current, unit];
    if (current.length > 0 && countTextTokens(joined(candidate)) > options.maxTokens) {
      if (hasNew) passages.push(joined(current));
      // The next passage starts with the previous one's trailing sentences, up to the overlap budget, and only as
      // much of them as leaves room for the new sentence.
      const carried: string[] = [];
      for (let index = current.length - 1; index >= 0; index -= 1) {
        const withEarlier = [current[index], ...carried];
        if (countTextTokens(joined(withEarlier)) > options.overlapTokens) break;
        if (countTextTokens(joined([...withEarlier, unit])) > options.maxTokens) break;
        carried.unshift(current[index]);
      }
      current = [...carried, unit];
    } else current = candidate;
    hasNew = true;
  }
  if (hasNew && current.length > 0) passages.push(joined(current));
  return passages;
}

/** Every passage of a document's sections, numbered in reading order. */
export function chunkSections(sections: readonly ExtractedSection[], options: ChunkingOptions = DEFAULT_CHUNKING): Chunk[] {
  const chunks: Chunk[] = [];
  for (const section of sections) {
    for (const text of chunkSectionText(section.text, options)) {
      chunks.push({ ordinal: chunks.length, headingPath: [...section.headingPath], text, tokenCount: countTextTokens(text) });
    }
  }
  return chunks;
}
