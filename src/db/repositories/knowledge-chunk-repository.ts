/**
 * The one home of the SQL on `knowledge_chunks`: a document's passages written in one statement batch inside the
 * indexing transaction, the keyword leg (full-text search ranked by ts_rank_cd), and the reads the in-process
 * vector index loads embeddings with.
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

/** A stored passage as the API and the agent read it. */
export interface KnowledgeChunkRow {
  id: string;
  document_id: string;
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
    return this.manager.query(
      `SELECT id::text, document_id, ordinal, heading_path, text, token_count, source, embedding_model
         FROM knowledge_chunks WHERE document_id = $1 ORDER BY ordinal`,
      [documentId],
    );
  }

  /** Passages of the tenant by id (ids of other tenants are ignored). */
  byIds(tenantId: string, ids: string[]): Promise<KnowledgeChunkRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.manager.query(
      `SELECT id::text, document_id, ordinal, heading_path, text, token_count, source, embedding_model
         FROM knowledge_chunks WHERE tenant_id = $1 AND id = ANY($2::bigint[])`,
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
   * How many passages the tenant has, and the version of its embeddings of `model`: the vector index is stale when
   * the version (count and highest id of the embedded passages; ids only grow) changes. One index-only scan.
   */
  async summary(tenantId: string, model: string | null): Promise<{ total: number; embedded: number; embeddingVersion: string }> {
    const rows: Array<{ total: number; embedded: number; last: string | null }> = await this.manager.query(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE embedding_model = $2)::int AS embedded,
              (max(id) FILTER (WHERE embedding_model = $2))::text AS last
         FROM knowledge_chunks WHERE tenant_id = $1`,
      [tenantId, model],
    );
    const row = rows[0] ?? { total: 0, embedded: 0, last: null };
    return { total: row.total, embedded: row.embedded, embeddingVersion: `${row.embedded}:${row.last ?? 0}` };
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
