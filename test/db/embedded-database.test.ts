/**
 * The embedded PGlite is one PostgreSQL session shared by every pooled connection through the socket server.
 * These tests hold it to what PostgreSQL guarantees: concurrent queries never cross, transactions stay isolated.
 * They always run on PGlite (that is their subject), also in the PostgreSQL CI pass.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/data-source';

describe('embedded PGlite under concurrency', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openDatabase({ pgliteDataDir: 'memory', poolSize: 12 });
    // A fresh PGlite runs initdb and every migration: ~8 s on a quiet machine, over a minute on a loaded one.
  }, 180_000);
  afterAll(async () => {
    await database.close();
  });

  it('keeps concurrent extended-protocol queries with different parameters apart', async () => {
    const queries = Array.from({ length: 600 }, (_, index) => {
      const arity = (index % 5) + 1;
      const values = Array.from({ length: arity }, (__, position) => index * 10 + position);
      const sql = `SELECT ${values.map((_value, position) => `$${position + 1}::int`).join(' + ')} AS total`;
      return { sql, values, expected: values.reduce((sum, value) => sum + value, 0) };
    });
    const results = await Promise.all(queries.map(async (query) => (await database.dataSource.query(query.sql, query.values))[0].total));
    expect(results).toEqual(queries.map((query) => query.expected));
  });

  it('keeps queries apart while other connections open and close transactions', async () => {
    await database.dataSource.query('CREATE TABLE IF NOT EXISTS embedded_mixed (value int NOT NULL)');
    const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
    const query = async (manager: typeof database.dataSource.manager, seed: number) => {
      const values = Array.from({ length: (seed % 5) + 1 }, (_, position) => seed * 10 + position);
      const [row] = await manager.query(`SELECT ${values.map((_value, position) => `$${position + 1}::int`).join(' + ')} AS total`, values);
      return row?.total === sum(values);
    };
    // Before the queue fix, a transaction opening between another connection's Parse and Bind crossed their statements.
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, async (_, worker) => {
        const results: boolean[] = [];
        for (let round = 0; round < 40; round += 1) {
          if (worker % 3 === 0) {
            await database.dataSource.transaction(async (manager) => {
              results.push(await query(manager, worker * 100 + round));
              await manager.query('INSERT INTO embedded_mixed (value) VALUES ($1)', [round]);
              results.push(await query(manager, worker * 100 + round + 1));
            });
          } else {
            results.push(await query(database.dataSource.manager, worker * 100 + round));
          }
        }
        return results;
      }),
    );
    expect(outcomes.flat().every(Boolean)).toBe(true);
    expect(outcomes.flat()).toHaveLength(4 * 80 + 8 * 40);
    expect(await database.dataSource.query('SELECT count(*)::int AS count FROM embedded_mixed')).toEqual([{ count: 4 * 40 }]);
  });

  it('runs a transaction on its own while other connections keep querying', async () => {
    await database.dataSource.query('CREATE TABLE IF NOT EXISTS embedded_probe (value int NOT NULL)');
    // The transaction stays open after its first statement until the outside queries have been issued.
    let inside!: () => void;
    const transactionOpen = new Promise<void>((resolve) => (inside = resolve));
    let release!: () => void;
    const outsideIssued = new Promise<void>((resolve) => (release = resolve));
    const transaction = database.dataSource.transaction(async (manager) => {
      await manager.query('INSERT INTO embedded_probe (value) VALUES (1)');
      inside();
      await outsideIssued;
      await manager.query('INSERT INTO embedded_probe (value) VALUES (2)');
      throw new Error('roll back');
    });
    await transactionOpen;
    const outside = Promise.all(Array.from({ length: 50 }, (_, index) => database.dataSource.query('SELECT $1::int AS value', [index])));
    // One turn of the event loop lets the pool hand the queries to their connections before the transaction goes on.
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await expect(transaction).rejects.toThrow('roll back');
    expect((await outside).map((rows) => rows[0].value)).toEqual(Array.from({ length: 50 }, (_, index) => index));
    expect(await database.dataSource.query('SELECT count(*)::int AS count FROM embedded_probe')).toEqual([{ count: 0 }]);
  });
});
