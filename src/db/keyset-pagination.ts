/**
 * Keyset pagination in SQL: a page continues strictly after the (created_at, id) of the last row returned, in
 * (created_at DESC, id DESC) order, so rows inserted meanwhile never shift or repeat a page. The position is kept
 * in microseconds, because PostgreSQL keeps them and a JS Date would round them away and skip or repeat rows
 * created within one millisecond. The cursor's wire form (opaque base64url) is http/pagination.ts's business.
 */

export interface Cursor {
  /** created_at as microseconds since the epoch, a decimal string (exact beyond 2^53). */
  createdAtMicros: string;
  id: string;
}

export interface PageQuery {
  limit: number;
  cursor?: Cursor;
  from?: string;
  to?: string;
}

/** SQL select expression of a row's cursor key; alias the result as cursor_micros. */
export const cursorKeySql = (column: string) => `(extract(epoch from ${column}) * 1000000)::bigint::text`;

/**
 * Appends the keyset and date-range conditions for `column` (and the matching id column) to `conditions`,
 * pushing their values onto `parameters`.
 */
export function addPageConditions(
  query: PageQuery,
  columns: { createdAt: string; id: string },
  conditions: string[],
  parameters: unknown[],
): void {
  if (query.from) {
    parameters.push(query.from);
    conditions.push(`${columns.createdAt} >= $${parameters.length}::timestamptz`);
  }
  if (query.to) {
    parameters.push(query.to);
    conditions.push(`${columns.createdAt} < $${parameters.length}::timestamptz`);
  }
  if (query.cursor) {
    parameters.push(query.cursor.createdAtMicros, query.cursor.id);
    const micros = `$${parameters.length - 1}`;
    const id = `$${parameters.length}`;
    conditions.push(
      `(${columns.createdAt}, ${columns.id}) < (timestamptz 'epoch' + ${micros}::bigint * interval '1 microsecond', ${id}::uuid)`,
    );
  }
}

/** SQL ORDER BY and LIMIT for a page: one extra row tells whether there is a next page. */
export function pageOrderSql(query: PageQuery, columns: { createdAt: string; id: string }, parameters: unknown[]): string {
  parameters.push(query.limit + 1);
  return `ORDER BY ${columns.createdAt} DESC, ${columns.id} DESC LIMIT $${parameters.length}`;
}
