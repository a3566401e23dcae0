import { describe, expect, it } from 'vitest';
import { ProviderRegistry } from '../../src/llm/provider-registry';
import { resolveRoutingPolicy } from '../../src/llm/routing-policy';

const environment = { openai: { apiKey: 'sk-env' }, gemini: {} };

describe('ProviderRegistry', () => {
  it('uses the environment key when the tenant has none, and offers no provider without any key', () => {
    const providers = new ProviderRegistry(environment).forTenant({}, resolveRoutingPolicy({}));
    expect(providers.has('openai')).toBe(true);
    expect(providers.has('gemini')).toBe(false);
    expect(providers.get('offline')?.id).toBe('offline');
  });

  it("prefers the tenant's own key and reuses one client per key", () => {
    const registry = new ProviderRegistry(environment);
    const policy = resolveRoutingPolicy({});
    const first = registry.forTenant({ geminiApiKey: 'g-tenant' }, policy).get('gemini');
    const again = registry.forTenant({ geminiApiKey: 'g-tenant' }, policy).get('gemini');
    const other = registry.forTenant({ geminiApiKey: 'g-other' }, policy).get('gemini');
    expect(first).toBeDefined();
    expect(again).toBe(first);
    expect(other).not.toBe(first);
  });

  it('offers only the enabled providers, and always the offline one', () => {
    const policy = resolveRoutingPolicy({ llm: { enabledProviders: ['gemini'] } });
    const providers = new ProviderRegistry(environment).forTenant({ geminiApiKey: 'g' }, policy);
    expect(providers.has('openai')).toBe(false);
    expect(providers.has('gemini')).toBe(true);
    expect(providers.has('offline')).toBe(true);
  });

  it('builds configured OpenAI-compatible providers under their own id, with the key from the tenant credentials', () => {
    const policy = resolveRoutingPolicy({ llm: { compatibleProviders: [{ id: 'vllm', baseUrl: 'http://127.0.0.1:8000/v1' }] } });
    const registry = new ProviderRegistry({ ...environment, outbound: { requireHttps: false, allowedHosts: ['127.0.0.1:8000'] } });
    expect(registry.forTenant({}, policy).has('vllm')).toBe(false);
    expect(registry.forTenant({ providerApiKeys: { vllm: 'k' } }, policy).get('vllm')?.id).toBe('vllm');
    expect(registry.forTenant({ providerApiKeys: { vllm: 'k' } }, policy).has('unknown')).toBe(false);
  });

  it('rejects an invalid tenant policy with every problem listed', () => {
    expect(() => resolveRoutingPolicy({ llm: { quality: 2, monthlyBudgetUsd: '12.5e3' } })).toThrow(
      /quality[\s\S]*monthlyBudgetUsd|monthlyBudgetUsd[\s\S]*quality/,
    );
  });
});
