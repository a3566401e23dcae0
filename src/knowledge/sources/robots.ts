/**
 * robots.txt as RFC 9309 reads it: the groups naming Parley's product token, or else the "*" groups, apply (all
 * matching groups combined); the longest matching Allow/Disallow path wins, Allow on a tie; "*" matches any
 * characters and a final "$" anchors the end; /robots.txt itself is always allowed. Crawl-delay (not in the RFC,
 * but widely used) is read from the same groups.
 */

/** The product token Parley's crawler answers to in robots.txt ("User-agent: ParleyBot"; "parley" matches too). */
export const ROBOTS_PRODUCT_TOKEN = 'ParleyBot';
const TOKENS = new Set(['parleybot', 'parley']);

/** The User-Agent header of every crawler request. */
export const CRAWLER_USER_AGENT = `${ROBOTS_PRODUCT_TOKEN}/1.0 (Parley knowledge crawler; honours robots.txt)`;

interface Rule {
  allow: boolean;
  pattern: string;
  matches: (path: string) => boolean;
}

interface Group {
  agents: string[];
  rules: Rule[];
  crawlDelaySeconds?: number;
}

export interface RobotsRules {
  /** True when the URL's path and query may be fetched. */
  isAllowed(url: URL): boolean;
  /** Crawl-delay of the applicable groups, in seconds (the largest when several say). */
  crawlDelaySeconds?: number;
  /** Sitemap URLs the file lists (any group). */
  sitemaps: string[];
}

/** Everything allowed: no robots.txt (4xx), or an empty one. */
export const ALLOW_ALL: RobotsRules = { isAllowed: () => true, sitemaps: [] };

/** Nothing allowed: robots.txt could not be read (5xx or unreachable), which RFC 9309 treats as a full disallow. */
export const DISALLOW_ALL: RobotsRules = { isAllowed: (url) => url.pathname === '/robots.txt', sitemaps: [] };

/**
 * A path pattern as a matcher over the path and query: "*" matches any characters, a final "$" anchors the end.
 * Matched piece by piece (each piece at its leftmost place, which is exact when "*" is the only wildcard) rather
 * than as a regular expression: a hostile robots.txt full of wildcards must not cost exponential backtracking.
 */
function patternMatcher(pattern: string): (path: string) => boolean {
  const anchored = pattern.endsWith('$');
  const pieces = normalisePath(anchored ? pattern.slice(0, -1) : pattern).split('*');
  return (path) => {
    if (!path.startsWith(pieces[0])) return false;
    let position = pieces[0].length;
    for (let index = 1; index < pieces.length; index += 1) {
      const piece = pieces[index];
      if (index === pieces.length - 1 && anchored) return path.length - piece.length >= position && path.endsWith(piece);
      const found = path.indexOf(piece, position);
      if (found === -1) return false;
      position = found + piece.length;
    }
    return !anchored || position === path.length;
  };
}

/** Percent-encoding made comparable: unreserved characters decoded, other escapes upper-cased, the rest encoded. */
function normalisePath(path: string): string {
  return path
    .replace(/%([0-9a-fA-F]{2})/g, (match, hex: string) => {
      const character = String.fromCharCode(Number.parseInt(hex, 16));
      return /[A-Za-z0-9\-._~]/.test(character) ? character : match.toUpperCase();
    })
    .replace(/[^\x21-\x7e]/g, (character) => encodeURIComponent(character));
}

export function parseRobots(text: string): RobotsRules {
  const groups: Group[] = [];
  const sitemaps: string[] = [];
  let current: Group | undefined;
  let collectingAgents = false;
  for (const rawLine of text.split(/\r\n|\r|\n/)) {
    const line = rawLine.replace(/#.*/, '').trim();
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === 'user-agent') {
      if (!collectingAgents || !current) {
        current = { agents: [], rules: [] };
        groups.push(current);
      }
      current.agents.push(value.toLowerCase());
      collectingAgents = true;
      continue;
    }
    if (key === 'sitemap') {
      if (value) sitemaps.push(value);
      continue;
    }
    if (!current) continue;
    collectingAgents = false;
    if ((key === 'allow' || key === 'disallow') && value !== '')
      current.rules.push({ allow: key === 'allow', pattern: value, matches: patternMatcher(value) });
    else if (key === 'crawl-delay') {
      const seconds = Number(value);
      if (Number.isFinite(seconds) && seconds >= 0) current.crawlDelaySeconds = Math.max(current.crawlDelaySeconds ?? 0, seconds);
    }
  }
  const ours = groups.filter((group) => group.agents.some((agent) => TOKENS.has(agent)));
  const applicable = ours.length > 0 ? ours : groups.filter((group) => group.agents.includes('*'));
  const rules = applicable.flatMap((group) => group.rules);
  const delays = applicable.map((group) => group.crawlDelaySeconds).filter((delay): delay is number => delay !== undefined);
  return {
    isAllowed(url) {
      if (url.pathname === '/robots.txt') return true;
      const target = normalisePath(`${url.pathname}${url.search}`);
      let best: Rule | undefined;
      for (const rule of rules) {
        if (!rule.matches(target)) continue;
        if (!best || rule.pattern.length > best.pattern.length || (rule.pattern.length === best.pattern.length && rule.allow)) best = rule;
      }
      return best?.allow ?? true;
    },
    crawlDelaySeconds: delays.length > 0 ? Math.max(...delays) : undefined,
    sitemaps,
  };
}
