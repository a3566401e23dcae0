/**
 * Runs statements straight on pg, skipping TypeORM's per-query QueryRunner (acquire, logging, release): for the
 * webhook's acknowledgement path and a turn's statements, where that bookkeeping is a visible share of the cost.
 *
 * Unnamed statements (queryDirect) are parsed and planned for their parameters on every execution, from the
 * tables' current size. Prepared statements (queryPrepared) are parsed once per pooled connection, and after five
 * executions PostgreSQL may keep one generic plan for all parameters. Planning was most of a turn's database time
 * (issue 18: 2.9 of 5.6 ms per turn in the soak's pg_stat_statements, the messages table having nine indexes, four
 * of them partial), so a turn's statements are prepared. That is safe for a statement whose good plan does not
 * depend on its parameters' values: a lookup by key (an id, a conversation's messages by seq), an INSERT of its
 * parameters. It is not for a statement with an optional filter (`$1 IS NULL OR column = $1`): the generic plan
 * cannot drop the unused branch. test/db/prepared-statements.test.ts checks every prepared statement's generic
 * plan on a populated, analysed database: no sequential scan of a growing table, no walk over a whole index. A
 * cached plan is re-planned when its tables' statistics change (ANALYZE, autovacuum), so it follows the tables as
 * they grow (without autovacuum, measured on the webhook benchmark, a plan made while the table was small kept
 * seq-scanning it: the server warns when autovacuum is off), and pooled connections are renewed every minute
 * (data-source.ts) so PostgreSQL's choice between the generic and a custom plan is made on the tables as they are.
 *
 * A prepared statement names its result columns: with `*`, a migration adding a column to the table makes
 * PostgreSQL refuse the statement on every connection that prepared it ("cached plan must not change result type").
 *
 * A connection pooler in front of PostgreSQL must support prepared statements (PgBouncer 1.21+ in transaction
 * mode, or session mode). On the embedded PGlite every pooled connection shares one backend session, where one
 * connection's statement name would collide with another's, so there statements always go unnamed.
 */
import type { QueryConfig } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { isEmbeddedDatabase, poolOf } from './data-source';
import { countStatement } from './statement-counter';

/** A statement prepared once per connection: its name (unique in the process) and text. */
export interface PreparedStatement {
  readonly name: string;
  readonly text: string;
}

const declared = new Map<string, PreparedStatement>();

/** Declares a prepared statement (at module load); the generic-plan test reads them all from declaredStatements(). */
export function preparedStatement(name: string, text: string): PreparedStatement {
  const known = declared.get(name);
  // pg refuses a second text under a name a connection has prepared; fail at load, not on the first busy connection.
  if (known && known.text !== text) throw new Error(`two prepared statements are named ${name}`);
  const statement = { name, text };
  declared.set(name, statement);
  return statement;
}

/** Every prepared statement declared by the modules loaded so far. */
export function declaredStatements(): PreparedStatement[] {
  return [...declared.values()];
}

/** Runs `text` with `values`, unnamed, on the DataSource's pool; returns the rows. */
export async function queryDirect<Row>(dataSource: DataSource, text: string, values: unknown[]): Promise<Row[]> {
  countStatement();
  const result = await poolOf(dataSource).query(text, values);
  return result.rows as Row[];
}

/**
 * Runs a prepared statement through `manager`: on its transaction's connection when the manager belongs to one,
 * else on the pool. Returns the rows (for an UPDATE or DELETE, the RETURNING rows: no [rows, count] pair as TypeORM).
 */
export async function queryPrepared<Row>(manager: EntityManager, statement: PreparedStatement, values: unknown[]): Promise<Row[]> {
  countStatement();
  const config: QueryConfig = isEmbeddedDatabase(manager.connection)
    ? { text: statement.text, values }
    : { name: statement.name, text: statement.text, values };
  const runner = manager.queryRunner;
  if (runner) {
    const client = (await runner.connect()) as { query(config: QueryConfig): Promise<{ rows: unknown[] }> };
    return (await client.query(config)).rows as Row[];
  }
  return (await poolOf(manager.connection).query(config)).rows as Row[];
}
