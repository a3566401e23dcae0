/**
 * Uploaded or fetched bytes to a document: the format is detected (detect-format.ts), the size capped, the text
 * decoded and handed to the format's extractor. Every refusal is a SourceError with a code the API maps to a 4xx.
 */
import { decodeText, type DocumentFormat, detectFormat } from './detect-format';
import { parseHtml } from './html-extract';
import { extractMarkdown, extractPlainText } from './markdown-extract';
import { extractPdf } from './pdf-extract';
import { type ExtractedDocument, SourceError } from './types';

/** The default size cap of one document: 10 MiB. */
export const DEFAULT_MAX_DOCUMENT_BYTES = 10 * 1024 * 1024;

export interface ExtractInput {
  bytes: Buffer;
  contentType?: string;
  fileName?: string;
  /** Size cap in bytes (default DEFAULT_MAX_DOCUMENT_BYTES). */
  maxBytes?: number;
  /** Where the bytes came from (resolves an HTML page's links; not otherwise used). */
  url?: string;
}

export async function extractDocument(input: ExtractInput): Promise<ExtractedDocument> {
  const maxBytes = input.maxBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  if (input.bytes.length > maxBytes)
    throw new SourceError('too_large', `the document is ${input.bytes.length} bytes; the limit is ${maxBytes} bytes`);
  if (input.bytes.length === 0) throw new SourceError('no_text', 'the document is empty');
  const format = detectFormat(input);
  const document = await extractFormat(format, input);
  if (document.text.trim() === '') throw new SourceError('no_text', `the ${formatName(format)} document has no readable text`);
  return document;
}

async function extractFormat(format: DocumentFormat, input: ExtractInput): Promise<ExtractedDocument> {
  switch (format) {
    case 'pdf':
      return extractPdf(input.bytes, { fileName: input.fileName });
    case 'html':
      return parseHtml(decodeText(input.bytes, { contentType: input.contentType, html: true }), {
        baseUrl: input.url,
        fileName: input.fileName,
      }).document;
    case 'markdown':
      return extractMarkdown(decodeText(input.bytes, { contentType: input.contentType }), input.fileName);
    case 'text':
      return extractPlainText(decodeText(input.bytes, { contentType: input.contentType }), input.fileName);
  }
}

function formatName(format: DocumentFormat): string {
  return { pdf: 'PDF', html: 'HTML', markdown: 'Markdown', text: 'plain text' }[format];
}
