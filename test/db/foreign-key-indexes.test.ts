/**
 * Every foreign key's ON DELETE action finds the referencing rows through an index, and the composite message key
 * is validated apart from the statements that add it (migrations 1764000500000, 1764001200000, 1764001200100).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageTenantThroughConversation1764000500000 } from '../../migrations/1764000500000-MessageTenantThroughConversation';
import { ValidateMessageConversationTenant1764001200000 } from '../../migrations/1764001200000-ValidateMessageConversationTenant';
import { FOREIGN_KEY_INDEXES, ForeignKeyIndexes1764001200100 } from '../../migrations/1764001200100-ForeignKeyIndexes';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

interface ForeignKey {
  name: string;
  table: string;
  columns: string[];
  types: string[];
}

/** Lock modes that conflict with ROW EXCLUSIVE, the lock INSERT, UPDATE and DELETE take. */
const MODES_BLOCKING_WRITES = ['ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock'];

describe('foreign keys and their indexes', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.close();
  });

  const query = <Row>(sql: string, values: unknown[] = []) => database.dataSource.query(sql, values) as Promise<Row[]>;

  const foreignKeys = () =>
    query<ForeignKey>(
      `SELECT c.conname AS name, c.conrelid::regclass::text AS table,
              array_agg(a.attname::text ORDER BY k.n) AS columns,
              array_agg(format_type(a.atttypid, a.atttypmod) ORDER BY k.n) AS types
         FROM pg_constraint c
         CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
        WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace
        GROUP BY c.oid, c.conname, c.conrelid
        ORDER BY 2, 1`,
    );

  const convalidated = async () =>
    (await query<{ convalidated: boolean }>(`SELECT convalidated FROM pg_constraint WHERE conname = 'fk_messages_conversation_tenant'`))[0]
      .convalidated;

  it("gives the lookup of every foreign key's ON DELETE action an index", async () => {
    const keys = await foreignKeys();
    expect(keys.length).toBeGreaterThanOrEqual(28);
    const runner = database.dataSource.createQueryRunner();
    const sequentialScans: string[] = [];
    try {
      await runner.startTransaction();
      // Sequential scans priced out and a generic plan (the one the foreign key triggers cache): an index shows up in
      // the plan if, and only if, one can serve `column = $1`, partial indexes on IS NOT NULL included.
      await runner.query('SET LOCAL enable_seqscan = off');
      await runner.query('SET LOCAL plan_cache_mode = force_generic_plan');
      for (const key of keys) {
        const where = key.columns.map((column, index) => `${column} = $${index + 1}`).join(' AND ');
        await runner.query(`PREPARE fk_lookup (${key.types.join(', ')}) AS SELECT 1 FROM ${key.table} WHERE ${where}`);
        const plan: Array<{ 'QUERY PLAN': string }> = await runner.query(
          `EXPLAIN EXECUTE fk_lookup (${key.columns.map(() => 'NULL').join(', ')})`,
        );
        await runner.query('DEALLOCATE fk_lookup');
        if (!/Index (Only )?Scan/.test(plan.map((row) => row['QUERY PLAN']).join('\n')))
          sequentialScans.push(`${key.table} (${key.columns.join(', ')}) ${key.name}`);
      }
      await runner.rollbackTransaction();
    } finally {
      await runner.release();
    }
    expect(sequentialScans).toEqual([]);
  });

  it('adds the conversation-tenant key NOT VALID, and validates it later in a transaction whose locks let writes go on', async () => {
    await query(
      `INSERT INTO tenants (id, name, whatsapp_number, encrypted_credentials) VALUES ('00000000-0000-4000-8000-000000000001', 'Shop', '+15550000001', 'x')`,
    );
    await query(
      `INSERT INTO customers (id, tenant_id, whatsapp_address) VALUES ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000001', 'whatsapp:+15551234567')`,
    );
    await query(
      `INSERT INTO conversations (id, tenant_id, customer_id) VALUES ('00000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002')`,
    );
    await query(
      `INSERT INTO messages (tenant_id, conversation_id, direction, author, body, status) VALUES ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000003', 'inbound', 'customer', 'hi', 'received')`,
    );
    const runner = database.dataSource.createQueryRunner();
    try {
      await new MessageTenantThroughConversation1764000500000().down(runner);
      await new MessageTenantThroughConversation1764000500000().up(runner);
      expect(await convalidated()).toBe(false);

      await runner.startTransaction();
      await new ValidateMessageConversationTenant1764001200000().up(runner);
      const locks: Array<{ relname: string; mode: string }> = await runner.query(
        `SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
          WHERE l.pid = pg_backend_pid() AND c.relname IN ('messages', 'conversations')`,
      );
      await runner.commitTransaction();

      expect(locks).toContainEqual({ relname: 'messages', mode: 'ShareUpdateExclusiveLock' });
      expect(locks.filter((lock) => MODES_BLOCKING_WRITES.includes(lock.mode))).toEqual([]);
      expect(await convalidated()).toBe(true);
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
      await query('DELETE FROM tenants');
    }
  });

  it('leaves a key that 1764000500000 validated (an install migrated before the split) as it is', async () => {
    expect(await convalidated()).toBe(true);
    const runner = database.dataSource.createQueryRunner();
    try {
      await runner.startTransaction();
      await new ValidateMessageConversationTenant1764001200000().up(runner);
      const locks: Array<{ mode: string }> = await runner.query(
        `SELECT l.mode FROM pg_locks l WHERE l.pid = pg_backend_pid() AND l.relation = 'messages'::regclass`,
      );
      await runner.rollbackTransaction();
      expect(locks.map((lock) => lock.mode)).not.toContain('ShareUpdateExclusiveLock');
    } finally {
      await runner.release();
    }
  });

  it('builds the indexes outside a transaction, reverts, and rebuilds an index an interrupted build left invalid', async () => {
    const migration = new ForeignKeyIndexes1764001200100();
    expect(migration.transaction).toBe(false);
    const names = FOREIGN_KEY_INDEXES.map((index) => index.name);
    const present = async () =>
      query<{ name: string; valid: boolean; definition: string }>(
        `SELECT c.relname AS name, i.indisvalid AS valid, pg_get_indexdef(i.indexrelid) AS definition
           FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = ANY($1) ORDER BY 1`,
        [names],
      );
    const runner = database.dataSource.createQueryRunner();
    try {
      expect((await present()).map((index) => index.name)).toEqual([...names].sort());
      await migration.down(runner);
      expect(await present()).toEqual([]);
      // What CREATE INDEX CONCURRENTLY leaves behind when it is interrupted: an index by that name, marked invalid.
      await runner.query('CREATE INDEX ix_messages_reply_to ON messages (id)');
      await runner.query(`UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'ix_messages_reply_to'::regclass`);
      await migration.up(runner);
      const rebuilt = await present();
      expect(rebuilt.map((index) => index.name)).toEqual([...names].sort());
      expect(rebuilt.every((index) => index.valid)).toBe(true);
      expect(rebuilt.find((index) => index.name === 'ix_messages_reply_to')?.definition).toMatch(
        /\(reply_to_message_id\) WHERE \(reply_to_message_id IS NOT NULL\)/,
      );
    } finally {
      await runner.release();
    }
  });
});
