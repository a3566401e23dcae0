/**
 * Building a document's sections from a stream of headings and text blocks, shared by every format. Blocks of one
 * section are separated by a blank line, so the crawler can count them across pages and the chunker can split on
 * them; a heading closes the current section and replaces the headings of its level and below.
 */
import { cleanText } from '../../http/safe-text';
import type { ExtractedDocument, ExtractedSection } from './types';

// Control characters other than tab and line feed (and DEL, C1): never readable text.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point: they are removed
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;
// Spaces that are not line breaks: tabs, no-break, the Unicode space separators, zero-width ones.
const INLINE_SPACE = /[\t\f\v \u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]+/g;
const INVISIBLE = /[\u200B-\u200D\u2060\uFEFF\u00AD]/g;

/** Storable, readable text: NFC, no NUL or lone surrogates (Parley's safe-text rules), no control characters, spaces collapsed. */
export function normaliseInline(text: string): string {
  return cleanText(text)
    .normalize('NFC')
    .replace(/\r\n?|[\u2028\u2029\u0085]/g, '\n')
    .replace(CONTROL, ' ')
    .replace(INVISIBLE, '')
    .replace(INLINE_SPACE, ' ');
}

/** normaliseInline, then every line trimmed and runs of blank lines reduced to one. */
export function normaliseBlock(text: string): string {
  return normaliseInline(text)
    .split('\n')
    .map((line) => line.trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

export class SectionBuilder {
  private readonly sections: ExtractedSection[] = [];
  private headings: { level: number; text: string }[] = [];
  private blocks: string[] = [];

  /** A heading of level 1-6: the current section ends, and deeper or equal headings are replaced by this one. */
  heading(level: number, text: string): void {
    const heading = normaliseBlock(text).replace(/\s+/g, ' ');
    if (heading === '') return;
    this.flush();
    this.headings = [...this.headings.filter((open) => open.level < level), { level, text: heading }];
  }

  /** One paragraph, list item, table row or code block of the current section. */
  block(text: string): void {
    const block = normaliseBlock(text);
    if (block !== '') this.blocks.push(block);
  }

  /** Ends the current section (a plain-text paragraph is a section of its own). */
  flush(): void {
    if (this.blocks.length === 0) return;
    this.sections.push({ headingPath: this.headings.map((heading) => heading.text), text: this.blocks.join('\n\n') });
    this.blocks = [];
  }

  /** Every section, the current one closed. */
  finish(): ExtractedSection[] {
    this.flush();
    return this.sections;
  }
}

/**
 * A document's full text, the fingerprint input: each section preceded by the headings it opens (those not already
 * open in the previous section), so that a changed heading changes the fingerprint too.
 */
export function documentText(sections: readonly ExtractedSection[]): string {
  const parts: string[] = [];
  let previous: readonly string[] = [];
  for (const section of sections) {
    let shared = 0;
    while (shared < previous.length && shared < section.headingPath.length && previous[shared] === section.headingPath[shared]) shared += 1;
    for (const heading of section.headingPath.slice(shared)) parts.push(heading);
    parts.push(section.text);
    previous = section.headingPath;
  }
  return parts.join('\n\n');
}

/** Assembles a document; the title is one line, at most 300 characters. */
export function makeDocument(title: string, sections: ExtractedSection[]): ExtractedDocument {
  const oneLine = normaliseBlock(title).replace(/\s+/g, ' ');
  return {
    title: oneLine.length > 300 ? `${oneLine.slice(0, 299)}…` : oneLine,
    sections,
    text: documentText(sections),
  };
}

/** A title from a file name: without its directory and extension, dashes and underscores as spaces. */
export function titleFromFileName(fileName: string | undefined): string | undefined {
  if (!fileName) return undefined;
  const base = fileName.split(/[\\/]/).pop() ?? '';
  const withoutExtension = base.includes('.') ? base.slice(0, base.lastIndexOf('.')) : base;
  const title = withoutExtension.replace(/[-_]+/g, ' ').trim();
  return title === '' ? undefined : title;
}
