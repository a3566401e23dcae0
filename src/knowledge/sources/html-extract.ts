/**
 * HTML to sections: the title from <title> (or the first <h1>), h1-h6 open sections, and only the page's own
 * content is read: the <main> element when there is one, and never navigation, site headers and footers, asides,
 * forms, scripts and styles, hidden elements or cookie and consent banners. The crawler also gets the page's links,
 * its canonical URL and its robots meta tag from the same parse; blocks repeated on every page of a site are the
 * crawler's to remove (boilerplate.ts), since one page alone cannot tell them.
 */
import { DomUtils, parseDocument } from 'htmlparser2';
import { makeDocument, SectionBuilder, titleFromFileName } from './sections';
import type { ExtractedDocument } from './types';

type HtmlDocument = ReturnType<typeof parseDocument>;
type HtmlNode = HtmlDocument['children'][number];
type HtmlElement = Extract<HtmlNode, { attribs: Record<string, string> }>;

/** Elements that are never content. */
const NEVER_CONTENT = new Set([
  'head',
  // The title is the document's title, also where a page without <head> puts it in the body.
  'title',
  'script',
  'style',
  'noscript',
  'template',
  'svg',
  'math',
  'canvas',
  'iframe',
  'object',
  'embed',
  'video',
  'audio',
  'map',
  'nav',
  'aside',
  'form',
  'button',
  'select',
  'textarea',
  'input',
  'dialog',
  'menu',
]);

/** ARIA landmarks and widgets that are site furniture, not content. */
const FURNITURE_ROLES = new Set([
  'navigation',
  'banner',
  'contentinfo',
  'complementary',
  'search',
  'dialog',
  'alertdialog',
  'menu',
  'menubar',
  'toolbar',
]);

/** Class or id names of cookie and consent banners, breadcrumbs and skip links. */
const FURNITURE_NAMES =
  /\b(cookie[-_]?(banner|notice|consent|bar|popup|modal|law|message|wall|alert)|cookies?[-_]?(banner|notice)|consent|gdpr|onetrust|cookiebot|cc[-_](banner|window)|breadcrumbs?|skip[-_]?(link|to[-_]content))\b/i;

const BLOCK_ELEMENTS = new Set([
  'address',
  'article',
  'blockquote',
  'body',
  'caption',
  'dd',
  'details',
  'div',
  'dl',
  'dt',
  'fieldset',
  'figcaption',
  'figure',
  'footer',
  'header',
  'hr',
  'main',
  'ol',
  'p',
  'pre',
  'section',
  'summary',
  'table',
  'tbody',
  'thead',
  'tfoot',
  'tr',
  'ul',
]);

/** Where a site header or footer is the article's own (its title, its byline), not the site's. */
const ARTICLE_ELEMENTS = new Set(['main', 'article', 'section']);

export interface HtmlPage {
  document: ExtractedDocument;
  /** Absolute http(s) URLs of the page's <a href> links, in page order, fragments removed. */
  links: string[];
  /** <link rel="canonical">, absolute, when the page names one. */
  canonicalUrl?: string;
  /** <meta name="robots"> (or "ParleyBot", "parley") said noindex / nofollow. */
  noindex: boolean;
  nofollow: boolean;
}

function isElement(node: HtmlNode): node is HtmlElement {
  return DomUtils.isTag(node);
}

function attribute(element: HtmlElement, name: string): string {
  return element.attribs[name] ?? '';
}

function isFurniture(element: HtmlElement, insideArticle: boolean): boolean {
  const name = element.name.toLowerCase();
  if (NEVER_CONTENT.has(name)) return true;
  if ((name === 'header' || name === 'footer') && !insideArticle) return true;
  if (FURNITURE_ROLES.has(attribute(element, 'role').toLowerCase())) return true;
  if ('hidden' in element.attribs || attribute(element, 'aria-hidden').toLowerCase() === 'true') return true;
  if (/display\s*:\s*none|visibility\s*:\s*hidden/i.test(attribute(element, 'style'))) return true;
  return FURNITURE_NAMES.test(`${attribute(element, 'id')} ${attribute(element, 'class')}`);
}

/** The readable text of an element (scripts and styles left out), whitespace collapsed. */
function textOf(node: HtmlNode): string {
  if (DomUtils.isText(node)) return node.data;
  if (!isElement(node) || node.name === 'script' || node.name === 'style' || node.name === 'template') return '';
  return node.children.map(textOf).join(node.name === 'br' ? '\n' : '');
}

