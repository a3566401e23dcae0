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

/** Creates the process logger at the given level. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
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
