import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Corrections1764000300000 } from '../../migrations/1764000300000-Corrections';
import { QuestionAnswerPassages1765300000000 } from '../../migrations/1765300000000-QuestionAnswerPassages';
import { prefixTsQuery } from '../../src/knowledge/knowledge-retriever';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe('migration 1764000300000-Corrections', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.close();
  });

  const tableExists = async () =>
    (await database.dataSource.query(`SELECT to_regclass('public.corrections') IS NOT NULL AS present`))[0].present as boolean;

  it('matches the Correction entity: columns, types and indexes as the migration creates them', async () => {
    const sql = await database.dataSource.driver.createSchemaBuilder().log();
    const touching = sql.upQueries
      .map((query) => query.query)
      .filter((query) => query.includes('"corrections"') || query.includes('ix_corrections'))
      // Foreign keys and CHECKs live in the hand-written migration only, and TypeORM re-sets jsonb defaults it cannot compare.
      .filter(
        (query) => !/DROP CONSTRAINT "[a-z_]+_(fkey|check)"/.test(query) && !/ALTER COLUMN "[a-z_]+" SET DEFAULT '.*'::jsonb/.test(query),
      );
    expect(touching).toEqual([]);
  });

  it('is reversible (once the later migration whose passages reference corrections is reverted)', async () => {
    const migration = new Corrections1764000300000();
    const passages = new QuestionAnswerPassages1765300000000();
    const runner = database.dataSource.createQueryRunner();
    try {
      expect(await tableExists()).toBe(true);
      await passages.down(runner);
      await migration.down(runner);
      expect(await tableExists()).toBe(false);
      await migration.up(runner);
      await passages.up(runner);
      expect(await tableExists()).toBe(true);
    } finally {
      await runner.release();
    }
  });

  it('gives the approved corrections’ full-text prefilter a usable GIN index', async () => {
    const runner = database.dataSource.createQueryRunner();
    try {
      await runner.startTransaction();
      // With sequential scans priced out and no tenant predicate (the tenant btree would win on an empty table), the
      // planner picks the GIN index if, and only if, the query's expression matches the index's.
      await runner.query('SET LOCAL enable_seqscan = off');
      const plan: Array<{ 'QUERY PLAN': string }> = await runner.query(
        `EXPLAIN SELECT id FROM corrections
         WHERE approved_for_training
           AND to_tsvector('simple', customer_message || ' ' || human_response) @@ to_tsquery('simple', $1)`,
        [prefixTsQuery('Do you deliver on Sundays?')],
      );
      expect(plan.map((row) => row['QUERY PLAN']).join('\n')).toContain('ix_corrections_approved_text');
      await runner.rollbackTransaction();
    } finally {
      await runner.release();
    }
  });
});
