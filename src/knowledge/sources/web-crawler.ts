/**
 * Fetching documents from the web, one URL (fetchDocument) or a whole site (crawlSite), always through the
 * SafeHttpClient: every request and redirect hop is checked against the URL policy and every connection against
 * the address policy, so no page, redirect or DNS answer reaches a private, loopback or link-local address unless
 * the operator allowlisted the host (OUTBOUND_ALLOWED_HOSTS). Responses are capped in size and time, redirects
 * at 5, and only text-like content types are read.
 *
 * The crawler stays on the start URL's host, honours robots.txt (RFC 9309; Crawl-delay raises the delay), waits
 * `delayMs` between any two requests, fetches each canonical URL once, follows <a href> links breadth-first to
 * `maxDepth` and stops after `maxPages` page requests. Errors are yielded as they happen; pages are yielded once
 * the crawl is over, because text repeated on nearly every page (boilerplate.ts) can only be told then.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import { findOutboundError } from '../../net/outbound-error';
import type { SafeHttpClient } from '../../net/safe-http';
import { checkTenantUrl, checkTenantUrlAddresses, type Resolver } from '../../net/tenant-url';
import { repeatedBlocks, withoutBlocks } from './boilerplate';
import { canonicalUrl, isNonTextLink, isSameSite, looksLikeSitemap, parseSitemap } from './crawl-urls';
import { decodeText, detectFormat, fileExtension } from './detect-format';
import { DEFAULT_MAX_DOCUMENT_BYTES, extractDocument } from './extract';
import { parseHtml } from './html-extract';
import { ALLOW_ALL, CRAWLER_USER_AGENT, DISALLOW_ALL, parseRobots, type RobotsRules } from './robots';
import { type ExtractedDocument, SourceError } from './types';

export interface CrawledPage {
  url: string;
  document: ExtractedDocument;
}

/**
 * A page that could not be read. An error about the start URL (or the start sitemap) carries `start: true` and the
 * start URL exactly as it was given, so a caller can tell "the site failed" from "one page failed".
 */
export interface CrawlFailure {
  url: string;
  error: SourceError;
  start?: boolean;
}

export type CrawlResult = CrawledPage | CrawlFailure;

/** The content types a page may have: what extractDocument reads. */
export const PAGE_CONTENT_TYPES = [
  'text/html',
  'application/xhtml+xml',
  'text/plain',
  'text/markdown',
  'text/x-markdown',
  'application/pdf',
];
/** The content types a sitemap may have (text/plain: some servers label XML so). */
export const SITEMAP_CONTENT_TYPES = ['application/xml', 'text/xml', 'text/plain'];

const ROBOTS_MAX_BYTES = 512 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_CRAWL_DELAY_MS = 60_000;
const MAX_SITEMAP_FILES = 50;

export interface FetchOptions {
  /** Size cap of one response (default 10 MiB). */
  maxBytes?: number;
  /** Time cap of one fetch, redirects and body included (default 30 s). */
  timeoutMs?: number;
  userAgent?: string;
  signal?: AbortSignal;
}

export interface CrawlOptions extends FetchOptions {
  startUrl: string;
  maxPages: number;
  maxDepth: number;
  delayMs: number;
  client: SafeHttpClient;
  /** The resolver of the start URL's courtesy check (the client checks every connection anyway); tests inject one. */
  resolve?: Resolver;
  /** The longest Crawl-delay honoured (default 60 s): a robots.txt cannot stall a crawl for hours per page. */
  maxCrawlDelayMs?: number;
  /** How the crawler waits between requests (tests record the waits instead of sleeping). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

interface FetchedResponse {
  url: string;
  contentType: string;
  bytes: Buffer;
}

/** A SafeHttpClient refusal or failure as the SourceError a document records. */
export function toSourceError(error: unknown, url: string): SourceError {
  if (error instanceof SourceError) return error;
  const outbound = findOutboundError(error);
  if (!outbound) return new SourceError('fetch_failed', `${originOf(url)} could not be fetched: ${(error as Error)?.message ?? error}`);
  switch (outbound.code) {
    case 'forbidden_url':
    case 'forbidden_address':
      return new SourceError('forbidden_destination', outbound.message);
    case 'response_too_large':
      return new SourceError('too_large', outbound.message);
    case 'content_type':
      return new SourceError('unsupported_type', `${outbound.message}; only HTML, plain text, Markdown and PDF are read`);
    default:
      return new SourceError('fetch_failed', outbound.message);
  }
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'the URL';
  }
}

