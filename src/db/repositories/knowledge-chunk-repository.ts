/**
 * The one home of the SQL on `knowledge_chunks`: a document's passages written in one statement batch inside the
 * indexing transaction, the passages of Q/A entries and approved corrections (written in the transaction that
 * changes them), the keyword leg (full-text search ranked by ts_rank_cd), and the reads the in-process vector index
 * loads embeddings with.
 */
import os from 'node:os';
import type { EntityManager } from 'typeorm';

/** A passage to store. */
export interface NewKnowledgeChunk {
  ordinal: number;
  headingPath: string[];
  text: string;
  tokenCount: number;
  source: string;
  /** Unit-length float32 vector, or null when the tenant has no provider able to embed. */
  embedding: Float32Array | null;
}

/** What a passage is a part of: a document, or one Q/A entry or approved correction (in the tenant's `faq` document). */
export type PassageKind = 'document' | 'entry' | 'correction';

/** A passage made of a Q/A entry (question, answer) or an approved correction (customer message, human answer). */
export interface QuestionAnswerPassage {
  kind: 'entry' | 'correction';
  /** The entry's or the correction's id. */
  sourceId: string;
  question: string;
  answer: string;
  tokenCount: number;
}

/** A stored passage as the API and the agent read it. */
export interface KnowledgeChunkRow {
  id: string;
  document_id: string;
  kind: PassageKind;
  entry_id: string | null;
  correction_id: string | null;
  ordinal: number;
  heading_path: string[];
  text: string;
  token_count: number;
  source: string;
  embedding_model: string | null;
}

/** One hit of the keyword leg. */
export interface KeywordHit {
  id: string;
  /** ts_rank_cd of the passage for the OR of the query's lexemes. */
  rank: number;
  /** How many of the query's distinct lexemes the passage has, of `terms`. */
  matched: number;
  terms: number;
}

/** The columns a passage is read with, of the table under `alias` (or unqualified). */
const ROW_COLUMNS_OF = (alias?: string) => {
  const column = (name: string) => (alias ? `${alias}.${name}` : name);
  return `${column('id')}::text AS id, ${['document_id', 'ordinal', 'heading_path', 'text', 'token_count', 'source', 'embedding_model', 'entry_id', 'correction_id'].map(column).join(', ')},
  CASE WHEN ${column('entry_id')} IS NOT NULL THEN 'entry' WHEN ${column('correction_id')} IS NOT NULL THEN 'correction' ELSE 'document' END AS kind`;
};
const ROW_COLUMNS = ROW_COLUMNS_OF();

/** Rows per INSERT: 9 arrays of this many values stay far below the protocol's limits. */
const INSERT_BATCH = 500;

/** A float32 vector as stored (little-endian bytes). */
export function embeddingToBytes(vector: Float32Array): Buffer {
  const bytes = Buffer.alloc(vector.length * 4);
  for (let index = 0; index < vector.length; index += 1) bytes.writeFloatLE(vector[index], index * 4);
  return bytes;
}

const LITTLE_ENDIAN = os.endianness() === 'LE';

/** The stored bytes back as a float32 vector. */
export function bytesToEmbedding(bytes: Buffer): Float32Array {
  // The common case: the bytes are already this machine's float32 layout; copied to an aligned buffer in one go.
  if (LITTLE_ENDIAN) return new Float32Array(Uint8Array.from(bytes).buffer, 0, bytes.length / 4);
  const vector = new Float32Array(bytes.length / 4);
  for (let index = 0; index < vector.length; index += 1) vector[index] = bytes.readFloatLE(index * 4);
  return vector;
}

/** Reads and writes `knowledge_chunks`. */
export class KnowledgeChunkRepository {
  constructor(private readonly manager: EntityManager) {}

