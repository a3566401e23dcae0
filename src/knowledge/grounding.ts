/**
 * How retrieved passages ground an answer: which passages the model sees (relevance at or above a threshold), the
 * "I do not know" reply when nothing relevant was found, and the short source link a WhatsApp reply may carry.
 */
import type { KnowledgeSnippet } from '../llm/types';
import type { RetrievedPassage } from './hybrid-search';

/**
 * A passage with less relevance than this (share of the question's words it has, or cosine similarity) is not
 * given to the model; when no snippet of any source reaches it, the tenant's fallback applies. The same value as
 * the offline answerer's threshold, so an offline answer and the fallback agree on what "found" means.
 */
export const RELEVANCE_THRESHOLD = 0.35;

/**
 * Passages as the snippets the prompt and the offline answerer read. A Q/A entry's or correction's passage becomes
 * the question and answer it is (its id the entry's or correction's, as `agent_interactions.knowledge_ids` records
 * them); a document's passage is titled by its document and headings. Every snippet keeps its passage id.
 */
export function passagesToSnippets(passages: RetrievedPassage[]): KnowledgeSnippet[] {
  return passages
    .filter((passage) => passage.relevance >= RELEVANCE_THRESHOLD)
    .map((passage): KnowledgeSnippet => {
      if (passage.kind === 'entry' || passage.kind === 'correction') {
        return {
          id: (passage.kind === 'entry' ? passage.entryId : passage.correctionId) ?? passage.chunkId,
          chunkId: passage.chunkId,
          question: passage.headingPath[0] ?? '',
          answer: passage.text,
          score: passage.relevance,
          source: passage.kind === 'entry' ? 'knowledge' : 'correction',
        };
      }
      return {
        id: passage.chunkId,
        chunkId: passage.chunkId,
        // A document's title is often its first heading: said once.
        question: [passage.title, ...passage.headingPath]
          .filter((part, index, parts) => part !== '' && part !== parts[index - 1])
          .join(' > '),
        answer: passage.text,
        score: passage.relevance,
        source: 'document',
        citation: passage.source,
      };
    });
}

/** True when nothing any source found is relevant enough to answer from. */
export function nothingRelevant(snippets: readonly KnowledgeSnippet[]): boolean {
  return !snippets.some((snippet) => snippet.score >= RELEVANCE_THRESHOLD);
}

/** The reply with a short link to the best web source it was grounded on (files have no link to give). */
export function withSourceLink(text: string, snippets: readonly KnowledgeSnippet[]): string {
  const url = snippets.find((snippet) => snippet.source === 'document' && /^https?:\/\//.test(snippet.citation ?? ''))?.citation;
  return url ? `${text}\n\n${sourceLabel(url)}` : text;
}

/** "Source: https://example.com/returns": the page without its query or fragment (WhatsApp makes it a link). */
export function sourceLabel(url: string): string {
  const parsed = new URL(url);
  return `Source: ${parsed.origin}${parsed.pathname}`;
}
