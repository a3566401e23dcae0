import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/llm/circuit-breaker';
import { ProviderUsageRecorder } from '../../src/tracking/provider-usage-recorder';
import { createApiKey, createTenant } from '../support/factories';
import { createTestContext, type TestContext } from '../support/test-context';
import { usageAttempt } from '../llm/factories';

let context: TestContext;

beforeAll(async () => {
  context = await createTestContext();
});
afterAll(() => context.close());
beforeEach(() => context.database.truncateAll());

describe('GET /v1/bot/providers/health', () => {
  it('shows calls, success rate, latency percentiles and breaker state per model, for the key\'s tenant only', async () => {
    const { tenant } = await createTenant(context);
    const { tenant: other } = await createTenant(context);
    const { secret } = await createApiKey(context, tenant, { scopes: ['analytics:view'] });
    const manager = context.database.dataSource.manager;
    const recorder = new ProviderUsageRecorder(manager);
    const gpt = { provider: 'openai', model: 'gpt-4o' };
    for (const latencyMs of [100, 200, 300, 400]) await recorder.record(usageAttempt(tenant.id, { ...gpt, latencyMs }));
    await recorder.record(usageAttempt(tenant.id, { ...gpt, latencyMs: 30_000, success: false, errorKind: 'timeout' }));
    await recorder.record(usageAttempt(other.id, { provider: 'gemini', model: 'gemini-2.0-flash' }));
    const breaker = new CircuitBreaker(manager);
    for (let index = 0; index < 3; index += 1) await breaker.recordFailure({ provider: 'gemini', model: 'gemini-2.5-pro' }, 'server');

    const response = await request(context.app).get('/v1/bot/providers/health').set('Authorization', `Bearer ${secret}`);
    expect(response.status).toBe(200);
    expect(response.body.window_minutes).toBe(60);
    expect(response.body.data).toEqual([
      {
        provider: 'gemini',
        model: 'gemini-2.5-pro',
        calls: 0,
        success_rate: null,
        latency_p50_ms: null,
        latency_p95_ms: null,
        breaker: { state: 'open', since: expect.any(String), consecutive_failures: 3 },
      },
      {
        provider: 'openai',
        model: 'gpt-4o',
        calls: 5,
        success_rate: 0.8,
        latency_p50_ms: 300,
        latency_p95_ms: 24_080,
        breaker: { state: 'closed', since: null, consecutive_failures: 0 },
      },
    ]);
  });

  it('requires the analytics:view scope', async () => {
    const { tenant } = await createTenant(context);
    const { secret } = await createApiKey(context, tenant, { scopes: ['conversations:manage'] });
    const response = await request(context.app).get('/v1/bot/providers/health').set('Authorization', `Bearer ${secret}`);
    expect(response.status).toBe(403);
  });

  it('rejects an invalid window with 400', async () => {
    const { tenant } = await createTenant(context);
    const { secret } = await createApiKey(context, tenant, { scopes: ['analytics:view'] });
    const response = await request(context.app).get('/v1/bot/providers/health?window_minutes=0').set('Authorization', `Bearer ${secret}`);
    expect(response.status).toBe(400);
  });
});