  /**
   * Replaces a document's passages: call inside the indexing transaction, so a failed ingest leaves the previous
   * passages (or none) and never a half-written document. The tsvector is built here with the tenant's configuration.
   */
  async replaceForDocument(
    manager: EntityManager,
    document: { id: string; tenantId: string },
    chunks: NewKnowledgeChunk[],
    searchConfig: string,
    embeddingModel: string | null,
  ): Promise<void> {
    await manager.query('DELETE FROM knowledge_chunks WHERE document_id = $1', [document.id]);
    for (let start = 0; start < chunks.length; start += INSERT_BATCH) {
      const batch = chunks.slice(start, start + INSERT_BATCH);
      await manager.query(
        `INSERT INTO knowledge_chunks (document_id, tenant_id, ordinal, heading_path, text, token_count, source, search_config,
                                       search_vector, embedding, embedding_model, embedding_dimensions)
         SELECT $1::uuid, $2::uuid, row.ordinal, ARRAY(SELECT jsonb_array_elements_text(row.heading_path::jsonb)), row.text, row.token_count,
                row.source, $3::text, to_tsvector($3::text::regconfig, array_to_string(ARRAY(SELECT jsonb_array_elements_text(row.heading_path::jsonb)), ' ') || ' ' || row.text),
                row.embedding, CASE WHEN row.embedding IS NULL THEN NULL ELSE $4::text END,
                CASE WHEN row.embedding IS NULL THEN NULL ELSE length(row.embedding) / 4 END
           FROM unnest($5::int[], $6::text[], $7::text[], $8::int[], $9::text[], $10::bytea[])
                AS row(ordinal, heading_path, text, token_count, source, embedding)`,
        [
          document.id,
          document.tenantId,
          searchConfig,
          embeddingModel,
          batch.map((chunk) => chunk.ordinal),
          batch.map((chunk) => JSON.stringify(chunk.headingPath)),
          batch.map((chunk) => chunk.text),
          batch.map((chunk) => chunk.tokenCount),
          batch.map((chunk) => chunk.source),
          batch.map((chunk) => (chunk.embedding ? embeddingToBytes(chunk.embedding) : null)),
        ],
      );
    }
  }

  /** A document's passages in order. */
  forDocument(documentId: string): Promise<KnowledgeChunkRow[]> {
    return this.manager.query(`SELECT ${ROW_COLUMNS} FROM knowledge_chunks WHERE document_id = $1 ORDER BY ordinal`, [documentId]);
  }

