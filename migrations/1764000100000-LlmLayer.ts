import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Provider usage (every model attempt, success or failure) and circuit breakers shared by all instances. */
export class LlmLayer1764000100000 implements MigrationInterface {
  name = 'LlmLayer1764000100000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // No foreign key to agent_interactions or conversations: attempts are written before the interaction row
    // exists, and the ledger must outlive the rows it points to.
    await queryRunner.query(`
      CREATE TABLE provider_usage (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        conversation_id uuid,
        agent_interaction_id uuid,
        provider varchar(64) NOT NULL,
        model varchar(128) NOT NULL,
        input_tokens integer NOT NULL DEFAULT 0,
        cached_input_tokens integer NOT NULL DEFAULT 0,
        output_tokens integer NOT NULL DEFAULT 0,
        reasoning_tokens integer NOT NULL DEFAULT 0,
        total_tokens integer NOT NULL DEFAULT 0,
        cost_usd numeric(20,12) NOT NULL DEFAULT 0,
        latency_ms integer NOT NULL,
        success boolean NOT NULL,
        error_kind varchar(32),
        error_status integer,
        error_message varchar(500),
        finish_reason varchar(32),
        was_failover boolean NOT NULL DEFAULT false,
        attempt_number integer NOT NULL,
        routing_reason varchar(300),
        complexity_score numeric(4,3),
        metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX ix_provider_usage_tenant_created ON provider_usage (tenant_id, created_at)`);
    await queryRunner.query(`CREATE INDEX ix_provider_usage_model_created ON provider_usage (provider, model, created_at)`);
    await queryRunner.query(`CREATE INDEX ix_provider_usage_interaction ON provider_usage (agent_interaction_id)`);
    await queryRunner.query(`
      CREATE TABLE llm_circuit_breakers (
        provider varchar(64) NOT NULL,
        model varchar(128) NOT NULL,
        state varchar(10) NOT NULL DEFAULT 'closed' CHECK (state IN ('closed', 'open', 'half_open')),
        consecutive_failures integer NOT NULL DEFAULT 0,
        opened_at timestamptz,
        closed_at timestamptz NOT NULL DEFAULT now(),
        probe_claimed_at timestamptz,
        probe_owner varchar(64),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (provider, model)
      )`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE llm_circuit_breakers`);
    await queryRunner.query(`DROP TABLE provider_usage`);
  }
}
