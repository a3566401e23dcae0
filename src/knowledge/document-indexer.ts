/**
 * Indexes knowledge documents off the request path. The status column is the queue: the API stores a document
 * `queued`; a worker claims it (`indexing`, with a claim time), extracts its text (an uploaded file's stored bytes,
 * a fetched URL, or every page of a crawled site), chunks and embeds it, and writes the passages and `ready` in one
 * transaction, so a failed ingest leaves no chunks (or the previous good ones) and never a half-indexed document.
 * A worker that dies mid-way leaves the row `indexing`; after the lease another worker claims it again.
 */
import crypto from 'node:crypto';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { KnowledgeChunkRepository, NewKnowledgeChunk } from '../db/repositories/knowledge-chunk-repository';
import type { KnowledgeDocumentRepository, KnowledgeDocumentRow } from '../db/repositories/knowledge-document-repository';
import { EmbeddingUnavailableError, type EmbeddingService, type TenantEmbedder } from '../llm/embeddings';
import type { SafeHttpClient } from '../net/safe-http';
import type { ResolvedTenant } from '../tenants/tenant-service';
import { type ChunkingOptions, chunkSections, DEFAULT_CHUNKING } from './chunking';
import { knowledgeSettingsOf } from './knowledge-settings';
import { indexQuestionAnswerDocument } from './question-answer-indexing';
import { extractDocument } from './sources/extract';
import type { ExtractedDocument } from './sources/types';
import { SourceError } from './sources/types';
import { crawlSite, fetchDocument } from './sources/web-crawler';

export interface KnowledgeLimits {
  /** Most passages one tenant may hold: the vector index's bound (docs/knowledge.md). */
  maxChunksPerTenant: number;
  /** A crawl's bounds and pace. */
  maxPages: number;
  maxDepth: number;
  crawlDelayMs: number;
  /** An `indexing` claim older than this was left by a stopped worker. */
  leaseSeconds: number;
}

export const DEFAULT_KNOWLEDGE_LIMITS: KnowledgeLimits = {
  maxChunksPerTenant: 50_000,
  maxPages: 200,
  maxDepth: 3,
  crawlDelayMs: 500,
  leaseSeconds: 600,
};

export interface DocumentIndexerDependencies {
  dataSource: DataSource;
  documents: KnowledgeDocumentRepository;
  chunks: KnowledgeChunkRepository;
  tenants: { findById(id: string): Promise<ResolvedTenant | null> };
  embeddings: EmbeddingService | null;
  http: SafeHttpClient;
  logger: Logger;
  limits?: Partial<KnowledgeLimits>;
  chunking?: ChunkingOptions;
  /** Told after a tenant's passages changed (the search of this process forgets that the tenant had none). */
  onIndexed?: (tenantId: string) => void;
  /** Where text comes from (knowledge/sources/); replaceable for tests of the indexing itself. */
  sources?: Partial<DocumentSources>;
}

/** The source side's functions (knowledge/sources/), as the indexer calls them. */
export interface DocumentSources {
  extract: typeof extractDocument;
  fetch: typeof fetchDocument;
  crawl: typeof crawlSite;
}

/** What indexing one document did. */
export type IndexOutcome = 'indexed' | 'unchanged' | 'failed';

/** SHA-256 of a document's extracted text: re-indexing is skipped while it stays the same. */
export function fingerprintOf(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex');
}

/** The text embedded for a passage: its headings give a short passage its context. */
export function embeddingInput(chunk: Pick<NewKnowledgeChunk, 'headingPath' | 'text'>): string {
  return chunk.headingPath.length > 0 ? `${chunk.headingPath.join(' > ')}\n${chunk.text}` : chunk.text;
}

/** A passage limit the tenant would exceed. */
class ChunkLimitError extends Error {}

/** Claims and indexes queued documents. */
export class DocumentIndexer {
  private readonly limits: KnowledgeLimits;
  private readonly chunking: ChunkingOptions;
  private readonly sources: DocumentSources;

  constructor(private readonly dependencies: DocumentIndexerDependencies) {
    this.limits = { ...DEFAULT_KNOWLEDGE_LIMITS, ...dependencies.limits };
    this.chunking = dependencies.chunking ?? DEFAULT_CHUNKING;
    this.sources = { extract: extractDocument, fetch: fetchDocument, crawl: crawlSite, ...dependencies.sources };
  }

  /** The limits in force (the API checks uploads against the same ones). */
  get knowledgeLimits(): KnowledgeLimits {
    return this.limits;
  }

