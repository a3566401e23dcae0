/**
 * Hybrid retrieval over a tenant's passages (of documents, Q/A entries and approved corrections alike): a keyword
 * leg (PostgreSQL full-text search in the tenant's language, ranked by ts_rank_cd) and a vector leg (cosine over the
 * stored embeddings, in process), merged by reciprocal rank fusion (k = 60). Without an embedding provider, or when
 * it is unavailable, the keyword leg alone answers. Each passage also gets a relevance in [0, 1] (the share of the
 * query's words it has, its cosine similarity, or for a Q/A entry or correction the Q/A lexical score, whichever is
 * highest): the agent trusts passages above a threshold and says it does not know below.
 */
import type { LRUCache } from 'lru-cache';
import { boundedCache } from '../bounded-cache';
import type { KnowledgeChunkRepository, PassageKind } from '../db/repositories/knowledge-chunk-repository';
import { type EmbeddingContext, EmbeddingUnavailableError, type EmbeddingService, type TenantEmbedder } from '../llm/embeddings';
import type { ResolvedTenant } from '../tenants/tenant-service';
import { knowledgeSettingsOf } from './knowledge-settings';
import { contentTokens, scoreCandidate, withoutStopWords } from './text-tokens';
import type { VectorIndex } from './vector-index';

/** Reciprocal rank fusion's constant (Cormack et al. 2009; also Chatwoot's and most hybrid search engines'). */
export const RRF_K = 60;
/** How deep each leg looks before fusion. */
const LEG_DEPTH = 20;

/** One retrieved passage with how each leg saw it. */
export interface RetrievedPassage {
  chunkId: string;
  documentId: string;
  /** A document's passage, or a Q/A entry or approved correction (question in headingPath, answer in text). */
  kind: PassageKind;
  /** The entry's or correction's id (null for a document's passage). */
  entryId: string | null;
  correctionId: string | null;
  title: string;
  source: string;
  headingPath: string[];
  text: string;
  /** Reciprocal-rank-fusion score (sum of 1 / (60 + rank) over the legs that found it). */
  fusedScore: number;
  /** In [0, 1]: max(keyword coverage, vector similarity, and for a Q/A passage its lexical Q/A score). */
  relevance: number;
  keyword: { rank: number; score: number; coverage: number } | null;
  vector: { rank: number; similarity: number } | null;
}

/** What a search did and found. */
export interface SearchOutcome {
  passages: RetrievedPassage[];
  /**
   * `used`; `no_provider` (keyword only by design); `not_embedded` (no passage has an embedding of the tenant's model
   * yet: the query is not embedded, nothing is spent); `unavailable` (the model failed or its breaker is open).
   */
  vectorLeg: 'used' | 'no_provider' | 'not_embedded' | 'unavailable';
  embeddingModel: string | null;
  /** Whether the tenant has any passage of a document (the "I do not know" fallback applies only then). */
  tenantHasDocuments: boolean;
}

export interface SearchOptions {
  limit?: number;
  /** Where the query embedding's usage row points to (the turn's conversation and interaction). */
  context?: Omit<EmbeddingContext, 'purpose'>;
  /** Skip the vector leg (the eval's keyword-only run). */
  keywordOnly?: boolean;
}

/** Fuses ranked lists of ids by reciprocal rank: each list adds 1 / (k + rank), rank counted from 1. */
export function reciprocalRankFusion(lists: string[][], k = RRF_K): Map<string, number> {
  const scores = new Map<string, number>();
  for (const list of lists) {
    for (const [index, id] of list.entries()) scores.set(id, (scores.get(id) ?? 0) + 1 / (k + index + 1));
  }
  return scores;
}

export interface KnowledgeSearchDependencies {
  chunks: KnowledgeChunkRepository;
  vectors: VectorIndex;
  embeddings: EmbeddingService | null;
}

/**
 * How long a tenant seen without any passage is not asked again. Most tenants have no documents, and the reply path
 * is counted in statements (test/whatsapp/statements-per-turn.test.ts): this process forgets the entry as soon as
 * it indexes a document of the tenant; another process (a separate worker) is seen within this time.
 */
const NO_PASSAGES_TTL_MS = 30_000;

/**
 * How long a tenant's passage summary (counts, and the version of its embeddings the vector index checks) is reused.
 * Counting a tenant's passages on every turn cost a statement per reply (and an aggregate over up to 50,000 rows);
 * this process forgets the summary when it indexes or writes the tenant's passages, and another process's changes
 * are seen within this time (the vector leg then reloads what changed).
 */
const SUMMARY_TTL_MS = 1_000;

type PassageSummary = Awaited<ReturnType<KnowledgeChunkRepository['summary']>>;

/** Searches a tenant's passages. */
export class KnowledgeSearch {
  private readonly withoutPassages: LRUCache<string, true>;
  /** By tenant: the summary and the embedding model it was counted for. */
  private readonly summaries: LRUCache<string, { model: string | null; summary: PassageSummary }>;

  constructor(private readonly dependencies: KnowledgeSearchDependencies) {
    this.withoutPassages = boundedCache<string, true>({ max: 10_000, ttlMs: NO_PASSAGES_TTL_MS });
    this.summaries = boundedCache({ max: 10_000, ttlMs: SUMMARY_TTL_MS });
  }

