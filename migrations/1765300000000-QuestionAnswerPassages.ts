import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Q/A entries and approved corrections become passages of the same hybrid search as documents (issue 19, must-have
 * 3). Each tenant gets one synthetic document of source kind `faq` ("Questions and answers") that holds them: a
 * passage is a row of `knowledge_chunks` like any other (tsvector for the keyword leg, embedding for the vector leg,
 * the tenant's limit and vector index), so search, fusion, citations and `agent_interactions.chunk_ids` need no
 * second code path, and the document's status column is the queue the indexer embeds them from (the existing
 * crash-safe queue). `entry_id` / `correction_id` say which entry or correction a passage is; ON DELETE CASCADE
 * removes the passage in the same statement that deletes its source.
 *
 * The passages themselves are not written here: every tenant with entries or approved corrections gets its `faq`
 * document queued, and the indexer writes the missing passages (with the tenant's search language, token counts and
 * embeddings, which need the application) on its first pass.
 */
export class QuestionAnswerPassages1765300000000 implements MigrationInterface {
  name = 'QuestionAnswerPassages1765300000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE knowledge_chunks
         ADD COLUMN entry_id uuid REFERENCES knowledge_entries(id) ON DELETE CASCADE,
         ADD COLUMN correction_id uuid REFERENCES corrections(id) ON DELETE CASCADE,
         ADD CONSTRAINT knowledge_chunks_one_source_check CHECK (num_nonnulls(entry_id, correction_id) <= 1)`,
    );
    // One passage per entry and per correction; the unique indexes also serve the cascades (NULLs never collide).
    await queryRunner.query(`CREATE UNIQUE INDEX ux_knowledge_chunks_entry ON knowledge_chunks (entry_id)`);
    await queryRunner.query(`CREATE UNIQUE INDEX ux_knowledge_chunks_correction ON knowledge_chunks (correction_id)`);
    // The `faq` document has neither a URL nor a file: it is its tenant's entries and corrections.
    await queryRunner.query(
      `ALTER TABLE knowledge_documents DROP CONSTRAINT knowledge_documents_check,
         ADD CONSTRAINT knowledge_documents_source_check CHECK (source_kind = 'faq' OR source_url IS NOT NULL OR file_name IS NOT NULL)`,
    );
    // One `faq` document per tenant: the writers find or create it with ON CONFLICT.
    await queryRunner.query(
      `CREATE UNIQUE INDEX ux_knowledge_documents_questions_answers ON knowledge_documents (tenant_id) WHERE source_kind = 'faq'`,
    );
    await queryRunner.query(
      `INSERT INTO knowledge_documents (tenant_id, title, source_kind)
       SELECT t.id, 'Questions and answers', 'faq' FROM tenants t
        WHERE EXISTS (SELECT 1 FROM knowledge_entries e WHERE e.tenant_id = t.id)
           OR EXISTS (SELECT 1 FROM corrections c WHERE c.tenant_id = t.id AND c.approved_for_training)`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    // The passages go with their documents; the entries and corrections themselves stay.
    await queryRunner.query(`DELETE FROM knowledge_documents WHERE source_kind = 'faq'`);
    await queryRunner.query(`DROP INDEX ux_knowledge_documents_questions_answers`);
    await queryRunner.query(
      `ALTER TABLE knowledge_documents DROP CONSTRAINT knowledge_documents_source_check,
         ADD CONSTRAINT knowledge_documents_check CHECK (source_url IS NOT NULL OR file_name IS NOT NULL)`,
    );
    await queryRunner.query(`DROP INDEX ux_knowledge_chunks_correction`);
    await queryRunner.query(`DROP INDEX ux_knowledge_chunks_entry`);
    await queryRunner.query(
      `ALTER TABLE knowledge_chunks DROP CONSTRAINT knowledge_chunks_one_source_check, DROP COLUMN correction_id, DROP COLUMN entry_id`,
    );
  }
}