  /** Claims one waiting document and indexes it; null when none is waiting. */
  async indexNext(): Promise<{ documentId: string; outcome: IndexOutcome } | null> {
    const document = await this.dependencies.documents.claimNext(this.limits.leaseSeconds);
    if (!document) return null;
    return { documentId: document.id, outcome: await this.indexClaimed(document) };
  }

  /** Indexes documents until none is waiting (tests, the CLI); how many were processed. */
  async runUntilIdle(): Promise<number> {
    let processed = 0;
    while (await this.indexNext()) processed += 1;
    return processed;
  }

  /** Indexes a claimed document; every failure ends as `failed` with its reason, never as an exception. */
  async indexClaimed(document: KnowledgeDocumentRow): Promise<IndexOutcome> {
    const { documents, logger } = this.dependencies;
    try {
      const tenant = await this.dependencies.tenants.findById(document.tenant_id);
      if (!tenant) {
        await documents.markFailed(document.id, 'tenant_gone: the tenant no longer exists');
        return 'failed';
      }
      if (document.source_kind === 'site') return await this.indexSite(tenant, document);
      if (document.source_kind === 'faq')
        return await indexQuestionAnswerDocument({ ...this.dependencies, embedder: this.embedderOf(tenant) }, tenant, document);
      return await this.indexExtracted(tenant, document, await this.extract(document));
    } catch (error) {
      const reason =
        error instanceof SourceError
          ? `${error.code}: ${error.message}`
          : error instanceof ChunkLimitError
            ? `too_many_chunks: ${error.message}`
            : 'internal_error: indexing failed; see the server log';
      if (!(error instanceof SourceError) && !(error instanceof ChunkLimitError))
        logger.error({ err: error, documentId: document.id, tenantId: document.tenant_id }, 'knowledge indexing failed');
      await documents.markFailed(document.id, reason);
      return 'failed';
    }
  }

  /** The document's text: a stored upload, or the URL fetched now. */
  private async extract(document: KnowledgeDocumentRow): Promise<ExtractedDocument> {
    if (document.source_kind === 'url' && document.source_url) return this.sources.fetch(document.source_url, this.dependencies.http);
    const bytes = await this.dependencies.documents.sourceBytes(document.id);
    if (!bytes) throw new SourceError('no_text', 'the document has no stored content');
    return this.sources.extract({ bytes, contentType: document.content_type ?? undefined, fileName: document.file_name ?? undefined });
  }

  /** The embedder the tenant's passages use now; null for keyword-only tenants. */
  private embedderOf(tenant: ResolvedTenant): TenantEmbedder | null {
    return this.dependencies.embeddings?.forTenant(tenant.tenant.id, tenant.credentials, tenant.settings) ?? null;
  }

