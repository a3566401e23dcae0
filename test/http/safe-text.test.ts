import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { cleanedText, cleanText, safeText } from '../../src/http/safe-text';

describe('safe text', () => {
  describe('safeText (API input)', () => {
    const body = z.object({ question: safeText().trim().min(1).max(20) });

    it('accepts ordinary text, emoji (a surrogate pair) and other control characters', () => {
      expect(body.parse({ question: '  Olá 😀\ttab  ' })).toEqual({ question: 'Olá 😀\ttab' });
    });

    it('refuses NUL with a message on the field', () => {
      const result = body.safeParse({ question: 'a\u0000b' });
      expect(result.error?.issues).toEqual([
        expect.objectContaining({ path: ['question'], message: 'must not contain NUL characters (U+0000)' }),
      ]);
    });

    it('refuses a lone surrogate (not valid UTF-16, so not storable as UTF-8) with a message on the field', () => {
      for (const text of ['a\ud800', '\udfffb', 'x\ud83d']) {
        const result = body.safeParse({ question: text });
        expect(result.error?.issues).toEqual([
          expect.objectContaining({ path: ['question'], message: 'must not contain unpaired surrogates (invalid Unicode)' }),
        ]);
      }
    });
  });

  describe('cleanText and cleanedText (what Twilio sends us)', () => {
    it('removes NUL and replaces lone surrogates with U+FFFD, leaving everything else as it was', () => {
      expect(cleanText('hi\u0000 there\u0000')).toBe('hi there');
      expect(cleanText('a\ud800b 😀')).toBe('a\ufffdb 😀');
      expect(cleanedText().max(4).parse('ab\u0000\u0000cd')).toBe('abcd');
    });

    it('always yields text safeText accepts, and changes nothing safeText accepts', () => {
      fc.assert(
        fc.property(
          fc.string({
            unit: fc.oneof(fc.constantFrom('\u0000', '\ud800', '\udc00'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })),
          }),
          (text) => {
            const cleaned = cleanText(text);
            expect(safeText().safeParse(cleaned).success).toBe(true);
            if (safeText().safeParse(text).success) expect(cleaned).toBe(text);
          },
        ),
        { numRuns: 500 },
      );
    });
  });
});