  /** The tenant's passages changed in this process (a document was indexed, an entry written): look again on the next search. */
  forgetTenant(tenantId: string): void {
    this.withoutPassages.delete(tenantId);
    this.summaries.delete(tenantId);
  }

  private async summaryOf(tenantId: string, model: string | null): Promise<PassageSummary> {
    const cached = this.summaries.get(tenantId);
    if (cached && cached.model === model) return cached.summary;
    const summary = await this.dependencies.chunks.summary(tenantId, model);
    this.summaries.set(tenantId, { model, summary });
    return summary;
  }

  /** The tenant's embedder (null: keyword only). */
  embedderOf(tenant: ResolvedTenant): TenantEmbedder | null {
    return this.dependencies.embeddings?.forTenant(tenant.tenant.id, tenant.credentials, tenant.settings) ?? null;
  }

  /** The best passages for `query`, fused from both legs; the query is embedded once. */
  async search(tenant: ResolvedTenant, query: string, options: SearchOptions = {}): Promise<SearchOutcome> {
    const { chunks } = this.dependencies;
    const tenantId = tenant.tenant.id;
    const limit = options.limit ?? 5;
    const settings = knowledgeSettingsOf(tenant.settings);
    const embedder = options.keywordOnly ? null : this.embedderOf(tenant);
    const empty: SearchOutcome = {
      passages: [],
      vectorLeg: embedder ? 'not_embedded' : 'no_provider',
      embeddingModel: null,
      tenantHasDocuments: false,
    };
    if (this.withoutPassages.has(tenantId)) return empty;
    const summary = await this.summaryOf(tenantId, embedder?.key ?? null);
    if (summary.total === 0) {
      this.withoutPassages.set(tenantId, true);
      return empty;
    }
    const [keywordHits, vectorResult] = await Promise.all([
      chunks.keywordSearch(tenantId, settings.searchConfig, withoutStopWords(query), LEG_DEPTH),
      this.vectorLeg(tenantId, embedder, summary, query, options),
    ]);
    const vectorHits = vectorResult.hits;
    const fused = reciprocalRankFusion([keywordHits.map((hit) => hit.id), vectorHits.map((hit) => hit.id)]);
    const ranked = [...fused.entries()].sort((left, right) => right[1] - left[1] || Number(left[0]) - Number(right[0])).slice(0, limit);
    const rows = new Map(
      (
        await chunks.byIdsWithTitles(
          tenantId,
          ranked.map(([id]) => id),
        )
      ).map((row) => [row.id, row]),
    );
    const queryTokens = contentTokens(query);
    const passages: RetrievedPassage[] = [];
    for (const [id, fusedScore] of ranked) {
      const row = rows.get(id);
      if (!row) continue;
      const keywordIndex = keywordHits.findIndex((hit) => hit.id === id);
      const vectorIndex = vectorHits.findIndex((hit) => hit.id === id);
      const keywordHit = keywordHits[keywordIndex];
      const coverage = keywordHit && keywordHit.terms > 0 ? keywordHit.matched / keywordHit.terms : 0;
      const similarity = vectorHits[vectorIndex]?.similarity ?? 0;
      // A Q/A passage is also scored as the Q/A retriever always scored entries (covering the stored question counts,
      // so "refund?" finds "What is your refund policy?" and a long message still finds the entry it asks about).
      const lexical = row.kind === 'document' ? 0 : scoreCandidate(queryTokens, { question: row.heading_path[0] ?? '', answer: row.text });
      passages.push({
        chunkId: id,
        documentId: row.document_id,
        kind: row.kind,
        entryId: row.entry_id,
        correctionId: row.correction_id,
        title: row.document_title,
        source: row.source,
        headingPath: row.heading_path,
        text: row.text,
        fusedScore,
        relevance: Math.max(coverage, lexical, Math.max(0, similarity)),
        keyword: keywordHit ? { rank: keywordIndex + 1, score: keywordHit.rank, coverage } : null,
        vector: vectorIndex >= 0 ? { rank: vectorIndex + 1, similarity } : null,
      });
    }
    return {
      passages,
      vectorLeg: vectorResult.state,
      embeddingModel: vectorResult.state === 'used' ? (embedder?.key ?? null) : null,
      tenantHasDocuments: summary.documentPassages > 0,
    };
  }

  private async vectorLeg(
    tenantId: string,
    embedder: TenantEmbedder | null,
    summary: { embedded: number; embeddingVersion: string },
    query: string,
    options: SearchOptions,
  ): Promise<{ hits: Array<{ id: string; similarity: number }>; state: SearchOutcome['vectorLeg'] }> {
    if (!embedder) return { hits: [], state: 'no_provider' };
    if (summary.embedded === 0) return { hits: [], state: 'not_embedded' };
    try {
      const [vector] = await embedder.embed([query], { ...options.context, purpose: 'query' });
      return {
        hits: await this.dependencies.vectors.search(tenantId, embedder.key, summary.embeddingVersion, vector, LEG_DEPTH),
        state: 'used',
      };
    } catch (error) {
      if (error instanceof EmbeddingUnavailableError) return { hits: [], state: 'unavailable' };
      throw error;
    }
  }
}
