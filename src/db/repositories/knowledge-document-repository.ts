/**
 * The one home of the SQL on `knowledge_documents`: the API's reads and writes, the indexing worker's claim (a
 * crash-safe queue in the status column) and the re-sync job's reads. Every API read is scoped to a tenant.
 */
import type { EntityManager } from 'typeorm';
import { addPageConditions, cursorKeySql, type PageQuery, pageOrderSql } from '../keyset-pagination';

export type KnowledgeSourceKind = 'file' | 'url' | 'site' | 'faq';
export type KnowledgeDocumentStatus = 'queued' | 'indexing' | 'ready' | 'failed';

/** The title of a tenant's `faq` document, which holds its Q/A entries and approved corrections as passages. */
export const QUESTION_ANSWER_DOCUMENT_TITLE = 'Questions and answers';

/** A stored document row (without the uploaded bytes), with its page cursor key. */
export interface KnowledgeDocumentRow {
  id: string;
  tenant_id: string;
  site_document_id: string | null;
  title: string;
  source_kind: KnowledgeSourceKind;
  source_url: string | null;
  file_name: string | null;
  content_type: string | null;
  fingerprint: string | null;
  status: KnowledgeDocumentStatus;
  failure_reason: string | null;
  chunk_count: number;
  embedding_model: string | null;
  claimed_at: Date | null;
  last_synced_at: Date | null;
  created_at: Date;
  updated_at: Date;
  cursor_micros: string;
}

/** What a new document starts from. */
export interface NewKnowledgeDocument {
  tenantId: string;
  title: string;
  sourceKind: KnowledgeSourceKind;
  sourceUrl?: string | null;
  fileName?: string | null;
  contentType?: string | null;
  sourceBytes?: Buffer | null;
  siteDocumentId?: string | null;
  /** Stored already claimed by the caller (a crawled page the crawl indexes itself), not queued for a worker. */
  claimed?: boolean;
}

const COLUMNS = `d.id, d.tenant_id, d.site_document_id, d.title, d.source_kind, d.source_url, d.file_name, d.content_type,
  d.fingerprint, d.status, d.failure_reason, d.chunk_count, d.embedding_model, d.claimed_at, d.last_synced_at,
  d.created_at, d.updated_at, ${cursorKeySql('d.created_at')} AS cursor_micros`;

/** Reads and writes `knowledge_documents`. */
export class KnowledgeDocumentRepository {
  constructor(private readonly manager: EntityManager) {}

  /** Stores a new document, queued for indexing (or claimed, see NewKnowledgeDocument.claimed). */
  async insert(document: NewKnowledgeDocument, manager: EntityManager = this.manager): Promise<KnowledgeDocumentRow> {
    const rows: KnowledgeDocumentRow[] = await manager.query(
      `INSERT INTO knowledge_documents AS d (tenant_id, title, source_kind, source_url, file_name, content_type, source_bytes,
                                            site_document_id, status, claimed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $9 THEN 'indexing' ELSE 'queued' END, CASE WHEN $9 THEN now() END)
       RETURNING ${COLUMNS}`,
      [
        document.tenantId,
        document.title,
        document.sourceKind,
        document.sourceUrl ?? null,
        document.fileName ?? null,
        document.contentType ?? null,
        document.sourceBytes ?? null,
        document.siteDocumentId ?? null,
        document.claimed ?? false,
      ],
    );
    return rows[0];
  }

  /** A page (limit + 1 rows, newest first) of the tenant's documents; crawled pages are listed under their site. */
  list(
    tenantId: string,
    query: PageQuery & { status?: KnowledgeDocumentStatus; siteDocumentId?: string },
  ): Promise<KnowledgeDocumentRow[]> {
    const parameters: unknown[] = [tenantId];
    const conditions = ['d.tenant_id = $1'];
    if (query.siteDocumentId) {
      parameters.push(query.siteDocumentId);
      conditions.push(`d.site_document_id = $${parameters.length}`);
    } else conditions.push('d.site_document_id IS NULL');
    if (query.status) {
      parameters.push(query.status);
      conditions.push(`d.status = $${parameters.length}`);
    }
    const columns = { createdAt: 'd.created_at', id: 'd.id' };
    addPageConditions(query, columns, conditions, parameters);
    const order = pageOrderSql(query, columns, parameters);
    return this.manager.query(`SELECT ${COLUMNS} FROM knowledge_documents d WHERE ${conditions.join(' AND ')} ${order}`, parameters);
  }