async function fetchBytes(
  url: string,
  client: SafeHttpClient,
  allowedContentTypes: readonly string[] | undefined,
  options: FetchOptions & { maxBytes: number },
): Promise<FetchedResponse> {
  let response: Awaited<ReturnType<SafeHttpClient['request']>>;
  try {
    response = await client.request(url, {
      headers: {
        'user-agent': options.userAgent ?? CRAWLER_USER_AGENT,
        accept: 'text/html, application/xhtml+xml, text/markdown, text/plain, application/pdf;q=0.9, application/xml;q=0.8, */*;q=0.1',
      },
      maxRedirects: 5,
      maxResponseBytes: options.maxBytes,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      allowedContentTypes,
      signal: options.signal,
    });
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw toSourceError(error, url);
  }
  if (response.status < 200 || response.status > 299)
    throw new SourceError('fetch_failed', `${originOf(response.url)} answered ${response.status} for ${new URL(response.url).pathname}`);
  return { url: response.url, contentType: response.headers.get('content-type') ?? '', bytes: response.body };
}

/** Fetches one URL (any public host; at most 5 redirects) and extracts its document. */
export async function fetchDocument(url: string, client: SafeHttpClient, options: FetchOptions = {}): Promise<ExtractedDocument> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  const fetched = await fetchBytes(url, client, PAGE_CONTENT_TYPES, { ...options, maxBytes });
  return extractDocument({
    bytes: fetched.bytes,
    contentType: fetched.contentType,
    fileName: fileNameOf(fetched.url),
    url: fetched.url,
    maxBytes,
  });
}

/** The last path segment of a URL, as a file name for titles and type detection ('' for a directory). */
function fileNameOf(url: string): string | undefined {
  const segment = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
  return segment === '' ? undefined : segment;
}

/** robots.txt: 2xx parsed, 4xx allows everything, anything else (5xx, unreachable) disallows everything (RFC 9309). */
async function loadRobots(origin: string, client: SafeHttpClient, options: FetchOptions): Promise<{ rules: RobotsRules; reason?: string }> {
  const url = `${origin}/robots.txt`;
  try {
    const response = await client.request(url, {
      headers: { 'user-agent': options.userAgent ?? CRAWLER_USER_AGENT, accept: 'text/plain' },
      maxRedirects: 5,
      maxResponseBytes: ROBOTS_MAX_BYTES,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      signal: options.signal,
    });
    if (response.status >= 200 && response.status <= 299) return { rules: parseRobots(response.body.toString('utf8')) };
    if (response.status >= 400 && response.status <= 499) return { rules: ALLOW_ALL };
    return { rules: DISALLOW_ALL, reason: `robots.txt answered ${response.status}, so the site is treated as disallowed` };
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    const source = toSourceError(error, url);
    if (source.code === 'forbidden_destination') throw source;
    return { rules: DISALLOW_ALL, reason: `robots.txt could not be read (${source.message}), so the site is treated as disallowed` };
  }
}

interface QueuedPage {
  url: string;
  depth: number;
  /** The start URL or a sitemap entry: its refusals are reported, a discovered link's are not. */
  seed: boolean;
}

/**
 * Crawls one site from a page or a sitemap (sitemap index too). Yields an error for each page that could not be
 * fetched (and for a start URL or sitemap entry refused by robots.txt, or with nothing to read), then every page read,
 * its repeated blocks removed. Throws the signal's reason when aborted.
 */
