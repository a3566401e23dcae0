import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config';

describe('parseConfig', () => {
  it('runs with nothing set: embedded database, port 3000, localhost public URL', () => {
    const config = parseConfig({});
    expect(config.port).toBe(3000);
    expect(config.database.url).toBeUndefined();
    expect(config.database.pgliteDataDir).toBe('.data/pglite');
    expect(config.publicBaseUrl).toBe('http://localhost:3000');
  });

  it('lists every problem at once', () => {
    let caught: unknown;
    try {
      parseConfig({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        LOG_LEVEL: 'loud',
        APP_ENCRYPTION_KEY: 'short',
        OPENAI_BASE_URL: 'not a url',
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems.join('\n');
    for (const variable of ['PORT', 'DATABASE_URL', 'LOG_LEVEL', 'APP_ENCRYPTION_KEY', 'OPENAI_BASE_URL'])
      expect(problems).toContain(variable);
  });

  it('requires the Twilio variables together, an encryption key with PostgreSQL, and a public URL in production', () => {
    expect(() => parseConfig({ TWILIO_ACCOUNT_SID: `AC${'a'.repeat(32)}` })).toThrow(/must be set together/);
    expect(() => parseConfig({ DATABASE_URL: 'postgres://localhost/parley' })).toThrow(/APP_ENCRYPTION_KEY/);
    expect(() => parseConfig({ NODE_ENV: 'production' })).toThrow(/PUBLIC_BASE_URL/);
  });

  it('accepts a hex or base64 encryption key and strips a trailing slash from the public URL', () => {
    const key = 'ab'.repeat(32);
    expect(parseConfig({ APP_ENCRYPTION_KEY: key }).encryptionKey?.toString('hex')).toBe(key);
    expect(parseConfig({ APP_ENCRYPTION_KEY: Buffer.from(key, 'hex').toString('base64') }).encryptionKey?.toString('hex')).toBe(key);
    expect(parseConfig({ PUBLIC_BASE_URL: 'https://parley.example.com/' }).publicBaseUrl).toBe('https://parley.example.com');
  });
});
