import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Checks the existing messages against fk_messages_conversation_tenant, which 1764000500000 adds NOT VALID. It runs
 * in a transaction of its own: VALIDATE CONSTRAINT takes SHARE UPDATE EXCLUSIVE on messages and ROW SHARE on
 * conversations, so the webhook keeps inserting and the workers keep updating during the scan. (1764000500000 used
 * to validate in its own transaction, after its first statements had taken ACCESS EXCLUSIVE on conversations and
 * SHARE ROW EXCLUSIVE on messages, so writes to both tables waited for the whole scan.) An install that ran
 * 1764000500000 in that earlier form has the key validated already: nothing is done there.
 */
export class ValidateMessageConversationTenant1764001200000 implements MigrationInterface {
  name = 'ValidateMessageConversationTenant1764001200000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    const rows: Array<{ convalidated: boolean }> = await queryRunner.query(
      `SELECT convalidated FROM pg_constraint WHERE conrelid = 'messages'::regclass AND conname = 'fk_messages_conversation_tenant'`,
    );
    if (rows.length === 1 && !rows[0].convalidated) {
      await queryRunner.query(`ALTER TABLE messages VALIDATE CONSTRAINT fk_messages_conversation_tenant`);
    }
  }

  /** A validated key stays valid; 1764000500000's down drops it. */
  public async down(): Promise<void> {}
}