export async function* crawlSite(options: CrawlOptions): AsyncIterable<CrawlResult> {
  const { client, signal } = options;
  const sleep = options.sleep ?? ((ms: number, abortSignal?: AbortSignal) => sleepFor(ms, undefined, { signal: abortSignal }));
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  const fetchOptions = { ...options, maxBytes };

  const start = canonicalUrl(options.startUrl);
  const checked = start === undefined ? undefined : checkTenantUrl(start, client.urlPolicy);
  if (start === undefined || !checked?.ok) {
    const reason = checked && !checked.ok ? checked.reason : 'must be an http(s) URL';
    yield { url: options.startUrl, error: new SourceError('forbidden_destination', `start URL refused: ${reason}`), start: true };
    return;
  }
  // A courtesy check with a clear message; the client checks the address of every connection regardless.
  const resolved = await checkTenantUrlAddresses(start, { ...client.urlPolicy, resolve: options.resolve });
  if (!resolved.ok) {
    const code = resolved.reason.includes('does not resolve') ? 'fetch_failed' : 'forbidden_destination';
    yield { url: options.startUrl, error: new SourceError(code, `start URL refused: ${resolved.reason}`), start: true };
    return;
  }
  const site = new URL(start);
  const failure = (url: string, error: SourceError): CrawlFailure =>
    url === start ? { url: options.startUrl, error, start: true } : { url, error };

  let delayMs = Math.max(0, options.delayMs);
  let requests = 0;
  const polite = async () => {
    if (requests > 0 && delayMs > 0)
      await sleep(delayMs, signal).catch((error: unknown) => {
        // timers/promises rejects with its own AbortError: the caller gets the reason it aborted with.
        throw signal?.aborted ? signal.reason : error;
      });
    signal?.throwIfAborted();
    requests += 1;
  };

  await polite();
  let robots: RobotsRules;
  try {
    const loaded = await loadRobots(site.origin, client, fetchOptions);
    robots = loaded.rules;
    if (loaded.reason) {
      yield failure(start, new SourceError('robots_disallowed', loaded.reason));
      return;
    }
  } catch (error) {
    yield failure(start, toSourceError(error, start));
    return;
  }
  if (robots.crawlDelaySeconds !== undefined)
    delayMs = Math.max(delayMs, Math.min(robots.crawlDelaySeconds * 1000, options.maxCrawlDelayMs ?? DEFAULT_MAX_CRAWL_DELAY_MS));

  const queue: QueuedPage[] = [];
  const queued = new Set<string>();
  // Links found beyond this many are dropped: a page of a million links must not grow the queue without bound.
  const maxQueued = Math.max(1000, options.maxPages * 20);
  const enqueue = (url: string, depth: number, seed: boolean) => {
    if (queued.has(url) || queued.size >= maxQueued) return;
    queued.add(url);
    queue.push({ url, depth, seed });
  };

  if (looksLikeSitemap(site)) {
    const errors: CrawlFailure[] = [];
    const pages = await readSitemaps(start, { site, robots, client, fetchOptions, polite, limit: options.maxPages, errors });
    for (const error of errors) yield failure(error.url, error.error);
    for (const page of pages) enqueue(page, 0, true);
  } else enqueue(start, 0, true);

  const read: { url: string; document: ExtractedDocument; html: boolean }[] = [];
  let pageRequests = 0;
  // Canonical URLs fetched so far: those asked for, those redirects landed on, those pages named canonical.
  const fetchedPages = new Set<string>();
  while (queue.length > 0 && pageRequests < options.maxPages) {
    const next = queue.shift() as QueuedPage;
    if (fetchedPages.has(next.url)) continue;
    const target = new URL(next.url);
    if (!robots.isAllowed(target)) {
      if (next.seed) yield failure(next.url, new SourceError('robots_disallowed', `robots.txt disallows ${target.pathname}`));
      continue;
    }
    pageRequests += 1;
    await polite();
    let fetched: FetchedResponse;
    try {
      fetched = await fetchBytes(next.url, client, PAGE_CONTENT_TYPES, fetchOptions);
    } catch (error) {
      const source = toSourceError(error, next.url);
      // A discovered link to an image or a download without an extension is not a failure of the site.
      if (next.seed || source.code !== 'unsupported_type') yield failure(next.url, source);
      continue;
    }
    const landed = canonicalUrl(fetched.url) ?? next.url;
    if (landed !== next.url) {
      const landedUrl = new URL(landed);
      if (!isSameSite(landedUrl, site)) {
        yield failure(next.url, new SourceError('forbidden_destination', `redirected off the site, to ${landedUrl.origin}`));
        continue;
      }
      if (!robots.isAllowed(landedUrl)) {
        if (next.seed)
          yield failure(next.url, new SourceError('robots_disallowed', `redirected to ${landedUrl.pathname}, which robots.txt disallows`));
        continue;
      }
      // Two links that redirect to one page: read it once.
      if (fetchedPages.has(landed)) continue;
      queued.add(landed);
    }
    fetchedPages.add(landed);

    try {
      const format = detectFormat({ bytes: fetched.bytes, contentType: fetched.contentType, fileName: fileNameOf(landed) });
      if (format === 'html') {
        const page = parseHtml(decodeText(fetched.bytes, { contentType: fetched.contentType, html: true }), {
          baseUrl: landed,
          fileName: fileNameOf(landed),
        });
        const canonical = page.canonicalUrl ? canonicalUrl(page.canonicalUrl) : undefined;
        // A page that names another URL as its canonical one is read once, under whichever URL came first.
        if (canonical && canonical !== landed && isSameSite(new URL(canonical), site)) {
          if (fetchedPages.has(canonical)) continue;
          fetchedPages.add(canonical);
          queued.add(canonical);
        }
        if (!page.nofollow && next.depth < options.maxDepth)
          for (const link of page.links) {
            const url = canonicalUrl(link);
            if (url === undefined) continue;
            const parsed = new URL(url);
            if (isSameSite(parsed, site) && !isNonTextLink(parsed)) enqueue(url, next.depth + 1, false);
          }
        if (page.noindex) continue;
        if (page.document.text === '') {
          if (next.seed) yield failure(next.url === start ? start : landed, new SourceError('no_text', 'the page has no readable text'));
          continue;
        }
        read.push({ url: landed, document: page.document, html: true });
      } else {
        const document = await extractDocument({
          bytes: fetched.bytes,
          contentType: fetched.contentType,
          fileName: fileNameOf(landed),
          url: landed,
          maxBytes,
        });
        read.push({ url: landed, document, html: false });
      }
    } catch (error) {
      const source = toSourceError(error, landed);
      if (next.seed || source.code !== 'unsupported_type') yield failure(next.url === start ? start : landed, source);
    }
  }

  const boilerplate = repeatedBlocks(read.filter((page) => page.html).map((page) => page.document));
  for (const page of read) {
    const document = page.html ? withoutBlocks(page.document, boilerplate) : page.document;
    if (document.text === '')
      yield { url: page.url, error: new SourceError('no_text', 'the page has only text repeated on every page of the site') };
    else yield { url: page.url, document };
  }
}

