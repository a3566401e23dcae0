/**
 * Tenant base URLs (settings.llm.openaiBaseUrl, geminiBaseUrl, compatibleProviders[].baseUrl) against the
 * platform's keys and the outbound policy, through the real SDKs and loopback fakes that record what they see.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ProviderRegistry, type RegistryEnvironment } from '../../src/llm/provider-registry';
import { resolveRoutingPolicy } from '../../src/llm/routing-policy';
import type { GenerateRequest, LanguageModelProvider } from '../../src/llm/types';
import { SafeHttpClient } from '../../src/net/safe-http';
import { type FakeGeminiServer, startFakeGemini } from '../fakes/gemini-server';
import { type FakeOpenAIServer, startFakeOpenAI } from '../fakes/openai-server';

let platformOpenAI: FakeOpenAIServer;
let tenantOpenAI: FakeOpenAIServer;
let platformGemini: FakeGeminiServer;
let tenantGemini: FakeGeminiServer;
let environment: RegistryEnvironment;

const hostOf = (url: string) => new URL(url).host;
const request = (model: string): GenerateRequest => ({ model, messages: [{ role: 'user', content: 'Where is my order?' }] });
const PLATFORM_KEYS = { openai: 'sk-platform-secret', gemini: 'g-platform-secret' };

/** The messages of an error and its causes: how the refusal shows through each SDK's own wrapping. */
function causeChain(error: unknown): string {
  const messages: string[] = [];
  for (let current = error; current instanceof Error; current = current.cause) messages.push(current.message);
  return messages.join(' <- ');
}

/** The provider the registry offers, or a failed test. */
function offered(provider: LanguageModelProvider | undefined): LanguageModelProvider {
  if (!provider) throw new Error('the registry offers no such provider');
  return provider;
}

/** Calls the provider if the registry offers one; a refusal or upstream error is fine, a leak is not. */
async function tryGenerate(provider: LanguageModelProvider | undefined, model: string): Promise<void> {
  await provider?.generate(request(model)).catch(() => undefined);
}

beforeAll(async () => {
  [platformOpenAI, tenantOpenAI, platformGemini, tenantGemini] = await Promise.all([
    startFakeOpenAI(),
    startFakeOpenAI(),
    startFakeGemini(),
    startFakeGemini(),
  ]);
  environment = {
    openai: { apiKey: PLATFORM_KEYS.openai, baseUrl: platformOpenAI.baseUrl },
    gemini: { apiKey: PLATFORM_KEYS.gemini, baseUrl: platformGemini.baseUrl },
    // The tests' explicit opt-in: the tenant fakes are reachable, the platform fakes are not (as tenant URLs).
    outbound: { requireHttps: false, allowedHosts: [hostOf(tenantOpenAI.url), hostOf(tenantGemini.url)] },
  };
});
afterAll(async () => {
  await Promise.all([platformOpenAI, tenantOpenAI, platformGemini, tenantGemini].map((server) => server.close()));
});
beforeEach(() => {
  for (const server of [platformOpenAI, tenantOpenAI, platformGemini, tenantGemini]) server.book.reset();
});

