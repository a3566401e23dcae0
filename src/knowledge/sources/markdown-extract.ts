/**
 * Markdown and plain text to sections. Markdown: ATX (# Title) and setext (underlined) headings open sections;
 * emphasis, links, images, inline code, HTML tags, block quotes and table rules are reduced to their readable text;
 * fenced code blocks are kept as they are; YAML front matter gives the title. Plain text: one section per paragraph.
 */
import { makeDocument, SectionBuilder, titleFromFileName } from './sections';
import type { ExtractedDocument } from './types';

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const ATX_HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const SETEXT_UNDERLINE = /^ {0,3}(=+|-+)[ \t]*$/;
const THEMATIC_BREAK = /^ {0,3}((\*[ \t]*){3,}|(-[ \t]*){3,}|(_[ \t]*){3,})$/;
const REFERENCE_DEFINITION = /^ {0,3}\[[^\]]+\]:\s*\S+/;
const ESCAPED = 0xe000;
const MAX_HEADING_LINE = 1000;
const TABLE_RULE = /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/;

/**
 * Inline Markdown to plain text. Every pattern stops scanning at the next delimiter of its kind (no `.*?`), so a
 * hostile line full of unmatched markers costs linear time, not quadratic.
 */
export function stripInlineMarkdown(text: string): string {
  // Backslash-escaped punctuation is set aside (as private-use characters) so no rule below reads it as markup.
  const escaped = text.replace(/\\([!-/:-@[-`{-~])/g, (_match, character: string) =>
    String.fromCharCode(ESCAPED + character.charCodeAt(0)),
  );
  const strong = (value: string) => value.replace(/\*\*(?=\S)([^*]+)(?<=\S)\*\*/g, '$1').replace(/__(?=\S)([^_]+)(?<=\S)__/g, '$1');
  const withoutLinks = escaped
    // Images keep their description, links their text.
    .replace(/!\[([^[\]]*)\]\([^()\s]*(?:\s+"[^"]*")?\)/g, '$1')
    .replace(/!\[([^[\]]*)\]\[[^[\]]*\]/g, '$1')
    .replace(/\[([^[\]]+)\]\([^()\s]*(?:\([^()\s]*\)[^()\s]*)*(?:\s+"[^"]*")?\)/g, '$1')
    .replace(/\[([^[\]]+)\]\[[^[\]]*\]/g, '$1')
    .replace(/<((?:https?|mailto):[^<>\s]+)>/g, '$1')
    // HTML tags (not the text between them), then code spans.
    .replace(/<\/?[a-zA-Z][^<>]*>/g, '')
    .replace(/(`+)([^`]+)\1/g, (_match, _ticks, code: string) => code.trim());
  return strong(
    strong(withoutLinks)
      .replace(/(^|[^\w*])\*(?=\S)([^*]+)(?<=\S)\*(?!\*)/g, '$1$2')
      .replace(/(^|[^\w_])_(?=\S)([^_]+)(?<=\S)_(?!\w)/g, '$1$2')
      .replace(/~~(?=\S)([^~]+)(?<=\S)~~/g, '$1'),
  ).replace(/[\uE000-\uE07F]/g, (character) => String.fromCharCode(character.charCodeAt(0) - ESCAPED));
}

function frontMatter(lines: string[]): { title?: string; length: number } {
  if (lines[0]?.trim() !== '---') return { length: 0 };
  const end = lines.findIndex((line, index) => index > 0 && /^(---|\.\.\.)\s*$/.test(line));
  if (end === -1) return { length: 0 };
  const titleLine = lines.slice(1, end).find((line) => /^title\s*:/i.test(line));
  const title = titleLine
    ?.replace(/^title\s*:\s*/i, '')
    .replace(/^(["'])(.*)\1$/, '$2')
    .trim();
  return { title: title || undefined, length: end + 1 };
}

/** A list item marker normalised to "- " (bullets) or kept ("1. "); a block quote marker removed. */
function readableLine(line: string): string {
  const unquoted = line.replace(/^\s{0,3}(>\s?)+/, '');
  const bullet = unquoted.replace(/^(\s*)[-*+][ \t]+(\[[ xX]\][ \t]+)?/, '$1- ');
  const row = TABLE_RULE.test(bullet) ? '' : bullet.includes('|') ? tableRow(bullet) : bullet;
  return stripInlineMarkdown(row);
}

function tableRow(line: string): string {
  const trimmed = line.trim();
  if (!trimmed.startsWith('|') && !trimmed.endsWith('|')) return line;
  return trimmed
    .replace(/^\||\|$/g, '')
    .split('|')
    .map((cell) => cell.trim())
    .join(' | ');
}

export function extractMarkdown(markdown: string, fileName?: string): ExtractedDocument {
  const lines = markdown.replace(/\r\n?/g, '\n').split('\n');
  const front = frontMatter(lines);
  const builder = new SectionBuilder();
  let firstTopHeading: string | undefined;
  let firstHeading: string | undefined;
  let paragraph: string[] = [];
  let fence: { marker: string; lines: string[] } | undefined;

  const endParagraph = () => {
    if (paragraph.length > 0) builder.block(paragraph.join('\n'));
    paragraph = [];
  };
  const heading = (level: number, text: string) => {
    const readable = stripInlineMarkdown(text).trim();
    if (readable === '') return;
    endParagraph();
    if (level === 1) firstTopHeading ??= readable;
    firstHeading ??= readable;
    builder.heading(level, readable);
  };

  for (const line of lines.slice(front.length)) {
    if (fence) {
      if (line.trimStart().startsWith(fence.marker) && line.trim().replace(/[`~]/g, '') === '') {
        builder.block(fence.lines.join('\n'));
        fence = undefined;
      } else fence.lines.push(line);
      continue;
    }
    const fenceOpen = FENCE.exec(line);
    if (fenceOpen) {
      endParagraph();
      fence = { marker: fenceOpen[1], lines: [] };
      continue;
    }
    // A heading is one short line; a longer one is read as a paragraph (and spares the pattern a pathological input).
    const atx = line.length <= MAX_HEADING_LINE ? ATX_HEADING.exec(line) : null;
    if (atx) {
      heading(atx[1].length, atx[2] ?? '');
      continue;
    }
    // A setext underline turns the paragraph's last line into a heading ("---" under a blank line is a rule).
    const setext = SETEXT_UNDERLINE.exec(line);
    if (setext && paragraph.length > 0) {
      const title = paragraph.pop() ?? '';
      heading(setext[1].startsWith('=') ? 1 : 2, title);
      continue;
    }
    if (line.trim() === '' || THEMATIC_BREAK.test(line)) {
      endParagraph();
      continue;
    }
    if (REFERENCE_DEFINITION.test(line)) continue;
    const readable = readableLine(line);
    // A list item starts a block of its own, so that items are counted and chunked one by one.
    if (/^\s*(- |\d+[.)] )/.test(readable) && paragraph.length > 0 && !/^\s+/.test(readable)) endParagraph();
    if (readable.trim() !== '') paragraph.push(readable);
  }
  if (fence) builder.block(fence.lines.join('\n'));
  endParagraph();
  const sections = builder.finish();
  const title = front.title ?? firstTopHeading ?? firstHeading ?? titleFromFileName(fileName) ?? firstLine(sections[0]?.text) ?? 'Untitled';
  return makeDocument(title, sections);
}

/** Plain text: a section per paragraph (paragraphs are separated by blank lines); the title is the file name or first line. */
export function extractPlainText(text: string, fileName?: string): ExtractedDocument {
  const builder = new SectionBuilder();
  for (const paragraph of text.replace(/\r\n?/g, '\n').split(/\n[ \t\f\v\u00A0]*\n/)) {
    builder.block(paragraph);
    builder.flush();
  }
  const sections = builder.finish();
  return makeDocument(titleFromFileName(fileName) ?? firstLine(sections[0]?.text) ?? 'Untitled', sections);
}

function firstLine(text: string | undefined): string | undefined {
  const line = text?.split('\n')[0].trim();
  if (!line) return undefined;
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
}
