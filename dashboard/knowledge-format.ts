/** How the Knowledge section words documents and retrieved passages (no DOM: unit-tested on its own). */

/** A document as GET /v1/bot/knowledge/documents lists it. */
export interface KnowledgeDocument {
  id: string;
  title: string;
  source_kind: 'file' | 'url' | 'site' | 'faq';
  source_url: string | null;
  file_name: string | null;
  status: 'queued' | 'indexing' | 'ready' | 'failed';
  failure_reason: string | null;
  chunk_count: number;
  embedding_model: string | null;
  last_synced_at: string | null;
}

/** A passage as GET /v1/bot/knowledge/search ranks it. */
export interface SearchPassage {
  chunk_id: string;
  kind: 'document' | 'entry' | 'correction';
  title: string;
  source: string;
  heading_path: string[];
  text: string;
  score: number;
  relevance: number;
  keyword: { rank: number; score: number; coverage: number } | null;
  vector: { rank: number; similarity: number } | null;
}

export type VectorLeg = 'used' | 'no_provider' | 'not_embedded' | 'unavailable';

const SOURCE_KIND_LABELS: Record<KnowledgeDocument['source_kind'], string> = {
  file: 'File',
  url: 'Web page',
  site: 'Website',
  faq: 'Q/A entries and approved corrections',
};

const STATUS_LABELS: Record<KnowledgeDocument['status'], string> = {
  queued: 'Queued',
  indexing: 'Indexing…',
  ready: 'Ready',
  failed: 'Failed',
};

const PASSAGE_KIND_LABELS: Record<SearchPassage['kind'], string> = {
  document: 'Document',
  entry: 'Q/A entry',
  correction: 'Approved correction',
};

const VECTOR_LEG_LABELS: Record<VectorLeg, string> = {
  used: 'Keyword and vector search, fused by reciprocal rank.',
  no_provider: 'Keyword search only: the tenant has no embedding provider (offline).',
  not_embedded: 'Keyword search only: no passage has an embedding of the current model yet.',
  unavailable: 'Keyword search only: the embedding model is unavailable right now.',
};

/** "File · policy.md", "Web page · https://…", or what the `faq` document holds. */
export function documentSource(document: KnowledgeDocument): string {
  const where = document.source_url ?? document.file_name;
  return where ? `${SOURCE_KIND_LABELS[document.source_kind]} · ${where}` : SOURCE_KIND_LABELS[document.source_kind];
}

/** "Ready", "Indexing…", or "Failed: encrypted: the PDF is encrypted". */
export function documentStatus(document: KnowledgeDocument): string {
  const label = STATUS_LABELS[document.status] ?? document.status;
  return document.status === 'failed' && document.failure_reason ? `${label}: ${document.failure_reason}` : label;
}

/** Whether the list should be read again soon: something is still waiting or being indexed. */
export function indexingInProgress(documents: readonly KnowledgeDocument[]): boolean {
  return documents.some((document) => document.status === 'queued' || document.status === 'indexing');
}

/** What a passage is: "Document", "Q/A entry" or "Approved correction". */
export function passageKind(passage: Pick<SearchPassage, 'kind'>): string {
  return PASSAGE_KIND_LABELS[passage.kind] ?? passage.kind;
}

/** Where a passage is from: a document's title and headings, or an entry's or correction's question. */
export function passageHeading(passage: Pick<SearchPassage, 'kind' | 'title' | 'heading_path'>): string {
  if (passage.kind !== 'document') return passage.heading_path[0] ?? '';
  return [passage.title, ...passage.heading_path].filter((part, index, parts) => part !== '' && part !== parts[index - 1]).join(' › ');
}

/** The keyword leg's view of a passage: "Keyword #1 · ts_rank_cd 0.100 · 67% of the words", or that it missed it. */
export function keywordLeg(passage: Pick<SearchPassage, 'keyword'>): string {
  if (!passage.keyword) return 'Keyword: not found';
  const { rank, score, coverage } = passage.keyword;
  return `Keyword #${rank} · ts_rank_cd ${score.toFixed(3)} · ${Math.round(coverage * 100)}% of the words`;
}

/** The vector leg's view of a passage: "Vector #2 · cosine 0.812", or why it has none. */
export function vectorLeg(passage: Pick<SearchPassage, 'vector'>, leg: VectorLeg): string {
  if (passage.vector) return `Vector #${passage.vector.rank} · cosine ${passage.vector.similarity.toFixed(3)}`;
  return leg === 'used' ? 'Vector: not in its top results' : 'Vector: not used';
}

/** The sentence under the search box that says which legs answered. */
export function vectorLegSummary(leg: VectorLeg): string {
  return VECTOR_LEG_LABELS[leg] ?? leg;
}

/** A source of a bot answer as GET /v1/bot/conversations/{id} lists it under the answer. */
export type AnswerSource =
  | { chunk_id: string; kind: SearchPassage['kind']; title: string; heading_path: string[]; location: string | null }
  | { chunk_id: string; kind: 'removed' };

/**
 * One line per source under a bot answer: "Document: Returns policy › Refunds (https://shop.example/returns)",
 * "Q/A entry: What are your opening hours?", or that the passage has changed since the answer was given.
 */
export function answerSourceLine(source: AnswerSource): string {
  if (source.kind === 'removed') return 'A passage since changed or removed from the knowledge base';
  const name = [source.title, ...source.heading_path.filter((heading) => heading !== source.title)].filter(Boolean).join(' › ');
  return `${passageKind(source)}: ${name || '(untitled)'}${source.location ? ` (${source.location})` : ''}`;
}
