import { describe, expect, it } from 'vitest';
import { aggregateRange } from '../../src/jobs/aggregate-daily-usage';
import { aggregateDay } from '../../src/tracking/daily-usage-summaries';
import { addDays, utcDay } from '../../src/tracking/utc-days';
import { useTestContext } from '../support/test-context';
import { insertTenant, insertUsage, summariesOf } from './usage-rows';

describe('daily usage aggregation', () => {
  const context = useTestContext();
  const today = utcDay();
  const day = addDays(today, -1);

  const manager = () => context.database.dataSource.manager;

  /** Five calls of one model with hand-picked latencies, plus rows just outside the day and of another model. */
  async function fixture() {
    const tenant = await insertTenant(manager());
    await insertUsage(manager(), tenant.id, [
      { at: `${day}T00:00:00.000Z`, latencyMs: 100, costUsd: '0.001000000000', inputTokens: 100, cachedInputTokens: 20, outputTokens: 50 },
      { at: `${day}T06:30:00.000Z`, latencyMs: 1000, costUsd: '0.002500000001', inputTokens: 200, outputTokens: 10, success: false },
      { at: `${day}T12:00:00.000Z`, latencyMs: 300, costUsd: '0.000000000001', inputTokens: 1, outputTokens: 1, wasFailover: true },
      { at: `${day}T18:00:00.000Z`, latencyMs: 400, costUsd: '0.010000000000', inputTokens: 50, outputTokens: 50 },
      {
        at: `${day}T23:59:59.999Z`,
        latencyMs: 200,
        costUsd: '0.000500000000',
        inputTokens: 10,
        cachedInputTokens: 5,
        outputTokens: 5,
        wasFailover: true,
      },
      // Outside the UTC day: the previous day's last millisecond and the next day's first.
      { at: `${addDays(day, -1)}T23:59:59.999Z`, latencyMs: 99_999 },
      { at: `${today}T00:00:00.000Z`, latencyMs: 99_999 },
      { at: `${day}T09:00:00.000Z`, provider: 'gemini', model: 'gemini-2.5-flash', latencyMs: 700, costUsd: '0.000300000000' },
    ]);
    return tenant;
  }

  it('computes sums, counts, average and percentile_cont latencies per tenant, day, provider and model', async () => {
    const tenant = await fixture();
    const written = await aggregateDay(manager(), day);
    expect(written).toBe(2);
    // Latencies 100, 200, 300, 400, 1000: p50 = 300; p95 at rank 0.95*4 = 3.8 -> 400 + 0.8*600 = 880; p99 -> 400 + 0.96*600 = 976.
    expect(await summariesOf(manager(), tenant.id)).toEqual([
      {
        date: day,
        provider: 'gemini',
        model: 'gemini-2.5-flash',
        total_calls: 1,
        successful_calls: 1,
        failed_calls: 0,
        input_tokens: '10',
        cached_input_tokens: '0',
        output_tokens: '5',
        total_tokens: '15',
        total_cost_usd: '0.000300000000',
        avg_latency_ms: '700.000',
        p50_latency_ms: '700.000',
        p95_latency_ms: '700.000',
        p99_latency_ms: '700.000',
        failover_count: 0,
      },
      {
        date: day,
        provider: 'openai',
        model: 'gpt-4o-mini',
        total_calls: 5,
        successful_calls: 4,
        failed_calls: 1,
        input_tokens: '361',
        cached_input_tokens: '25',
        output_tokens: '116',
        total_tokens: '477',
        total_cost_usd: '0.014000000002',
        avg_latency_ms: '400.000',
        p50_latency_ms: '300.000',
        p95_latency_ms: '880.000',
        p99_latency_ms: '976.000',
        failover_count: 2,
      },
    ]);
  });

  it('gives the same rows when run twice, and picks up rows that arrived in between', async () => {
    const tenant = await fixture();
    await aggregateDay(manager(), day);
    const first = await summariesOf(manager(), tenant.id);
    await aggregateDay(manager(), day);
    expect(await summariesOf(manager(), tenant.id)).toEqual(first);
    const [{ count }] = await manager().query('SELECT count(*)::int AS count FROM provider_daily_summaries');
    expect(count).toBe(2);

    await insertUsage(manager(), tenant.id, [
      { at: `${day}T20:00:00.000Z`, provider: 'gemini', model: 'gemini-2.5-flash', latencyMs: 300, costUsd: '0.000100000000' },
    ]);
    await aggregateDay(manager(), day);
    const [gemini] = await summariesOf(manager(), tenant.id);
    expect(gemini).toMatchObject({
      total_calls: 2,
      avg_latency_ms: '500.000',
      p50_latency_ms: '500.000',
      total_cost_usd: '0.000400000000',
    });
  });

  it('keeps tenants apart', async () => {
    const first = await fixture();
    const second = await insertTenant(manager());
    await insertUsage(manager(), second.id, [{ at: `${day}T10:00:00.000Z`, latencyMs: 50, costUsd: '1.000000000000' }]);
    await aggregateDay(manager(), day);
    expect((await summariesOf(manager(), first.id)).map((row) => row.total_calls)).toEqual([1, 5]);
    expect(await summariesOf(manager(), second.id)).toEqual([
      expect.objectContaining({ total_calls: 1, total_cost_usd: '1.000000000000', p99_latency_ms: '50.000' }),
    ]);
  });

  it('backfills a range one day at a time, reporting progress', async () => {
    const tenant = await insertTenant(manager());
    const from = addDays(today, -5);
    await insertUsage(manager(), tenant.id, [
      { at: `${addDays(from, 0)}T10:00:00Z`, latencyMs: 10 },
      { at: `${addDays(from, 2)}T10:00:00Z`, latencyMs: 20 },
      { at: `${addDays(from, 2)}T11:00:00Z`, latencyMs: 40 },
      { at: `${addDays(from, 4)}T10:00:00Z`, latencyMs: 30 },
    ]);
    const progress: Array<{ day: string; summaries: number }> = [];
    const result = await aggregateRange(manager(), from, addDays(from, 4), {
      onDay: ({ day: aggregated, summaries }) => progress.push({ day: aggregated, summaries }),
    });
    expect(result.rowsTouched).toBe(3);
    expect(progress).toEqual(
      [0, 1, 2, 3, 4].map((offset) => ({ day: addDays(from, offset), summaries: [0, 2, 4].includes(offset) ? 1 : 0 })),
    );
    expect((await summariesOf(manager(), tenant.id)).map((row) => [row.date, row.total_calls, row.avg_latency_ms])).toEqual([
      [from, 1, '10.000'],
      [addDays(from, 2), 2, '30.000'],
      [addDays(from, 4), 1, '30.000'],
    ]);
  });

  it('aggregates a late day past retention, but never rewrites its final summary from what cleanup left', async () => {
    const tenant = await insertTenant(manager(), { retentionDays: 3 });
    const old = addDays(today, -4);
    await insertUsage(manager(), tenant.id, [
      { at: `${old}T10:00:00Z`, latencyMs: 10 },
      { at: `${old}T11:00:00Z`, latencyMs: 30 },
    ]);
    expect(await aggregateDay(manager(), old)).toBe(1);
    const final = await summariesOf(manager(), tenant.id);
    expect(final).toEqual([expect.objectContaining({ date: old, total_calls: 2 })]);
    await manager().query(`DELETE FROM provider_usage WHERE tenant_id = $1 AND latency_ms = 10`, [tenant.id]);
    expect(await aggregateDay(manager(), old)).toBe(0);
    expect(await summariesOf(manager(), tenant.id)).toEqual(final);
  });
});
