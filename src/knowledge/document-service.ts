/**
 * Knowledge documents of a tenant, as the API and the CLI handle them: add (an uploaded file, a URL, a site),
 * list, read with passages, re-sync, delete, and the retrieval test bench (search). Adding only stores and queues
 * the document: extraction, chunking and embedding run in the indexing worker (document-indexer.ts).
 */
import type { KnowledgeChunkRepository, PassageKind } from '../db/repositories/knowledge-chunk-repository';
import type {
  KnowledgeDocumentRepository,
  KnowledgeDocumentRow,
  KnowledgeDocumentStatus,
} from '../db/repositories/knowledge-document-repository';
import type { PageQuery } from '../db/keyset-pagination';
import { AppError, conflict, notFound } from '../http/errors';
import { type Page, toPage } from '../http/pagination';
import { checkTenantUrl, type TenantUrlPolicy } from '../net/tenant-url';
import type { TenantService } from '../tenants/tenant-service';
import type { KnowledgeSearch, SearchOutcome } from './hybrid-search';

/** The largest file accepted (the source side's cap: knowledge/sources/extract.ts). */
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;

/** File types by extension and by declared content type; the extractor sniffs the bytes again. */
const EXTENSIONS = new Set(['md', 'markdown', 'txt', 'text', 'html', 'htm', 'pdf']);
const CONTENT_TYPES = new Set(['text/markdown', 'text/x-markdown', 'text/plain', 'text/html', 'application/xhtml+xml', 'application/pdf']);

/** An uploaded file. */
export interface DocumentUpload {
  bytes: Buffer;
  fileName: string;
  contentType?: string;
  title?: string;
}

/** The API form of a document. */
export interface DocumentView {
  id: string;
  title: string;
  source_kind: KnowledgeDocumentRow['source_kind'];
  source_url: string | null;
  file_name: string | null;
  site_document_id: string | null;
  status: KnowledgeDocumentStatus;
  failure_reason: string | null;
  fingerprint: string | null;
  chunk_count: number;
  embedding_model: string | null;
  last_synced_at: string | null;
  created_at: string;
  updated_at: string;
}

/** The API form of a document with its passages. */
export interface DocumentDetailView extends DocumentView {
  chunks: Array<{
    id: string;
    kind: PassageKind;
    ordinal: number;
    heading_path: string[];
    text: string;
    token_count: number;
    source: string;
    embedded: boolean;
  }>;
}

/** The API form of a search. */
export interface SearchView {
  query: string;
  vector_leg: SearchOutcome['vectorLeg'];
  embedding_model: string | null;
  passages: Array<{
    chunk_id: string;
    document_id: string;
    kind: PassageKind;
    entry_id: string | null;
    correction_id: string | null;
    title: string;
    source: string;
    heading_path: string[];
    text: string;
    score: number;
    relevance: number;
    keyword: { rank: number; score: number; coverage: number } | null;
    vector: { rank: number; similarity: number } | null;
  }>;
}

/** 415 with the source side's code: the file is not a type Parley reads. */
const unsupportedType = (message: string) => new AppError(415, 'unsupported_type', message);
/** 413: over the size limit. */
const tooLarge = (message: string) => new AppError(413, 'too_large', message);

