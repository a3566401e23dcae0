/**
 * Runs once per test run. With TEST_DATABASE_URL it migrates a template database on that PostgreSQL, which every
 * test file then clones (CREATE DATABASE ... TEMPLATE): migrated once, isolated per file. Names carry a run id,
 * so two runs on one server (a developer and CI) never touch each other's databases. An unreachable PostgreSQL
 * fails the run; it is never skipped.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import type { ProvidedContext } from 'vitest';

import { readTestEnvironment } from './test-environment';
import { openDatabase } from '../../src/db/data-source';
import { withDatabase } from './postgres-url';

/** The part of vitest's TestProject a global setup uses (vitest/node is ESM-only; this keeps the setup a CommonJS-compatible module). */
type TestProject = { provide<Key extends keyof ProvidedContext>(key: Key, value: ProvidedContext[Key]): void };

declare module 'vitest' {
  export interface ProvidedContext {
    /** Prefix of this run's databases; the template is `${prefix}_template`. */
    testDatabasePrefix: string;
    /** PGlite mode: a file holding a dump of a migrated PGlite, which each test file loads instead of migrating. */
    pgliteSnapshotFile: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const prefix = `parley_t_${crypto.randomBytes(4).toString('hex')}`;
  project.provide('testDatabasePrefix', prefix);
  const { testDatabaseUrl } = readTestEnvironment();
  if (!testDatabaseUrl) {
    const migrated = await openDatabase({ pgliteDataDir: 'memory', poolSize: 1 });
    const snapshot = Buffer.from(await (await migrated.dumpEmbedded!()).arrayBuffer());
    await migrated.close();
    const file = path.join(os.tmpdir(), `${prefix}-pglite.tar`);
    fs.writeFileSync(file, snapshot);
    project.provide('pgliteSnapshotFile', file);
    return async () => fs.rmSync(file, { force: true });
  }
  const admin = new Client({ connectionString: testDatabaseUrl, connectionTimeoutMillis: 5_000 });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(`TEST_DATABASE_URL is set but PostgreSQL is unreachable: ${(error as Error).message}`);
  }
  const template = `${prefix}_template`;
  try {
    await admin.query(`CREATE DATABASE ${template}`);
    const migrated = await openDatabase({ url: withDatabase(testDatabaseUrl, template), migrate: true, poolSize: 1 });
    await migrated.close();
  } finally {
    await admin.end();
  }
  return async () => {
    const cleanup = new Client({ connectionString: testDatabaseUrl });
    await cleanup.connect();
    const { rows } = await cleanup.query(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`${prefix}\\_%`]);
    for (const row of rows) await cleanup.query(`DROP DATABASE IF EXISTS ${row.datname} WITH (FORCE)`);
    await cleanup.end();
  };
}
