import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CrawlOptions, type CrawlResult, crawlSite, fetchDocument } from '../../../src/knowledge/sources/web-crawler';
import { type SourceErrorCode, SourceError } from '../../../src/knowledge/sources/types';
import { SafeHttpClient } from '../../../src/net/safe-http';
import type { Resolver } from '../../../src/net/tenant-url';
import { type FakeWebsite, htmlPage, redirectTo, startWebsite } from '../../fakes/website-server';
import { buildPdf } from './pdf-fixtures';

const PROMOTION = '<div class="promo"><p>Free delivery on orders over 50 EUR.</p></div>';

/** The shop every crawl test starts from: robots.txt, pages linking to each other, a redirect, a PDF, a text file. */
function shopRoutes() {
  return {
    '/robots.txt': { contentType: 'text/plain', body: 'User-agent: *\nDisallow: /private\nAllow: /private/open\n' },
    '/': htmlPage(
      'Home',
      `<main><h1>Welcome</h1><p>We sell tea.</p>
       <a href="/about#team">About</a> <a href="/about">About again</a> <a href="/tea?utm_source=home">Tea</a>
       <a href="/private/secret">Staff</a> <a href="/private/open">Open</a> <a href="/logo.png">Logo</a>
       <a href="mailto:help@example.com">Mail</a> <a href="https://elsewhere.example.com/">Partner</a>
       <a href="/old-about">Old about</a> <a href="/docs/prices.pdf">Prices</a> <a href="/notes.txt">Notes</a>
       <a href="/download">Catalogue</a>${PROMOTION}</main>`,
    ),
    '/about': htmlPage('About', `<main><h1>About us</h1><p>Family business since 1990.</p><a href="/deep/1">More</a>${PROMOTION}</main>`),
    '/tea': htmlPage('Tea', `<main><h1>Tea</h1><p>Green and black tea.</p>${PROMOTION}</main>`),
    '/private/open': htmlPage('Open', `<main><h1>Open</h1><p>Opening hours 9 to 5.</p>${PROMOTION}</main>`),
    '/private/secret': htmlPage('Secret', '<main><p>Staff only.</p></main>'),
    '/old-about': redirectTo('/about', 301),
    '/deep/1': htmlPage('Deep 1', `<main><p>One level down.</p><a href="/deep/2">Next</a>${PROMOTION}</main>`),
    '/deep/2': htmlPage('Deep 2', '<main><p>Two levels down.</p><a href="/deep/3">Next</a></main>'),
    '/deep/3': htmlPage('Deep 3', '<main><p>Three levels down.</p></main>'),
    '/docs/prices.pdf': { contentType: 'application/pdf', body: buildPdf({ title: 'Prices', pages: [[{ text: 'Tea 2 EUR' }]] }) },
    '/notes.txt': { contentType: 'text/plain; charset=utf-8', body: 'Shop notes\n\nWe close on Sundays.' },
    '/download': { contentType: 'application/zip', body: Buffer.from([0x50, 0x4b, 0x03, 0x04]) },
  };
}

let website: FakeWebsite;
const clients: SafeHttpClient[] = [];

/** A client that may reach the fake website (the test's explicit allowlist), and nothing else on this machine. */
function allowedClient(options: { resolve?: Resolver; allowedHosts?: string[] } = {}): SafeHttpClient {
  const client = new SafeHttpClient({
    requireHttps: false,
    allowedHosts: options.allowedHosts ?? [website.hostPort],
    resolve: options.resolve,
  });
  clients.push(client);
  return client;
}

async function crawl(options: Partial<CrawlOptions> = {}): Promise<{ results: CrawlResult[]; sleeps: number[] }> {
  const sleeps: number[] = [];
  const results: CrawlResult[] = [];
  for await (const result of crawlSite({
    startUrl: `${website.url}/`,
    maxPages: 50,
    maxDepth: 3,
    delayMs: 0,
    client: allowedClient(),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...options,
  }))
    results.push(result);
  return { results, sleeps };
}

const pathOf = (url: string) => new URL(url).pathname;
const pages = (results: CrawlResult[]) => results.filter((result) => 'document' in result).map((result) => pathOf(result.url));
const errors = (results: CrawlResult[]) =>
  results.flatMap((result) =>
    'error' in result ? [{ path: pathOf(result.url), code: result.error.code, message: result.error.message }] : [],
  );

async function refusal(promise: Promise<unknown>): Promise<{ code: SourceErrorCode; message: string }> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SourceError);
  return { code: (error as SourceError).code, message: (error as SourceError).message };
}

