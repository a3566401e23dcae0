import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Bursts: several messages of a customer answered together in one turn with one reply. The turn is claimed on its
 * first message (the head, which the reply's reply_to_message_id names); the others are settled with it and point
 * at it through burst_head_id, so every message knows the reply that answered it.
 */
export class MessageBursts1765200000000 implements MigrationInterface {
  name = 'MessageBursts1765200000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE messages ADD COLUMN burst_head_id uuid REFERENCES messages(id) ON DELETE SET NULL`);
    // The ON DELETE SET NULL lookups (and "the messages of this turn") never ask for NULL.
    await queryRunner.query(`CREATE INDEX ix_messages_burst_head ON messages (burst_head_id) WHERE burst_head_id IS NOT NULL`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX ix_messages_burst_head`);
    await queryRunner.query(`ALTER TABLE messages DROP COLUMN burst_head_id`);
  }
}
