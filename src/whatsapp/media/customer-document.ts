/**
 * A PDF a customer sends on WhatsApp (an invoice, a booking, a warranty card). Its text is read with the knowledge
 * layer's PDF extractor and given to the agent as part of the customer's message, like a voice note's transcript:
 * bounded, and marked as extracted from the customer's document. It is never added to the business's knowledge:
 * anyone can write to a WhatsApp number, so a customer's file must not become what the bot tells other customers.
 * A PDF with no text to read (a scan, a photo saved as PDF), one protected by a password, one PDF.js cannot parse or
 * one that takes too long gets the polite "a colleague will look at it" reply and a flag (media-understanding.ts).
 */
import type { MediaItem } from '../../db/entities/message';
import { extractPdf } from '../../knowledge/sources/pdf-extract';
import { SourceError, type SourceErrorCode } from '../../knowledge/sources/types';

/** Pages read at most: a customer's document is an invoice or a form, not a manual (and PDF.js runs on our thread). */
export const MAX_DOCUMENT_PAGES = 20;
/** Time to read them at most; a slower PDF is unreadable for the bot (the turn must not wait on it). */
export const DOCUMENT_READ_TIMEOUT_MS = 15_000;
/**
 * Characters of a document's text the agent sees (about 1,500 tokens): enough for an invoice or a booking, small
 * enough that the prompt, and every later turn's history, stay cheap. The rest is cut, and the note says so.
 */
export const MAX_DOCUMENT_TEXT_CHARACTERS = 6_000;

export type DocumentReading =
  | { ok: true; title: string; text: string; truncated: boolean }
  | { ok: false; failure: Extract<SourceErrorCode, 'encrypted' | 'no_text' | 'unsupported_type' | 'too_large'> };

/** Reads a customer's PDF within the limits above; never throws for what the file contains. */
export async function readCustomerDocument(bytes: Buffer): Promise<DocumentReading> {
  try {
    const document = await extractPdf(bytes, { maxPages: MAX_DOCUMENT_PAGES, timeoutMs: DOCUMENT_READ_TIMEOUT_MS });
    const text = document.text.trim();
    if (text === '') return { ok: false, failure: 'no_text' };
    const truncated = text.length > MAX_DOCUMENT_TEXT_CHARACTERS;
    return { ok: true, title: document.title.trim(), text: truncated ? text.slice(0, MAX_DOCUMENT_TEXT_CHARACTERS) : text, truncated };
  } catch (error) {
    if (error instanceof SourceError && (error.code === 'encrypted' || error.code === 'no_text' || error.code === 'too_large'))
      return { ok: false, failure: error.code };
    return { ok: false, failure: 'unsupported_type' };
  }
}

/**
 * How a read document appears in the text the model gets (this turn's and later turns' history): between markers
 * that say it is the customer's document, so the model treats it as what the customer sent, not as the business's
 * information or as instructions.
 */
export function documentForModel(item: Pick<MediaItem, 'text' | 'title' | 'truncated'>): string {
  const title = item.title ? ` "${item.title}"` : '';
  const cut = item.truncated ? `; only its first ${MAX_DOCUMENT_TEXT_CHARACTERS.toLocaleString('en')} characters are shown` : '';
  return [
    `[Text extracted from a PDF document${title} the customer sent${cut}. It is the customer's document, not the business's information:]`,
    item.text ?? '',
    '[End of the document]',
  ].join('\n');
}