  /**
   * Chunks, embeds and stores one extracted document. Unchanged text, indexed with the same search language and
   * embedding model, is a no-op: only the sync time moves.
   */
  private async indexExtracted(
    tenant: ResolvedTenant,
    document: KnowledgeDocumentRow,
    extracted: ExtractedDocument,
  ): Promise<IndexOutcome> {
    const { documents, chunks, dataSource, logger } = this.dependencies;
    const settings = knowledgeSettingsOf(tenant.settings);
    const embedder = this.embedderOf(tenant);
    const fingerprint = fingerprintOf(extracted.text);
    if (
      document.fingerprint === fingerprint &&
      document.embedding_model === (embedder?.key ?? null) &&
      (await this.searchConfigOf(document.id)) === settings.searchConfig
    ) {
      await documents.markUnchanged(document.id);
      return 'unchanged';
    }
    const source = document.source_url ?? document.file_name ?? '';
    const passages = chunkSections(extracted.sections, this.chunking);
    if (passages.length === 0) throw new SourceError('no_text', 'the document has no readable text');
    let vectors: Float32Array[] | null = null;
    if (embedder) {
      try {
        vectors = await embedder.embed(passages.map(embeddingInput), { purpose: 'document' });
      } catch (error) {
        // The passages are still found by keyword; a later re-sync embeds them once the model answers again.
        if (!(error instanceof EmbeddingUnavailableError)) throw error;
        logger.warn({ documentId: document.id, tenantId: tenant.tenant.id, err: error }, 'indexing without embeddings');
      }
    }
    const rows: NewKnowledgeChunk[] = passages.map((passage, index) => ({
      ...passage,
      source,
      embedding: vectors?.[index] ?? null,
    }));
    await dataSource.transaction(async (manager) => {
      // Serializes a tenant's concurrent ingests, so two cannot both pass the limit check.
      await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`knowledge:${tenant.tenant.id}`]);
      const held = await chunks.countForTenant(tenant.tenant.id, manager);
      const own = document.chunk_count;
      if (held - own + rows.length > this.limits.maxChunksPerTenant)
        throw new ChunkLimitError(
          `${rows.length} passages would bring the tenant to ${held - own + rows.length}; the limit is ${this.limits.maxChunksPerTenant}`,
        );
      await chunks.replaceForDocument(
        manager,
        { id: document.id, tenantId: tenant.tenant.id },
        rows,
        settings.searchConfig,
        vectors ? embedder!.key : null,
      );
      await documents.markReady(
        document.id,
        {
          // A title the user gave is kept; the default (the file name or URL) gives way to the document's own.
          title: document.title === (document.file_name ?? document.source_url) ? extracted.title || document.title : document.title,
          fingerprint,
          chunkCount: rows.length,
          embeddingModel: vectors ? embedder!.key : null,
        },
        manager,
      );
    });
    this.dependencies.onIndexed?.(tenant.tenant.id);
    return 'indexed';
  }

  private async searchConfigOf(documentId: string): Promise<string | null> {
    const rows: Array<{ search_config: string }> = await this.dependencies.dataSource.query(
      'SELECT search_config FROM knowledge_chunks WHERE document_id = $1 LIMIT 1',
      [documentId],
    );
    return rows[0]?.search_config ?? null;
  }

  /**
   * Crawls a site: each page is a document under the site's, indexed only when its fingerprint changed; pages the
   * crawl no longer finds are removed. A crawl whose start page fails removes nothing (a site that is down for an
   * hour must not lose its knowledge).
   */
  private async indexSite(tenant: ResolvedTenant, site: KnowledgeDocumentRow): Promise<IndexOutcome> {
    const { documents, logger } = this.dependencies;
    if (!site.source_url) throw new SourceError('fetch_failed', 'the site has no start URL');
    const existing = new Map((await documents.pagesOf(site.id)).map((page) => [page.source_url ?? '', page]));
    const seen = new Set<string>();
    let pagesFailed = 0;
    let startFailed: SourceError | null = null;
    for await (const result of this.sources.crawl({
      startUrl: site.source_url,
      maxPages: this.limits.maxPages,
      maxDepth: this.limits.maxDepth,
      delayMs: this.limits.crawlDelayMs,
      client: this.dependencies.http,
    })) {
      if ('error' in result) {
        if (result.url === site.source_url) startFailed = result.error;
        pagesFailed += 1;
        // A page that fails now keeps its last good passages.
        if (existing.has(result.url)) seen.add(result.url);
        continue;
      }
      seen.add(result.url);
      const page =
        existing.get(result.url) ??
        (await documents.insert({
          tenantId: site.tenant_id,
          title: result.document.title || result.url,
          sourceKind: 'url',
          sourceUrl: result.url,
          siteDocumentId: site.id,
          claimed: true,
        }));
      const pageRow = (await documents.find(site.tenant_id, page.id)) as KnowledgeDocumentRow;
      try {
        await this.indexExtracted(tenant, pageRow, result.document);
      } catch (error) {
        pagesFailed += 1;
        const reason = error instanceof SourceError ? `${error.code}: ${error.message}` : 'internal_error: indexing failed';
        if (!(error instanceof SourceError)) logger.error({ err: error, documentId: page.id }, 'knowledge page indexing failed');
        await documents.markFailed(page.id, reason);
      }
    }
    // Without the start page the crawl cannot tell a deleted page from one it did not reach: nothing is removed.
    if (startFailed || seen.size === 0) {
      await documents.markFailed(site.id, startFailed ? `${startFailed.code}: ${startFailed.message}` : 'no_text: the crawl found no page');
      return 'failed';
    }
    const gone = [...existing.values()].filter((page) => !seen.has(page.source_url ?? '')).map((page) => page.id);
    await documents.deletePages(site.id, gone);
    const pages = await documents.pagesOf(site.id);
    const fingerprint = fingerprintOf(
      pages
        .map((page) => `${page.source_url} ${page.fingerprint}`)
        .sort()
        .join('\n'),
    );
    await documents.markReady(site.id, {
      title: site.title,
      fingerprint,
      chunkCount: 0,
      embeddingModel: this.embedderOf(tenant)?.key ?? null,
    });
    logger.info({ documentId: site.id, pages: pages.length, removed: gone.length, pagesFailed }, 'knowledge site synced');
    return 'indexed';
  }
}
