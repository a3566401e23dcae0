import { describe, expect, it } from 'vitest';
import { aggregateDay } from '../../src/tracking/daily-usage-summaries';
import { cleanupRetention } from '../../src/jobs/cleanup-retention';
import { addDays, utcDay } from '../../src/tracking/utc-days';
import { useTestContext } from '../support/test-context';
import { insertTenant, insertUsage, summariesOf } from './usage-rows';

describe('retention cleanup', () => {
  const context = useTestContext();
  const today = utcDay();

  const manager = () => context.database.dataSource.manager;
  const remaining = async (tenantId: string): Promise<number[]> =>
    (await manager().query('SELECT latency_ms FROM provider_usage WHERE tenant_id = $1 ORDER BY latency_ms', [tenantId])).map(
      (row: { latency_ms: number }) => row.latency_ms,
    );

  /** A tenant keeping 3 days (cutoff: the start of today-3) and a tenant on the 90-day default; latencies name rows. */
  async function fixture() {
    const short = await insertTenant(manager(), { retentionDays: 3 });
    const long = await insertTenant(manager());
    const [fiveAgo, fourAgo, threeAgo] = [addDays(today, -5), addDays(today, -4), addDays(today, -3)];
    await insertUsage(manager(), short.id, [
      // Past retention, aggregated after the day ended: deleted.
      { at: `${fiveAgo}T01:00:00Z`, latencyMs: 1 },
      { at: `${fiveAgo}T02:00:00Z`, latencyMs: 2 },
      { at: `${fiveAgo}T23:59:59.999Z`, latencyMs: 3 },
      { at: `${fourAgo}T00:00:00Z`, latencyMs: 4, model: 'gpt-4o' },
      { at: `${fourAgo}T12:00:00Z`, latencyMs: 5, model: 'gpt-4o' },
      // Past retention, but this model's day was never aggregated: kept.
      { at: `${fiveAgo}T03:00:00Z`, latencyMs: 11, provider: 'gemini', model: 'gemini-2.5-flash' },
      // Past retention, aggregated only while the day was still running: kept.
      { at: `${fourAgo}T05:00:00Z`, latencyMs: 12, model: 'o3-mini' },
      // Within retention (the cutoff day itself and later), aggregated: kept.
      { at: `${threeAgo}T00:00:00Z`, latencyMs: 13 },
      { at: `${addDays(today, -1)}T10:00:00Z`, latencyMs: 14 },
    ]);
    await insertUsage(manager(), long.id, [{ at: `${fiveAgo}T01:00:00Z`, latencyMs: 21 }]);
    for (const day of [fiveAgo, fourAgo, threeAgo, addDays(today, -1)]) await aggregateDay(manager(), day);
    await manager().query(`DELETE FROM provider_daily_summaries WHERE provider = 'gemini'`);
    await manager().query(
      `UPDATE provider_daily_summaries SET computed_at = (date + 1)::timestamp AT TIME ZONE 'UTC' - interval '1 hour' WHERE model = 'o3-mini'`,
    );
    return { short, long };
  }

  it('deletes exactly the aggregated rows past each tenant retention, and keeps the summaries', async () => {
    const { short, long } = await fixture();
    const summariesBefore = await summariesOf(manager(), short.id);
    const result = await cleanupRetention(manager());
    expect(result).toEqual({ rowsTouched: 5, details: { dryRun: false, deleted: 5, keptUnaggregated: 2 } });
    expect(await remaining(short.id)).toEqual([11, 12, 13, 14]);
    expect(await remaining(long.id)).toEqual([21]);
    expect(await summariesOf(manager(), short.id)).toEqual(summariesBefore);
  });

  it('deletes in batches and reports progress', async () => {
    const { short } = await fixture();
    const batches: Array<[number, number]> = [];
    const result = await cleanupRetention(manager(), {
      batchSize: 2,
      onBatch: ({ deleted, totalDeleted }) => batches.push([deleted, totalDeleted]),
    });
    expect(result.rowsTouched).toBe(5);
    expect(batches).toEqual([
      [2, 2],
      [2, 4],
      [1, 5],
    ]);
    expect(await remaining(short.id)).toEqual([11, 12, 13, 14]);
  });

  it('counts without deleting on a dry run', async () => {
    const { short } = await fixture();
    expect(await cleanupRetention(manager(), { dryRun: true })).toEqual({
      rowsTouched: 0,
      details: { dryRun: true, wouldDelete: 5, keptUnaggregated: 2 },
    });
    expect(await remaining(short.id)).toEqual([1, 2, 3, 4, 5, 11, 12, 13, 14]);
  });

  it('uses the default retention for tenants without a setting', async () => {
    const { long } = await fixture();
    await cleanupRetention(manager(), { defaultRetentionDays: 4 });
    expect(await remaining(long.id)).toEqual([]);
  });
});
