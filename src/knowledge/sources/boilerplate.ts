/**
 * Text repeated on (nearly) every page of a site is the site's furniture, not a page's content: a footer or a
 * sidebar the HTML did not mark as such, a promotion banner, a "call us" box. The crawler counts each block (a
 * paragraph, list item or table row: sections.ts separates them by a blank line) across the HTML pages of a crawl
 * and leaves out those found on at least `share` of them, and on at least `minPages`. A site of fewer pages than
 * `minPages` keeps everything: two pages alone cannot tell furniture from shared content.
 */
import { makeDocument } from './sections';
import type { ExtractedDocument, ExtractedSection } from './types';

export interface BoilerplateOptions {
  /** The fewest pages a block must be on (default 3). */
  minPages?: number;
  /** The share of the crawl's HTML pages a block must be on (default 0.8). */
  share?: number;
}

const blocksOf = (section: ExtractedSection): string[] => section.text.split('\n\n');

/** The blocks found on enough of the documents to be boilerplate. */
export function repeatedBlocks(documents: readonly ExtractedDocument[], options: BoilerplateOptions = {}): Set<string> {
  const minPages = options.minPages ?? 3;
  const threshold = Math.max(minPages, Math.ceil((options.share ?? 0.8) * documents.length));
  const pagesWith = new Map<string, number>();
  for (const document of documents) {
    const blocks = new Set(document.sections.flatMap(blocksOf));
    for (const block of blocks) pagesWith.set(block, (pagesWith.get(block) ?? 0) + 1);
  }
  return new Set([...pagesWith].filter(([, pages]) => pages >= threshold).map(([block]) => block));
}

/** The document without the given blocks; sections left empty are dropped. */
export function withoutBlocks(document: ExtractedDocument, blocks: ReadonlySet<string>): ExtractedDocument {
  if (blocks.size === 0) return document;
  const sections = document.sections
    .map((section) => ({
      ...section,
      text: blocksOf(section)
        .filter((block) => !blocks.has(block))
        .join('\n\n'),
    }))
    .filter((section) => section.text !== '');
  return makeDocument(document.title, sections);
}
