/**
 * Opens Parley's database: the PostgreSQL at DATABASE_URL, or an embedded PGlite served on a loopback port
 * so that the very same pg driver, TypeORM setup, migrations and SQL run in both modes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type Extension, PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { Pool } from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { ENTITIES } from './entities';
import { shareConnectionsFairly } from './fair-connections';
import { keepProtocolBatchesTogether } from './pglite-query-queue';
import { countingTypeOrmLogger } from './statement-counter';

// PGlite's contrib typings are declared ESM-only although a CommonJS build ships beside them.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { pgcrypto } = require('@electric-sql/pglite/contrib/pgcrypto') as { pgcrypto: Extension };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { unaccent } = require('@electric-sql/pglite/contrib/unaccent') as { unaccent: Extension };
/** Contrib extensions the migrations create (gen_random_uuid; accent folding of knowledge search). */
const PGLITE_EXTENSIONS = { pgcrypto, unaccent };

export interface DatabaseOptions {
  /** PostgreSQL URL; when absent, an embedded PGlite is started. */
  url?: string;
  /** PGlite data directory, or 'memory' for a throwaway database (tests). */
  pgliteDataDir?: string;
  poolSize?: number;
  /** Run pending migrations after connecting (embedded mode always does). */
  migrate?: boolean;
  /**
   * Embedded mode: publish this process's PGlite socket so CLIs (admin, chat) reach the same database while the
   * server runs. PGlite's files must never be opened by two processes at once.
   */
  publishEmbeddedSocket?: boolean;
  /** Embedded mode: start from this dump of an already migrated PGlite (tests start one per file). */
  pgliteSnapshot?: Blob;
}

export interface Database {
  dataSource: DataSource;
  mode: 'postgres' | 'embedded';
  /** A pg connection URL for this database (for embedded mode, the loopback socket). */
  connectionUrl: string;
  /** Embedded mode only: a dump of the PGlite data directory, loadable with `pgliteSnapshot`. */
  dumpEmbedded?: () => Promise<Blob>;
  close(): Promise<void>;
}

/** TypeORM options shared by the app and the typeorm CLI (ormconfig.ts). Never synchronize: migrations only. */
export function buildDataSourceOptions(url: string, poolSize = 10, { embedded = false } = {}): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    uuidExtension: 'pgcrypto',
    // Nothing is printed: the logger only counts statements (parley_db_statements_total, the capacity benchmark).
    logger: countingTypeOrmLogger,
    extra: {
      max: poolSize,
      connectionTimeoutMillis: CONNECTION_TIMEOUT_MS,
      // The embedded PGlite plans every statement unnamed (direct-query.ts): nothing to renew there.
      maxLifetimeSeconds: embedded ? 0 : CONNECTION_LIFETIME_SECONDS,
    },
  };
}

/**
 * A pooled connection is replaced after this long (when next released). A turn's statements are prepared once per
 * connection, and PostgreSQL decides per prepared statement whether to keep one generic plan by comparing it with the
 * average cost of the custom plans it made before, an average it keeps for the connection's life: on a connection
 * opened while the tables were small, that average stays small, the generic plan re-made after each ANALYZE looks
 * dearer, and the statement goes back to being planned on every execution (measured in a 10-minute soak: the
 * implicit-feedback statement planned 0.68 ms per turn after the first ANALYZE). A new connection judges by the
 * tables as they are. A reconnect costs a few milliseconds once a minute per connection.
 */
const CONNECTION_LIFETIME_SECONDS = 60;

/** How long a statement may wait for a pooled connection before it fails (and its turn is retried). */
const CONNECTION_TIMEOUT_MS = 10_000;

/** The pg pool behind a DataSource (TypeORM keeps it on its driver as `master`). */
export function poolOf(dataSource: DataSource): Pool {
  return (dataSource.driver as unknown as { master: Pool }).master;
}

/** Starts PGlite and exposes it on 127.0.0.1 at a free port. */
async function startEmbeddedPostgres(dataDir: string, connections: number, snapshot?: Blob) {
  let pglite: PGlite;
  if (dataDir === 'memory') {
    pglite = new PGlite({ extensions: PGLITE_EXTENSIONS, ...(snapshot ? { loadDataDir: snapshot } : {}) });
  } else {
    fs.mkdirSync(path.resolve(dataDir), { recursive: true });
    pglite = new PGlite(path.resolve(dataDir), { extensions: PGLITE_EXTENSIONS });
  }
  await pglite.waitReady;
  // PGlite is a single backend: the socket server queues queries and keeps a transaction on its own connection.
  const server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port: 0, maxConnections: connections + 4 });
  keepProtocolBatchesTogether(server);
  await server.start();
  const url = `postgres://postgres@${server.getServerConn()}/postgres`;
  return {
    url,
    dump: () => pglite.dumpDataDir('none'),
    async stop() {
      await server.stop();
      await pglite.close();
    },
  };
}

