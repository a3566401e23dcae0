/**
 * Which extractor reads a source: decided from the content type, the file name and the bytes themselves. The bytes
 * have the last word where they are unambiguous: a file that starts with %PDF- is a PDF whatever it was called, a
 * file called .pdf that does not is refused, and known binary formats (images, archives, office files) or bytes with
 * NUL in them are refused rather than read as text.
 */
import { SourceError } from './types';

export type DocumentFormat = 'markdown' | 'text' | 'html' | 'pdf';

const CONTENT_TYPES: Record<string, DocumentFormat> = {
  'text/markdown': 'markdown',
  'text/x-markdown': 'markdown',
  'text/plain': 'text',
  'text/html': 'html',
  'application/xhtml+xml': 'html',
  'application/pdf': 'pdf',
  'application/x-pdf': 'pdf',
};

// Content types that say nothing about the format: the file name and the bytes decide.
const UNINFORMATIVE_TYPES = new Set(['', 'application/octet-stream', 'binary/octet-stream', 'application/unknown']);

const EXTENSIONS: Record<string, DocumentFormat> = {
  md: 'markdown',
  markdown: 'markdown',
  mdown: 'markdown',
  mkd: 'markdown',
  txt: 'text',
  text: 'text',
  html: 'html',
  htm: 'html',
  xhtml: 'html',
  pdf: 'pdf',
};

// Signatures of binary formats people upload by mistake (images, archives and office files, audio and video).
const BINARY_SIGNATURES: { name: string; bytes: number[] }[] = [
  { name: 'a PNG image', bytes: [0x89, 0x50, 0x4e, 0x47] },
  { name: 'a JPEG image', bytes: [0xff, 0xd8, 0xff] },
  { name: 'a GIF image', bytes: [0x47, 0x49, 0x46, 0x38] },
  { name: 'a ZIP archive (or a Word, Excel or PowerPoint file)', bytes: [0x50, 0x4b, 0x03, 0x04] },
  { name: 'a gzip archive', bytes: [0x1f, 0x8b] },
  { name: 'an old Office document', bytes: [0xd0, 0xcf, 0x11, 0xe0] },
  { name: 'a RIFF file (WebP, WAV, AVI)', bytes: [0x52, 0x49, 0x46, 0x46] },
  { name: 'an Ogg file', bytes: [0x4f, 0x67, 0x67, 0x53] },
  { name: 'an executable', bytes: [0x7f, 0x45, 0x4c, 0x46] },
];

