/** Webhooks to numbers no tenant owns (anyone can send them, before any signature check) keep nothing unbounded. */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TenantService } from '../../src/tenants/tenant-service';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe('TenantService: looking up numbers no tenant owns', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.close();
  });

  it('answers null for 2,000 unknown numbers (20 times the bound) and keeps its lookup cache at its bound, the real tenant still found', async () => {
    // A bound of 100 (the default is 1,000) keeps the test short; npm run bench -- memory sends a million.
    const service = new TenantService(database.dataSource.manager, crypto.randomBytes(32), { lookups: { maxUnknownNumbers: 100 } });
    const shop = await service.create({ name: 'Shop', whatsappNumber: '+15550001000', credentials: { twilioAuthToken: 'token' } });
    expect((await service.findByWhatsAppAddress('whatsapp:+15550001000'))?.tenant.id).toBe(shop.id);
    const answers: unknown[] = [];
    // In batches, as concurrent webhooks arrive.
    for (let start = 0; start < 2_000; start += 100) {
      const batch = Array.from({ length: 100 }, (_, index) => `whatsapp:+1999${String(start + index).padStart(7, '0')}`);
      answers.push(...(await Promise.all(batch.map((number) => service.findByWhatsAppAddress(number)))));
      expect(service.lookups.sizes().unknownNumbers).toBeLessThanOrEqual(100);
    }
    expect(answers).toHaveLength(2_000);
    expect(answers.every((answer) => answer === null)).toBe(true);
    const sizes = service.lookups.sizes();
    expect(sizes.unknownNumbers).toBeGreaterThan(0);
    expect(sizes.unknownNumbers).toBeLessThanOrEqual(100);
    expect(sizes.tenantsByNumber).toBeLessThanOrEqual(1);
    expect((await service.findByWhatsAppAddress('whatsapp:+15550001000'))?.tenant.id).toBe(shop.id);
  }, 60_000);
});
