import type { SafeHttpClient } from '../../net/safe-http';
import type { ExtractedDocument } from './types';
import { SourceError } from './types';

export interface CrawledPage {
  url: string;
  document: ExtractedDocument;
}

/** Crawls one host from a start page or sitemap. Implementation follows. */
export async function* crawlSite(_options: {
  startUrl: string;
  maxPages: number;
  maxDepth: number;
  delayMs: number;
  client: SafeHttpClient;
  signal?: AbortSignal;
}): AsyncIterable<CrawledPage | { url: string; error: SourceError }> {
  yield { url: _options.startUrl, error: new SourceError('fetch_failed', 'crawling is not implemented yet') };
}

/** Fetches one URL and extracts it. Implementation follows. */
export async function fetchDocument(_url: string, _client: SafeHttpClient): Promise<ExtractedDocument> {
  throw new SourceError('fetch_failed', 'fetching is not implemented yet');
}
