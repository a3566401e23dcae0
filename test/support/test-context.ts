/** Everything an integration test needs: a migrated database, the assembled services, the express app. */
import crypto from 'node:crypto';
import pino from 'pino';
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
    ...options.environment,
  });
  const build = (overrides: ServiceOverrides = {}) => {
    const services = buildServices(config, database.dataSource, encryptionKey, silentLogger, { ...options, ...overrides });
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
