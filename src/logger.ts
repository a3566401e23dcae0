/**
 * Structured JSON logs (pino). Secrets are redacted at any depth; message bodies are logged only at debug.
 *
 * What counts as a secret:
 * - the value of a field whose name says credential (SECRET_NAME: token, secret, password, API key, authorization,
 *   cookie, credentials, signature...), case-insensitively and at any depth, whatever the value (a string, an
 *   array, an object);
 * - inside any text (messages, stacks, URLs, raw header blocks, JSON or inspected objects in an error message): query
 *   parameters such as `key=` (Gemini) or `access_token=`, header lines such as `Authorization: Basic ...`, quoted
 *   `"apiKey": "..."` pairs, `Bearer`/`Basic` credentials, and the shapes of OpenAI (`sk-...`) and Google (`AIza...`)
 *   keys;
 * - an SDK's error, as pino prints it (message and stack with their causes', and every enumerable field: OpenAI's
 *   response `headers` (a Headers instance, printed as an object), axios's `config.headers` and `request` under the
 *   twilio package, Gemini's error details);
 * - `Headers` instances (printed as `{}` by JSON, so they become plain objects with their secret entries censored),
 *   and header name/value pairs in arrays (`rawHeaders`).
 * Sockets, requests, streams and other event emitters are logged as their class name: their internals hold raw
 * header blocks and never help a log reader. A reference back to an enclosing object becomes '[Circular]', as
 * pino prints it.
 */
import { EventEmitter } from 'node:events';
import pino, { type Logger } from 'pino';
import { involvesDatabaseError, loggableError, safeErrorMessage } from './loggable-error';

export type { Logger };

const CENSOR = '[redacted]';

/**
 * Field names holding a credential. `token` but not token counts (inputTokens, promptTokenCount, max_tokens,
 * tokenizer); `key` alone is Gemini's query parameter, `auth` axios's credentials.
 */
const SECRET_NAME =
  /secret|passw(?:or)?d|passphrase|api[-_]?key|authorization|cookie|credential|signature|(?:private|signing|encryption|access)[-_]?key|bearer|token(?!s|[-_]?(?:count|limit|iz))|^auth$|^key$/i;
/** Names that mention a credential but hold what identifies or counts one: apiKeyId, credentialFingerprint. */
const NOT_SECRET_NAME = /(?:[-_]?ids?|fingerprint|[-_]?count)$/i;
/** Header names whose value, in a [name, value] pair or a flat rawHeaders array, is the next element. */
const SECRET_HEADER =
  /^(?:(?:proxy-)?authorization|(?:set-)?cookie|x-api-key|x-goog-api-key|api-key|x-twilio-signature|x-tenant-api-key|x-parley-signature)$/i;

/**
 * Answers for the field names seen so far: a log line's names come from a small vocabulary (the code's own), and a
 * Map lookup costs a third of the two regular expressions. A memo of a fixed function never goes stale; it is
 * bounded by starting over once it holds MAX_REMEMBERED_NAMES (names from data, such as a form's fields, could
 * otherwise grow it).
 */
const secretNames = new Map<string, boolean>();
const MAX_REMEMBERED_NAMES = 2_000;

/** True when a field of this name holds a secret. */
export function isSecretName(name: string): boolean {
  let secret = secretNames.get(name);
  if (secret === undefined) {
    secret = SECRET_NAME.test(name) && !NOT_SECRET_NAME.test(name);
    if (secretNames.size >= MAX_REMEMBERED_NAMES) secretNames.clear();
    secretNames.set(name, secret);
  }
  return secret;
}