  /** Passages of the tenant by id (ids of other tenants are ignored). */
  byIds(tenantId: string, ids: string[]): Promise<KnowledgeChunkRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.manager.query(`SELECT ${ROW_COLUMNS} FROM knowledge_chunks WHERE tenant_id = $1 AND id = ANY($2::bigint[])`, [
      tenantId,
      ids,
    ]);
  }

  /** The same, each with its document's title (one statement: the search and the sources under an answer cite both). */
  byIdsWithTitles(tenantId: string, ids: string[]): Promise<Array<KnowledgeChunkRow & { document_title: string }>> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.manager.query(
      `SELECT ${ROW_COLUMNS_OF('c')}, d.title AS document_title
         FROM knowledge_chunks c JOIN knowledge_documents d ON d.id = c.document_id
        WHERE c.tenant_id = $1 AND c.id = ANY($2::bigint[])`,
      [tenantId, ids],
    );
  }

  /**
   * The keyword leg: passages matching any word of the query (OR of the query's lexemes, so a customer's long question
   * still finds a passage that shares its key words), best ts_rank_cd first. Words are normalized by the tenant's
   * configuration (stemmed, accents folded) on both sides.
   */
  keywordSearch(tenantId: string, searchConfig: string, query: string, limit: number): Promise<KeywordHit[]> {
    return this.manager.query(
      `WITH query AS (
         SELECT array_agg(replace(lexeme, '\\', '')) AS lexemes,
                string_agg(quote_literal(replace(lexeme, '\\', '')), ' | ')::tsquery AS terms
           FROM unnest(to_tsvector($2::text::regconfig, $3::text))
       ), hits AS (
         SELECT c.id, c.search_vector, ts_rank_cd(c.search_vector, query.terms) AS rank
           FROM knowledge_chunks c, query
          WHERE c.tenant_id = $1 AND query.terms IS NOT NULL AND c.search_vector @@ query.terms
          ORDER BY rank DESC, c.id
          LIMIT $4
       )
       SELECT hits.id::text AS id, hits.rank::float8 AS rank,
              (SELECT count(*) FROM unnest(query.lexemes) AS term(lexeme)
                WHERE hits.search_vector @@ quote_literal(term.lexeme)::tsquery)::int AS matched,
              cardinality(query.lexemes) AS terms
         FROM hits, query
        ORDER BY hits.rank DESC, hits.id`,
      [tenantId, searchConfig, query, limit],
    );
  }

  /**
   * How many passages the tenant has (and how many of documents), and the version of its embeddings of `model`: the
   * vector index is stale when the version changes. The version is the count, highest id and sum of ids of the
   * embedded passages: a Q/A passage is embedded in place after it was written (a lower id than the highest), so
   * count and highest id alone could stay the same while one passage is deleted and another embedded.
   */
  async summary(
    tenantId: string,
    model: string | null,
  ): Promise<{ total: number; documentPassages: number; embedded: number; embeddingVersion: string }> {
    const rows: Array<{ total: number; document_passages: number; embedded: number; last: string | null; id_sum: string | null }> =
      await this.manager.query(
        `SELECT count(*)::int AS total, count(*) FILTER (WHERE entry_id IS NULL AND correction_id IS NULL)::int AS document_passages,
                count(*) FILTER (WHERE embedding_model = $2)::int AS embedded,
                (max(id) FILTER (WHERE embedding_model = $2))::text AS last, (sum(id) FILTER (WHERE embedding_model = $2))::text AS id_sum
           FROM knowledge_chunks WHERE tenant_id = $1`,
        [tenantId, model],
      );
    const row = rows[0] ?? { total: 0, document_passages: 0, embedded: 0, last: null, id_sum: null };
    return {
      total: row.total,
      documentPassages: row.document_passages,
      embedded: row.embedded,
      embeddingVersion: `${row.embedded}:${row.last ?? 0}:${row.id_sum ?? 0}`,
    };
  }

  /** The tenant's embeddings of one model, in id order, `limit` rows after `afterId` (the index loads in pages). */
  embeddings(tenantId: string, model: string, afterId: string, limit: number): Promise<Array<{ id: string; embedding: Buffer }>> {
    return this.manager.query(
      // Ordered by the bigint column: a bare "id" would name the text output column and sort 1, 10, 100, 2.
      `SELECT id::text AS id, embedding FROM knowledge_chunks
        WHERE tenant_id = $1 AND embedding_model = $2 AND id > $3::bigint ORDER BY knowledge_chunks.id LIMIT $4`,
      [tenantId, model, afterId, limit],
    );
  }

  /** How many passages the tenant has (the per-tenant limit is checked against it). */
  async countForTenant(tenantId: string, manager: EntityManager = this.manager): Promise<number> {
    const rows: Array<{ count: number }> = await manager.query('SELECT count(*)::int AS count FROM knowledge_chunks WHERE tenant_id = $1', [
      tenantId,
    ]);
    return rows[0]?.count ?? 0;
  }

  /**
   * Writes the passages of Q/A entries and corrections into the tenant's `faq` document, replacing their previous
   * passages; call in the transaction that changed them. Written without an embedding (the keyword leg finds them at
   * once); the indexer embeds them. The caller holds the `faq` document's row lock (it queued it in the same
   * transaction), so the next ordinals cannot be taken twice.
   */
  async replaceQuestionAnswerPassages(
    manager: EntityManager,
    document: { id: string; tenantId: string },
    passages: QuestionAnswerPassage[],
    searchConfig: string,
  ): Promise<void> {
    if (passages.length === 0) return;
    const entryIds = passages.filter((passage) => passage.kind === 'entry').map((passage) => passage.sourceId);
    const correctionIds = passages.filter((passage) => passage.kind === 'correction').map((passage) => passage.sourceId);
    await manager.query(
      'DELETE FROM knowledge_chunks WHERE tenant_id = $1 AND (entry_id = ANY($2::uuid[]) OR correction_id = ANY($3::uuid[]))',
      [document.tenantId, entryIds, correctionIds],
    );
    for (let start = 0; start < passages.length; start += INSERT_BATCH) {
      const batch = passages.slice(start, start + INSERT_BATCH);
      await manager.query(
        `INSERT INTO knowledge_chunks (document_id, tenant_id, entry_id, correction_id, ordinal, heading_path, text, token_count, source,
                                       search_config, search_vector)
         SELECT $1::uuid, $2::uuid, CASE WHEN row.kind = 'entry' THEN row.source_id END, CASE WHEN row.kind = 'correction' THEN row.source_id END,
                (SELECT coalesce(max(ordinal), 0) FROM knowledge_chunks WHERE document_id = $1) + row.position, ARRAY[row.question],
                row.answer, row.token_count, row.kind || ':' || row.source_id, $3::text,
                to_tsvector($3::text::regconfig, row.question || ' ' || row.answer)
           FROM unnest($4::text[], $5::uuid[], $6::text[], $7::text[], $8::int[]) WITH ORDINALITY
                AS row(kind, source_id, question, answer, token_count, position)`,
        [
          document.id,
          document.tenantId,
          searchConfig,
          batch.map((passage) => passage.kind),
          batch.map((passage) => passage.sourceId),
          batch.map((passage) => passage.question),
          batch.map((passage) => passage.answer),
          batch.map((passage) => passage.tokenCount),
        ],
      );
    }
  }

  /** Removes a correction's passage (its approval was withdrawn); true when there was one. */
  async removeCorrectionPassage(manager: EntityManager, tenantId: string, correctionId: string): Promise<boolean> {
    const result: [unknown[], number] = await manager.query('DELETE FROM knowledge_chunks WHERE tenant_id = $1 AND correction_id = $2', [
      tenantId,
      correctionId,
    ]);
    return (result[1] ?? 0) > 0;
  }

  /**
   * The tenant's entries and approved corrections that have no passage (the migration queued their `faq` document;
   * a writer outside the services, such as a bulk insert, may add more), and removes passages of corrections no
   * longer approved: the indexer's repair of the `faq` document. Reads entries and corrections because the question
   * is which of them the passages miss.
   */
  async repairQuestionAnswerSources(manager: EntityManager, tenantId: string): Promise<Array<Omit<QuestionAnswerPassage, 'tokenCount'>>> {
    await manager.query(
      `DELETE FROM knowledge_chunks c USING corrections r
        WHERE c.tenant_id = $1 AND c.correction_id = r.id AND NOT r.approved_for_training`,
      [tenantId],
    );
    return manager.query(
      `SELECT 'entry' AS kind, e.id AS "sourceId", e.question, e.answer FROM knowledge_entries e
        WHERE e.tenant_id = $1 AND NOT EXISTS (SELECT 1 FROM knowledge_chunks c WHERE c.entry_id = e.id)
       UNION ALL
       SELECT 'correction', r.id, r.customer_message, r.human_response FROM corrections r
        WHERE r.tenant_id = $1 AND r.approved_for_training AND NOT EXISTS (SELECT 1 FROM knowledge_chunks c WHERE c.correction_id = r.id)`,
      [tenantId],
    );
  }

  /** Up to `limit` passages of a document without an embedding of `model` (the indexer embeds Q/A passages later). */
  withoutEmbedding(documentId: string, model: string, limit: number): Promise<Array<{ id: string; heading_path: string[]; text: string }>> {
    return this.manager.query(
      `SELECT id::text AS id, heading_path, text FROM knowledge_chunks
        WHERE document_id = $1 AND embedding_model IS DISTINCT FROM $2 ORDER BY knowledge_chunks.id LIMIT $3`,
      [documentId, model, limit],
    );
  }

  /** Stores passages' embeddings of `model` (a passage replaced meanwhile is skipped: its new row is embedded next). */
  async setEmbeddings(rows: Array<{ id: string; embedding: Float32Array }>, model: string): Promise<void> {
    if (rows.length === 0) return;
    await this.manager.query(
      `UPDATE knowledge_chunks c SET embedding = row.embedding, embedding_model = $1, embedding_dimensions = length(row.embedding) / 4
         FROM unnest($2::bigint[], $3::bytea[]) AS row(id, embedding)
        WHERE c.id = row.id`,
      [model, rows.map((row) => row.id), rows.map((row) => embeddingToBytes(row.embedding))],
    );
  }

  /** How many passages a document has. */
  async countForDocument(documentId: string): Promise<number> {
    const rows: Array<{ count: number }> = await this.manager.query(
      'SELECT count(*)::int AS count FROM knowledge_chunks WHERE document_id = $1',
      [documentId],
    );
    return rows[0]?.count ?? 0;
  }

  /** Rebuilds the tsvectors of the tenant's passages indexed in another language configuration; how many changed. */
  async rebuildSearchVectors(tenantId: string, searchConfig: string): Promise<number> {
    const result: [unknown[], number] = await this.manager.query(
      `UPDATE knowledge_chunks SET search_config = $2::text,
              search_vector = to_tsvector($2::text::regconfig, array_to_string(heading_path, ' ') || ' ' || text)
        WHERE tenant_id = $1 AND search_config <> $2`,
      [tenantId, searchConfig],
    );
    return result[1] ?? 0;
  }
}
