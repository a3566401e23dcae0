/**
 * PDF to sections with Mozilla's PDF.js (pdfjs-dist, legacy build: the one made for Node). Text items become lines
 * (by their end-of-line marks and baselines), lines become paragraphs (by the vertical gap between them), and lines
 * set clearly larger than the body text become headings, ranked by size. A PDF that needs a password is refused
 * as encrypted, one with no text at all (a scan) as no_text, and one PDF.js cannot read as unsupported_type.
 * PDF.js is loaded on first use: the server does not pay for it until someone uploads a PDF.
 */
import { makeDocument, SectionBuilder, titleFromFileName } from './sections';
import { type ExtractedDocument, SourceError } from './types';

const importPdfJs = () => import('pdfjs-dist/legacy/build/pdf.mjs');
let pdfJs: ReturnType<typeof importPdfJs> | undefined;
function loadPdfJs(): ReturnType<typeof importPdfJs> {
  pdfJs ??= importPdfJs();
  return pdfJs;
}

const YIELD_EVERY_MS = 20;

export interface PdfLimits {
  /** Pages read at most; the rest of a longer PDF is left out (default 1,000). */
  maxPages?: number;
  /** Time to read the pages at most (default 60 s); a PDF that takes longer is refused as too_large. */
  timeoutMs?: number;
}

interface Line {
  text: string;
  size: number;
  y: number;
  page: number;
}

interface PositionedText {
  str: string;
  height: number;
  width: number;
  transform: number[];
  hasEOL: boolean;
}

function isPositionedText(item: unknown): item is PositionedText {
  return typeof item === 'object' && item !== null && 'str' in item && 'transform' in item;
}

/** Lines of one page, in content order. */
function pageLines(items: unknown[], page: number): Line[] {
  const lines: Line[] = [];
  let current: { parts: string[]; size: number; y: number; endX: number } | undefined;
  const endLine = () => {
    const text = current?.parts.join('').replace(/\s+/g, ' ').trim();
    if (current && text) lines.push({ text, size: current.size, y: current.y, page });
    current = undefined;
  };
  for (const item of items) {
    if (!isPositionedText(item)) continue;
    const x = item.transform[4];
    const y = item.transform[5];
    const size = item.height || Math.abs(item.transform[3]) || 0;
    if (current && Math.abs(y - current.y) > Math.max(current.size, size) * 0.5) endLine();
    if (item.str !== '') {
      if (!current) current = { parts: [], size, y, endX: x };
      const previous = current.parts.at(-1) ?? '';
      // PDF.js leaves out the spaces a PDF expresses as gaps between text runs.
      if (previous !== '' && !/\s$/.test(previous) && !/^\s/.test(item.str) && x - current.endX > size * 0.15) current.parts.push(' ');
      current.parts.push(item.str);
      current.size = Math.max(current.size, size);
      current.endX = x + item.width;
    }
    if (item.hasEOL) endLine();
  }
  endLine();
  return lines;
}

/** The body text size: the one most characters are set in. */
function bodySize(lines: Line[]): number {
  const characters = new Map<number, number>();
  for (const line of lines) {
    const size = Math.round(line.size * 10) / 10;
    characters.set(size, (characters.get(size) ?? 0) + line.text.length);
  }
  let best = 0;
  let bestCount = -1;
  for (const [size, count] of characters) if (count > bestCount) [best, bestCount] = [size, count];
  return best;
}

export async function extractPdf(bytes: Buffer, options: { fileName?: string } & PdfLimits = {}): Promise<ExtractedDocument> {
  const { getDocument } = await loadPdfJs();
  // A copy: PDF.js transfers (detaches) the array it is given.
  const task = getDocument({
    data: new Uint8Array(bytes),
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    stopAtErrors: false,
    verbosity: 0,
  });
  let pdf: Awaited<typeof task.promise>;
  try {
    pdf = await task.promise;
  } catch (error) {
    await task.destroy().catch(() => undefined);
    const name = (error as { name?: string }).name;
    if (name === 'PasswordException') throw new SourceError('encrypted', 'the PDF is protected by a password');
    throw new SourceError('unsupported_type', `the PDF could not be read (${(error as Error).message ?? name})`);
  }
  try {
    const lines: Line[] = [];
    const pages = Math.min(pdf.numPages, options.maxPages ?? 1000);
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    let lastYield = Date.now();
    for (let number = 1; number <= pages; number += 1) {
      // PDF.js in Node parses on this thread in one chain of promises: yield to the event loop between pages so a
      // long PDF holds the server up for a few pages' parsing at a time (tens of milliseconds), not for the whole file.
      if (Date.now() - lastYield >= YIELD_EVERY_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYield = Date.now();
      }
      if (Date.now() > deadline)
        throw new SourceError(
          'too_large',
          `the PDF took longer than ${options.timeoutMs ?? 60_000} ms to read (${number - 1} of ${pdf.numPages} pages read)`,
        );
      const page = await pdf.getPage(number);
      const content = await page.getTextContent();
      lines.push(...pageLines(content.items, number));
      page.cleanup();
    }
    if (lines.length === 0)
      throw new SourceError('no_text', 'the PDF has no text to read (a scanned or image-only PDF needs text recognition first)');

    const body = bodySize(lines);
    const headingSizes = [...new Set(lines.filter((line) => isHeading(line, body)).map((line) => Math.round(line.size)))].sort(
      (a, b) => b - a,
    );
    const builder = new SectionBuilder();
    let firstHeading: string | undefined;
    let paragraph: string[] = [];
    let previous: Line | undefined;
    const endParagraph = () => {
      builder.block(paragraph.join('\n'));
      paragraph = [];
    };
    for (const line of lines) {
      if (isHeading(line, body)) {
        endParagraph();
        firstHeading ??= line.text;
        builder.heading(Math.min(6, headingSizes.indexOf(Math.round(line.size)) + 1), line.text);
        previous = undefined;
        continue;
      }
      // A new page, or a gap clearly wider than line spacing, starts a paragraph.
      if (previous && (previous.page !== line.page || Math.abs(previous.y - line.y) > Math.max(previous.size, line.size) * 1.6))
        endParagraph();
      paragraph.push(line.text);
      previous = line;
    }
    endParagraph();
    const sections = builder.finish();
    const metadata = await pdf.getMetadata().catch(() => undefined);
    const infoTitle = (metadata?.info as { Title?: unknown } | undefined)?.Title;
    const title =
      (typeof infoTitle === 'string' && infoTitle.trim()) || firstHeading || titleFromFileName(options.fileName) || lines[0].text;
    return makeDocument(title, sections);
  } finally {
    await pdf.destroy().catch(() => undefined);
  }
}

function isHeading(line: Line, body: number): boolean {
  return body > 0 && line.size >= body * 1.25 && line.text.length <= 150;
}
