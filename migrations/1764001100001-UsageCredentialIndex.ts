import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The breaker's health window reads one credential's attempts at one model over the last hour. It replaces the
 * (provider, model, created_at) index, whose only reader was that query when breakers were per model: with the
 * platform key's attempts and every tenant key's under one model, that index would read them all to find one
 * credential's. Partial: attempts without a credential (offline, rows from before 1764001100000) are never asked for.
 *
 * Built CONCURRENTLY, so provider_usage keeps taking inserts (one per model attempt) while the index builds; that
 * cannot run inside a transaction, hence `transaction = false`. A failed build leaves an invalid index behind,
 * which the DROP ... IF EXISTS removes before the next try. Reverting runs in the migration runner's transaction
 * (TypeORM's undo always opens one), so it drops and rebuilds plainly.
 */
export class UsageCredentialIndex1764001100001 implements MigrationInterface {
  name = 'UsageCredentialIndex1764001100001';
  transaction = false;

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS ix_provider_usage_credential_created`);
    await queryRunner.query(
      `CREATE INDEX CONCURRENTLY ix_provider_usage_credential_created ON provider_usage (credential_fingerprint, model, created_at)
        WHERE credential_fingerprint IS NOT NULL`,
    );
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS ix_provider_usage_model_created`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX ix_provider_usage_model_created ON provider_usage (provider, model, created_at)`);
    await queryRunner.query(`DROP INDEX ix_provider_usage_credential_created`);
  }
}
