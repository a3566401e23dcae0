import { countTokens } from 'gpt-tokenizer';
import { describe, expect, it } from 'vitest';
import { chunkSections, chunkSectionText, splitSentences } from '../../src/knowledge/chunking';

/** Sentence `index` of a long policy text: distinct words so the overlap can be located. */
const sentence = (index: number) => `Rule ${index} says parcels of size ${index} ship within ${index % 7} days to any address.`;
const longText = (count: number) => Array.from({ length: count }, (_, index) => sentence(index)).join(' ');

describe('chunkSections', () => {
  it('keeps a short section whole, with its heading path and an exact token count', () => {
    const chunks = chunkSections([
      { headingPath: ['Returns'], text: 'You can return shoes within 30 days.' },
      { headingPath: ['Returns', 'Refunds'], text: 'Refunds reach your card in 5 days.' },
    ]);
    expect(chunks).toEqual([
      {
        ordinal: 0,
        headingPath: ['Returns'],
        text: 'You can return shoes within 30 days.',
        tokenCount: countTokens('You can return shoes within 30 days.'),
      },
      {
        ordinal: 1,
        headingPath: ['Returns', 'Refunds'],
        text: 'Refunds reach your card in 5 days.',
        tokenCount: countTokens('Refunds reach your card in 5 days.'),
      },
    ]);
  });

  it('never lets a passage span two sections', () => {
    const chunks = chunkSections([
      { headingPath: ['A'], text: 'Alpha.' },
      { headingPath: ['B'], text: 'Beta.' },
    ]);
    expect(chunks.map((chunk) => chunk.text)).toEqual(['Alpha.', 'Beta.']);
  });

  it('leaves out empty sections', () => {
    expect(chunkSections([{ headingPath: ['Empty'], text: '  \n\n ' }])).toEqual([]);
  });

  it('splits a long section into passages of at most maxTokens, counted exactly', () => {
    const chunks = chunkSections([{ headingPath: ['Shipping'], text: longText(120) }], { maxTokens: 120, overlapTokens: 30 });
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) {
      expect(chunk.tokenCount).toBe(countTokens(chunk.text));
      expect(chunk.tokenCount).toBeLessThanOrEqual(120);
      expect(chunk.headingPath).toEqual(['Shipping']);
    }
    expect(chunks.map((chunk) => chunk.ordinal)).toEqual(chunks.map((_, index) => index));
  });

  it('starts each passage with the last sentences of the previous one, within the overlap budget', () => {
    const passages = chunkSectionText(longText(60), { maxTokens: 100, overlapTokens: 30 });
    for (let index = 1; index < passages.length; index += 1) {
      const previous = splitSentences(passages[index - 1]);
      const current = splitSentences(passages[index]);
      const lastOfPrevious = previous[previous.length - 1];
      // The sentence that closed the previous passage opens this one (each sentence is ~20 tokens, under the budget).
      expect(current[0]).toBe(lastOfPrevious);
      const repeated = current.filter((unit) => previous.includes(unit));
      expect(countTokens(repeated.join(' '))).toBeLessThanOrEqual(30);
    }
  });

  it('covers every sentence of the section, in order', () => {
    const text = longText(50);
    const passages = chunkSectionText(text, { maxTokens: 90, overlapTokens: 20 });
    const seen = passages.flatMap((passage) => splitSentences(passage));
    const unique = seen.filter((unit, index) => seen.indexOf(unit) === index);
    expect(unique).toEqual(splitSentences(text));
  });

  it('with no overlap budget repeats nothing', () => {
    const passages = chunkSectionText(longText(40), { maxTokens: 80, overlapTokens: 0 });
    expect(passages.join(' ')).toBe(longText(40));
  });

  it('cuts a single sentence longer than a passage into token windows', () => {
    const runOn = Array.from({ length: 400 }, (_, index) => `word${index}`).join(' ');
    const passages = chunkSectionText(runOn, { maxTokens: 100, overlapTokens: 10 });
    expect(passages.length).toBeGreaterThan(1);
    for (const passage of passages) expect(countTokens(passage)).toBeLessThanOrEqual(100);
    expect(passages.join(' ').replace(/\s+/g, ' ')).toContain('word0 word1');
    expect(passages[passages.length - 1]).toContain('word399');
  });
});
