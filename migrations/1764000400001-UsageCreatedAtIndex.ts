import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The jobs read provider_usage by time alone (a day for aggregation, the last 24 hours for health, everything before
 * a cutoff for cleanup). Rows are appended in created_at order, so a BRIN index of a few pages narrows those scans
 * to the blocks of the range instead of the whole retained history.
 */
export class UsageCreatedAtIndex1764000400001 implements MigrationInterface {
  name = 'UsageCreatedAtIndex1764000400001';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX ix_provider_usage_created_brin ON provider_usage USING brin (created_at)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX ix_provider_usage_created_brin`);
  }
}
