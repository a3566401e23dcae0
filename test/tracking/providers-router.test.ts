import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type BreakerTarget, CircuitBreaker } from '../../src/llm/circuit-breaker';
import { providerCredential } from '../../src/llm/provider-credential';
import { ProviderUsageRecorder } from '../../src/tracking/provider-usage-recorder';
import { createApiKey, createTenant } from '../support/factories';
import { createTestContext, type TestContext } from '../support/test-context';
import { usageAttempt } from '../llm/factories';

let context: TestContext;

beforeAll(async () => {
  // The platform's keys: a tenant without keys of its own reaches both providers with them.
  context = await createTestContext({ environment: { OPENAI_API_KEY: 'sk-platform', GEMINI_API_KEY: 'g-platform' } });
});
afterAll(() => context.close());
beforeEach(() => context.database.truncateAll());

/** The model as the tenant's requests reach it: with its own key, or the platform's. */
async function targetFor(tenantId: string, provider: string, model: string): Promise<BreakerTarget> {
  const credential = (await context.services.tenantBreakers.credentialsOf(tenantId)).find((candidate) => candidate.provider === provider);
  if (!credential) throw new Error(`the tenant cannot reach ${provider}`);
  return { provider, model, credential };
}

/** Opens a breaker the way three failed calls in a row do. */
async function open(target: BreakerTarget): Promise<void> {
  const breaker = new CircuitBreaker(context.database.dataSource.manager);
  for (let index = 0; index < 3; index += 1) await breaker.recordFailure(target, 'server');
}

describe('GET /v1/bot/providers/health', () => {
  it("shows calls, success rate, latency percentiles and breaker state per model, for the key's tenant only", async () => {
    const { tenant } = await createTenant(context);
    const { tenant: other } = await createTenant(context);
    const { secret } = await createApiKey(context, tenant, { scopes: ['analytics:view'] });
    const manager = context.database.dataSource.manager;
    const recorder = new ProviderUsageRecorder(manager);
    const gpt = { provider: 'openai', model: 'gpt-4o' };
    for (const latencyMs of [100, 200, 300, 400]) await recorder.record(usageAttempt(tenant.id, { ...gpt, latencyMs }));
    await recorder.record(usageAttempt(tenant.id, { ...gpt, latencyMs: 30_000, success: false, errorKind: 'timeout' }));
    await recorder.record(usageAttempt(other.id, { provider: 'gemini', model: 'gemini-2.0-flash' }));
    await open(await targetFor(tenant.id, 'gemini', 'gemini-2.5-pro'));

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
        breaker: { state: 'open', since: expect.any(String), consecutive_failures: 3, credential: 'platform' },
      },
      {
        provider: 'openai',
        model: 'gpt-4o',
        calls: 5,
        success_rate: 0.8,
        latency_p50_ms: 300,
        latency_p95_ms: 24_080,
        breaker: { state: 'closed', since: null, consecutive_failures: 0, credential: 'platform' },
      },
    ]);
  });

  it("shows a tenant its own key's breakers and the platform's it uses, never another tenant's", async () => {
    const { tenant: own } = await createTenant(context, { credentials: { openaiApiKey: 'sk-own-key' } });
    const { tenant: onPlatform } = await createTenant(context);
    // gpt-4o with A's own key (at the platform's base URL, OPENAI_BASE_URL being unset) is failing; so is the platform's
    // gemini-2.5-pro, for every tenant on the platform key. The platform's gpt-4o is healthy.
    const ownGpt4o = {
      provider: 'openai',
      model: 'gpt-4o',
      credential: providerCredential({ provider: 'openai', baseUrl: undefined, apiKey: 'sk-own-key', tenantId: own.id }),
    };
    const platformGemini = {
      provider: 'gemini',
      model: 'gemini-2.5-pro',
      credential: providerCredential({ provider: 'gemini', baseUrl: undefined, apiKey: 'g-platform', tenantId: null }),
    };
    await open(ownGpt4o);
    await open(platformGemini);
    const health = async (tenant: typeof own) => {
      const { secret } = await createApiKey(context, tenant, { scopes: ['analytics:view'] });
      const response = await request(context.app).get('/v1/bot/providers/health').set('Authorization', `Bearer ${secret}`).expect(200);
      return response.body.data.map((row: { provider: string; model: string; breaker: { state: string; credential: string } }) => ({
        model: `${row.provider}/${row.model}`,
        state: row.breaker.state,
        credential: row.breaker.credential,
      }));
    };
    // B is on the platform key: A's own gpt-4o breaker is none of its business, and is not shown.
    expect(await health(onPlatform)).toEqual([{ model: 'gemini/gemini-2.5-pro', state: 'open', credential: 'platform' }]);
    expect(await health(own)).toEqual([
      { model: 'gemini/gemini-2.5-pro', state: 'open', credential: 'platform' },
      { model: 'openai/gpt-4o', state: 'open', credential: 'tenant' },
    ]);
    // When the platform's gpt-4o fails too, B sees that one (and A still its own): one row per model, the one that applies.
    await open(await targetFor(onPlatform.id, 'openai', 'gpt-4o'));
    expect(await health(onPlatform)).toEqual([
      { model: 'gemini/gemini-2.5-pro', state: 'open', credential: 'platform' },
      { model: 'openai/gpt-4o', state: 'open', credential: 'platform' },
    ]);
    expect(await health(own)).toEqual([
      { model: 'gemini/gemini-2.5-pro', state: 'open', credential: 'platform' },
      { model: 'openai/gpt-4o', state: 'open', credential: 'tenant' },
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
