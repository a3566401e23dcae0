/**
 * Counts the SQL statements a process sends, for GET /metrics (parley_db_statements_total) and the capacity
 * benchmark's statements per reply. TypeORM reports every statement it runs to its logger; the accept path's direct
 * pool statements (db/direct-query.ts) are counted there. Nothing is printed: the count is all this keeps.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger as TypeOrmLogger } from 'typeorm';

let statements = 0;
/**
 * The statements of one piece of work and of everything it starts (async context follows awaits, timers and
 * callbacks), so a measurement is not swelled by what else the process does at the same time.
 */
const scopedCounts = new AsyncLocalStorage<{ statements: number }>();

function count(): void {
  statements += 1;
  const scope = scopedCounts.getStore();
  if (scope) scope.statements += 1;
}

/** Statements sent by this process so far. */
export function statementCount(): number {
  return statements;
}

/** Counts one statement sent outside TypeORM. */
export function countStatement(): void {
  count();
}

/** Runs `work` and returns how many statements it (and only it) sent. */
export async function countStatementsOf(work: () => Promise<unknown>): Promise<number> {
  const scope = { statements: 0 };
  await scopedCounts.run(scope, work);
  return scope.statements;
}

/** A TypeORM logger that counts queries and logs nothing (errors reach the caller as exceptions). */
export const countingTypeOrmLogger: TypeOrmLogger = {
  logQuery() {
    count();
  },
  logQueryError() {},
  logQuerySlow() {},
  logSchemaBuild() {},
  logMigration() {},
  log() {},
};
