import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../migrations';
import { useTestContext } from '../support/test-context';

const JOB_TABLES = ['provider_daily_summaries', 'job_runs', 'provider_health_states', 'provider_usage'];

describe('jobs schema', () => {
  const context = useTestContext({ truncate: false });

  it('matches the entities: columns, types, keys and indexes as the migrations create them', async () => {
    const sql = await context.database.dataSource.driver.createSchemaBuilder().log();
    const touching = sql.upQueries
      .map((query) => query.query)
      .filter((query) => JOB_TABLES.some((table) => query.includes(table)) || query.includes('ix_provider_usage_created_brin'))
      // Foreign keys and CHECKs live in the hand-written migrations only (as for every table), and TypeORM always
      // re-sets jsonb defaults it cannot compare.
      .filter(
        (query) => !/DROP CONSTRAINT "[a-z_]+_(fkey|check)"/.test(query) && !/ALTER COLUMN "[a-z_]+" SET DEFAULT '.*'::jsonb/.test(query),
      );
    expect(touching).toEqual([]);
  });

  it('reverts and reapplies the jobs migrations', async () => {
    const dataSource = context.database.dataSource;
    const jobsMigrations = MIGRATIONS.filter((migration) => /^(Jobs|UsageCreatedAtIndex)1764000400/.test(migration.name));
    expect(jobsMigrations.map((migration) => migration.name)).toEqual(['Jobs1764000400000', 'UsageCreatedAtIndex1764000400001']);
    const runner = dataSource.createQueryRunner();
    try {
      for (const migration of [...jobsMigrations].reverse()) await new migration().down(runner);
      const [{ count }] = await runner.query(
        `SELECT count(*)::int AS count FROM pg_tables WHERE tablename IN ('provider_daily_summaries', 'job_runs', 'provider_health_states')`,
      );
      expect(count).toBe(0);
      expect(await runner.query(`SELECT 1 FROM pg_indexes WHERE indexname = 'ix_provider_usage_created_brin'`)).toEqual([]);
      for (const migration of jobsMigrations) await new migration().up(runner);
      const [{ restored }] = await runner.query(
        `SELECT count(*)::int AS restored FROM pg_tables WHERE tablename IN ('provider_daily_summaries', 'job_runs', 'provider_health_states')`,
      );
      expect(restored).toBe(3);
    } finally {
      await runner.release();
    }
  });
});