/** The page URLs of a sitemap or sitemap index (same site, allowed by robots.txt, canonical, at most `limit`). */
async function readSitemaps(
  start: string,
  context: {
    site: URL;
    robots: RobotsRules;
    client: SafeHttpClient;
    fetchOptions: FetchOptions & { maxBytes: number };
    polite: () => Promise<void>;
    limit: number;
    errors: CrawlFailure[];
  },
): Promise<string[]> {
  const pages: string[] = [];
  const seen = new Set<string>();
  const sitemaps = [start];
  let files = 0;
  while (sitemaps.length > 0 && files < MAX_SITEMAP_FILES && pages.length < context.limit) {
    const url = sitemaps.shift() as string;
    files += 1;
    await context.polite();
    let xml: string;
    try {
      const fetched = await fetchBytes(url, context.client, SITEMAP_CONTENT_TYPES, context.fetchOptions);
      if (!isSameSite(new URL(fetched.url), context.site))
        throw new SourceError('forbidden_destination', 'the sitemap redirected off the site');
      xml = decodeText(fetched.bytes, { contentType: fetched.contentType });
    } catch (error) {
      context.errors.push({ url, error: toSourceError(error, url) });
      continue;
    }
    const sitemap = parseSitemap(xml);
    if (sitemap.kind === 'unknown') {
      context.errors.push({ url, error: new SourceError('unsupported_type', 'not a sitemap: no <urlset> or <sitemapindex>') });
      continue;
    }
    for (const location of sitemap.locations) {
      const canonical = canonicalUrl(location);
      if (canonical === undefined || seen.has(canonical)) continue;
      const parsed = new URL(canonical);
      // Sitemaps may only list their own site's URLs (sitemaps.org); robots.txt applies to sitemap files too.
      if (!isSameSite(parsed, context.site)) continue;
      seen.add(canonical);
      if (sitemap.kind === 'sitemapindex') {
        if (context.robots.isAllowed(parsed)) sitemaps.push(canonical);
      } else if (pages.length < context.limit && !isNonTextLink(parsed) && fileExtension(parsed.pathname) !== 'gz') pages.push(canonical);
    }
  }
  return pages;
}
