/**
 * Finds the tenant's knowledge entries closest to a customer's message. PostgreSQL full-text search prefilters
 * (GIN index, so it scales with the tenant's knowledge), then a small lexical score ranks the candidates.
 */
import type { EntityManager } from 'typeorm';
import type { KnowledgeSnippet } from '../llm/types';
import { contentTokens, foldAccents, scoreCandidate } from './text-tokens';

export interface RetrievalOptions {
  limit?: number;
  /** Candidates below this score are dropped. */
  minimumScore?: number;
}

interface Candidate {
  id: string;
  question: string;
  answer: string;
}

/**
 * A `simple` tsquery OR-ing prefixes of the message's tokens (accent-folded and original spellings), for the GIN
 * prefilter; the lexical score ranks the candidates afterwards. Tokens are letters and digits only, so safe in tsquery.
 */
export function prefixTsQuery(message: string, tokens: string[] = contentTokens(message)): string {
  const terms = new Set<string>();
  // A shortened prefix for long tokens lets "policy" find "policies"; the ranking stays exact.
  for (const token of tokens) terms.add(`${token.length > 5 ? token.slice(0, -2) : token}:*`);
  for (const word of message.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    if (word.length >= 3 && foldAccents(word) !== word) terms.add(`${word}:*`);
  }
  return [...terms].join(' | ');
}

/** Retrieves knowledge snippets for a message. */
export class KnowledgeRetriever {
  constructor(private readonly manager: EntityManager) {}

  /** The best-matching entries of the tenant, best first. */
  async retrieve(tenantId: string, message: string, options: RetrievalOptions = {}): Promise<KnowledgeSnippet[]> {
    const tokens = contentTokens(message);
    if (tokens.length === 0) return [];
    const candidates: Candidate[] = await this.manager.query(
      `SELECT id, question, answer FROM knowledge_entries
       WHERE tenant_id = $1 AND to_tsvector('simple', question || ' ' || answer) @@ to_tsquery('simple', $2)
       ORDER BY ts_rank(to_tsvector('simple', question || ' ' || answer), to_tsquery('simple', $2)) DESC
       LIMIT 50`,
      [tenantId, prefixTsQuery(message, tokens)],
    );
    const minimumScore = options.minimumScore ?? 0.15;
    return candidates
      .map((candidate) => ({ ...candidate, score: scoreCandidate(tokens, candidate), source: 'knowledge' as const }))
      .filter((snippet) => snippet.score >= minimumScore)
      .sort((left, right) => right.score - left.score)
      .slice(0, options.limit ?? 5);
  }
}