beforeAll(async () => {
  website = await startWebsite(shopRoutes());
});
afterEach(() => {
  website.requests.length = 0;
  for (const [path, route] of Object.entries(shopRoutes())) website.set(path, route);
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await website.close();
});

describe('crawlSite', () => {
  it('reads every page of the site once, honouring robots.txt, within the depth, leaving other hosts and non-text links alone', async () => {
    const { results } = await crawl({ maxDepth: 2 });
    expect(errors(results)).toEqual([]);
    expect(pages(results).sort()).toEqual(['/', '/about', '/deep/1', '/docs/prices.pdf', '/notes.txt', '/private/open', '/tea'].sort());
    const requested = website.requests.map((request) => request.path);
    expect(requested[0]).toBe('/robots.txt');
    // Robots.txt, canonical URLs (fragments and tracking parameters dropped) and link types decide what is asked for.
    expect(requested).not.toContain('/private/secret');
    expect(requested).not.toContain('/logo.png');
    expect(requested).not.toContain('/deep/3');
    // /about is fetched for its link and once more as the redirect hop of /old-about, and read once.
    expect(requested.filter((path) => path === '/about')).toHaveLength(2);
    expect(requested.filter((path) => path === '/tea')).toHaveLength(1);
    expect(website.requests.every((request) => request.userAgent?.startsWith('ParleyBot/'))).toBe(true);
  });

  it('reads PDFs and text files it links to, and the pages under their headings', async () => {
    const { results } = await crawl({ maxDepth: 1 });
    const byPath = new Map(results.flatMap((result) => ('document' in result ? [[pathOf(result.url), result.document]] : [])));
    expect(byPath.get('/docs/prices.pdf')?.text).toBe('Tea 2 EUR');
    expect(byPath.get('/notes.txt')?.text).toBe('Shop notes\n\nWe close on Sundays.');
    expect(byPath.get('/tea')).toEqual({
      title: 'Tea',
      sections: [{ headingPath: ['Tea'], text: 'Green and black tea.' }],
      text: 'Tea\n\nGreen and black tea.',
    });
  });

  it('leaves out text repeated on nearly every page, but not on a site too small to tell', async () => {
    const { results } = await crawl({ maxDepth: 1 });
    const texts = results.flatMap((result) => ('document' in result ? [result.document.text] : []));
    expect(texts.some((text) => text.includes('Free delivery'))).toBe(false);
    expect(texts.join('\n')).toContain('We sell tea.');
    const small = await crawl({ maxPages: 2 });
    expect(small.results.flatMap((result) => ('document' in result ? [result.document.text] : [])).join('\n')).toContain('Free delivery');
  });

  it('stops after maxPages page requests and at maxDepth links from the start', async () => {
    const bounded = await crawl({ maxPages: 3 });
    expect(website.requests.filter((request) => request.path !== '/robots.txt')).toHaveLength(3);
    expect(pages(bounded.results)).toHaveLength(3);
    website.requests.length = 0;
    const startOnly = await crawl({ maxDepth: 0 });
    expect(pages(startOnly.results)).toEqual(['/']);
  });

  it('waits delayMs between requests, raised by a Crawl-delay for Parley', async () => {
    const { sleeps } = await crawl({ maxPages: 3, delayMs: 250 });
    expect(sleeps).toEqual([250, 250, 250]);
    website.set('/robots.txt', { contentType: 'text/plain', body: 'User-agent: ParleyBot\nCrawl-delay: 2\n' });
    const slowed = await crawl({ maxPages: 3, delayMs: 250 });
    expect(slowed.sleeps).toEqual([2000, 2000, 2000]);
    website.set('/robots.txt', { contentType: 'text/plain', body: 'User-agent: *\nCrawl-delay: 86400\n' });
    const capped = await crawl({ maxPages: 2, delayMs: 250, maxCrawlDelayMs: 5000 });
    expect(capped.sleeps).toEqual([5000, 5000]);
  });

  it('refuses a start page robots.txt disallows, and a site whose robots.txt fails (RFC 9309), but reads one without robots.txt', async () => {
    website.set('/robots.txt', { contentType: 'text/plain', body: 'User-agent: *\nAllow: /\n\nUser-agent: ParleyBot\nDisallow: /\n' });
    expect(errors((await crawl()).results)).toEqual([{ path: '/', code: 'robots_disallowed', message: 'robots.txt disallows /' }]);
    website.set('/robots.txt', { status: 503, contentType: 'text/plain', body: 'down' });
    website.requests.length = 0;
    const failing = await crawl();
    expect(errors(failing.results)).toEqual([
      { path: '/', code: 'robots_disallowed', message: 'robots.txt answered 503, so the site is treated as disallowed' },
    ]);
    expect(website.requests.map((request) => request.path)).toEqual(['/robots.txt']);
    // An error about the start URL says so, under the start URL exactly as given (here without its final slash).
    const asGiven = await crawl({ startUrl: website.url });
    expect(asGiven.results).toEqual([{ url: website.url, start: true, error: expect.any(SourceError) }]);
    website.set('/robots.txt', { status: 404, contentType: 'text/plain', body: 'none' });
    expect(pages((await crawl({ maxDepth: 0 })).results)).toEqual(['/']);
  });

  it('crawls the pages a sitemap index lists, on the same site only, from their sitemaps', async () => {
    website.set('/sitemap.xml', {
      contentType: 'application/xml',
      body: `<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
        <sitemap><loc>${website.url}/sitemap-pages.xml</loc></sitemap>
        <sitemap><loc>https://elsewhere.example.com/sitemap.xml</loc></sitemap></sitemapindex>`,
    });
    website.set('/sitemap-pages.xml', {
      contentType: 'text/xml',
      body: `<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
        <url><loc>${website.url}/tea</loc></url><url><loc>${website.url}/about#x</loc></url>
        <url><loc>${website.url}/private/secret</loc></url><url><loc>https://elsewhere.example.com/page</loc></url></urlset>`,
    });
    const { results } = await crawl({ startUrl: `${website.url}/sitemap.xml`, maxDepth: 0 });
    expect(pages(results).sort()).toEqual(['/about', '/tea']);
    expect(errors(results)).toEqual([
      { path: '/private/secret', code: 'robots_disallowed', message: 'robots.txt disallows /private/secret' },
    ]);
  });

  it('reports a page that answers 404 or redirects off the site, and skips a linked download that is not text', async () => {
    // The other site is a second loopback server (another port is another site), so nothing leaves this machine.
    const elsewhere = await startWebsite({ '/': htmlPage('Elsewhere', '<p>Another site</p>') });
    try {
      website.set(
        '/',
        htmlPage('Home', '<main><p>Home</p><a href="/gone">Gone</a><a href="/away">Away</a><a href="/download">Zip</a></main>'),
      );
      website.set('/away', redirectTo(`${elsewhere.url}/`));
      const { results } = await crawl({ client: allowedClient({ allowedHosts: [website.hostPort, elsewhere.hostPort] }) });
      expect(errors(results)).toEqual([
        { path: '/gone', code: 'fetch_failed', message: `${website.url} answered 404 for /gone` },
        { path: '/away', code: 'forbidden_destination', message: `redirected off the site, to ${elsewhere.url}` },
      ]);
      expect(pages(results)).toEqual(['/']);
    } finally {
      await elsewhere.close();
    }
  });

  it('honours noindex and nofollow, and reads a page that names another URL as canonical once', async () => {
    website.set(
      '/',
      htmlPage(
        'Home',
        '<main><p>Home</p><a href="/hidden">Hidden</a><a href="/no-follow">No follow</a><a href="/tea">Tea</a><a href="/tea-copy">Copy</a></main>',
      ),
    );
    website.set('/hidden', {
      contentType: 'text/html',
      body: '<html><head><meta name="robots" content="noindex"></head><body><p>Draft</p><a href="/about">About</a></body></html>',
    });
    website.set('/no-follow', {
      contentType: 'text/html',
      body: '<html><head><meta name="ParleyBot" content="nofollow"></head><body><p>Links here are not followed</p><a href="/notes.txt">Notes</a></body></html>',
    });
    website.set('/tea-copy', {
      contentType: 'text/html',
      body: `<html><head><link rel="canonical" href="${website.url}/tea"></head><body><p>Green and black tea.</p></body></html>`,
    });
    const { results } = await crawl({ maxDepth: 2 });
    expect(pages(results).sort()).toEqual(['/', '/about', '/no-follow', '/tea']);
    expect(website.requests.map((request) => request.path)).not.toContain('/notes.txt');
  });

  it('stops when its signal is aborted', async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    const crawling = (async () => {
      for await (const result of crawlSite({
        startUrl: `${website.url}/`,
        maxPages: 50,
        maxDepth: 3,
        delayMs: 1,
        client: allowedClient(),
        signal: controller.signal,
        sleep: async () => {
          seen.push('wait');
          if (seen.length === 2) controller.abort(new Error('tenant deleted the source'));
        },
      }))
        seen.push(result.url);
    })();
    await expect(crawling).rejects.toThrow('tenant deleted the source');
    expect(website.requests.map((request) => request.path)).toEqual(['/robots.txt', '/']);
  });
});

