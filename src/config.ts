/**
 * The one place that reads the environment. Everything else receives a typed Config.
 * Every problem is listed at once, so an operator fixes a broken deploy in one round.
 */
import { z } from 'zod';
import { parseAllowedHost } from './net/tenant-url';

/** The platform's default burst window: a conversation's messages are answered once it has been quiet this long. */
export const DEFAULT_BURST_QUIET_MS = 2000;

const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const optionalUrl = optionalString.pipe(z.url({ protocol: /^https?$/ }).optional());

const booleanFlag = (defaultValue: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
    .optional()
    .transform((value) => (value === undefined || value === '' ? defaultValue : ['true', '1', 'yes'].includes(value)));

const positiveInteger = (defaultValue: number) => z.coerce.number().int().positive().default(defaultValue);

/** A 32-byte key given as 64 hex characters or as base64. */
const encryptionKey = optionalString.refine(
  (value) => value === undefined || decodeEncryptionKey(value) !== null,
  'must be 32 bytes, as 64 hex characters or base64',
);

/** Messages of a conversation within quietMs of each other are answered together, at most maxMs after the first. */
export interface BurstWindow {
  quietMs: number;
  maxMs: number;
}

const environmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: optionalString.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  DATABASE_POOL_SIZE: positiveInteger(10),
  PGLITE_DATA_DIR: z.string().default('.data/pglite'),
  PUBLIC_BASE_URL: optionalUrl,
  APP_ENCRYPTION_KEY: encryptionKey,
  TWILIO_ACCOUNT_SID: optionalString.pipe(
    z
      .string()
      .regex(/^AC[0-9a-fA-F]{32}$/, 'must look like AC + 32 hex characters')
      .optional(),
  ),
  TWILIO_AUTH_TOKEN: optionalString,
  TWILIO_WHATSAPP_NUMBER: optionalString,
  TWILIO_API_BASE_URL: optionalUrl,
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: optionalUrl,
  GEMINI_API_KEY: optionalString,
  GEMINI_BASE_URL: optionalUrl,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  INBOX_IN_WEB: booleanFlag(true),
  INBOX_POLL_INTERVAL_MS: positiveInteger(500),
  INBOX_CONCURRENCY: positiveInteger(512),
  INBOX_TENANT_SHARE: z.coerce.number().min(0.05).max(1).default(0.75),
  PROVIDER_MAX_CONCURRENCY: positiveInteger(512),
  INBOX_LEASE_SECONDS: positiveInteger(30),
  // Messages of a conversation arriving within the quiet window are answered together (0 turns bursts off); a
  // tenant's whatsapp.burst setting overrides both.
  WHATSAPP_BURST_QUIET_MS: z.coerce.number().int().min(0).max(10_000).default(DEFAULT_BURST_QUIET_MS),
  WHATSAPP_BURST_MAX_MS: z.coerce.number().int().min(0).max(30_000).default(8000),
  SEED_DEMO_TENANT: booleanFlag(true),
  JOBS_IN_WEB: booleanFlag(false),
  USAGE_RETENTION_DAYS: positiveInteger(90),
  ALERT_WEBHOOK_TIMEOUT_MS: positiveInteger(5000),
  METRICS_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  OUTBOUND_ALLOWED_HOSTS: optionalString.pipe(
    z
      .string()
      .optional()
      .transform((value) =>
        (value ?? '')
          .split(',')
          .map((entry) => entry.trim())
          .filter((entry) => entry !== ''),
      )
      .refine(
        (entries) => entries.every((entry) => parseAllowedHost(entry) !== null),
        'must be a comma-separated list of host:port or host',
      ),
  ),
});

export type Environment = z.input<typeof environmentSchema>;

