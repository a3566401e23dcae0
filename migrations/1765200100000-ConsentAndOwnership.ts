import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Opt-out and who owns a conversation (issue 20).
 * - customers: whether the customer opted out of messages (STOP and the like, or Twilio's 21610) and when, and the
 *   latest consent change with its source, so consent is on record with a timestamp.
 * - conversations: why the latest handoff happened (customer_asked, not_helpful_feedback, low_retrieval_confidence,
 *   provider_failure, agent_took_over) and when; when a human agent last wrote to the customer (the bot stays
 *   silent until the tenant's idle time has passed since then, or until it is handed back).
 */
export class ConsentAndOwnership1765200100000 implements MigrationInterface {
  name = 'ConsentAndOwnership1765200100000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE customers ADD COLUMN opted_out_at timestamptz, ADD COLUMN consent_changed_at timestamptz,
         ADD COLUMN consent_source varchar(32)`,
    );
    await queryRunner.query(
      `ALTER TABLE conversations ADD COLUMN handoff_reason varchar(32), ADD COLUMN handoff_at timestamptz,
         ADD COLUMN agent_replied_at timestamptz`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE conversations DROP COLUMN agent_replied_at, DROP COLUMN handoff_at, DROP COLUMN handoff_reason`);
    await queryRunner.query(`ALTER TABLE customers DROP COLUMN consent_source, DROP COLUMN consent_changed_at, DROP COLUMN opted_out_at`);
  }
}
