/**
 * The deterministic embedding the fake OpenAI and Gemini servers return: feature hashing of the text's words
 * (lower case, accents folded, a trailing s dropped) into `dimensions` signed buckets. Texts sharing words point
 * the same way; `synonyms` maps a word onto another (a test's stand-in for what a real model knows), so the vector
 * leg can find a passage the keyword leg cannot.
 */

/** Words mapped to another word before hashing, set by a test (e.g. { reimbursement: 'refund' }). */
export const embeddingSynonyms = new Map<string, string>();

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193);
  return hash >>> 0;
}

/** The fake model's vector of a text (not normalized: the client normalizes, as it must for a real model). */
export function fakeEmbedding(text: string, dimensions: number): number[] {
  const vector: number[] = new Array<number>(dimensions).fill(0);
  const words =
    text
      .toLowerCase()
      .normalize('NFD')
      .replace(/\p{M}+/gu, '')
      .match(/[\p{L}\p{N}]+/gu) ?? [];
  for (const raw of words) {
    if (raw.length < 3) continue;
    const singular = raw.length > 3 && raw.endsWith('s') ? raw.slice(0, -1) : raw;
    const word = embeddingSynonyms.get(singular) ?? singular;
    const hash = fnv1a(word);
    vector[hash % dimensions] += hash & 0x80000000 ? -1 : 1;
  }
  // An all-zero vector has no direction; a real model never returns one.
  if (!vector.some((value) => value !== 0)) vector[0] = 1;
  return vector;
}
