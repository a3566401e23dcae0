/**
 * Runs a statement straight on the DataSource's pg pool, skipping TypeORM's per-query QueryRunner (acquire,
 * logging, release): for the webhook's acknowledgement path, where that bookkeeping is a visible share of the cost.
 *
 * The statement is deliberately unnamed. A named prepared statement lets PostgreSQL switch to a generic plan
 * after five executions, and a generic plan made while the tables were small (or never analysed: autovacuum
 * off) keeps seq-scanning them as they grow; measured on the webhook benchmark, that cost 40M tuple reads in
 * 45k requests and doubled the p99. An unnamed statement is planned for its parameters on every execution,
 * from the tables' current size, and batching spreads that planning over every message in the batch.
 */
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';

/** Runs `text` with `values` on the DataSource's pool; returns the rows. */
export async function queryDirect<Row>(dataSource: DataSource, text: string, values: unknown[]): Promise<Row[]> {
  const pool = (dataSource.driver as unknown as { master: Pool }).master;
  const result = await pool.query(text, values);
  return result.rows as Row[];
}
