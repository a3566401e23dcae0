/**
 * Finds the tenant's approved corrections closest to a customer's message, the same way KnowledgeRetriever finds
 * knowledge: a GIN full-text prefilter (ix_corrections_approved_text), then the shared lexical score. The
 * corrected customer message plays the question, the human's answer the answer.
 */
import type { CorrectionRepository } from '../db/repositories/correction-repository';
import { prefixTsQuery, type RetrievalOptions, scoreCandidate } from '../knowledge/knowledge-retriever';
import { contentTokens } from '../knowledge/text-tokens';
import type { KnowledgeSnippet } from '../llm/types';

/** Retrieves approved corrections as snippets with source 'correction'. */
export class CorrectionRetriever {
  constructor(private readonly corrections: CorrectionRepository) {}

  /** The best-matching approved corrections of the tenant, best first. */
  async retrieve(tenantId: string, message: string, options: RetrievalOptions = {}): Promise<KnowledgeSnippet[]> {
    const tokens = contentTokens(message);
    if (tokens.length === 0) return [];
    const candidates = await this.corrections.findApprovedMatching(tenantId, prefixTsQuery(message, tokens));
    const minimumScore = options.minimumScore ?? 0.15;
    return candidates
      .map((candidate) => ({ ...candidate, score: scoreCandidate(tokens, candidate), source: 'correction' as const }))
      .filter((snippet) => snippet.score >= minimumScore)
      .sort((left, right) => right.score - left.score)
      .slice(0, options.limit ?? 3);
  }
}
