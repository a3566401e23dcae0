/** Request validation with zod: every body, query and param goes through one of these. */
import type { z } from 'zod';
import { validationFailed } from './errors';

/** Parses `value` with `schema` or throws a 400 naming `where` (body, query, params). */
export function parseRequest<Schema extends z.ZodType>(schema: Schema, value: unknown, where: string): z.output<Schema> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationFailed(result.error, where);
  return result.data;
}
