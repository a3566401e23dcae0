/** Everything an integration test needs: a migrated database, the assembled services, the express app. */
import crypto from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { createApp } from '../../src/app';
import { type Config, parseConfig } from '../../src/config';
import { buildServices, type ServiceOverrides, type Services } from '../../src/services';
import { createTestDatabase, type TestDatabase } from './test-database';

export const TEST_PUBLIC_BASE_URL = 'https://parley.test';

export interface TestContext {
  database: TestDatabase;
  config: Config;
  services: Services;
  app: ReturnType<typeof createApp>;
  encryptionKey: Buffer;
  /** Rebuilds services + app on the same database (a restarted instance, or a second one). */
  newInstance(overrides?: ServiceOverrides): { services: Services; app: ReturnType<typeof createApp>; config: Config };
  close(): Promise<void>;
}

export interface TestContextOptions extends ServiceOverrides {
  environment?: Record<string, string>;
}

/** A quiet logger; set TEST_LOG_LEVEL-free by design (tests read their assertions, not logs). */
export const silentLogger = pino({ level: 'silent' });

/** Opens a test database and assembles the app. */
export async function createTestContext(options: TestContextOptions = {}): Promise<TestContext> {
  const database = await createTestDatabase();
  const encryptionKey = crypto.randomBytes(32);
  const config = parseConfig({
    NODE_ENV: 'test',
    PUBLIC_BASE_URL: TEST_PUBLIC_BASE_URL,
    APP_ENCRYPTION_KEY: encryptionKey.toString('hex'),
    LOG_LEVEL: 'silent',
    INBOX_POLL_INTERVAL_MS: '50',
    // Each message is a turn unless a test gives its tenant a burst window (whatsapp.burst).
    WHATSAPP_BURST_QUIET_MS: '0',
    ...options.environment,
  });
  const build = (overrides: ServiceOverrides = {}) => {
    // Webhook retries do not wait: a test that reaches an unreachable URL still sees all five attempts, in milliseconds.
    const services = buildServices(config, database.dataSource, encryptionKey, silentLogger, {
      webhookBackoff: async () => {},
      ...options,
      ...overrides,
    });
    return { services, app: createApp(services), config };
  };
  const first = build();
  const instances = [first.services];
  return {
    database,
    encryptionKey,
    ...first,
    newInstance(overrides) {
      const instance = build(overrides);
      instances.push(instance.services);
      return instance;
    },
    async close() {
      await Promise.all(instances.map((services) => services.processor.stop()));
      await database.close();
    },
  };
}

/**
 * The usual lifecycle of a test file: one context for the file (created before its tests, closed after them) and,
 * unless `truncate` is false, an empty database before each test. Returns the context itself; its properties
 * are readable from the tests and hooks on (reading one before the context exists throws).
 */
export function useTestContext(options: TestContextOptions & { truncate?: boolean } = {}): TestContext {
  const { truncate = true, ...contextOptions } = options;
  let current: TestContext | undefined;
  beforeAll(async () => {
    current = await createTestContext(contextOptions);
  });
  afterAll(async () => {
    await current?.close();
  });
  if (truncate) {
    beforeEach(async () => {
      await current!.database.truncateAll();
    });
  }
  const created = (): TestContext => {
    if (!current) throw new Error('useTestContext: the context exists from beforeAll on');
    return current;
  };
  // Forwards reads, and spreading ({ ...context, ...instance }), to the context of the moment.
  return new Proxy({} as TestContext, {
    get: (_target, property) => created()[property as keyof TestContext],
    ownKeys: () => Reflect.ownKeys(created()),
    getOwnPropertyDescriptor: (_target, property) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(created(), property);
      return descriptor && { ...descriptor, configurable: true };
    },
  });
}
