import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Feedback on bot answers (one row per interaction, with the implicit satisfaction score computed by the database),
 * the per-tenant cache of Twilio Content API resources, and the options a message offered (buttons or numbered text).
 */
export class InteractionFeedback1764000200000 implements MigrationInterface {
  name = 'InteractionFeedback1764000200000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // The score is a stored generated column, so it is recomputed on every change whoever writes the row.
    // Formula (docs/feedback.md): 0.5 + 0.3 continued + 0.5 completed action - 0.5 asked for a human
    // + 0.2 answered within 30 s, clamped to [0, 1].
    await queryRunner.query(`
      CREATE TABLE interaction_feedback (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        agent_interaction_id uuid NOT NULL REFERENCES agent_interactions(id) ON DELETE CASCADE,
        conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        customer_id uuid NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
        rating varchar(16) CHECK (rating IN ('helpful', 'not_helpful')),
        feedback_text text,
        user_continued boolean NOT NULL DEFAULT false,
        completed_action boolean NOT NULL DEFAULT false,
        requested_human boolean NOT NULL DEFAULT false,
        response_time_seconds integer CHECK (response_time_seconds >= 0),
        source varchar(20) NOT NULL CHECK (source IN ('whatsapp_button', 'api', 'implicit')),
        metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
        implicit_satisfaction numeric(4,3) GENERATED ALWAYS AS (
          LEAST(1, GREATEST(0,
            0.5
            + CASE WHEN user_continued THEN 0.3 ELSE 0 END
            + CASE WHEN completed_action THEN 0.5 ELSE 0 END
            - CASE WHEN requested_human THEN 0.5 ELSE 0 END
            + CASE WHEN response_time_seconds IS NOT NULL AND response_time_seconds <= 30 THEN 0.2 ELSE 0 END
          ))
        ) STORED,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_interaction_feedback_interaction UNIQUE (agent_interaction_id)
      )`);
    await queryRunner.query(`CREATE INDEX ix_interaction_feedback_tenant_created ON interaction_feedback (tenant_id, created_at)`);
    await queryRunner.query(`CREATE INDEX ix_interaction_feedback_conversation ON interaction_feedback (conversation_id)`);
    // A content SID belongs to one Twilio account: a tenant that changes accounts gets new resources.
    await queryRunner.query(`
      CREATE TABLE content_templates (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        template_key varchar(80) NOT NULL,
        account_sid varchar(34) NOT NULL,
        content_sid varchar(34) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_content_templates_tenant_key_account UNIQUE (tenant_id, template_key, account_sid)
      )`);
    await queryRunner.query(`ALTER TABLE messages ADD COLUMN choices jsonb`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE messages DROP COLUMN choices`);
    await queryRunner.query(`DROP TABLE content_templates`);
    await queryRunner.query(`DROP TABLE interaction_feedback`);
  }
}
