/**
 * Runs once per test run. With TEST_DATABASE_URL it migrates a template database on that PostgreSQL, which every
 * test file then clones (CREATE DATABASE ... TEMPLATE): migrated once, isolated per file. An unreachable
 * PostgreSQL fails the run; it is never skipped.
 */
import { Client } from 'pg';
import { readTestEnvironment } from '../../src/config';
import { openDatabase } from '../../src/db/data-source';
import { TEMPLATE_DATABASE, withDatabase } from './postgres-url';

export default async function setup(): Promise<() => Promise<void>> {
  const { testDatabaseUrl } = readTestEnvironment();
  if (!testDatabaseUrl) return async () => {};
  const admin = new Client({ connectionString: testDatabaseUrl, connectionTimeoutMillis: 5_000 });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(`TEST_DATABASE_URL is set but PostgreSQL is unreachable: ${(error as Error).message}`);
  }
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
    const template = await openDatabase({ url: withDatabase(testDatabaseUrl, TEMPLATE_DATABASE), migrate: true, poolSize: 1 });
    await template.close();
  } finally {
    await admin.end();
  }
  return async () => {
    const cleanup = new Client({ connectionString: testDatabaseUrl });
    await cleanup.connect();
    const { rows } = await cleanup.query(`SELECT datname FROM pg_database WHERE datname LIKE 'parley_t_%' OR datname = $1`, [TEMPLATE_DATABASE]);
    for (const row of rows) await cleanup.query(`DROP DATABASE IF EXISTS ${row.datname} WITH (FORCE)`);
    await cleanup.end();
  };
}
