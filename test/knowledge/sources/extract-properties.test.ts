import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { safeText } from '../../../src/http/safe-text';
import { extractDocument } from '../../../src/knowledge/sources/extract';
import { SourceError } from '../../../src/knowledge/sources/types';
import { testSeed } from '../../support/seeded-random';

// Pieces of markup of every format, control characters, lone surrogates and other text the extractors must survive.
const PIECES = [
  '# ',
  '## ',
  '\n',
  '\n\n',
  '===\n',
  '---\n',
  '```',
  '**',
  '*',
  '_',
  '`',
  '[',
  '](',
  ')',
  '![',
  '> ',
  '- ',
  '1. ',
  '|',
  '\\',
  '<p>',
  '</p>',
  '<h2>',
  '</h2>',
  '<nav>',
  '<main>',
  '<li>',
  '<br>',
  '<script>',
  '&amp;',
  '&#0;',
  '<!--',
  '\u0000',
  '\u0007',
  '\ud800',
  '\udc00',
  '\u00a0',
  '\u200b',
  'e\u0301',
  '😀',
  'tea',
  'Returns within 30 days',
];

const storable = (text: string) => safeText().safeParse(text).success;

describe('extractDocument on arbitrary input', () => {
  it('either refuses with a SourceError or returns storable, normalised text, for Markdown, plain text and HTML', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.constantFrom(...PIECES), fc.string({ maxLength: 8 })), { maxLength: 60 }),
        fc.constantFrom('text/markdown', 'text/plain', 'text/html', undefined),
        fc.boolean(),
        async (pieces, contentType, asLatin1) => {
          const source = pieces.join('');
          const bytes = asLatin1 ? Buffer.from(source, 'latin1') : Buffer.from(source, 'utf8');
          try {
            const document = await extractDocument({ bytes, contentType, fileName: contentType ? undefined : 'upload.txt' });
            expect(storable(document.title)).toBe(true);
            expect(document.text).not.toBe('');
            expect(storable(document.text)).toBe(true);
            // biome-ignore lint/suspicious/noControlCharactersInRegex: the assertion is that no control character is left
            expect(document.text).not.toMatch(/[\u0000-\u0008\u000B-\u001F\u007F]|\u200b| {2}|\n{3}/);
            for (const section of document.sections) {
              expect(section.text.trim()).toBe(section.text);
              expect(section.text).not.toBe('');
              expect(section.headingPath.every((heading) => heading !== '' && storable(heading))).toBe(true);
            }
          } catch (error) {
            expect(error).toBeInstanceOf(SourceError);
          }
        },
      ),
      { numRuns: 300, seed: testSeed() },
    );
  });

  it('refuses random bytes labelled as a PDF with a SourceError, never another error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), fc.boolean(), async (tail, withHeader) => {
        const bytes = Buffer.concat([Buffer.from(withHeader ? '%PDF-1.7\n' : ''), Buffer.from(tail)]);
        await expect(extractDocument({ bytes, contentType: 'application/pdf', fileName: 'x.pdf' })).rejects.toBeInstanceOf(SourceError);
      }),
      { numRuns: 60, seed: testSeed() },
    );
  });
});
