/**
 * Errors as they may be logged. A TypeORM QueryFailedError carries the SQL and its parameters (a customer's message
 * text, a phone number), and PostgreSQL quotes the offending value in its message ('invalid input syntax for type
 * uuid: "..."') and echoes bind parameters in `where` ('unnamed portal parameter $1 = ...'). What is kept: the
 * class, the SQLSTATE and the schema names PostgreSQL reports, the message with every quoted span elided, the stack
 * (its first line rebuilt from that message), and the cause, made safe the same way.
 */

/** Driver fields that name schema objects or the failing C routine, never a value. */
const SAFE_FIELDS = ['code', 'severity', 'routine', 'schema', 'table', 'column', 'constraint', 'dataType'] as const;

// Double-quoted spans, and single-quoted ones not opened by an apostrophe inside a word ("can't" stays).
const QUOTED = /"[^"]*"|(?<![\p{L}\p{N}])'[^']*'/gu;
const MAX_MESSAGE = 300;
const MAX_DEPTH = 3;

/** A message with quoted values elided and its length capped. */
export function safeErrorMessage(message: string): string {
  const elided = message.replace(QUOTED, (span) => `${span[0]}…${span[0]}`);
  return elided.length > MAX_MESSAGE ? `${elided.slice(0, MAX_MESSAGE)}…` : elided;
}

/** The error's class name: its constructor's, or the `type` an earlier serializer recorded. */
function typeOf(error: Record<string, unknown>): string {
  if (typeof error.type === 'string') return error.type;
  const constructorName = (error.constructor as { name?: unknown } | undefined)?.name;
  return typeof constructorName === 'string' && constructorName !== 'Object' ? constructorName : String(error.name ?? 'Error');
}

/** The stack's frames under a first line rebuilt from the safe message (the original first line is the raw message). */
function safeStack(stack: unknown, headline: string): string | undefined {
  if (typeof stack !== 'string') return undefined;
  const frames = stack.indexOf('\n    at ');
  return frames < 0 ? headline : `${headline}${stack.slice(frames)}`;
}

/** True for an error from PostgreSQL (pg's DatabaseError, TypeORM's QueryFailedError): a SQLSTATE and driver fields. */
export function isDatabaseError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const fields = error as Record<string, unknown>;
  return (
    typeof fields.code === 'string' &&
    /^[0-9A-Z]{5}$/.test(fields.code) &&
    ['query', 'parameters', 'severity', 'routine'].some((field) => field in fields)
  );
}

/** True when `error` or an error in its cause chain is a database error. */
export function involvesDatabaseError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth <= MAX_DEPTH && typeof current === 'object' && current !== null; depth += 1) {
    if (isDatabaseError(current)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** A plain object to log in place of `error`: never SQL, parameters, driver detail or a quoted value. */
export function loggableError(error: unknown, depth = 0): Record<string, unknown> {
  if (typeof error !== 'object' || error === null) return { type: typeof error };
  const fields = error as Record<string, unknown>;
  const type = typeOf(fields);
  const message = typeof fields.message === 'string' ? safeErrorMessage(fields.message) : '';
  const safe: Record<string, unknown> = { type, message };
  for (const field of SAFE_FIELDS) {
    const value = fields[field];
    if (typeof value === 'string' || typeof value === 'number') safe[field] = value;
  }
  const stack = safeStack(fields.stack, `${type}: ${message}`);
  if (stack !== undefined) safe.stack = stack;
  if (depth < MAX_DEPTH && fields.cause !== undefined) safe.cause = loggableError(fields.cause, depth + 1);
  if (depth < MAX_DEPTH && Array.isArray(fields.errors))
    safe.errors = fields.errors.slice(0, 5).map((inner) => loggableError(inner, depth + 1));
  return safe;
}
