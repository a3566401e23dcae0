/**
 * Finds the tenant's approved corrections closest to a customer's message, the same way KnowledgeRetriever finds
 * knowledge: a GIN full-text prefilter (ix_corrections_approved_text), then the shared lexical score. The
 * corrected customer message plays the question, the human's answer the answer.
 */
import type { EntityManager } from 'typeorm';
import { prefixTsQuery, type RetrievalOptions, scoreCandidate } from '../knowledge/knowledge-retriever';
import { contentTokens } from '../knowledge/text-tokens';
import type { KnowledgeSnippet } from '../llm/types';

/** Retrieves approved corrections as snippets with source 'correction'. */
export class CorrectionRetriever {
  constructor(private readonly manager: EntityManager) {}

  /** The best-matching approved corrections of the tenant, best first. */
  async retrieve(tenantId: string, message: string, options: RetrievalOptions = {}): Promise<KnowledgeSnippet[]> {
    const tokens = contentTokens(message);
    if (tokens.length === 0) return [];
    const candidates: Array<{ id: string; question: string; answer: string }> = await this.manager.query(
      `SELECT id, customer_message AS question, human_response AS answer FROM corrections
       WHERE tenant_id = $1 AND approved_for_training
         AND to_tsvector('simple', customer_message || ' ' || human_response) @@ to_tsquery('simple', $2)
       ORDER BY ts_rank(to_tsvector('simple', customer_message || ' ' || human_response), to_tsquery('simple', $2)) DESC,
                quality_score DESC NULLS LAST, approved_at DESC
       LIMIT 50`,
      [tenantId, prefixTsQuery(message, tokens)],
    );
    const minimumScore = options.minimumScore ?? 0.15;
    return candidates
      .map((candidate) => ({ ...candidate, score: scoreCandidate(tokens, candidate), source: 'correction' as const }))
      .filter((snippet) => snippet.score >= minimumScore)
      .sort((left, right) => right.score - left.score)
      .slice(0, options.limit ?? 3);
  }
}
