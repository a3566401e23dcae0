/**
 * URL rules of the crawler: one canonical form per page (so each is fetched once), same-site checks, links that
 * cannot be text left alone, and sitemap parsing (a <urlset> of pages or a <sitemapindex> of sitemaps).
 */
import { DomUtils, parseDocument } from 'htmlparser2';
import { fileExtension } from './detect-format';

const MAX_URL_LENGTH = 2048;

/** Query parameters that only track a visit: the same page with or without them. */
const TRACKING_PARAMETERS = /^(utm_[a-z]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_ga|_gl)$/i;

/** Extensions of links that are never a text document (images, media, archives, code, office files, feeds). */
const NON_TEXT_EXTENSIONS = new Set(
  (
    'jpg jpeg png gif webp svg ico bmp tif tiff avif heic mp3 mp4 m4a m4v avi mov mkv webm wav ogg flac zip gz tgz bz2 xz rar 7z tar ' +
    'exe dmg msi apk iso bin css js mjs json map woff woff2 ttf otf eot doc docx xls xlsx ppt pptx odt ods odp csv rss atom xml ics vcf'
  ).split(' '),
);

/**
 * The canonical form of a page URL, or undefined when it is not http(s): no fragment, no tracking parameters, no
 * default port, host lower-cased, dot segments resolved, percent-escapes of unreserved characters decoded.
 */
export function canonicalUrl(value: string | URL, base?: string | URL): string | undefined {
  let url: URL;
  try {
    url = new URL(String(value), base);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  // Longer URLs are refused by the URL policy anyway (tenant-url.ts); generated links that long are not pages.
  if (url.href.length > MAX_URL_LENGTH) return undefined;
  url.hash = '';
  url.username = '';
  url.password = '';
  const kept = [...url.searchParams].filter(([name]) => !TRACKING_PARAMETERS.test(name));
  if (kept.length !== [...url.searchParams].length) url.search = new URLSearchParams(kept).toString();
  url.pathname = url.pathname.replace(/%([0-9a-fA-F]{2})/g, (match, hex: string) => {
    const character = String.fromCharCode(Number.parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(character) ? character : match.toUpperCase();
  });
  const href = url.href;
  return href.endsWith('?') ? href.slice(0, -1) : href;
}

/** True when `url` is on the crawled site: the same host name and port (http and https of the same host count as one). */
export function isSameSite(url: URL, site: URL): boolean {
  if (url.hostname !== site.hostname) return false;
  const port = (candidate: URL) => candidate.port || 'default';
  return port(url) === port(site);
}

/** True when a link's extension says it cannot be a text document. */
export function isNonTextLink(url: URL): boolean {
  return NON_TEXT_EXTENSIONS.has(fileExtension(url.pathname));
}

/** True when a start URL names an XML sitemap rather than a page (an HTML "site map" page is crawled as a page). */
export function looksLikeSitemap(url: URL): boolean {
  return /\.xml$/i.test(url.pathname);
}

export interface Sitemap {
  kind: 'urlset' | 'sitemapindex' | 'unknown';
  /** The <loc> of each <url> (pages) or <sitemap> (child sitemaps), in document order. */
  locations: string[];
}

export function parseSitemap(xml: string): Sitemap {
  const root = parseDocument(xml, { xmlMode: true, decodeEntities: true });
  const localName = (name: string) => name.slice(name.indexOf(':') + 1).toLowerCase();
  const top = root.children.find((node) => DomUtils.isTag(node));
  const topName = top && DomUtils.isTag(top) ? localName(top.name) : '';
  const kind = topName === 'urlset' || topName === 'sitemapindex' ? topName : 'unknown';
  const entry = kind === 'sitemapindex' ? 'sitemap' : 'url';
  const locations = DomUtils.findAll((element) => localName(element.name) === 'loc', root.children)
    .filter((element) => element.parent !== null && DomUtils.isTag(element.parent) && localName(element.parent.name) === entry)
    .map((element) => DomUtils.textContent(element).trim())
    .filter((location) => location !== '');
  return { kind, locations };
}
