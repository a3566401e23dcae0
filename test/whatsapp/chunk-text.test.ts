import { describe, expect, it } from 'vitest';
import { chunkText, WHATSAPP_MAX_BODY } from '../../src/whatsapp/chunk-text';

describe('chunkText', () => {
  it('leaves a short reply whole', () => {
    expect(chunkText('Hello there. How can I help?')).toEqual(['Hello there. How can I help?']);
  });

  it('splits a long reply at sentence boundaries, every part within 1,600 characters', () => {
    const sentence = 'This sentence is exactly fifty characters long ok. ';
    const text = sentence.repeat(70).trim();
    const chunks = chunkText(text);
    expect(chunks.length).toBe(3);
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(WHATSAPP_MAX_BODY);
      expect(chunk.endsWith('ok.')).toBe(true);
    }
    expect(chunks.join(' ')).toBe(text);
  });

  it('falls back to whitespace, then to a hard cut, without splitting an emoji', () => {
    const words = 'word '.repeat(500).trim();
    expect(chunkText(words).every((chunk) => chunk.length <= WHATSAPP_MAX_BODY && !chunk.startsWith(' '))).toBe(true);
    const emoji = '😀'.repeat(1000);
    const parts = chunkText(emoji);
    expect(parts.join('')).toBe(emoji);
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(WHATSAPP_MAX_BODY);
      expect(Array.from(part).every((character) => character === '😀')).toBe(true);
    }
  });
});
