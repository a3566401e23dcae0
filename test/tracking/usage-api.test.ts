import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { aggregateDay } from '../../src/tracking/daily-usage-summaries';
import { addDays, utcDay } from '../../src/tracking/utc-days';
import { createApiKey, createTenant, type TenantFixture } from '../support/factories';
import { useTestContext } from '../support/test-context';
import { insertUsage } from '../jobs/usage-rows';

describe('provider usage and cost API', () => {
  const context = useTestContext();
  let tenant: TenantFixture;
  let other: TenantFixture;
  let key: string;
  let otherKey: string;
  const today = utcDay();
  const manager = () => context.database.dataSource.manager;
  const get = (path: string, secret = key) => request(context.app).get(path).set('Authorization', `Bearer ${secret}`);

  beforeEach(async () => {
    tenant = await createTenant(context, { settings: { llm: { monthlyBudgetUsd: '1.50' } } });
    other = await createTenant(context);
    key = (await createApiKey(context, tenant.tenant, { scopes: ['analytics:view'] })).secret;
    otherKey = (await createApiKey(context, other.tenant, { scopes: ['analytics:view'] })).secret;
  });

  describe('GET /v1/bot/providers/usage/', () => {
    /** Days -3 and -2 aggregated (and their raw rows of day -3 cleaned up), day -1 and today only raw. */
    async function fixture() {
      const id = tenant.tenant.id;
      await insertUsage(manager(), id, [
        { at: `${addDays(today, -3)}T10:00:00Z`, latencyMs: 100, costUsd: '0.100000000000' },
        { at: `${addDays(today, -3)}T11:00:00Z`, latencyMs: 300, costUsd: '0.100000000000', provider: 'gemini', model: 'gemini-2.5-flash' },
        { at: `${addDays(today, -2)}T10:00:00Z`, latencyMs: 200, costUsd: '0.200000000000', success: false },
        { at: `${addDays(today, -1)}T10:00:00Z`, latencyMs: 400, costUsd: '0.300000000000', wasFailover: true },
        { at: `${today}T00:00:00Z`, latencyMs: 600, costUsd: '0.400000000000' },
      ]);
      await insertUsage(manager(), other.tenant.id, [{ at: `${addDays(today, -2)}T10:00:00Z`, latencyMs: 9, costUsd: '9.000000000000' }]);
      await aggregateDay(manager(), addDays(today, -3));
      await aggregateDay(manager(), addDays(today, -2));
      await manager().query(`DELETE FROM provider_usage WHERE created_at < $1`, [`${addDays(today, -2)}T00:00:00Z`]);
    }

    it('reports each day from final summaries, and today and unaggregated days from raw rows', async () => {
      await fixture();
      const response = await get(`/v1/bot/providers/usage/?from=${addDays(today, -4)}&to=${today}`).expect(200);
      expect(response.body).toMatchObject({ from: addDays(today, -4), to: today, group_by: 'day' });
      expect(
        response.body.data.map((row: Record<string, unknown>) => [
          row.date,
          row.calls,
          row.failed_calls,
          row.cost_usd,
          row.avg_latency_ms,
          row.failover_count,
        ]),
      ).toEqual([
        [addDays(today, -3), 2, 0, '0.200000000000', 200, 0],
        [addDays(today, -2), 1, 1, '0.200000000000', 200, 0],
        [addDays(today, -1), 1, 0, '0.300000000000', 400, 1],
        [today, 1, 0, '0.400000000000', 600, 0],
      ]);
      expect(response.body.data[0]).toEqual({
        date: addDays(today, -3),
        calls: 2,
        successful_calls: 2,
        failed_calls: 0,
        input_tokens: 20,
        cached_input_tokens: 0,
        output_tokens: 10,
        total_tokens: 30,
        cost_usd: '0.200000000000',
        avg_latency_ms: 200,
        max_daily_p95_latency_ms: 300,
        failover_count: 0,
      });
    });

    it('groups by provider and by model', async () => {
      await fixture();
      const byProvider = await get(`/v1/bot/providers/usage/?from=${addDays(today, -3)}&to=${today}&group_by=provider`).expect(200);
      expect(
        byProvider.body.data.map((row: Record<string, unknown>) => [
          row.provider,
          row.calls,
          row.cost_usd,
          row.avg_latency_ms,
          row.max_daily_p95_latency_ms,
        ]),
      ).toEqual([
        ['gemini', 1, '0.100000000000', 300, 300],
        ['openai', 4, '1.000000000000', 325, 600],
      ]);
      const byModel = await get(`/v1/bot/providers/usage/?from=${addDays(today, -3)}&to=${today}&group_by=model`).expect(200);
      expect(byModel.body.data.map((row: Record<string, unknown>) => [row.provider, row.model, row.calls])).toEqual([
        ['gemini', 'gemini-2.5-flash', 1],
        ['openai', 'gpt-4o-mini', 4],
      ]);
    });

    it("never shows another tenant's usage", async () => {
      await fixture();
      const response = await get(`/v1/bot/providers/usage/?from=${addDays(today, -3)}&to=${today}&group_by=provider`, otherKey).expect(200);
      expect(response.body.data).toEqual([expect.objectContaining({ provider: 'openai', calls: 1, cost_usd: '9.000000000000' })]);
    });

    it('defaults to the last 30 days grouped by day', async () => {
      const response = await get('/v1/bot/providers/usage/').expect(200);
      expect(response.body).toEqual({ from: addDays(today, -29), to: today, group_by: 'day', data: [] });
    });

    it('rejects bad dates, ranges and groupings with 400', async () => {
      for (const query of [
        'from=2026-02-30',
        'to=yesterday',
        'group_by=hour',
        `from=${today}&to=${addDays(today, -1)}`,
        `from=${addDays(today, -400)}&to=${today}`,
      ]) {
        const response = await get(`/v1/bot/providers/usage/?${query}`).expect(400);
        expect(response.body.error.code).toBe('validation_failed');
      }
    });

    it('rejects days outside the years 1970 to 9999 with 400 naming the field', async () => {
      for (const [query, field] of [
        ['from=0000-01-01&to=0000-01-05', 'from'],
        ['from=1969-12-31&to=1970-01-01', 'from'],
        ['from=9999-12-01&to=%2B10000-01-01', 'to'],
      ]) {
        const response = await get(`/v1/bot/providers/usage/?${query}`).expect(400);
        expect(response.body.error).toMatchObject({
          code: 'validation_failed',
          details: expect.arrayContaining([expect.objectContaining({ path: field })]),
        });
      }
    });

    it('answers for the last days of year 9999', async () => {
      const response = await get('/v1/bot/providers/usage/?from=9999-12-01&to=9999-12-31').expect(200);
      expect(response.body).toEqual({ from: '9999-12-01', to: '9999-12-31', group_by: 'day', data: [] });
    });
  });

  describe('GET /v1/bot/providers/costs/', () => {
    it("compares the month's spend with the tenant budget, exactly", async () => {
      const month = today.slice(0, 7);
      const first = `${month}-01`;
      await insertUsage(manager(), tenant.tenant.id, [
        { at: `${first}T08:00:00Z`, costUsd: '0.700000000001', model: 'gpt-4o' },
        { at: `${today}T00:30:00Z`, costUsd: '0.900000000000' },
        // The previous month: not counted.
        { at: `${addDays(first, -1)}T23:00:00Z`, costUsd: '5.000000000000' },
      ]);
      if (first < today) await aggregateDay(manager(), first);
      const response = await get(`/v1/bot/providers/costs/?month=${month}`).expect(200);
      expect(response.body).toMatchObject({
        month,
        spend_usd: '1.600000000001',
        budget_usd: '1.50',
        remaining_usd: '-0.100000000001',
        used_percent: 106.67,
        over_budget: true,
        by_model: [
          { provider: 'openai', model: 'gpt-4o', calls: 1, cost_usd: '0.700000000001' },
          { provider: 'openai', model: 'gpt-4o-mini', calls: 1, cost_usd: '0.900000000000' },
        ],
      });
      expect(response.body.days).toBeGreaterThanOrEqual(28);
    });

    it('reports zero spend and no budget when the tenant has none', async () => {
      const response = await get('/v1/bot/providers/costs/?month=2026-02', otherKey).expect(200);
      expect(response.body).toEqual({
        month: '2026-02',
        days: 28,
        spend_usd: '0.000000000000',
        budget_usd: null,
        remaining_usd: null,
        used_percent: null,
        over_budget: null,
        by_model: [],
      });
    });

    it('rejects a malformed month, or one outside the years 1970 to 9999, with 400', async () => {
      for (const month of ['2026-13', '2026-1', 'november', '0000-01', '1969-12', '+10000-01']) {
        expect((await get(`/v1/bot/providers/costs/?month=${encodeURIComponent(month)}`).expect(400)).body.error.code).toBe(
          'validation_failed',
        );
      }
    });

    it('answers for December 9999, the last month there is (the day after it once looped forever)', async () => {
      const response = await get('/v1/bot/providers/costs/?month=9999-12', otherKey).expect(200);
      expect(response.body).toMatchObject({ month: '9999-12', days: 31, spend_usd: '0.000000000000', by_model: [] });
    });
  });

  describe('access', () => {
    it('requires an API key (401) with the analytics:view scope (403)', async () => {
      await request(context.app).get('/v1/bot/providers/usage/').expect(401);
      await request(context.app).get('/v1/bot/providers/costs/').expect(401);
      const narrow = (await createApiKey(context, tenant.tenant, { scopes: ['conversations:manage'] })).secret;
      expect((await get('/v1/bot/providers/usage/', narrow).expect(403)).body.error.code).toBe('missing_scope');
      expect((await get('/v1/bot/providers/costs/', narrow).expect(403)).body.error.code).toBe('missing_scope');
    });
  });
});
