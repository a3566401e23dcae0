import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { addDays, utcDay } from '../../src/tracking/utc-days';
import { htmlPage, startWebsite } from '../fakes/website-server';
import { createTenant } from '../support/factories';
import { runScript } from '../support/processes';
import { createTestContext, type TestContext } from '../support/test-context';
import { insertTenant, insertUsage, summariesOf } from './usage-rows';

// Each command is a fresh process (tsx start-up included): generous per-test time on a loaded machine.
describe('npm run jobs', { timeout: 120_000 }, () => {
  let context: TestContext;
  let environment: Record<string, string>;
  const today = utcDay();

  beforeAll(async () => {
    context = await createTestContext();
    environment = {
      DATABASE_URL: context.database.connectionUrl,
      APP_ENCRYPTION_KEY: context.encryptionKey.toString('hex'),
      LOG_LEVEL: 'silent',
    };
  });
  afterAll(async () => {
    await context.close();
  });
  beforeEach(async () => {
    await context.database.truncateAll();
  });

  const jobs = (...args: string[]) => runScript('src/cli/jobs.ts', args, environment);
  const manager = () => context.database.dataSource.manager;

  it('backfills a range of days with progress output, and records the run', async () => {
    const tenant = await insertTenant(manager());
    const from = addDays(today, -6);
    await insertUsage(manager(), tenant.id, [
      { at: `${from}T10:00:00Z`, latencyMs: 100 },
      { at: `${addDays(from, 3)}T10:00:00Z`, latencyMs: 200, model: 'gpt-4o' },
      { at: `${addDays(from, 3)}T11:00:00Z`, latencyMs: 300 },
    ]);
    const result = await jobs('aggregate', '--from', from, '--to', addDays(from, 4));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Aggregating ${from} to ${addDays(from, 4)}`);
    expect(result.stdout).toContain(`  ${from} (1/5): 1 summaries`);
    expect(result.stdout).toContain(`  ${addDays(from, 3)} (4/5): 2 summaries`);
    expect(result.stdout).toMatch(/Done in [0-9.]+ s: 3 rows touched \(from=.*, days=5\)/);
    expect((await summariesOf(manager(), tenant.id)).map((row) => [row.date, row.model])).toEqual([
      [from, 'gpt-4o-mini'],
      [addDays(from, 3), 'gpt-4o'],
      [addDays(from, 3), 'gpt-4o-mini'],
    ]);
    const [run] = await manager().query(`SELECT job, status, rows_touched::int AS rows FROM job_runs`);
    expect(run).toEqual({ job: 'aggregate-backfill', status: 'succeeded', rows: 3 });
  });

  it('counts on cleanup --dry-run and deletes on cleanup', async () => {
    const tenant = await insertTenant(manager(), { retentionDays: 2 });
    const old = addDays(today, -5);
    await insertUsage(manager(), tenant.id, [
      { at: `${old}T10:00:00Z` },
      { at: `${old}T11:00:00Z` },
      { at: `${addDays(old, 1)}T11:00:00Z` },
    ]);
    expect((await jobs('aggregate', '--from', old, '--to', old)).code).toBe(0);

    const dryRun = await jobs('cleanup', '--dry-run');
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain('0 rows touched (dryRun=true, wouldDelete=2, keptUnaggregated=1)');
    const cleanup = await jobs('cleanup');
    expect(cleanup.stdout).toContain('2 rows touched (dryRun=false, deleted=2, keptUnaggregated=1)');
    const [{ count }] = await manager().query(`SELECT count(*)::int AS count FROM provider_usage`);
    expect(count).toBe(1);
  });

  it('runs the health check', async () => {
    const tenant = await insertTenant(manager());
    await insertUsage(manager(), tenant.id, [{ at: new Date().toISOString(), success: false }]);
    const result = await jobs('health');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('1 rows touched (checked=1, unhealthy=1, alerts=1)');
  });

  it('re-syncs the knowledge on demand: queues the stale web pages (every one with --all) and indexes them before it returns', async () => {
    // A loopback site, reachable through explicit configuration only (OUTBOUND_ALLOWED_HOSTS).
    const website = await startWebsite({
      '/returns': htmlPage('Returns', '<main><h1>Returns</h1><p>Returns are free within 30 days.</p></main>'),
      '/shipping': htmlPage('Shipping', '<main><h1>Shipping</h1><p>Orders ship within 2 days.</p></main>'),
    });
    try {
      const { tenant } = await createTenant(context);
      const documents = context.services.repositories.knowledgeDocuments;
      const stale = await documents.insert({
        tenantId: tenant.id,
        title: 'Returns',
        sourceKind: 'url',
        sourceUrl: `${website.url}/returns`,
      });
      const fresh = await documents.insert({
        tenantId: tenant.id,
        title: 'Shipping',
        sourceKind: 'url',
        sourceUrl: `${website.url}/shipping`,
      });
      await manager().query(
        `UPDATE knowledge_documents SET status = 'ready', last_synced_at = CASE WHEN id = $1 THEN now() - interval '2 days' ELSE now() END`,
        [stale.id],
      );
      const withSite = { ...environment, OUTBOUND_ALLOWED_HOSTS: website.hostPort };

      const result = await runScript('src/cli/jobs.ts', ['knowledge'], withSite);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('Re-syncing web pages and sites not synced for 20 hours');
      expect(result.stdout).toContain(`  ${stale.id}: indexed`);
      expect(result.stdout).not.toContain(fresh.id);
      expect(result.stdout).toMatch(/Done in [0-9.]+ s: 1 rows touched \(queued=1, rebuiltPassages=0\)/);
      expect(await documents.find(tenant.id, stale.id)).toMatchObject({ status: 'ready', chunk_count: 1 });
      expect(website.requests.map((request) => request.path)).toContain('/returns');
      const [run] = await manager().query(`SELECT job, status, rows_touched::int AS rows FROM job_runs`);
      expect(run).toEqual({ job: 'knowledge-resync', status: 'succeeded', rows: 1 });

      const all = await runScript('src/cli/jobs.ts', ['knowledge', '--all'], withSite);
      expect(all.code).toBe(0);
      expect(all.stdout).toContain('Re-syncing every web page and site');
      // The page just indexed has the same text: only its sync time moves.
      expect(all.stdout).toContain(`  ${stale.id}: unchanged`);
      expect(all.stdout).toContain(`  ${fresh.id}: indexed`);
      expect(all.stdout).toMatch(/2 rows touched \(queued=2, rebuiltPassages=0\)/);
    } finally {
      await website.close();
    }
  });

  it('explains usage errors with exit code 2', async () => {
    for (const args of [
      ['aggregate', '--from', '2026-13-01'],
      ['aggregate', '--from', today, '--to', addDays(today, -1)],
      // Days before 1970 or a range longer than ten years: refused before a single day is aggregated.
      ['aggregate', '--from', '0000-01-01', '--to', '0000-01-02'],
      ['aggregate', '--from', '1969-12-31', '--to', '1970-01-01'],
      ['aggregate', '--from', '1970-01-01', '--to', '9999-12-31'],
      ['vacuum'],
      ['cleanup', '--force'],
    ]) {
      const result = await jobs(...args);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('Usage: npm run jobs');
    }
  });
});
