import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Human corrections of bot answers: reviewed for training, and retrieved as guidance once approved. */
export class Corrections1764000300000 implements MigrationInterface {
  name = 'Corrections1764000300000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE corrections (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        agent_interaction_id uuid REFERENCES agent_interactions(id) ON DELETE SET NULL,
        conversation_id uuid REFERENCES conversations(id) ON DELETE SET NULL,
        customer_message text NOT NULL,
        context jsonb NOT NULL DEFAULT '[]'::jsonb,
        bot_response text NOT NULL,
        human_response text NOT NULL,
        correction_reason text,
        correction_category varchar(32) NOT NULL CHECK (correction_category IN
          ('factual_error', 'tone_inappropriate', 'missing_information', 'wrong_intent', 'poor_recommendation', 'other')),
        corrected_by uuid REFERENCES users(id) ON DELETE SET NULL,
        approved_for_training boolean NOT NULL DEFAULT false,
        quality_score smallint CHECK (quality_score BETWEEN 0 AND 5),
        approved_by uuid REFERENCES users(id) ON DELETE SET NULL,
        approved_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX ix_corrections_tenant_created ON corrections (tenant_id, created_at)`);
    await queryRunner.query(`CREATE INDEX ix_corrections_interaction ON corrections (agent_interaction_id)`);
    // The expression must match CorrectionRetriever's query exactly for the planner to use this index.
    await queryRunner.query(`
      CREATE INDEX ix_corrections_approved_text ON corrections
      USING gin (to_tsvector('simple', customer_message || ' ' || human_response))
      WHERE approved_for_training`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE corrections`);
  }
}
