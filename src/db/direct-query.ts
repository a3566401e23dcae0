/**
 * Runs a statement straight on the DataSource's pg pool, skipping TypeORM's per-query QueryRunner (acquire,
 * logging, release): for the webhook's acknowledgement path, where that bookkeeping is a visible share of the cost.
 *
 * Statements are unnamed unless told otherwise. A named prepared statement lets PostgreSQL switch to a generic
 * plan after five executions, and a generic plan made while the tables were small (or never analysed: autovacuum
 * off) keeps seq-scanning them as they grow; measured on the webhook benchmark, that cost 40M tuple reads in
 * 45k requests and doubled the p99. An unnamed statement is planned for its parameters on every execution, from
 * the tables' current size, and batching spreads that planning over every message in the batch.
 *
 * A statement whose plan cannot depend on any table's size (an INSERT of its parameters, with no scan to choose)
 * may be named: each pooled connection then parses and plans it once, which for the known-sender insert took a
 * quarter of its round trip (0.91 -> 0.68 ms p50 for one message, measured side by side). A connection pooler in
 * front of PostgreSQL must then support prepared statements (PgBouncer 1.21+ in transaction mode, or session mode).
 * On the embedded PGlite every pooled connection shares one backend session, where one connection's statement name
 * would collide with another's, so there statements always go unnamed.
 */
import type { DataSource } from 'typeorm';
import { isEmbeddedDatabase, poolOf } from './data-source';
import { countStatement } from './statement-counter';

/** Runs `text` with `values` on the DataSource's pool; returns the rows. `name` prepares it once per connection. */
export async function queryDirect<Row>(dataSource: DataSource, text: string, values: unknown[], name?: string): Promise<Row[]> {
  const pool = poolOf(dataSource);
  countStatement();
  const prepared = name !== undefined && !isEmbeddedDatabase(dataSource);
  const result = prepared ? await pool.query({ name, text, values }) : await pool.query(text, values);
  return result.rows as Row[];
}