  /**
   * The tenant's `faq` document (its Q/A entries and approved corrections), created on first use and queued, so the
   * indexer embeds the passages written with it. Queued even while a worker indexes it: that worker's pass may have
   * looked for passages already, and it then leaves the document queued (markQuestionAnswersReady) for another pass.
   * Locks the row until the caller's transaction ends.
   */
  async queueQuestionAnswerDocument(tenantId: string, manager: EntityManager): Promise<{ id: string }> {
    const rows: Array<{ id: string }> = await manager.query(
      `INSERT INTO knowledge_documents AS d (tenant_id, title, source_kind) VALUES ($1, $2, 'faq')
       ON CONFLICT (tenant_id) WHERE source_kind = 'faq'
       DO UPDATE SET status = 'queued', claimed_at = NULL, updated_at = now()
       RETURNING d.id`,
      [tenantId, QUESTION_ANSWER_DOCUMENT_TITLE],
    );
    return rows[0];
  }

  /** One document of the tenant, or null. */
  async find(tenantId: string, id: string, manager: EntityManager = this.manager): Promise<KnowledgeDocumentRow | null> {
    const rows: KnowledgeDocumentRow[] = await manager.query(
      `SELECT ${COLUMNS} FROM knowledge_documents d WHERE d.id = $1 AND d.tenant_id = $2`,
      [id, tenantId],
    );
    return rows[0] ?? null;
  }

  /** An uploaded file's stored bytes (null for a URL source). */
  async sourceBytes(id: string): Promise<Buffer | null> {
    const rows: Array<{ source_bytes: Buffer | null }> = await this.manager.query(
      'SELECT source_bytes FROM knowledge_documents WHERE id = $1',
      [id],
    );
    return rows[0]?.source_bytes ?? null;
  }

  /**
   * Claims the oldest document waiting for indexing: a queued one, or one left `indexing` by a worker that stopped
   * more than `leaseSeconds` ago (a crash: the status column is the queue). SKIP LOCKED lets workers claim in parallel.
   */
  async claimNext(leaseSeconds: number): Promise<KnowledgeDocumentRow | null> {
    const rows: KnowledgeDocumentRow[] = await this.manager.query(
      `UPDATE knowledge_documents d SET status = 'indexing', claimed_at = now(), updated_at = now()
       WHERE d.id = (
         SELECT id FROM knowledge_documents
          WHERE status = 'queued' OR (status = 'indexing' AND claimed_at < now() - make_interval(secs => $1))
          ORDER BY claimed_at NULLS FIRST, created_at
          LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING ${COLUMNS}`,
      [leaseSeconds],
    );
    // TypeORM returns [rows, count] for an UPDATE ... RETURNING on PostgreSQL.
    return (Array.isArray(rows[0]) ? (rows[0] as unknown as KnowledgeDocumentRow[])[0] : rows[0]) ?? null;
  }

  /** Marks a document indexed; its chunks were written in the same transaction (`manager`). */
  async markReady(
    id: string,
    result: { title: string; fingerprint: string; chunkCount: number; embeddingModel: string | null },
    manager: EntityManager = this.manager,
  ): Promise<void> {
    await manager.query(
      `UPDATE knowledge_documents SET status = 'ready', failure_reason = NULL, title = $2, fingerprint = $3, chunk_count = $4,
              embedding_model = $5, claimed_at = NULL, last_synced_at = now(), updated_at = now()
       WHERE id = $1`,
      [id, result.title, result.fingerprint, result.chunkCount, result.embeddingModel],
    );
  }

