import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A conversation can be flagged for a person without handing it off: the bot keeps answering, and the flag (its
 * reason and when) shows agents something the bot could not handle (a voice note or a photo, for now). An agent's
 * message or a hand-back clears it.
 */
export class ConversationFlags1764001300000 implements MigrationInterface {
  name = 'ConversationFlags1764001300000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE conversations ADD COLUMN flagged_reason varchar(32), ADD COLUMN flagged_at timestamptz`);
    // Agents list the flagged conversations of their tenant, most recent first.
    await queryRunner.query(
      `CREATE INDEX ix_conversations_flagged ON conversations (tenant_id, flagged_at DESC) WHERE flagged_at IS NOT NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX ix_conversations_flagged`);
    await queryRunner.query(`ALTER TABLE conversations DROP COLUMN flagged_at, DROP COLUMN flagged_reason`);
  }
}
