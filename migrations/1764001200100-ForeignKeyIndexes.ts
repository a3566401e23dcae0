import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An index for every foreign key whose ON DELETE action had none it could use. Deleting a referenced row makes
 * PostgreSQL look up the referencing rows (to cascade or to set them to NULL); without an index that lookup is a
 * sequential scan, once per deleted row: deleting a tenant with 100,000 messages scanned messages and
 * agent_interactions 100,000 times each (bench/tenant-delete.ts). The keys that are often NULL get partial
 * indexes (WHERE ... IS NOT NULL), which the lookups use (their `column = $1` implies NOT NULL) at a fraction of
 * the size. The partial uq_messages_reply_chunk (bot rows only) cannot serve the reply_to_message_id lookup.
 *
 * Each index is built CONCURRENTLY, which does not block writes but cannot run inside a transaction, so this
 * migration runs outside one (transaction = false). A build that was interrupted leaves an INVALID index behind;
 * it is dropped and built again, so running the migration again after a failure is safe. PGlite (a single
 * backend) accepts CONCURRENTLY as well: there is simply no other transaction to wait for.
 */
export const FOREIGN_KEY_INDEXES = [
  { name: 'ix_messages_reply_to', table: 'messages', definition: '(reply_to_message_id) WHERE reply_to_message_id IS NOT NULL' },
  { name: 'ix_messages_author_user', table: 'messages', definition: '(author_user_id) WHERE author_user_id IS NOT NULL' },
  { name: 'ix_agent_interactions_reply', table: 'agent_interactions', definition: '(reply_message_id) WHERE reply_message_id IS NOT NULL' },
  { name: 'ix_interaction_feedback_customer', table: 'interaction_feedback', definition: '(customer_id)' },
  { name: 'ix_corrections_conversation', table: 'corrections', definition: '(conversation_id) WHERE conversation_id IS NOT NULL' },
  { name: 'ix_corrections_corrected_by', table: 'corrections', definition: '(corrected_by) WHERE corrected_by IS NOT NULL' },
  { name: 'ix_corrections_approved_by', table: 'corrections', definition: '(approved_by) WHERE approved_by IS NOT NULL' },
] as const;

export class ForeignKeyIndexes1764001200100 implements MigrationInterface {
  name = 'ForeignKeyIndexes1764001200100';
  /** CREATE INDEX CONCURRENTLY refuses to run inside a transaction block. */
  transaction = false as const;

  public async up(queryRunner: QueryRunner): Promise<void> {
    for (const index of FOREIGN_KEY_INDEXES) {
      const [existing]: Array<{ valid: boolean }> = await queryRunner.query(
        `SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
          WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace`,
        [index.name],
      );
      if (existing?.valid) continue;
      if (existing) await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS ${index.name}`);
      await queryRunner.query(`CREATE INDEX CONCURRENTLY ${index.name} ON ${index.table} ${index.definition}`);
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const index of [...FOREIGN_KEY_INDEXES].reverse()) await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS ${index.name}`);
  }
}
