/** Splits long replies for WhatsApp, which takes at most 1,600 characters per message. */

export const WHATSAPP_MAX_BODY = 1600;

const SENTENCE_END = /[.!?…。！？]["')\]]*\s+|\n{2,}/g;

/** Last index <= limit where `text` may be cut at a sentence end, else at whitespace, else -1. */
function findCut(text: string, limit: number): number {
  let cut = -1;
  for (const match of text.matchAll(SENTENCE_END)) {
    const end = (match.index ?? 0) + match[0].length;
    if (end > limit) break;
    cut = end;
  }
  if (cut > 0) return cut;
  const space = text.lastIndexOf(' ', limit);
  const newline = text.lastIndexOf('\n', limit);
  const whitespace = Math.max(space, newline);
  return whitespace > 0 ? whitespace + 1 : -1;
}

/** Splits text into parts of at most `limit` UTF-16 units, preferring sentence boundaries, never splitting a surrogate pair. */
export function chunkText(text: string, limit = WHATSAPP_MAX_BODY): string[] {
  const chunks: string[] = [];
  let rest = text.trim();
  while (rest.length > limit) {
    let cut = findCut(rest, limit);
    if (cut <= 0) {
      cut = limit;
      const code = rest.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
    }
    const chunk = rest.slice(0, cut).trim();
    if (chunk) chunks.push(chunk);
    rest = rest.slice(cut).trim();
  }
  if (rest) chunks.push(rest);
  return chunks;
}
