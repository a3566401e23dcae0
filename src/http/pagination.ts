/**
 * Keyset pagination for list endpoints. The cursor is an opaque base64url of (created_at in microseconds, id) of
 * the last row returned; the next page continues strictly after it in (created_at DESC, id DESC) order, so rows
 * inserted meanwhile never shift or repeat a page. Microseconds, because PostgreSQL keeps them and a JS Date would
 * round them away and skip or repeat rows created within one millisecond.
 */
import { z } from 'zod';
import type { Cursor } from '../db/keyset-pagination';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// The instants a page may be bounded by: 1970-01-01 to the end of 9999. PostgreSQL refuses year 0, and a cursor
// beyond bigint or interval range is an error there (a 500), not an empty page.
const FIRST_INSTANT_MS = 0;
const LAST_INSTANT_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const LAST_INSTANT_MICROS = BigInt(LAST_INSTANT_MS) * 1000n + 999n;

/** An ISO 8601 instant with an offset, between 1970 and the end of 9999 once converted to UTC. */
const boundedInstant = z.iso.datetime({ offset: true }).refine((value) => {
  const milliseconds = Date.parse(value);
  return milliseconds >= FIRST_INSTANT_MS && milliseconds <= LAST_INSTANT_MS;
}, 'must be an instant of the years 1970 to 9999 (UTC)');

/** Encodes the position after a row. */
export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(`${cursor.createdAtMicros}.${cursor.id}`, 'utf8').toString('base64url');
}

/** Decodes a cursor, or returns null when it is not one of ours or points outside 1970..9999. */
export function decodeCursor(value: string): Cursor | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(value)) return null;
  const [micros, id, ...rest] = Buffer.from(value, 'base64url').toString('utf8').split('.');
  if (rest.length > 0 || !/^\d{1,20}$/.test(micros ?? '') || !UUID.test(id ?? '')) return null;
  if (BigInt(micros) > LAST_INSTANT_MICROS) return null;
  return { createdAtMicros: micros, id: id.toLowerCase() };
}

/** limit, cursor and a created_at range: shared by every list endpoint's query schema. */
export const paginationQueryShape = {
  limit: z.coerce.number().int().min(1).max(100).default(50).describe('Page size, 1 to 100'),
  cursor: z
    .string()
    .max(200)
    .transform((value, context) => {
      const cursor = decodeCursor(value);
      if (!cursor) {
        context.addIssue({ code: 'custom', message: 'Invalid cursor' });
        return z.NEVER;
      }
      return cursor;
    })
    .optional()
    .describe('next_cursor of the previous page'),
  from: boundedInstant.optional().describe('Only items created at or after this instant (1970 to 9999)'),
  to: boundedInstant.optional().describe('Only items created before this instant (1970 to 9999)'),
};

export interface Page<Item> {
  data: Item[];
  next_cursor: string | null;
}

/** Turns the fetched rows (limit + 1 at most, each with id and cursor_micros) into a page. */
export function toPage<Row extends { id: string; cursor_micros: string }, Item>(
  rows: Row[],
  limit: number,
  present: (row: Row) => Item,
): Page<Item> {
  const visible = rows.slice(0, limit);
  const last = visible[visible.length - 1];
  return {
    data: visible.map(present),
    next_cursor: rows.length > limit && last ? encodeCursor({ createdAtMicros: last.cursor_micros, id: last.id }) : null,
  };
}

/** Response schema of a page of `item`. */
export const pageSchema = <Item extends z.ZodType>(item: Item) => z.object({ data: z.array(item), next_cursor: z.string().nullable() });