describe("the platform's keys stay with the platform's base URLs", () => {
  it('never sends the platform OpenAI key to a tenant openaiBaseUrl: without its own key the tenant has no openai', async () => {
    const policy = resolveRoutingPolicy({ llm: { openaiBaseUrl: tenantOpenAI.baseUrl } });
    const provider = new ProviderRegistry(environment).forTenant({}, policy).get('openai');
    await tryGenerate(provider, 'gpt-4o-mini');
    expect(tenantOpenAI.book.requests.map((seen) => seen.headers.authorization)).not.toContain(`Bearer ${PLATFORM_KEYS.openai}`);
    expect(provider).toBeUndefined();
  });

  it('never sends the platform Gemini key to a tenant geminiBaseUrl', async () => {
    const policy = resolveRoutingPolicy({ llm: { geminiBaseUrl: tenantGemini.baseUrl } });
    const provider = new ProviderRegistry(environment).forTenant({}, policy).get('gemini');
    await tryGenerate(provider, 'gemini-2.0-flash');
    expect(tenantGemini.book.requests.map((seen) => seen.headers['x-goog-api-key'])).not.toContain(PLATFORM_KEYS.gemini);
    expect(provider).toBeUndefined();
  });

  it("sends the tenant's own key to the tenant's base URL, and nothing to the platform's", async () => {
    const policy = resolveRoutingPolicy({ llm: { openaiBaseUrl: tenantOpenAI.baseUrl, geminiBaseUrl: tenantGemini.baseUrl } });
    const providers = new ProviderRegistry(environment).forTenant({ openaiApiKey: 'sk-tenant', geminiApiKey: 'g-tenant' }, policy);
    expect((await offered(providers.get('openai')).generate(request('gpt-4o-mini'))).text).toBe('echo: Where is my order?');
    expect((await offered(providers.get('gemini')).generate(request('gemini-2.0-flash'))).text).toBe('echo: Where is my order?');
    expect(tenantOpenAI.book.requests.map((seen) => seen.headers.authorization)).toEqual(['Bearer sk-tenant']);
    expect(tenantGemini.book.requests.map((seen) => seen.headers['x-goog-api-key'])).toEqual(['g-tenant']);
    expect(platformOpenAI.book.requests).toHaveLength(0);
    expect(platformGemini.book.requests).toHaveLength(0);
  });

  it("sends the platform key to the platform's base URL, and a tenant key without a tenant URL there too", async () => {
    const registry = new ProviderRegistry(environment);
    const policy = resolveRoutingPolicy({});
    await offered(registry.forTenant({}, policy).get('openai')).generate(request('gpt-4o-mini'));
    await offered(registry.forTenant({ openaiApiKey: 'sk-tenant' }, policy).get('openai')).generate(request('gpt-4o-mini'));
    await offered(registry.forTenant({}, policy).get('gemini')).generate(request('gemini-2.0-flash'));
    expect(platformOpenAI.book.requests.map((seen) => seen.headers.authorization)).toEqual([
      `Bearer ${PLATFORM_KEYS.openai}`,
      'Bearer sk-tenant',
    ]);
    expect(platformGemini.book.requests.map((seen) => seen.headers['x-goog-api-key'])).toEqual([PLATFORM_KEYS.gemini]);
  });
});

