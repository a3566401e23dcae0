import { describe, expect, it } from 'vitest';
import { type Database, databaseWarnings } from '../../src/db/data-source';
import { useTestContext } from '../support/test-context';

/** A PostgreSQL database whose server reports this autovacuum setting. */
const postgresWith = (autovacuum: 'on' | 'off') =>
  ({ mode: 'postgres', dataSource: { query: async () => [{ autovacuum }] } }) as unknown as Database;

describe('database warnings at start-up', () => {
  const context = useTestContext();

  it('warns when PostgreSQL runs without autovacuum, and not when it runs with it', async () => {
    expect(await databaseWarnings(postgresWith('off'))).toEqual([expect.stringMatching(/^autovacuum is off/)]);
    expect(await databaseWarnings(postgresWith('on'))).toEqual([]);
  });

  it("reads the setting from this test run's database server (the embedded PGlite has no autovacuum to turn on)", async () => {
    const warnings = await databaseWarnings(context.database);
    if (context.database.mode === 'embedded') {
      expect(warnings).toEqual([]);
    } else {
      const [{ autovacuum }] = await context.database.dataSource.query(`SHOW autovacuum`);
      expect(warnings.length > 0).toBe(autovacuum === 'off');
    }
  });
});
