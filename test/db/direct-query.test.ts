import { describe, expect, it } from 'vitest';
import { isEmbeddedDatabase } from '../../src/db/data-source';
import { preparedStatement, queryDirect, queryPrepared } from '../../src/db/direct-query';
import { useTestContext } from '../support/test-context';

const NEXT = preparedStatement('parley_test_next', 'SELECT $1::int + 1 AS next');
const ONE = preparedStatement('parley_test_prepared', 'SELECT 1 AS one');

describe('queryDirect and queryPrepared: statements straight on pg', () => {
  const context = useTestContext();

  it('runs an unnamed statement on the pool', async () => {
    const rows = await queryDirect<{ next: number }>(context.database.dataSource, 'SELECT $1::int + 1 AS next', [41]);
    expect(rows).toEqual([{ next: 42 }]);
  });

  it('runs a prepared statement on every pooled connection at once, on PostgreSQL and on the embedded PGlite alike', async () => {
    // PGlite serves every pooled connection from one backend session: a name prepared by one connection would
    // collide with the same name prepared by another ("prepared statement already exists").
    const manager = context.database.dataSource.manager;
    const results = await Promise.all(Array.from({ length: 20 }, (_, index) => queryPrepared<{ next: number }>(manager, NEXT, [index])));
    expect(results.map(([row]) => row.next)).toEqual(Array.from({ length: 20 }, (_, index) => index + 1));
  });

  it("runs inside the caller's transaction, on its connection", async () => {
    const dataSource = context.database.dataSource;
    await dataSource.manager
      .transaction(async (manager) => {
        await manager.query('CREATE TEMP TABLE parley_test_seen (value int) ON COMMIT DROP');
        await manager.query('INSERT INTO parley_test_seen VALUES (7)');
        const seen = preparedStatement('parley_test_seen', 'SELECT value FROM parley_test_seen WHERE value = $1');
        // Only the transaction's own connection can see its temporary table.
        expect(await queryPrepared(manager, seen, [7])).toEqual([{ value: 7 }]);
        throw new Error('roll back');
      })
      .catch((error: Error) => expect(error.message).toBe('roll back'));
  });

  it('prepares the statement on PostgreSQL and never on the embedded PGlite', async () => {
    const dataSource = context.database.dataSource;
    // In one transaction, so the statement and the look-up run on the same session.
    const prepared = await dataSource.manager.transaction(async (manager) => {
      await queryPrepared(manager, ONE, []);
      const rows: unknown[] = await manager.query(`SELECT name FROM pg_prepared_statements WHERE name = 'parley_test_prepared'`);
      return rows.length;
    });
    // On PGlite every connection shares one session: a statement prepared by any of them would be seen here.
    expect(prepared).toBe(isEmbeddedDatabase(dataSource) ? 0 : 1);
  });

  it('refuses a second text under a name already declared', () => {
    expect(() => preparedStatement('parley_test_next', 'SELECT 2')).toThrow(/two prepared statements are named parley_test_next/);
    expect(preparedStatement('parley_test_next', 'SELECT $1::int + 1 AS next')).toEqual(NEXT);
  });
});
