/**
 * A migrated database for one test file: an in-memory PGlite by default, or a fresh clone of the migrated
 * template on the real PostgreSQL when TEST_DATABASE_URL is set. truncateAll() resets it between tests.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { Client } from 'pg';
import { inject } from 'vitest';
import { readTestEnvironment } from './test-environment';
import { type Database, openDatabase } from '../../src/db/data-source';
import { withDatabase } from './postgres-url';

export interface TestDatabase extends Database {
  truncateAll(): Promise<void>;
}

async function cloneTemplate(serverUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const prefix = inject('testDatabasePrefix');
  const name = `${prefix}_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await admin.query(`CREATE DATABASE ${name} TEMPLATE ${prefix}_template`);
        break;
      } catch (error) {
        // Another file cloning at the same moment briefly holds the template. Math.random, not the run's seed: the
        // jitter must differ between the workers that collided.
        if (attempt >= 20 || !/being accessed by other users/.test((error as Error).message)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
      }
    }
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(serverUrl, name),
    drop: async () => {
      const cleanup = new Client({ connectionString: serverUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    },
  };
}

/**
 * PGlite mode: the database a finished file handed back, emptied, for the next file of this worker. Opening one
 * from the snapshot costs about 1.3 s of CPU; the unit project runs with isolate: false, so this module (and the
 * spare) outlives a file. Only a database whose schema is still the migrated one is kept.
 */
let spare: { database: Database; schema: string } | undefined;

/** Tables, columns, indexes, constraints and migrations: a file that changed any of them does not hand its database on. */
async function schemaFingerprint(database: Database): Promise<string> {
  const [row] = await database.dataSource.query(
    `SELECT md5(concat_ws('|',
              (SELECT string_agg(table_name || '.' || column_name || ':' || data_type || ':' || coalesce(column_default, ''),
                                 ',' ORDER BY table_name, column_name)
                 FROM information_schema.columns WHERE table_schema = 'public'),
              (SELECT string_agg(pg_get_indexdef(i.indexrelid) || i.indisvalid::text, ',' ORDER BY 1)
                 FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
                WHERE n.nspname = 'public'),
              (SELECT string_agg(pg_get_constraintdef(c.oid) || c.convalidated::text, ',' ORDER BY c.conname)
                 FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public'),
              (SELECT string_agg(name, ',' ORDER BY name) FROM migrations))) AS fingerprint`,
  );
  return row.fingerprint;
}

async function emptyTables(database: Database): Promise<void> {
  const tables: Array<{ tablename: string }> = await database.dataSource.query(
    `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migrations'`,
  );
  if (tables.length > 0) {
    await database.dataSource.query(`TRUNCATE ${tables.map((table) => `"${table.tablename}"`).join(', ')} RESTART IDENTITY CASCADE`);
  }
}

/** Opens this file's database. */
export async function createTestDatabase(options: { poolSize?: number } = {}): Promise<TestDatabase> {
  const { testDatabaseUrl } = readTestEnvironment();
  let database: Database;
  let drop: (() => Promise<void>) | undefined;
  // Only databases opened with the default pool are handed on (a pool size is fixed when the pool is made).
  const reusable = !testDatabaseUrl && options.poolSize === undefined;
  let schema: string | undefined;
  if (testDatabaseUrl) {
    const clone = await cloneTemplate(testDatabaseUrl);
    drop = clone.drop;
    database = await openDatabase({ url: clone.url, poolSize: options.poolSize ?? 5 });
  } else if (reusable && spare) {
    ({ database, schema } = spare);
    spare = undefined;
  } else {
    const snapshot = new Blob([fs.readFileSync(inject('pgliteSnapshotFile'))]);
    database = await openDatabase({ pgliteDataDir: 'memory', pgliteSnapshot: snapshot, poolSize: options.poolSize ?? 5 });
  }
  if (reusable) schema ??= await schemaFingerprint(database);
  return {
    ...database,
    async truncateAll() {
      await emptyTables(database);
    },
    async close() {
      if (reusable && !spare && database.dataSource.isInitialized) {
        try {
          if ((await schemaFingerprint(database)) === schema) {
            await emptyTables(database);
            spare = { database, schema: schema! };
            return;
          }
        } catch {
          // A database that cannot answer is closed below, not handed on.
        }
      }
      await database.close();
      await drop?.();
    },
  };
}
