import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Routing that learns from feedback. Each answer records the message kind the router predicted, the tier it chose
 * and the probability its policy gave that tier (for off-policy evaluation), plus the reward already credited to
 * the (kind, tier) cell, so a feedback row that changes (helpful -> not helpful) moves the cell by the difference.
 * routing_posteriors holds the credited rewards per tenant and cell, shared by every instance; the prior comes from
 * the offline model at decision time, so only observations are stored. A conversation remembers how many tiers up
 * its next turns go after a not-helpful click, and since when.
 */
export class RoutingLearning1764000800000 implements MigrationInterface {
  name = 'RoutingLearning1764000800000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE agent_interactions
        ADD COLUMN message_kind varchar(32),
        ADD COLUMN routing_tier varchar(16),
        ADD COLUMN routing_propensity numeric(7,6),
        ADD COLUMN credited_good numeric(6,3) NOT NULL DEFAULT 0,
        ADD COLUMN credited_bad numeric(6,3) NOT NULL DEFAULT 0`);
    await queryRunner.query(`
      CREATE TABLE routing_posteriors (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        message_kind varchar(32) NOT NULL,
        tier varchar(16) NOT NULL,
        good numeric(14,3) NOT NULL DEFAULT 0,
        bad numeric(14,3) NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, message_kind, tier)
      )`);
    await queryRunner.query(`
      ALTER TABLE conversations
        ADD COLUMN routing_escalation smallint NOT NULL DEFAULT 0,
        ADD COLUMN routing_escalated_at timestamptz`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE conversations DROP COLUMN routing_escalated_at, DROP COLUMN routing_escalation`);
    await queryRunner.query(`DROP TABLE routing_posteriors`);
    await queryRunner.query(`
      ALTER TABLE agent_interactions
        DROP COLUMN credited_bad, DROP COLUMN credited_good, DROP COLUMN routing_propensity,
        DROP COLUMN routing_tier, DROP COLUMN message_kind`);
  }
}