/** The API form of a row. */
export function presentDocument(row: KnowledgeDocumentRow): DocumentView {
  return {
    id: row.id,
    title: row.title,
    source_kind: row.source_kind,
    source_url: row.source_url,
    file_name: row.file_name,
    site_document_id: row.site_document_id,
    status: row.status,
    failure_reason: row.failure_reason,
    fingerprint: row.fingerprint?.trim() ?? null,
    chunk_count: row.chunk_count,
    embedding_model: row.embedding_model,
    last_synced_at: row.last_synced_at?.toISOString() ?? null,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export interface KnowledgeDocumentServiceDependencies {
  documents: KnowledgeDocumentRepository;
  chunks: KnowledgeChunkRepository;
  search: KnowledgeSearch;
  tenants: Pick<TenantService, 'findById'>;
  /** The policy URLs must pass when added (the fetch checks the resolved address again at connect time). */
  urlPolicy: TenantUrlPolicy;
  /** Told when a document is queued, so the worker starts at once. */
  onQueued?: () => void;
}

/** Adds, lists, re-syncs, deletes and searches knowledge documents. */
export class KnowledgeDocumentService {
  constructor(private readonly dependencies: KnowledgeDocumentServiceDependencies) {}

  /** Stores an uploaded file, queued; 415 for a type Parley does not read, 413 over the size limit. */
  async addFile(tenantId: string, upload: DocumentUpload): Promise<DocumentView> {
    if (upload.bytes.length > MAX_UPLOAD_BYTES)
      throw tooLarge(`the file is ${upload.bytes.length} bytes; the limit is ${MAX_UPLOAD_BYTES} bytes`);
    if (upload.bytes.length === 0) throw new AppError(400, 'no_text', 'the file is empty');
    const extension = upload.fileName.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
    const contentType = upload.contentType?.split(';')[0].trim().toLowerCase();
    if (extension === 'csv' || extension === 'json')
      throw unsupportedType('question/answer files (CSV, JSON) are imported with POST /v1/bot/knowledge/import');
    const known = (extension !== undefined && EXTENSIONS.has(extension)) || (contentType !== undefined && CONTENT_TYPES.has(contentType));
    if (!known) throw unsupportedType('the file must be Markdown, plain text, HTML or PDF (.md, .txt, .html, .pdf)');
    const row = await this.dependencies.documents.insert({
      tenantId,
      title: upload.title ?? upload.fileName,
      sourceKind: 'file',
      fileName: upload.fileName,
      contentType: contentType ?? null,
      sourceBytes: upload.bytes,
    });
    this.dependencies.onQueued?.();
    return presentDocument(row);
  }

  /** Stores a web page (`url`) or a site to crawl from a start page or sitemap (`site`), queued. */
  async addUrl(tenantId: string, input: { url: string; kind: 'url' | 'site'; title?: string }): Promise<DocumentView> {
    const checked = checkTenantUrl(input.url, this.dependencies.urlPolicy);
    if (!checked.ok) throw new AppError(400, 'forbidden_destination', `url ${checked.reason}`);
    const row = await this.dependencies.documents.insert({
      tenantId,
      title: input.title ?? input.url,
      sourceKind: input.kind,
      sourceUrl: input.url,
    });
    this.dependencies.onQueued?.();
    return presentDocument(row);
  }

  /** A page of the tenant's documents (or of a site's pages), newest first. */
  async list(
    tenantId: string,
    query: PageQuery & { status?: KnowledgeDocumentStatus; siteDocumentId?: string },
  ): Promise<Page<DocumentView>> {
    const rows = await this.dependencies.documents.list(tenantId, query);
    return toPage(rows, query.limit, presentDocument);
  }

  /** One document with its passages; 404 when the tenant has none with this id. */
  async get(tenantId: string, id: string): Promise<DocumentDetailView> {
    const row = await this.dependencies.documents.find(tenantId, id);
    if (!row) throw notFound('Knowledge document');
    const chunks = await this.dependencies.chunks.forDocument(row.id);
    return {
      ...presentDocument(row),
      chunks: chunks.map((chunk) => ({
        id: chunk.id,
        kind: chunk.kind,
        ordinal: chunk.ordinal,
        heading_path: chunk.heading_path,
        text: chunk.text,
        token_count: chunk.token_count,
        source: chunk.source,
        embedded: chunk.embedding_model !== null,
      })),
    };
  }

  /** Queues a document to be fetched or read again; 409 while it is being indexed. */
  async resync(tenantId: string, id: string): Promise<DocumentView> {
    const row = await this.dependencies.documents.find(tenantId, id);
    if (!row) throw notFound('Knowledge document');
    if (!(await this.dependencies.documents.requeue(tenantId, id)))
      throw conflict('The document is being indexed now; try again when it is done');
    this.dependencies.onQueued?.();
    return presentDocument((await this.dependencies.documents.find(tenantId, id))!);
  }

  /**
   * Deletes a document with its passages (and a site with its pages). The `faq` document is its tenant's entries and
   * corrections: 409, since they are deleted one by one through their own APIs (it would come back with the next one).
   */
  async delete(tenantId: string, id: string): Promise<void> {
    const row = await this.dependencies.documents.find(tenantId, id);
    if (!row) throw notFound('Knowledge document');
    if (row.source_kind === 'faq')
      throw conflict(
        'This document is the Q/A entries and approved corrections; delete those through /v1/bot/knowledge and /v1/bot/corrections',
      );
    if (!(await this.dependencies.documents.delete(tenantId, id))) throw notFound('Knowledge document');
  }

  /** The passages a customer's message would retrieve, with both legs' ranks and scores. */
  async search(tenantId: string, query: string, limit: number): Promise<SearchView> {
    const tenant = await this.dependencies.tenants.findById(tenantId);
    if (!tenant) throw notFound('Tenant');
    const outcome = await this.dependencies.search.search(tenant, query, { limit });
    return {
      query,
      vector_leg: outcome.vectorLeg,
      embedding_model: outcome.embeddingModel,
      passages: outcome.passages.map((passage) => ({
        chunk_id: passage.chunkId,
        document_id: passage.documentId,
        kind: passage.kind,
        entry_id: passage.entryId,
        correction_id: passage.correctionId,
        title: passage.title,
        source: passage.source,
        heading_path: passage.headingPath,
        text: passage.text,
        score: passage.fusedScore,
        relevance: passage.relevance,
        keyword: passage.keyword,
        vector: passage.vector,
      })),
    };
  }
}
