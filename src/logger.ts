/** Structured JSON logs (pino). Secrets are redacted; message bodies are logged only at debug. */
import pino, { type Logger } from 'pino';

export type { Logger };

const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  '*.headers["x-tenant-api-key"]',
  '*.headers["x-twilio-signature"]',
  'apiKey',
  '*.apiKey',
  'authToken',
  '*.authToken',
  'password',
  '*.password',
];

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
  return pino(
    {
      level,
      base: { service: 'parley' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
