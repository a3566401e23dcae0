/** Every migration's down() works in the order `npm run migrate -- --revert` runs them, and up() applies again after. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revertLastMigration } from '../../src/db/data-source';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe('reverting migrations', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    // Its own pool size: this file's emptied database is not handed to the next file (it rebuilds the schema).
    database = await createTestDatabase({ poolSize: 2 });
  });
  afterAll(async () => {
    await database.close();
  });

  const applied = async () =>
    ((await database.dataSource.query('SELECT name FROM migrations ORDER BY id')) as Array<{ name: string }>).map((row) => row.name);
  const publicTables = async () =>
    (
      (await database.dataSource.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)) as Array<{
        tablename: string;
      }>
    ).map((row) => row.tablename);

  it('reverts every migration one by one, newest first (those that run outside a transaction too), then applies them all again', async () => {
    const before = await applied();
    const tablesBefore = await publicTables();
    expect(before.length).toBe(database.dataSource.migrations.length);
    const reverted: string[] = [];
    for (let name = await revertLastMigration(database.dataSource); name; name = await revertLastMigration(database.dataSource)) {
      reverted.push(name);
    }
    expect(reverted).toEqual([...before].reverse());
    // Left: TypeORM's own bookkeeping tables.
    expect(await publicTables()).toEqual(['migrations', 'typeorm_metadata']);
    await database.dataSource.runMigrations({ transaction: 'each' });
    expect(await applied()).toEqual(before);
    expect(await publicTables()).toEqual(tablesBefore);
  });
});
