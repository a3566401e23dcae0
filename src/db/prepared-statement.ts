/**
 * Named prepared statements for the hottest queries. pg prepares a named statement once per connection and
 * PostgreSQL then reuses its plan; an unnamed statement is planned on every call, which for a multi-CTE
 * statement costs more than running it.
 */
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { isEmbeddedDatabase } from './data-source';

/** Runs `text` as the named prepared statement `name` on the DataSource's pool; returns the rows. */
export async function runPrepared<Row>(dataSource: DataSource, name: string, text: string, values: unknown[]): Promise<Row[]> {
  const pool = (dataSource.driver as unknown as { master: Pool }).master;
  // PGlite has one session behind all pooled connections, so per-connection statement names would collide.
  const result = isEmbeddedDatabase(dataSource) ? await pool.query(text, values) : await pool.query({ name, text, values });
  return result.rows as Row[];
}
