/**
 * Counts the SQL statements a process sends, for GET /metrics (parley_db_statements_total) and the capacity
 * benchmark's statements per reply. TypeORM reports every statement it runs to its logger; the accept path's direct
 * pool statements (db/direct-query.ts) are counted there. Nothing is printed: the count is all this keeps.
 */
import type { Logger as TypeOrmLogger } from 'typeorm';

let statements = 0;

/** Statements sent by this process so far. */
export function statementCount(): number {
  return statements;
}

/** Counts one statement sent outside TypeORM. */
export function countStatement(): void {
  statements += 1;
}

/** A TypeORM logger that counts queries and logs nothing (errors reach the caller as exceptions). */
export const countingTypeOrmLogger: TypeOrmLogger = {
  logQuery() {
    statements += 1;
  },
  logQueryError() {},
  logQuerySlow() {},
  logSchemaBuild() {},
  logMigration() {},
  log() {},
};