/** DataSources that reach a PGlite: one backend session shared by every pooled connection. */
const embeddedDataSources = new WeakSet<DataSource>();

/** True when the DataSource talks to an embedded PGlite rather than a PostgreSQL server. */
export function isEmbeddedDatabase(dataSource: DataSource): boolean {
  return embeddedDataSources.has(dataSource);
}

/** Where a running server publishes its embedded PGlite socket. */
function socketFileOf(dataDir: string): string {
  return `${path.resolve(dataDir)}.socket.json`;
}

/** The socket URL of another live process serving this PGlite directory, if any. */
function findRunningEmbedded(dataDir: string): string | undefined {
  try {
    const published = JSON.parse(fs.readFileSync(socketFileOf(dataDir), 'utf8')) as { url: string; pid: number };
    if (published.pid === process.pid) return undefined;
    process.kill(published.pid, 0);
    return published.url;
  } catch {
    return undefined;
  }
}

/** True when the database answers a trivial query; false (never throws) when it does not. */
export async function isDatabaseReachable(dataSource: DataSource): Promise<boolean> {
  try {
    await dataSource.query('SELECT 1');
    return true;
  } catch {
    return false;
  }
}

/**
 * What an operator should fix in the database's configuration, as sentences for the start-up log. Parley's work
 * queue rewrites each message row several times and its turn statements keep generic plans (db/direct-query.ts),
 * so it needs autovacuum (PostgreSQL's default): without it the tables and indexes fill with dead rows and plans
 * keep the estimates of the tables' first minutes (measured: 57,000 dead rows in `messages` after a 2-minute soak).
 */
export async function databaseWarnings(database: Database): Promise<string[]> {
  if (database.mode === 'embedded') return [];
  const [{ autovacuum }]: Array<{ autovacuum: string }> = await database.dataSource.query(
    `SELECT current_setting('autovacuum') AS autovacuum`,
  );
  return autovacuum === 'off'
    ? ['autovacuum is off: the work queue tables will bloat and keep stale plans; turn it on (autovacuum = on, the default)']
    : [];
}

/** Connects (starting PGlite if needed) and migrates when asked; embedded mode always migrates. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const poolSize = options.poolSize ?? 10;
  const dataDir = options.pgliteDataDir ?? 'memory';
  let embedded: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;
  let url = options.url;
  const shared = !url && dataDir !== 'memory' ? findRunningEmbedded(dataDir) : undefined;
  if (shared) url = shared;
  if (!url) {
    embedded = await startEmbeddedPostgres(dataDir, poolSize, options.pgliteSnapshot);
    url = embedded.url;
    if (options.publishEmbeddedSocket && dataDir !== 'memory') {
      fs.writeFileSync(socketFileOf(dataDir), JSON.stringify({ url, pid: process.pid }), { mode: 0o600 });
    }
  }
  const dataSource = new DataSource(buildDataSourceOptions(url, poolSize, { embedded: Boolean(embedded || shared) }));
  if (embedded || shared) embeddedDataSources.add(dataSource);
  try {
    await dataSource.initialize();
    shareConnectionsFairly(poolOf(dataSource), poolSize, CONNECTION_TIMEOUT_MS);
    if (embedded || options.migrate) await dataSource.runMigrations({ transaction: 'each' });
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
    throw error;
  }
  return {
    dataSource,
    mode: embedded || shared ? 'embedded' : 'postgres',
    connectionUrl: url,
    dumpEmbedded: embedded?.dump,
    async close() {
      if (dataSource.isInitialized) await dataSource.destroy();
      if (embedded && options.publishEmbeddedSocket && dataDir !== 'memory') fs.rmSync(socketFileOf(dataDir), { force: true });
      await embedded?.stop();
    },
  };
}

/**
 * Undoes the last applied migration, honouring its `transaction = false` (TypeORM's undoLastMigration wraps every
 * down() in a transaction under 'each', and DROP INDEX CONCURRENTLY refuses to run in one). Returns its name, or
 * undefined when none is applied.
 */
export async function revertLastMigration(dataSource: DataSource): Promise<string | undefined> {
  const [last]: Array<{ name: string }> = await dataSource.query('SELECT name FROM migrations ORDER BY timestamp DESC, id DESC LIMIT 1');
  if (!last) return undefined;
  const migration = dataSource.migrations.find((candidate) => (candidate.name ?? candidate.constructor.name) === last.name);
  const outsideTransaction = (migration as { transaction?: boolean } | undefined)?.transaction === false;
  await dataSource.undoLastMigration({ transaction: outsideTransaction ? 'none' : 'each' });
  return last.name;
}
