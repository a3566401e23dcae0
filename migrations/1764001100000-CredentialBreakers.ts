import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Circuit breakers per credential: a breaker is keyed by provider, model and the fingerprint of the key and base URL
 * a request used (llm/provider-credential.ts), so one tenant's invalid key or exhausted quota opens only that
 * tenant's breaker while the platform key's stays shared. A tenant's breakers carry its id and go with it.
 * provider_usage records the fingerprint of every attempt, since the breaker's health window counts by it.
 *
 * The existing breaker rows are deleted: they judged every credential together and belong to none of them. A
 * breaker is soft state; a model that is still failing opens again after three failures in a row.
 * Old instances still running during a rollout cannot write breakers (their ON CONFLICT (provider, model) no
 * longer matches a key), so run this in the release step before the new code, as every migration.
 */
export class CredentialBreakers1764001100000 implements MigrationInterface {
  name = 'CredentialBreakers1764001100000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM llm_circuit_breakers`);
    await queryRunner.query(`
      ALTER TABLE llm_circuit_breakers
        ADD COLUMN credential_fingerprint varchar(64) NOT NULL,
        ADD COLUMN tenant_id uuid REFERENCES tenants(id) ON DELETE CASCADE,
        DROP CONSTRAINT llm_circuit_breakers_pkey,
        ADD CONSTRAINT llm_circuit_breakers_pkey PRIMARY KEY (provider, model, credential_fingerprint)`);
    // Deleting a tenant deletes its breakers through this index instead of a scan per tenant.
    await queryRunner.query(`CREATE INDEX ix_llm_circuit_breakers_tenant ON llm_circuit_breakers (tenant_id) WHERE tenant_id IS NOT NULL`);
    // Nullable, no default: a metadata-only change, however large the table. Earlier rows and offline attempts have none.
    await queryRunner.query(`ALTER TABLE provider_usage ADD COLUMN credential_fingerprint varchar(64)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE provider_usage DROP COLUMN credential_fingerprint`);
    // Back to one breaker per provider and model: the platform's, the most recently updated where a key was rotated.
    await queryRunner.query(`DELETE FROM llm_circuit_breakers WHERE tenant_id IS NOT NULL`);
    await queryRunner.query(`
      DELETE FROM llm_circuit_breakers older
       USING llm_circuit_breakers newer
       WHERE newer.provider = older.provider AND newer.model = older.model
         AND (newer.updated_at, newer.credential_fingerprint) > (older.updated_at, older.credential_fingerprint)`);
    await queryRunner.query(`DROP INDEX ix_llm_circuit_breakers_tenant`);
    await queryRunner.query(`
      ALTER TABLE llm_circuit_breakers
        DROP CONSTRAINT llm_circuit_breakers_pkey,
        DROP COLUMN tenant_id,
        DROP COLUMN credential_fingerprint,
        ADD CONSTRAINT llm_circuit_breakers_pkey PRIMARY KEY (provider, model)`);
  }
}
