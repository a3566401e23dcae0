import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Scheduled jobs: daily provider usage summaries, the record of every job run, provider health alert state. */
export class Jobs1764000400000 implements MigrationInterface {
  name = 'Jobs1764000400000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // Summaries outlive the raw provider_usage rows that retention cleanup deletes, so they carry every figure.
    await queryRunner.query(`
      CREATE TABLE provider_daily_summaries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        date date NOT NULL,
        provider varchar(64) NOT NULL,
        model varchar(128) NOT NULL,
        total_calls integer NOT NULL,
        successful_calls integer NOT NULL,
        failed_calls integer NOT NULL,
        input_tokens bigint NOT NULL,
        cached_input_tokens bigint NOT NULL,
        output_tokens bigint NOT NULL,
        total_tokens bigint NOT NULL,
        total_cost_usd numeric(24,12) NOT NULL,
        avg_latency_ms numeric(12,3) NOT NULL,
        p50_latency_ms numeric(12,3) NOT NULL,
        p95_latency_ms numeric(12,3) NOT NULL,
        p99_latency_ms numeric(12,3) NOT NULL,
        failover_count integer NOT NULL,
        computed_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_provider_daily_summaries_key UNIQUE (tenant_id, date, provider, model)
      )`);
    await queryRunner.query(`
      CREATE TABLE job_runs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        job varchar(64) NOT NULL,
        instance varchar(128) NOT NULL,
        status varchar(16) NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
        started_at timestamptz NOT NULL,
        finished_at timestamptz,
        rows_touched bigint NOT NULL DEFAULT 0,
        error varchar(1000),
        details jsonb NOT NULL DEFAULT '{}'::jsonb
      )`);
    await queryRunner.query(`CREATE INDEX ix_job_runs_job_started ON job_runs (job, started_at)`);
    await queryRunner.query(`
      CREATE TABLE provider_health_states (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        provider varchar(64) NOT NULL,
        model varchar(128) NOT NULL,
        state varchar(16) NOT NULL CHECK (state IN ('healthy', 'unhealthy')),
        reasons jsonb NOT NULL DEFAULT '[]'::jsonb,
        changed_at timestamptz NOT NULL,
        checked_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, provider, model)
      )`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE provider_health_states`);
    await queryRunner.query(`DROP TABLE job_runs`);
    await queryRunner.query(`DROP TABLE provider_daily_summaries`);
  }
}