function findAll(root: HtmlDocument, predicate: (element: HtmlElement) => boolean): HtmlElement[] {
  return DomUtils.findAll((element) => predicate(element as HtmlElement), root.children) as HtmlElement[];
}

function absoluteUrl(href: string, base: string | undefined): string | undefined {
  try {
    const url = new URL(href.trim(), base);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    url.hash = '';
    return url.href;
  } catch {
    return undefined;
  }
}

/** Parses a page; `baseUrl` (the page's URL) resolves its links. */
export function parseHtml(html: string, options: { baseUrl?: string; fileName?: string } = {}): HtmlPage {
  const root = parseDocument(html, { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true });
  const baseElement = findAll(root, (element) => element.name === 'base' && attribute(element, 'href') !== '')[0];
  const base = baseElement ? (absoluteUrl(attribute(baseElement, 'href'), options.baseUrl) ?? options.baseUrl) : options.baseUrl;

  const robots = findAll(root, (element) => element.name === 'meta' && /^(robots|parley|parleybot)$/i.test(attribute(element, 'name')))
    .map((element) => attribute(element, 'content').toLowerCase())
    .join(',');
  const canonicalElement = findAll(
    root,
    (element) => element.name === 'link' && attribute(element, 'rel').toLowerCase().split(/\s+/).includes('canonical'),
  )[0];
  const links = findAll(root, (element) => element.name === 'a' && attribute(element, 'href') !== '')
    .map((element) => absoluteUrl(attribute(element, 'href'), base))
    .filter((url): url is string => url !== undefined);

  const main = findAll(
    root,
    (element) => (element.name === 'main' || attribute(element, 'role').toLowerCase() === 'main') && !('hidden' in element.attribs),
  )[0];
  const builder = new SectionBuilder();
  let firstTopHeading: string | undefined;
  let inline = '';
  const endBlock = () => {
    // A list item whose text is all in a nested list leaves only its marker behind.
    if (inline.trim() !== '-') builder.block(inline);
    inline = '';
  };
  const visit = (node: HtmlNode, context: { preformatted: boolean; insideArticle: boolean }): void => {
    if (DomUtils.isText(node)) {
      inline += context.preformatted ? node.data : node.data.replace(/\s+/g, ' ');
      return;
    }
    if (!isElement(node) || isFurniture(node, context.insideArticle)) return;
    const name = node.name;
    const level = /^h([1-6])$/.exec(name);
    if (level) {
      endBlock();
      const heading = textOf(node).replace(/\s+/g, ' ').trim();
      if (level[1] === '1') firstTopHeading ??= heading;
      builder.heading(Number(level[1]), heading);
      return;
    }
    if (name === 'br') {
      inline += '\n';
      return;
    }
    const inner = {
      preformatted: context.preformatted || name === 'pre' || name === 'textarea',
      insideArticle: context.insideArticle || ARTICLE_ELEMENTS.has(name),
    };
    const children = () => {
      for (const child of node.children) visit(child, inner);
    };
    if (name === 'li') {
      endBlock();
      inline = '- ';
      children();
      endBlock();
    } else if (name === 'td' || name === 'th') {
      if (inline.trim() !== '') inline += ' | ';
      children();
    } else if (BLOCK_ELEMENTS.has(name)) {
      endBlock();
      children();
      endBlock();
    } else children();
  };
  const contentRoot: HtmlNode[] = main ? [main] : root.children;
  for (const node of contentRoot) visit(node, { preformatted: false, insideArticle: main !== undefined });
  endBlock();

  const titleElement = findAll(root, (element) => element.name === 'title')[0];
  const title = (titleElement ? textOf(titleElement).replace(/\s+/g, ' ').trim() : '') || firstTopHeading;
  const canonicalHref = canonicalElement ? attribute(canonicalElement, 'href') : '';
  return {
    document: makeDocument(title || titleFromFileName(options.fileName) || 'Untitled', builder.finish()),
    links,
    canonicalUrl: canonicalHref ? absoluteUrl(canonicalHref, base) : undefined,
    noindex: /\b(noindex|none)\b/.test(robots),
    nofollow: /\b(nofollow|none)\b/.test(robots),
  };
}