/** Text without any of these cannot hold a secret the text rules below would find (a cheap test first). */
const TEXT_HINT = /bearer|basic|token|key|secret|passw|signature|sig=|auth|cookie|credential|sk-|aiza/i;
const TEXT_RULES: Array<[RegExp, string | ((match: string, ...groups: string[]) => string)]> = [
  // Query or form parameters: ?key=..., &access_token=..., X-Amz-Signature=..., AuthToken=...
  [
    /((?:^|[?&;#\s])[^=&?#;\s"'<>]*?(?:key|token|secret|passw(?:or)?d|signature|sig|auth|credential)[^=&?#;\s"'<>]*=)[^&#\s"'<>]+/gi,
    `$1${CENSOR}`,
  ],
  // Header lines in a raw request or response head, or an inspected headers object.
  [
    /((?:^|[\r\n,{(\s])["']?(?:proxy-)?(?:authorization|cookie|set-cookie|x-api-key|x-goog-api-key|api-key|x-twilio-signature|x-tenant-api-key|x-parley-signature)["']?\s*:\s*)(?:"[^"\r\n]*"|'[^'\r\n]*'|[^\r\n,}]*)/gi,
    `$1${CENSOR}`,
  ],
  // "name": value (JSON: a string, or a flat array or object) and name: 'value' (util.inspect) pairs whose name is a
  // secret's.
  [
    /"([^"\\\r\n]{1,80})"\s*:\s*(?:"(?:[^"\\]|\\.)*"|\[[^[\]]*\]|\{[^{}]*\})/g,
    (match, name) => (isSecretName(name) ? `"${name}":"${CENSOR}"` : match),
  ],
  [/\b([A-Za-z_$][\w$-]{0,80})['"]?\s*:\s*'(?:[^'\\]|\\.)*'/g, (match, name) => (isSecretName(name) ? `${name}: '${CENSOR}'` : match)],
  // Credentials of an HTTP authentication scheme, wherever they appear.
  [/\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/-]{12,}=*/gi, `$1 ${CENSOR}`],
  // Key shapes: OpenAI (sk-..., sk-proj-...) and Google (AIza...).
  [/\b(?:sk-[A-Za-z0-9_-]{16,}|AIza[0-9A-Za-z_-]{30,})/g, CENSOR],
];

/**
 * What every text rule needs: '=' (parameters), ':' (header lines, quoted pairs) or white space (an authentication
 * scheme and its credentials, or a key among words); a bare key is caught by its start. Identifiers, most of a log
 * line's strings, have none of these and skip the rules.
 */
const SEPARATOR = /[=:\s]/;

/** The text with every secret the text rules find censored; the same string when there is none. */
function redactText(text: string): string {
  if (!(SEPARATOR.test(text) || text.startsWith('sk-') || text.startsWith('AIza')) || !TEXT_HINT.test(text)) return text;
  let result = text;
  for (const [pattern, replacement] of TEXT_RULES) result = result.replace(pattern, replacement as string);
  return result;
}

/** Deeper than this, or past this many values in one line, the rest is replaced (secrets cannot hide there). */
const MAX_DEPTH = 64;
const MAX_VALUES = 20_000;
const CIRCULAR = '[Circular]';
const TRUNCATED = '[truncated]';

/** Marks an error this module serialized, so the `err` serializer does not serialize it again. */
const SERIALIZED = Symbol('parley.serializedError');

/** The objects being walked (to spot references back to them) and the values left in this line's budget. */
const ancestors: object[] = [];
let budget = MAX_VALUES;

/**
 * The value with every secret censored. A value that holds none (nearly every log line) is returned as it is,
 * with nothing allocated; one that does is copied along the path to each secret, so the caller's object is never
 * changed. pino's own `redact` cloned every field of every line through wildcard paths it re-parsed each time:
 * measured on the webhook at 1,500 requests/s, that was 19 kB of garbage per request. Errors are the exception:
 * they become what pino's err serializer makes of them, which pino would have built anyway.
 */
export function redactSecrets<T>(value: T): T {
  const depth = ancestors.length;
  const savedBudget = budget;
  budget = MAX_VALUES;
  try {
    const redacted = walk(value, 0) as T;
    // A getter or toJSON that logs re-enters here; its walk leaves `ancestors` as it found it.
    budget = savedBudget;
    return redacted;
  } catch (error) {
    // A toJSON or serializer that throws: the line is logged without these fields rather than not at all.
    ancestors.length = depth;
    budget = savedBudget;
    return { unloggable: redactText(String((error as Error)?.message ?? error)) } as T;
  }
}

function walk(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (ancestors.includes(value)) return CIRCULAR;
  if (depth >= MAX_DEPTH || --budget < 0) return TRUNCATED;
  const prototype: unknown = Object.getPrototypeOf(value);
  ancestors.push(value);
  // Plain objects and arrays first: nearly everything logged. (An exception unwinds to redactSecrets, which resets.)
  const redacted =
    (prototype === Object.prototype || prototype === null) && typeof (value as { toJSON?: unknown }).toJSON !== 'function'
      ? walkFields(value as Record<string, unknown>, depth)
      : Array.isArray(value)
        ? walkArray(value, depth)
        : walkInstance(value, depth);
  ancestors.pop();
  return redacted;
}

/** Class instances: what JSON.stringify (or pino, for errors) would print of them. */
function walkInstance(value: object, depth: number): unknown {
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Date) return value;
  if (value instanceof EventEmitter) return `[${value.constructor?.name ?? 'EventEmitter'}]`;
  if (value instanceof Error) return serializeError(value, depth);
  if (Object.prototype.toString.call(value) === '[object Headers]') return headerEntries(value as Headers);
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    // JSON.stringify prints what toJSON returns (a URL's href, axios's headers): that is what must be clean.
    const printed: unknown = toJSON.call(value, '');
    const redacted = walk(printed, depth + 1);
    return redacted === printed ? value : redacted;
  }
  return walkFields(value as Record<string, unknown>, depth);
}

function walkFields(fields: Record<string, unknown>, depth: number): Record<string, unknown> {
  let copy: Record<string, unknown> | null = null;
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) continue;
    const field = readField(fields, key);
    const redacted = field !== undefined && isSecretName(key) ? CENSOR : walk(field, depth + 1);
    if (redacted === field) continue;
    copy ??= { ...fields };
    copy[key] = redacted;
  }
  return copy ?? fields;
}

function walkArray(items: unknown[], depth: number): unknown[] {
  let copy: unknown[] | null = null;
  for (let index = 0; index < items.length; index += 1) {
    const item = items[index];
    const previous = index > 0 ? items[index - 1] : undefined;
    // [name, value] header pairs, and flat rawHeaders arrays: the value follows its name.
    const isHeaderValue = typeof item === 'string' && typeof previous === 'string' && SECRET_HEADER.test(previous);
    const redacted = isHeaderValue ? CENSOR : walk(item, depth + 1);
    if (redacted === item) continue;
    copy ??= [...items];
    copy[index] = redacted;
  }
  return copy ?? items;
}

/** A Headers instance as a plain object (JSON would print `{}`), secret entries censored. */
function headerEntries(headers: Headers): Record<string, string> {
  const entries: Record<string, string> = {};
  headers.forEach((value, name) => {
    entries[name] = SECRET_HEADER.test(name) || isSecretName(name) ? CENSOR : redactText(value);
  });
  return entries;
}

/**
 * What pino's err serializer prints (type, message and stack with the causes', every field), censored. A database
 * error, or one it caused, carries the SQL, its parameters and the offending value (a customer's text): only its
 * safe form is printed (loggable-error.ts: class, SQLSTATE, message with quoted values elided, stack).
 */
function serializeError(error: Error, depth: number): Record<string, unknown> {
  const printed = involvesDatabaseError(error) ? loggableError(error) : pino.stdSerializers.err(error);
  const serialized = printed as unknown as Record<string | symbol, unknown>;
  for (const key in serialized) {
    const field = serialized[key];
    serialized[key] = field !== undefined && isSecretName(key) ? CENSOR : walk(field, depth + 1);
  }
  serialized[SERIALIZED] = true;
  return serialized as Record<string, unknown>;
}

/** A property's value; a getter that throws is logged as such instead of failing the log call. */
function readField(fields: Record<string, unknown>, key: string): unknown {
  try {
    return fields[key];
  } catch {
    return '[unreadable]';
  }
}

/** pino's err serializer, except for errors redactSecrets has serialized already. */
function serializeErrField(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[SERIALIZED]) return value;
  return pino.stdSerializers.err(value as Error);
}

/**
 * Censors the message and interpolation arguments of a log call. pino takes an error's message as the line's
 * `msg` when none is given (`logger.error(error)`, `logger.error({ err })`): that message is censored here too.
 */
function redactLogArguments(this: Logger, args: unknown[], method: (...args: unknown[]) => void): void {
  const [first] = args;
  if (typeof first === 'string') {
    for (let index = 0; index < args.length; index += 1)
      args[index] = typeof args[index] === 'string' ? redactText(args[index] as string) : redactSecrets(args[index]);
  } else if (args.length < 2 || args[1] === undefined) {
    const error = first instanceof Error ? first : (first as { err?: { message?: unknown }; msg?: unknown } | null)?.err;
    const message = (error as { message?: unknown } | undefined)?.message;
    if (typeof message === 'string' && (first as { msg?: unknown }).msg === undefined) {
      const redacted = redactText(involvesDatabaseError(error) ? safeErrorMessage(message) : message);
      if (redacted !== message) args[1] = redacted;
    }
  } else {
    for (let index = 1; index < args.length; index += 1)
      args[index] = typeof args[index] === 'string' ? redactText(args[index] as string) : redactSecrets(args[index]);
  }
  method.apply(this, args);
}

/** Buffered lines are written at least this often, so a quiet process's last lines do not wait for company. */
const FLUSH_INTERVAL_MS = 200;

/**
 * Standard output, buffered: lines are written in chunks of 4 kB (or every FLUSH_INTERVAL_MS) instead of one
 * blocking write per line, which under webhook load was a system call and a wake-up of the log reader per
 * request. pino flushes the buffer when the process exits; only a hard kill (SIGKILL, power loss) can lose the
 * last 200 ms of lines, never data: everything that matters is in PostgreSQL before it is logged.
 */
function bufferedStandardOutput(): pino.DestinationStream {
  const destination = pino.destination({ dest: 1, minLength: 4096, sync: false });
  setInterval(() => {
    try {
      destination.flush();
    } catch {
      // Standard output is gone (a closed pipe destroys the stream): nowhere left to write, and a timer must not throw.
    }
  }, FLUSH_INTERVAL_MS).unref();
  return destination;
}

/** Creates the process logger at the given level (buffered standard output unless told where to write). */
export function createLogger(level: string, destination: pino.DestinationStream = bufferedStandardOutput()): Logger {
  const logger = pino(
    {
      level,
      base: { service: 'parley' },
      formatters: { log: (fields) => redactSecrets(fields) },
      serializers: { err: serializeErrField },
      hooks: { logMethod: redactLogArguments as NonNullable<pino.LoggerOptions['hooks']>['logMethod'] },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
  // pino gives a child's bindings to no formatter, so they are censored here; children inherit this method.
  const child = logger.child;
  logger.child = function childWithoutSecrets(this: Logger, bindings, options) {
    return child.call(this, redactSecrets(bindings), options);
  } as Logger['child'];
  return logger;
}
