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

/** Opens this file's database. */
export async function createTestDatabase(options: { poolSize?: number } = {}): Promise<TestDatabase> {
  const { testDatabaseUrl } = readTestEnvironment();
  let database: Database;
  let drop: (() => Promise<void>) | undefined;
  if (testDatabaseUrl) {
    const clone = await cloneTemplate(testDatabaseUrl);
    drop = clone.drop;
    database = await openDatabase({ url: clone.url, poolSize: options.poolSize ?? 5 });
  } else {
    const snapshot = new Blob([fs.readFileSync(inject('pgliteSnapshotFile'))]);
    database = await openDatabase({ pgliteDataDir: 'memory', pgliteSnapshot: snapshot, poolSize: options.poolSize ?? 5 });
  }
  return {
    ...database,
    async truncateAll() {
      const tables: Array<{ tablename: string }> = await database.dataSource.query(
        `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migrations'`,
      );
      if (tables.length > 0) {
        await database.dataSource.query(`TRUNCATE ${tables.map((table) => `"${table.tablename}"`).join(', ')} CASCADE`);
      }
    },
    async close() {
      await database.close();
      await drop?.();
    },
  };
}
