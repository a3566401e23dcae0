import { describe, expect, it } from 'vitest';
import { RESYNC_AFTER_MS, resyncKnowledge } from '../../src/jobs/knowledge-resync';
import { createTenant } from '../support/factories';
import { useTestContext } from '../support/test-context';

describe('knowledge-resync job', () => {
  const context = useTestContext();

  it('queues the web pages and sites not synced for most of a day, and leaves files and fresh pages alone', async () => {
    const { tenant } = await createTenant(context);
    const documents = context.services.repositories.knowledgeDocuments;
    const stale = await documents.insert({ tenantId: tenant.id, title: 'a', sourceKind: 'url', sourceUrl: 'https://shop.example/a' });
    const fresh = await documents.insert({ tenantId: tenant.id, title: 'b', sourceKind: 'site', sourceUrl: 'https://shop.example/' });
    const file = await documents.insert({
      tenantId: tenant.id,
      title: 'c',
      sourceKind: 'file',
      fileName: 'c.md',
      sourceBytes: Buffer.from('x'),
    });
    const synced = new Date(Date.now() - RESYNC_AFTER_MS - 60_000);
    await context.database.dataSource.query(
      `UPDATE knowledge_documents SET status = 'ready', last_synced_at = CASE WHEN id = $1 THEN now() ELSE $2 END`,
      [fresh.id, synced],
    );
    let woken = 0;
    const result = await resyncKnowledge(context.database.dataSource.manager, {
      tenants: context.services.tenants,
      onQueued: () => (woken += 1),
    });
    expect(result.details).toMatchObject({ queued: 1 });
    const statuses = Object.fromEntries(
      (await context.database.dataSource.query('SELECT id, status FROM knowledge_documents')).map((row: { id: string; status: string }) => [
        row.id,
        row.status,
      ]),
    );
    expect(statuses).toEqual({ [stale.id]: 'queued', [fresh.id]: 'ready', [file.id]: 'ready' });
    expect(woken).toBe(1);
  });

  it('rebuilds the search vectors of a tenant whose knowledge language changed', async () => {
    const { tenant } = await createTenant(context, { settings: { knowledge: { language: 'simple' } } });
    await context.services.repositories.knowledgeDocuments.insert({
      tenantId: tenant.id,
      title: 'p',
      sourceKind: 'file',
      fileName: 'p.md',
      sourceBytes: Buffer.from('# Shoes\n\nWe accept returns of running shoes.\n'),
    });
    await context.services.documentIndexer.runUntilIdle();
    await context.services.settings.patch(tenant.id, { knowledge: { language: 'english' } }, { kind: 'cli' });
    const result = await resyncKnowledge(context.database.dataSource.manager, { tenants: context.services.tenants });
    expect(result.details).toMatchObject({ rebuiltPassages: 1 });
    const [row] = await context.database.dataSource.query('SELECT search_config FROM knowledge_chunks');
    expect(row.search_config).toBe('parley_english');
  });
});