describe('tenant base URLs follow the outbound policy', () => {
  it('offers no provider whose tenant base URL points inside the network, however it is configured', async () => {
    const inside = platformOpenAI.baseUrl; // loopback, and not on the allowlist
    const policy = resolveRoutingPolicy({
      llm: {
        openaiBaseUrl: inside,
        geminiBaseUrl: 'http://169.254.169.254/computeMetadata',
        compatibleProviders: [
          { id: 'ollama', baseUrl: inside, requiresKey: false },
          { id: 'metadata', baseUrl: 'http://metadata.google.internal/v1' },
        ],
      },
    });
    const providers = new ProviderRegistry(environment).forTenant(
      { openaiApiKey: 'sk-tenant', geminiApiKey: 'g-tenant', providerApiKeys: { metadata: 'k' } },
      policy,
    );
    // Only the loopback ones are ever called: whatever the code does, nothing here may reach another address.
    for (const id of ['openai', 'ollama']) await tryGenerate(providers.get(id), 'any-model');
    expect(platformOpenAI.book.requests).toHaveLength(0);
    expect(['openai', 'gemini', 'ollama', 'metadata'].filter((id) => providers.has(id))).toEqual([]);
  });

  it('requires https for tenant base URLs in production', () => {
    const production = { ...environment, outbound: { requireHttps: true, allowedHosts: [] } };
    const policy = resolveRoutingPolicy({ llm: { openaiBaseUrl: 'http://api.example.com/v1' } });
    expect(new ProviderRegistry(production).forTenant({ openaiApiKey: 'sk-tenant' }, policy).has('openai')).toBe(false);
    const secure = resolveRoutingPolicy({ llm: { openaiBaseUrl: 'https://api.example.com/v1' } });
    expect(new ProviderRegistry(production).forTenant({ openaiApiKey: 'sk-tenant' }, secure).has('openai')).toBe(true);
  });

  it('uses the most restrictive policy when the registry is given none', () => {
    const policy = resolveRoutingPolicy({ llm: { openaiBaseUrl: tenantOpenAI.baseUrl } });
    const registry = new ProviderRegistry({ openai: {}, gemini: {} });
    expect(registry.forTenant({ openaiApiKey: 'sk-tenant' }, policy).has('openai')).toBe(false);
  });

  it('checks the address each SDK actually connects to: a tenant host name that resolves to loopback is refused', async () => {
    // The name passes every write-time check; only the connection can tell where it goes.
    const resolvesInside = new SafeHttpClient({ requireHttps: false, resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
    const openaiUrl = `http://models.tenant.invalid:${new URL(tenantOpenAI.url).port}/v1`;
    const geminiUrl = `http://models.tenant.invalid:${new URL(tenantGemini.url).port}`;
    const policy = resolveRoutingPolicy({
      llm: { openaiBaseUrl: openaiUrl, geminiBaseUrl: geminiUrl, compatibleProviders: [{ id: 'vllm', baseUrl: openaiUrl }] },
    });
    try {
      const providers = new ProviderRegistry(environment, {}, resolvesInside).forTenant(
        { openaiApiKey: 'sk-tenant', geminiApiKey: 'g-tenant', providerApiKeys: { vllm: 'k' } },
        policy,
      );
      for (const [id, model] of [
        ['openai', 'gpt-4o-mini'],
        ['gemini', 'gemini-2.0-flash'],
        ['vllm', 'qwen'],
      ]) {
        const error = await offered(providers.get(id))
          .generate(request(model))
          .then(
            () => undefined,
            (caught: unknown) => caught,
          );
        // Refused by the guard: not a network fault, never retried, no breaker counts it.
        expect(error, id).toMatchObject({ kind: 'forbidden_destination', isRetryable: false });
        expect(causeChain(error), id).toMatch(/resolves to a loopback address/);
      }
      expect(tenantOpenAI.book.requests).toHaveLength(0);
      expect(tenantGemini.book.requests).toHaveLength(0);
    } finally {
      await resolvesInside.close();
    }
  });

  it("guards a tenant's Gemini call without touching the platform's, even when they run at the same time", async () => {
    const resolvesInside = new SafeHttpClient({ requireHttps: false, resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
    const registry = new ProviderRegistry(environment, {}, resolvesInside);
    const tenantPolicy = resolveRoutingPolicy({ llm: { geminiBaseUrl: `http://gemini.tenant.invalid:${new URL(tenantGemini.url).port}` } });
    const tenant = offered(registry.forTenant({ geminiApiKey: 'g-tenant' }, tenantPolicy).get('gemini'));
    const platform = offered(registry.forTenant({}, resolveRoutingPolicy({})).get('gemini'));
    try {
      const [tenantOutcome, platformOutcome] = await Promise.allSettled([
        tenant.generate(request('gemini-2.0-flash')),
        platform.generate(request('gemini-2.0-flash')),
      ]);
      expect(tenantOutcome.status).toBe('rejected');
      expect(causeChain((tenantOutcome as PromiseRejectedResult).reason)).toMatch(/resolves to a loopback address/);
      expect(platformOutcome).toMatchObject({ status: 'fulfilled', value: { text: 'echo: Where is my order?' } });
      expect(tenantGemini.book.requests).toHaveLength(0);
      expect(platformGemini.book.requests).toHaveLength(1);
    } finally {
      await resolvesInside.close();
    }
  });
});
