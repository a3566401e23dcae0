import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The conversation list without a status filter (the dashboard's inbox, GET /v1/bot/conversations) orders a tenant's
 * conversations by last activity. The only index with last_message_at leads with status, so PostgreSQL read every
 * conversation of the tenant and sorted them for 20 rows: 7.8 ms per call at 2,400 conversations in the soak
 * (pg_stat_statements), growing with the tenant. This index returns the newest first and stops at the limit.
 * last_message_at already changes on every turn and is in ix_conversations_tenant_status, so those updates were not
 * HOT before either: the index adds one entry per conversation update, no new kind of write.
 */
export class ConversationRecencyIndex1765400000000 implements MigrationInterface {
  name = 'ConversationRecencyIndex1765400000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX ix_conversations_tenant_recent ON conversations (tenant_id, last_message_at DESC)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX ix_conversations_tenant_recent`);
  }
}
