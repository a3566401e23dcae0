import { describe, expect, it } from 'vitest';
import { isEmbeddedDatabase, poolOf } from '../../src/db/data-source';
import { queryDirect } from '../../src/db/direct-query';
import { useTestContext } from '../support/test-context';

describe('queryDirect: statements straight on the pool', () => {
  const context = useTestContext();

  it('runs a named statement on every pooled connection at once, on PostgreSQL and on the embedded PGlite alike', async () => {
    // PGlite serves every pooled connection from one backend session: a name prepared by one connection would
    // collide with the same name prepared by another ("prepared statement already exists").
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        queryDirect<{ next: number }>(context.database.dataSource, 'SELECT $1::int + 1 AS next', [index], 'parley_test_next'),
      ),
    );
    expect(results.map(([row]) => row.next)).toEqual(Array.from({ length: 20 }, (_, index) => index + 1));
  });

  it('prepares a named statement on PostgreSQL and never on the embedded PGlite', async () => {
    const dataSource = context.database.dataSource;
    // One connection, held, so the statement and the look-up run on the same session.
    const client = await poolOf(dataSource).connect();
    const preparedCount = async () =>
      (await client.query(`SELECT name FROM pg_prepared_statements WHERE name = 'parley_test_prepared'`)).rows.length;
    try {
      if (isEmbeddedDatabase(dataSource)) {
        // Every connection shares PGlite's one session: a statement prepared by any of them would be seen here.
        await queryDirect(dataSource, 'SELECT 1 AS one', [], 'parley_test_prepared');
        expect(await preparedCount()).toBe(0);
      } else {
        // A DataSource whose pool is this one connection.
        const onClient = { driver: { master: client } } as unknown as typeof dataSource;
        await queryDirect(onClient, 'SELECT 1 AS one', [], 'parley_test_prepared');
        expect(await preparedCount()).toBe(1);
      }
    } finally {
      client.release();
    }
  });
});
