import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tenant } from '../../src/db/entities/tenant';
import { htmlPage, startWebsite } from '../fakes/website-server';
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

  it('adds a document with knowledge:add --file and --url, indexed before it returns; a file it cannot read exits 1 with the reason', async () => {
    // A loopback site, reachable through explicit configuration only (OUTBOUND_ALLOWED_HOSTS).
    const website = await startWebsite({
      '/shipping': htmlPage('Shipping', '<main><h1>Shipping</h1><p>Orders ship from Lisbon within 2 days.</p></main>'),
    });
    try {
      const created = await admin('tenant:create', '--name', 'Docs Shop', '--whatsapp-number', '+15017122663');
      expect(created.code).toBe(0);
      const tenant = await context.database.dataSource.manager.findOneByOrFail(Tenant, { whatsappNumber: '+15017122663' });
      const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-admin-'));
      const markdown = path.join(directory, 'returns.md');
      fs.writeFileSync(
        markdown,
        '# Returns\n\nUnworn shoes can be returned within 30 days.\n\n## Refunds\n\nRefunds reach your card in 5 days.\n',
      );
      const passagesOf = (documentId: string) =>
        context.database.dataSource.query('SELECT heading_path, text FROM knowledge_chunks WHERE document_id = $1 ORDER BY ordinal', [
          documentId,
        ]);

      const file = await admin('knowledge:add', '--tenant', '+15017122663', '--file', markdown, '--title', 'Returns policy');
      expect(file.stderr).toBe('');
      expect(file.code).toBe(0);
      const fileMatch = /^Document ([0-9a-f-]{36}) \(Returns policy\): ready, 2 passages, keyword search only\n$/.exec(file.stdout);
      expect(fileMatch, file.stdout).not.toBeNull();
      expect(await passagesOf(fileMatch![1])).toEqual([
        { heading_path: ['Returns'], text: 'Unworn shoes can be returned within 30 days.' },
        { heading_path: ['Returns', 'Refunds'], text: 'Refunds reach your card in 5 days.' },
      ]);

      const page = await runScript('src/cli/admin.ts', ['knowledge:add', '--tenant', tenant.id, '--url', `${website.url}/shipping`], {
        ...environment,
        OUTBOUND_ALLOWED_HOSTS: website.hostPort,
      });
      expect(page.code).toBe(0);
      // The page's own title replaces the default one (its URL).
      const pageMatch = /^Document ([0-9a-f-]{36}) \(Shipping\): ready, 1 passages, keyword search only\n$/.exec(page.stdout);
      expect(pageMatch, page.stdout).not.toBeNull();
      expect(await passagesOf(pageMatch![1])).toEqual([{ heading_path: ['Shipping'], text: 'Orders ship from Lisbon within 2 days.' }]);
      const [stored] = await context.database.dataSource.query(
        'SELECT tenant_id, source_kind, source_url FROM knowledge_documents WHERE id = $1',
        [pageMatch![1]],
      );
      expect(stored).toEqual({ tenant_id: tenant.id, source_kind: 'url', source_url: `${website.url}/shipping` });

      const scan = path.join(directory, 'scan.pdf');
      fs.writeFileSync(scan, '%PDF-1.4\n%%EOF\n');
      const failed = await admin('knowledge:add', '--tenant', '+15017122663', '--file', scan);
      expect(failed.code).toBe(1);
      expect(failed.stdout).toMatch(/^Document [0-9a-f-]{36} \(scan\.pdf\): failed \([a-z_]+: .+\), 0 passages/);

      // Without the allowlist the loopback site is refused when the URL is added: nothing is stored.
      const refused = await admin('knowledge:add', '--tenant', '+15017122663', '--url', `${website.url}/shipping`);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('url ');
      const both = await admin('knowledge:add', '--tenant', '+15017122663', '--file', markdown, '--url', 'https://shop.example/');
      expect(both.code).toBe(1);
      expect(both.stderr).toContain('give exactly one of --file, --url, --site, --sitemap');
      const unsupported = path.join(directory, 'catalogue.docx');
      fs.writeFileSync(unsupported, 'PK');
      const wrongType = await admin('knowledge:add', '--tenant', '+15017122663', '--file', unsupported);
      expect(wrongType.code).toBe(1);
      expect(wrongType.stderr).toContain('the file must be Markdown, plain text, HTML or PDF');
      const [{ count }] = await context.database.dataSource.query(
        'SELECT count(*)::int AS count FROM knowledge_documents WHERE tenant_id = $1',
        [tenant.id],
      );
      expect(count).toBe(3);
    } finally {
      await website.close();
    }
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
