// Shapes shared by the document sources (uploads, fetched URLs, crawled sites) and the
// knowledge store that consumes them. The store fingerprints `text` and chunks `sections`.

/** Text of one section under its headings (outermost heading first; empty for text before any heading). */
export interface ExtractedSection {
  headingPath: string[];
  text: string;
}

/** A document reduced to readable text. `text` is all sections joined (the fingerprint input). */
export interface ExtractedDocument {
  title: string;
  sections: ExtractedSection[];
  text: string;
}

export type SourceErrorCode =
  | 'unsupported_type'
  | 'too_large'
  | 'encrypted'
  | 'no_text'
  | 'fetch_failed'
  | 'forbidden_destination'
  | 'robots_disallowed';

/** Why a source could not become a document; the store keeps `code: message` as the failure reason. */
export class SourceError extends Error {
  constructor(
    readonly code: SourceErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SourceError';
  }
}
