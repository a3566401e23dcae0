import type { ExtractedDocument } from './types';
import { SourceError } from './types';

/** Turns uploaded or fetched bytes into a document (Markdown, plain text, HTML, PDF). Implementation follows. */
export async function extractDocument(_input: { bytes: Buffer; contentType?: string; fileName?: string }): Promise<ExtractedDocument> {
  throw new SourceError('unsupported_type', 'extraction is not implemented yet');
}
