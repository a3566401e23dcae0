import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The languages a tenant's knowledge can be searched in, and the PostgreSQL configuration each one copies. */
export const KNOWLEDGE_TEXT_SEARCH_CONFIGS = {
  english: 'parley_english',
  spanish: 'parley_spanish',
  portuguese: 'parley_portuguese',
  simple: 'parley_simple',
} as const;

/**
 * Knowledge from documents (issue 19): `knowledge_documents` (one uploaded file, fetched URL, crawled page or crawl
 * root) and `knowledge_chunks` (its passages, each with a tsvector for the keyword leg and a float32 embedding for
 * the vector leg). There is no pgvector on PostgreSQL 15 here nor in PGlite 0.5: an embedding is stored as bytea
 * (little-endian float32, unit length) and searched by brute force in process (knowledge/vector-index.ts).
 *
 * Accents are folded by the `unaccent` contrib extension (trusted, shipped with PostgreSQL and PGlite) inside four
 * text-search configurations, so documents and queries fold the same way. `agent_interactions.chunk_ids` records
 * the passages an answer was grounded on.
 */
export class KnowledgeDocuments1764001500000 implements MigrationInterface {
  name = 'KnowledgeDocuments1764001500000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE EXTENSION IF NOT EXISTS unaccent`);
    for (const [language, config] of Object.entries(KNOWLEDGE_TEXT_SEARCH_CONFIGS)) {
      await queryRunner.query(`CREATE TEXT SEARCH CONFIGURATION ${config} (COPY = pg_catalog.${language})`);
      const stemmer = language === 'simple' ? 'simple' : `${language}_stem`;
      // unaccent is a filtering dictionary: the folded word goes on to the stemmer.
      await queryRunner.query(
        `ALTER TEXT SEARCH CONFIGURATION ${config} ALTER MAPPING FOR hword, hword_part, word WITH unaccent, ${stemmer}`,
      );
    }
    await queryRunner.query(`
      CREATE TABLE knowledge_documents (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        -- A crawled page belongs to the site document it was found from; deleting the site deletes its pages.
        site_document_id uuid REFERENCES knowledge_documents(id) ON DELETE CASCADE,
        title text NOT NULL,
        source_kind varchar(8) NOT NULL CHECK (source_kind IN ('file', 'url', 'site', 'faq')),
        source_url text,
        file_name text,
        content_type varchar(128),
        -- An uploaded file's bytes, kept so it can be indexed off the request path and re-indexed later.
        source_bytes bytea,
        fingerprint char(64),
        status varchar(8) NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'indexing', 'ready', 'failed')),
        failure_reason text,
        chunk_count integer NOT NULL DEFAULT 0,
        embedding_model varchar(64),
        -- When a worker claimed it: an indexing row whose claim is older than the lease was left by a crashed worker.
        claimed_at timestamptz,
        last_synced_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK (source_url IS NOT NULL OR file_name IS NOT NULL)
      )`);
    // The API's list (keyset on created_at, id) and the worker's claim of queued documents.
    await queryRunner.query(
      `CREATE INDEX ix_knowledge_documents_tenant_created ON knowledge_documents (tenant_id, created_at DESC, id DESC)`,
    );
    await queryRunner.query(
      `CREATE INDEX ix_knowledge_documents_pending ON knowledge_documents (claimed_at) WHERE status IN ('queued', 'indexing')`,
    );
    await queryRunner.query(
      `CREATE INDEX ix_knowledge_documents_site ON knowledge_documents (site_document_id, source_url) WHERE site_document_id IS NOT NULL`,
    );
    await queryRunner.query(`
      CREATE TABLE knowledge_chunks (
        id bigserial PRIMARY KEY,
        document_id uuid NOT NULL REFERENCES knowledge_documents(id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        ordinal integer NOT NULL,
        heading_path text[] NOT NULL DEFAULT '{}',
        text text NOT NULL,
        token_count integer NOT NULL,
        -- The source the passage cites: the page's URL or the file's name.
        source text NOT NULL,
        search_config varchar(32) NOT NULL,
        search_vector tsvector NOT NULL,
        embedding bytea,
        embedding_model varchar(64),
        embedding_dimensions smallint,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (document_id, ordinal),
        CHECK ((embedding IS NULL) = (embedding_model IS NULL) AND (embedding IS NULL) = (embedding_dimensions IS NULL))
      )`);
    await queryRunner.query(`CREATE INDEX ix_knowledge_chunks_search ON knowledge_chunks USING gin (search_vector)`);
    // The vector index loads a tenant's embeddings in id order; the keyword leg filters by tenant.
    await queryRunner.query(`CREATE INDEX ix_knowledge_chunks_tenant ON knowledge_chunks (tenant_id, id)`);
    await queryRunner.query(`ALTER TABLE agent_interactions ADD COLUMN chunk_ids jsonb NOT NULL DEFAULT '[]'::jsonb`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE agent_interactions DROP COLUMN chunk_ids`);
    await queryRunner.query(`DROP TABLE knowledge_chunks`);
    await queryRunner.query(`DROP TABLE knowledge_documents`);
    for (const config of Object.values(KNOWLEDGE_TEXT_SEARCH_CONFIGS)) {
      await queryRunner.query(`DROP TEXT SEARCH CONFIGURATION IF EXISTS ${config}`);
    }
    // The extension stays: another schema object may have come to use it, and it costs nothing installed.
  }
}
