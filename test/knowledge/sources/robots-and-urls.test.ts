import { describe, expect, it } from 'vitest';
import { repeatedBlocks, withoutBlocks } from '../../../src/knowledge/sources/boilerplate';
import { canonicalUrl, isNonTextLink, isSameSite, parseSitemap } from '../../../src/knowledge/sources/crawl-urls';
import { parseRobots } from '../../../src/knowledge/sources/robots';
import { makeDocument } from '../../../src/knowledge/sources/sections';

const allowed = (robots: string, path: string) => parseRobots(robots).isAllowed(new URL(path, 'https://shop.example.com'));

describe('robots.txt (RFC 9309)', () => {
  it('applies the longest matching rule, Allow winning a tie, with * and $ patterns', () => {
    const robots =
      'User-agent: *\nDisallow: /private\nAllow: /private/open\nDisallow: /*.pdf$\nDisallow: /search?\nAllow: /tie\nDisallow: /tie\n';
    expect(allowed(robots, '/private/page')).toBe(false);
    expect(allowed(robots, '/private/open/page')).toBe(true);
    expect(allowed(robots, '/docs/prices.pdf')).toBe(false);
    expect(allowed(robots, '/docs/prices.pdf?download=1')).toBe(true);
    expect(allowed(robots, '/search?q=tea')).toBe(false);
    expect(allowed(robots, '/tie')).toBe(true);
    expect(allowed(robots, '/public')).toBe(true);
    expect(allowed('User-agent: *\nDisallow: /\n', '/robots.txt')).toBe(true);
  });

  it("follows Parley's own group over the * group, and combines groups that name it", () => {
    const robots = [
      'User-agent: *',
      'Disallow: /',
      '',
      'User-agent: OtherBot',
      'User-agent: ParleyBot # ours',
      'Disallow: /cart',
      'Crawl-delay: 2',
      '',
      'user-agent: parley',
      'DISALLOW: /account',
      'Sitemap: https://shop.example.com/sitemap.xml',
    ].join('\r\n');
    const rules = parseRobots(robots);
    expect(rules.isAllowed(new URL('https://shop.example.com/products'))).toBe(true);
    expect(rules.isAllowed(new URL('https://shop.example.com/cart/1'))).toBe(false);
    expect(rules.isAllowed(new URL('https://shop.example.com/account'))).toBe(false);
    expect(rules.crawlDelaySeconds).toBe(2);
    expect(rules.sitemaps).toEqual(['https://shop.example.com/sitemap.xml']);
  });

  it('allows everything when no group applies, and ignores an empty Disallow', () => {
    expect(allowed('User-agent: OtherBot\nDisallow: /\n', '/anything')).toBe(true);
    expect(allowed('User-agent: *\nDisallow:\n', '/anything')).toBe(true);
    expect(allowed('', '/anything')).toBe(true);
  });

  it('matches wildcard patterns piece by piece, so a hostile pattern costs linear time', () => {
    const hostile = `User-agent: *\nDisallow: /${'*a'.repeat(60)}b\n`;
    expect(allowed(hostile, `/${'a'.repeat(2000)}`)).toBe(true);
    expect(allowed(hostile, `/${'a'.repeat(2000)}b`)).toBe(false);
    expect(allowed('User-agent: *\nDisallow: /*/edit$\n', '/a/b/edit')).toBe(false);
    expect(allowed('User-agent: *\nDisallow: /*/edit$\n', '/a/b/edit/more')).toBe(true);
  });

  it('compares percent-encoded paths the same way on both sides', () => {
    expect(allowed('User-agent: *\nDisallow: /caf%C3%A9\n', '/café/menu')).toBe(false);
    expect(allowed('User-agent: *\nDisallow: /%7Euser\n', '/~user/page')).toBe(false);
  });
});

describe('crawl URLs', () => {
  it('gives one canonical form per page: no fragment, no tracking parameters, no default port, lower-case host', () => {
    expect(canonicalUrl('HTTPS://Shop.Example.com:443/a/../prices?utm_source=mail&id=2#top')).toBe('https://shop.example.com/prices?id=2');
    expect(canonicalUrl('https://shop.example.com/%7Euser?fbclid=x')).toBe('https://shop.example.com/~user');
    expect(canonicalUrl('/about', 'https://shop.example.com/x/y')).toBe('https://shop.example.com/about');
    expect(canonicalUrl('mailto:help@example.com')).toBeUndefined();
    expect(canonicalUrl('javascript:void(0)')).toBeUndefined();
  });

  it('keeps to one host and port, and leaves links that cannot be text alone', () => {
    const site = new URL('https://shop.example.com/');
    expect(isSameSite(new URL('http://shop.example.com/about'), site)).toBe(true);
    expect(isSameSite(new URL('https://blog.shop.example.com/'), site)).toBe(false);
    expect(isSameSite(new URL('https://shop.example.com:8443/'), site)).toBe(false);
    expect(isNonTextLink(new URL('https://shop.example.com/logo.PNG'))).toBe(true);
    expect(isNonTextLink(new URL('https://shop.example.com/terms.pdf'))).toBe(false);
    expect(isNonTextLink(new URL('https://shop.example.com/terms'))).toBe(false);
  });

  it('reads a urlset and a sitemap index', () => {
    const urlset = parseSitemap(
      '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc> https://a.example/x?a=1&amp;b=2 </loc></url><url><loc>https://a.example/y</loc></url></urlset>',
    );
    expect(urlset).toEqual({ kind: 'urlset', locations: ['https://a.example/x?a=1&b=2', 'https://a.example/y'] });
    const index = parseSitemap('<sitemapindex><sitemap><loc>https://a.example/s1.xml</loc></sitemap></sitemapindex>');
    expect(index).toEqual({ kind: 'sitemapindex', locations: ['https://a.example/s1.xml'] });
    expect(parseSitemap('<html><body>not a sitemap</body></html>').kind).toBe('unknown');
  });
});

describe('repeated blocks', () => {
  const page = (own: string) =>
    makeDocument('Page', [
      { headingPath: ['Page'], text: `${own}\n\nFree delivery over 50 EUR.` },
      { headingPath: ['Contact'], text: 'Call 555-0100.' },
    ]);

  it('leaves out blocks found on nearly every page, and sections left empty', () => {
    const documents = [page('Tea'), page('Coffee'), page('Juice')];
    const repeated = repeatedBlocks(documents);
    expect([...repeated].sort()).toEqual(['Call 555-0100.', 'Free delivery over 50 EUR.']);
    expect(withoutBlocks(documents[0], repeated)).toEqual(makeDocument('Page', [{ headingPath: ['Page'], text: 'Tea' }]));
  });

  it('keeps everything on sites of fewer than three pages, and blocks on fewer than 80% of the pages', () => {
    expect(repeatedBlocks([page('Tea'), page('Coffee')]).size).toBe(0);
    const five = [page('A'), page('B'), page('C'), page('D'), makeDocument('Other', [{ headingPath: [], text: 'Only here' }])];
    expect(repeatedBlocks(five).size).toBe(2);
    const three = [
      page('A'),
      page('B'),
      makeDocument('x', [{ headingPath: [], text: 'x' }]),
      makeDocument('y', [{ headingPath: [], text: 'y' }]),
    ];
    expect(repeatedBlocks(three).size).toBe(0);
  });
});
