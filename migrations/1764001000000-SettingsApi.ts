import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The settings API: the audit log of tenant settings (who changed which fields, and when; never the values, some
 * are secrets; the actor is an API key's user, or the operator's CLI), and the new settings:manage scope, which
 * admins hold: the active keys of existing admin users get it, as keys issued to admins from now on do.
 */
export class SettingsApi1764001000000 implements MigrationInterface {
  name = 'SettingsApi1764001000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE tenant_settings_changes (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        actor varchar(16) NOT NULL CHECK (actor IN ('api', 'cli')),
        actor_user_id uuid REFERENCES users(id) ON DELETE SET NULL,
        fields text[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX ix_tenant_settings_changes_tenant_created ON tenant_settings_changes (tenant_id, created_at DESC)`,
    );
    // The foreign key's ON DELETE SET NULL would otherwise scan the table for every deleted user.
    await queryRunner.query(
      `CREATE INDEX ix_tenant_settings_changes_actor ON tenant_settings_changes (actor_user_id) WHERE actor_user_id IS NOT NULL`,
    );
    await queryRunner.query(
      `UPDATE api_keys SET scopes = array_append(scopes, 'settings:manage')
         FROM users WHERE users.id = api_keys.user_id AND users.role = 'admin'
          AND api_keys.revoked_at IS NULL AND NOT ('settings:manage' = ANY(api_keys.scopes))`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`UPDATE api_keys SET scopes = array_remove(scopes, 'settings:manage') WHERE 'settings:manage' = ANY(scopes)`);
    await queryRunner.query(`DROP TABLE tenant_settings_changes`);
  }
}