describe('fetchDocument', () => {
  it('fetches and extracts one page, following redirects', async () => {
    const document = await fetchDocument(`${website.url}/old-about`, allowedClient());
    expect(document.title).toBe('About');
    expect(document.text).toContain('Family business since 1990.');
  });

  it('refuses more than 5 redirects', async () => {
    for (let hop = 0; hop < 6; hop += 1) website.set(`/loop/${hop}`, redirectTo(`/loop/${hop + 1}`));
    website.set('/loop/6', htmlPage('End', '<p>end</p>'));
    expect((await refusal(fetchDocument(`${website.url}/loop/0`, allowedClient()))).code).toBe('fetch_failed');
    expect((await fetchDocument(`${website.url}/loop/1`, allowedClient())).text).toBe('end');
  });

  it('refuses a binary content type, and a page over the size cap whether its length is declared or streamed', async () => {
    expect(await refusal(fetchDocument(`${website.url}/download`, allowedClient()))).toEqual({
      code: 'unsupported_type',
      message: `${website.url} answered application/zip; only HTML, plain text, Markdown and PDF are read`,
    });
    const huge = Buffer.alloc(200 * 1024, 'a');
    website.set('/huge', { contentType: 'text/plain', body: huge });
    website.set('/huge-stream', { contentType: 'text/plain', body: huge, chunked: true });
    expect((await refusal(fetchDocument(`${website.url}/huge`, allowedClient(), { maxBytes: 64 * 1024 }))).code).toBe('too_large');
    expect((await refusal(fetchDocument(`${website.url}/huge-stream`, allowedClient(), { maxBytes: 64 * 1024 }))).code).toBe('too_large');
  });
});