/** The media type of a Content-Type header value, lower-cased, without parameters. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

/** The extension of a file name or URL path, lower-cased, without the dot ('' when none). */
export function fileExtension(fileName: string | undefined): string {
  const base = (fileName ?? '').split(/[?#]/)[0].split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? '' : base.slice(dot + 1).toLowerCase();
}

/** True when the bytes start with a PDF header (readers accept it within the first 1,024 bytes). */
export function looksLikePdf(bytes: Buffer): boolean {
  return bytes.subarray(0, 1024).includes('%PDF-');
}

function binarySignature(bytes: Buffer): string | undefined {
  return BINARY_SIGNATURES.find((signature) => signature.bytes.every((byte, index) => bytes[index] === byte))?.name;
}

/** True when the start of the bytes reads as HTML (a doctype, or an <html>, <head> or <body> tag first). */
function sniffsAsHtml(bytes: Buffer): boolean {
  const start = bytes
    .subarray(0, 1024)
    .toString('latin1')
    .replace(/^\uFEFF|^\xEF\xBB\xBF/, '')
    .trimStart()
    .toLowerCase();
  return /^(<!doctype html|<html[\s>]|<head[\s>]|<body[\s>]|<!--)/.test(start) && start.includes('<');
}

/** The format to read `bytes` as; SourceError('unsupported_type') when it is none of them. */
export function detectFormat(input: { bytes: Buffer; contentType?: string; fileName?: string }): DocumentFormat {
  const { bytes } = input;
  const type = mediaType(input.contentType);
  const extension = fileExtension(input.fileName);
  const described = input.fileName ? `${input.fileName}` : type || 'the file';
  const declared: DocumentFormat | undefined = CONTENT_TYPES[type] ?? EXTENSIONS[extension];

  if (looksLikePdf(bytes)) return 'pdf';
  if (declared === 'pdf' || type === 'application/pdf' || extension === 'pdf')
    throw new SourceError('unsupported_type', `${described} is not a PDF: it does not start with %PDF-`);
  const binary = binarySignature(bytes);
  if (binary) throw new SourceError('unsupported_type', `${described} is ${binary}, not a text document`);
  if (bytes.subarray(0, 8192).includes(0) && !hasUtf16Bom(bytes))
    throw new SourceError('unsupported_type', `${described} is binary (it contains NUL bytes), not a text document`);

  if (type !== '' && !UNINFORMATIVE_TYPES.has(type) && CONTENT_TYPES[type] === undefined)
    throw new SourceError('unsupported_type', `${type} is not a supported document type (Markdown, plain text, HTML or PDF)`);
  // text/plain is what browsers and curl send for a .md upload: the extension is more precise.
  if (type === 'text/plain' && EXTENSIONS[extension] === 'markdown') return 'markdown';
  if (CONTENT_TYPES[type]) return CONTENT_TYPES[type];
  if (extension !== '' && EXTENSIONS[extension] === undefined)
    throw new SourceError(
      'unsupported_type',
      `.${extension} files are not supported (Markdown, plain text, HTML or PDF; CSV and JSON FAQs go through the Q/A import)`,
    );
  if (EXTENSIONS[extension]) return EXTENSIONS[extension];
  return sniffsAsHtml(bytes) ? 'html' : 'text';
}

function hasUtf16Bom(bytes: Buffer): boolean {
  return (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
}

/**
 * Bytes to a string: a byte-order mark wins, then the declared charset (Content-Type, or <meta charset> for HTML),
 * then UTF-8 when the bytes are valid UTF-8, and windows-1252 (what browsers assume for unlabelled Western pages)
 * when they are not.
 */
export function decodeText(bytes: Buffer, options: { contentType?: string; html?: boolean } = {}): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return new TextDecoder('utf-8').decode(bytes.subarray(3));
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  const declared = charsetOf(options.contentType) ?? (options.html ? metaCharset(bytes) : undefined);
  if (declared) {
    try {
      if (/^(windows-1252|cp1252|x-cp1252|iso-8859-1|latin1|l1|us-ascii|ascii)$/.test(declared)) return decodeWindows1252(bytes);
      return new TextDecoder(declared).decode(bytes);
    } catch {
      // An unknown label: fall through to the guess.
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return decodeWindows1252(bytes);
  }
}

// windows-1252's 0x80-0x9F (undefined bytes map to the C1 control of the same number, as the WHATWG table does).
const WINDOWS_1252_HIGH =
  '\u20AC\u0081\u201A\u0192\u201E\u2026\u2020\u2021\u02C6\u2030\u0160\u2039\u0152\u008D\u017D\u008F' +
  '\u0090\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u02DC\u2122\u0161\u203A\u0153\u009D\u017E\u0178';

/** windows-1252 by hand: Node 20's TextDecoder reads the label as ISO-8859-1 and gets 0x80-0x9F wrong. */
function decodeWindows1252(bytes: Buffer): string {
  return bytes.toString('latin1').replace(/[\u0080-\u009F]/g, (character) => WINDOWS_1252_HIGH[character.charCodeAt(0) - 0x80]);
}

function charsetOf(contentType: string | undefined): string | undefined {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  return match?.[1].toLowerCase();
}

function metaCharset(bytes: Buffer): string | undefined {
  const head = bytes.subarray(0, 4096).toString('latin1');
  const match = /<meta[^>]+charset\s*=\s*["']?([a-z0-9_.:-]+)/i.exec(head);
  return match?.[1].toLowerCase();
}
