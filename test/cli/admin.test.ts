import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tenant } from '../../src/db/entities/tenant';
import { runScript } from '../support/processes';
import { createTestContext, type TestContext } from '../support/test-context';

describe('npm run admin', () => {
  let context: TestContext;
  let environment: Record<string, string>;

  beforeAll(async () => {
    context = await createTestContext();
    // The CLI reaches this test's database (PGlite's loopback socket, or the cloned PostgreSQL) like any server.
    environment = {
      DATABASE_URL: context.database.connectionUrl,
      APP_ENCRYPTION_KEY: context.encryptionKey.toString('hex'),
      LOG_LEVEL: 'silent',
    };
  });
  afterAll(async () => {
    await context.close();
  });

  const admin = (...args: string[]) => runScript('src/cli/admin.ts', args, environment);

  it('creates a tenant, issues a key shown once that works, imports knowledge and revokes the key', async () => {
    const created = await admin('tenant:create', '--name', 'Acme', '--whatsapp-number', '+15017122661');
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/Created tenant [0-9a-f-]{36} \(Acme, \+15017122661, simulated transport\)/);

    const issued = await admin(
      'key:create',
      '--tenant',
      '+15017122661',
      '--user',
      'Sam',
      '--role',
      'supervisor',
      '--scopes',
      'conversations:manage',
    );
    expect(issued.code).toBe(0);
    const secret = /API key \(shown once, store it now\): (pk_\S+)/.exec(issued.stdout)?.[1];
    const keyId = /Created key ([0-9a-f-]{36})/.exec(issued.stdout)?.[1];
    expect(secret).toBeDefined();
    const [stored] = await context.database.dataSource.query('SELECT key_hash FROM api_keys WHERE id = $1', [keyId]);
    expect(stored.key_hash).not.toContain(secret!);
    await request(context.app).get('/v1/bot/conversations').set('Authorization', `Bearer ${secret}`).expect(200);

    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-admin-'));
    const csv = path.join(directory, 'faq.csv');
    fs.writeFileSync(
      csv,
      'question,answer,tags\n"Do you deliver on Sundays?","No, Monday to Saturday only.",shipping\nWhere are you?,"Market St, 123",\n',
    );
    const imported = await admin('knowledge:import', '--tenant', '+15017122661', '--file', csv);
    expect(imported.stdout).toContain('Imported 2 knowledge entries into Acme');
    const tenant = await context.database.dataSource.manager.findOneByOrFail(Tenant, { whatsappNumber: '+15017122661' });
    const entries = await context.database.dataSource.query(
      'SELECT question, answer, tags FROM knowledge_entries WHERE tenant_id = $1 ORDER BY question',
      [tenant.id],
    );
    expect(entries).toEqual([
      { question: 'Do you deliver on Sundays?', answer: 'No, Monday to Saturday only.', tags: ['shipping'] },
      { question: 'Where are you?', answer: 'Market St, 123', tags: [] },
    ]);

    const revoked = await admin('key:revoke', '--key', keyId!);
    expect(revoked.code).toBe(0);
    await request(context.app).get('/v1/bot/conversations').set('Authorization', `Bearer ${secret}`).expect(401);
  });

  it('explains usage errors and exits non-zero', async () => {
    const missing = await admin('tenant:create', '--name', 'No number');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('--whatsapp-number is required');
    const duplicate = await admin('tenant:create', '--name', 'Again', '--whatsapp-number', '+15017122661');
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toContain('already uses +15017122661');
    const unknown = await admin('tenant:explode');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('Usage: npm run admin');
  });
});