describe('refused destinations (SSRF)', () => {
  it('refuses a loopback server that the configuration does not allow, without connecting', async () => {
    const error = await refusal(fetchDocument(`${website.url}/`, allowedClient({ allowedHosts: [] })));
    expect(error.code).toBe('forbidden_destination');
    const { results } = await crawl({ client: allowedClient({ allowedHosts: [] }) });
    expect(errors(results)).toEqual([{ path: '/', code: 'forbidden_destination', message: expect.stringContaining('loopback') }]);
    expect(website.requests).toEqual([]);
  });

  it('refuses private, link-local (cloud metadata) and internal-name destinations before any connection', async () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.5/',
      'http://192.168.1.20/',
      'http://[::1]/',
      'http://localhost/',
      'http://metadata.google.internal/',
    ])
      expect((await refusal(fetchDocument(url, allowedClient()))).code).toBe('forbidden_destination');
  });

  it('refuses a redirect to a private address, and to a name that resolves to loopback', async () => {
    website.set('/to-private', redirectTo('http://192.168.1.20/admin'));
    expect(await refusal(fetchDocument(`${website.url}/to-private`, allowedClient()))).toEqual({
      code: 'forbidden_destination',
      message: 'URL refused: must not point to a private address',
    });
    website.set('/to-internal', redirectTo(`http://intranet.example.test:${website.port}/`));
    const resolve: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];
    const error = await refusal(fetchDocument(`${website.url}/to-internal`, allowedClient({ resolve })));
    expect(error).toEqual({ code: 'forbidden_destination', message: 'intranet.example.test resolves to a loopback address' });
    expect(website.requests.map((request) => request.path)).toEqual(['/to-private', '/to-internal']);
  });

  it('refuses a site whose DNS answer changes from public (when checked) to loopback (when connecting)', async () => {
    const answers: string[] = [];
    const resolve: Resolver = async (hostname) => {
      // The first answer is only ever checked, never connected to: the connection gets the second.
      const address = answers.length === 0 ? '93.184.216.34' : '127.0.0.1';
      answers.push(`${hostname} ${address}`);
      return [{ address, family: 4 }];
    };
    const { results } = await crawl({
      startUrl: `http://rebind.example.test:${website.port}/`,
      client: allowedClient({ resolve }),
      resolve,
    });
    expect(errors(results)).toEqual([
      { path: '/', code: 'forbidden_destination', message: 'rebind.example.test resolves to a loopback address' },
    ]);
    expect(answers).toEqual(['rebind.example.test 93.184.216.34', 'rebind.example.test 127.0.0.1']);
    expect(website.requests).toEqual([]);
  });
});