export interface Config {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  host: string;
  database: { url: string | undefined; poolSize: number; pgliteDataDir: string };
  /** The URL Twilio calls; signatures are checked against it, never against forwarded headers. */
  publicBaseUrl: string;
  /** 32-byte key for AES-256-GCM; undefined only in embedded mode, where one is created on disk. */
  encryptionKey: Buffer | undefined;
  twilio: { accountSid?: string; authToken?: string; whatsappNumber?: string; apiBaseUrl?: string };
  openai: { apiKey?: string; baseUrl?: string };
  gemini: { apiKey?: string; baseUrl?: string };
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /**
   * Inbox processing: turns in flight per process (a turn waiting on a model holds no database connection), the
   * share of them one tenant's backlog may fill, polling and leases.
   */
  inbox: {
    runInWeb: boolean;
    pollIntervalMs: number;
    concurrency: number;
    tenantShare: number;
    leaseSeconds: number;
    /** The platform's burst window (a tenant's whatsapp.burst overrides it). */
    burst: BurstWindow;
  };
  /** Model calls in flight per credential at most. */
  providerMaxConcurrency: number;
  seedDemoTenant: boolean;
  /** Scheduled jobs: run in the web process too (always in embedded mode); defaults for tenants without settings. */
  jobs: { runInWeb: boolean; defaultRetentionDays: number; alertWebhookTimeoutMs: number };
  /** When set, GET /metrics requires `Authorization: Bearer <token>`; otherwise it is open like /healthz. */
  metricsToken: string | undefined;
  /**
   * Calls to tenant-configured URLs (model base URLs, webhooks): https only in production, public addresses only,
   * except the hosts listed here (an operator's local model server; a test's loopback fake), which are trusted.
   */
  outbound: { requireHttps: boolean; allowedHosts: string[] };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Decodes a 32-byte key from hex or base64; null when it is neither. */
export function decodeEncryptionKey(value: string): Buffer | null {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) {
    const decoded = Buffer.from(value, 'base64');
    if (decoded.length === 32) return decoded;
  }
  return null;
}

/** Parses and validates an environment; throws ConfigError listing every problem. */
export function parseConfig(environment: Record<string, string | undefined>): Config {
  const result = environmentSchema.safeParse(environment);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`));
  }
  const env = result.data;
  const problems: string[] = [];
  const twilioVariables = [env.TWILIO_ACCOUNT_SID, env.TWILIO_AUTH_TOKEN, env.TWILIO_WHATSAPP_NUMBER];
  const twilioCount = twilioVariables.filter((value) => value !== undefined).length;
  if (twilioCount > 0 && twilioCount < 3) {
    problems.push('TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_WHATSAPP_NUMBER must be set together');
  }
  if (env.DATABASE_URL && !env.APP_ENCRYPTION_KEY) {
    problems.push('APP_ENCRYPTION_KEY: required when DATABASE_URL is set (generate one with `openssl rand -hex 32`)');
  }
  if (env.NODE_ENV === 'production' && !env.PUBLIC_BASE_URL) {
    problems.push('PUBLIC_BASE_URL: required in production (Twilio signatures are checked against it)');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    nodeEnv: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    database: { url: env.DATABASE_URL, poolSize: env.DATABASE_POOL_SIZE, pgliteDataDir: env.PGLITE_DATA_DIR },
    publicBaseUrl: (env.PUBLIC_BASE_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, ''),
    encryptionKey: env.APP_ENCRYPTION_KEY ? (decodeEncryptionKey(env.APP_ENCRYPTION_KEY) ?? undefined) : undefined,
    twilio: {
      accountSid: env.TWILIO_ACCOUNT_SID,
      authToken: env.TWILIO_AUTH_TOKEN,
      whatsappNumber: env.TWILIO_WHATSAPP_NUMBER,
      apiBaseUrl: env.TWILIO_API_BASE_URL,
    },
    openai: { apiKey: env.OPENAI_API_KEY, baseUrl: env.OPENAI_BASE_URL },
    gemini: { apiKey: env.GEMINI_API_KEY, baseUrl: env.GEMINI_BASE_URL },
    logLevel: env.LOG_LEVEL,
    inbox: {
      runInWeb: env.INBOX_IN_WEB,
      pollIntervalMs: env.INBOX_POLL_INTERVAL_MS,
      concurrency: env.INBOX_CONCURRENCY,
      tenantShare: env.INBOX_TENANT_SHARE,
      leaseSeconds: env.INBOX_LEASE_SECONDS,
      burst: { quietMs: env.WHATSAPP_BURST_QUIET_MS, maxMs: Math.max(env.WHATSAPP_BURST_MAX_MS, env.WHATSAPP_BURST_QUIET_MS) },
    },
    providerMaxConcurrency: env.PROVIDER_MAX_CONCURRENCY,
    seedDemoTenant: env.SEED_DEMO_TENANT,
    jobs: {
      runInWeb: env.JOBS_IN_WEB,
      defaultRetentionDays: env.USAGE_RETENTION_DAYS,
      alertWebhookTimeoutMs: env.ALERT_WEBHOOK_TIMEOUT_MS,
    },
    metricsToken: env.METRICS_TOKEN,
    outbound: { requireHttps: env.NODE_ENV === 'production', allowedHosts: env.OUTBOUND_ALLOWED_HOSTS },
  };
}

/** Reads process.env once; on a bad environment prints every problem and exits non-zero. */
export function loadConfigOrExit(): Config {
  try {
    return parseConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