  /** Locks a document's row until the caller's transaction ends (the indexer and the Q/A writers take turns on `faq`). */
  async lock(id: string, manager: EntityManager): Promise<void> {
    await manager.query('SELECT id FROM knowledge_documents WHERE id = $1 FOR UPDATE', [id]);
  }

  /** Marks a `faq` document indexed, unless a writer queued it again meanwhile (then another pass follows). */
  async markQuestionAnswersReady(
    id: string,
    result: { chunkCount: number; fingerprint: string; embeddingModel: string | null },
  ): Promise<void> {
    await this.manager.query(
      `UPDATE knowledge_documents SET status = 'ready', failure_reason = NULL, fingerprint = $2, chunk_count = $3, embedding_model = $4,
              claimed_at = NULL, last_synced_at = now(), updated_at = now()
       WHERE id = $1 AND status = 'indexing'`,
      [id, result.fingerprint, result.chunkCount, result.embeddingModel],
    );
  }

  /** An unchanged source was checked again: ready as it was, with a new sync time. */
  async markUnchanged(id: string, manager: EntityManager = this.manager): Promise<void> {
    await manager.query(
      `UPDATE knowledge_documents SET status = 'ready', failure_reason = NULL, claimed_at = NULL, last_synced_at = now(), updated_at = now()
       WHERE id = $1`,
      [id],
    );
  }

  /** Marks a document failed with the reason; its chunks (none, or the last good ones on re-sync) are left as they are. */
  async markFailed(id: string, reason: string): Promise<void> {
    await this.manager.query(
      `UPDATE knowledge_documents SET status = 'failed', failure_reason = $2, claimed_at = NULL, updated_at = now() WHERE id = $1`,
      [id, reason.slice(0, 1000)],
    );
  }

  /** Queues a document again (re-sync); false when the tenant has no such document. */
  async requeue(tenantId: string, id: string): Promise<boolean> {
    const rows: unknown[] = await this.manager.query(
      `UPDATE knowledge_documents SET status = 'queued', claimed_at = NULL, updated_at = now()
       WHERE id = $1 AND tenant_id = $2 AND status <> 'indexing' RETURNING id`,
      [id, tenantId],
    );
    return (Array.isArray(rows[0]) ? (rows[0] as unknown[]) : rows).length > 0;
  }

  /** Queues every ready or failed URL and site document last synced before `before` (the re-sync job); how many. */
  async requeueStale(before: Date): Promise<number> {
    const result: [unknown[], number] = await this.manager.query(
      `UPDATE knowledge_documents SET status = 'queued', claimed_at = NULL, updated_at = now()
       WHERE source_kind IN ('url', 'site') AND site_document_id IS NULL AND status IN ('ready', 'failed')
         AND coalesce(last_synced_at, created_at) < $1`,
      [before],
    );
    return result[1] ?? 0;
  }

  /** Deletes a document of the tenant (its chunks and crawled pages go with it); false when there was none. */
  async delete(tenantId: string, id: string): Promise<boolean> {
    const result: [unknown[], number] = await this.manager.query('DELETE FROM knowledge_documents WHERE id = $1 AND tenant_id = $2', [
      id,
      tenantId,
    ]);
    return (result[1] ?? 0) > 0;
  }

  /** The pages a site's last crawl found, by URL. */
  async pagesOf(siteDocumentId: string): Promise<Array<Pick<KnowledgeDocumentRow, 'id' | 'source_url' | 'fingerprint'>>> {
    return this.manager.query('SELECT id, source_url, fingerprint FROM knowledge_documents WHERE site_document_id = $1', [siteDocumentId]);
  }

  /** Deletes crawled pages by id (pages the site no longer has). */
  async deletePages(siteDocumentId: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.manager.query('DELETE FROM knowledge_documents WHERE site_document_id = $1 AND id = ANY($2::uuid[])', [siteDocumentId, ids]);
  }
}
