/**
 * Which adapters a tenant can use. The platform's keys (OPENAI_API_KEY, GEMINI_API_KEY) only ever go to the
 * platform's base URLs (OPENAI_BASE_URL, GEMINI_BASE_URL, or the SDK default); a base URL from the tenant's
 * settings is used only with the tenant's own key, after checkTenantUrl, and through the SafeHttpClient, which
 * refuses internal addresses at connect time and follows no redirect. SDK clients are reused across requests.
 */
import crypto from 'node:crypto';
import type { LRUCache } from 'lru-cache';
import { boundedCache } from '../bounded-cache';
import type { Config } from '../config';
import { SafeHttpClient } from '../net/safe-http';
import { checkTenantUrl } from '../net/tenant-url';
import type { TenantCredentials } from '../tenants/tenant-credentials';
import { GeminiChatProvider } from './providers/gemini/gemini-chat-model';
import { OFFLINE_PROVIDER_ID, OfflineProvider } from './providers/offline/offline-provider';
import { OpenAIChatProvider } from './providers/openai/openai-chat-model';
import type { RoutingPolicy } from './routing-policy';
import type { LanguageModelProvider } from './types';

/** The adapters available to one request. */
export interface TenantProviders {
  has(provider: string): boolean;
  get(provider: string): LanguageModelProvider | undefined;
}

const CLIENT_CACHE_LIMIT = 500;
/** A client unused for this long is dropped (a rotated key's old client, a tenant gone quiet). */
const CLIENT_IDLE_MS = 60 * 60_000;

export interface ClientCacheOptions {
  /** Most SDK clients kept (default 500). */
  max?: number;
  /** Millisecond clock (tests pass their own). */
  now?: () => number;
}

/** The platform's provider settings, and the policy for tenant URLs (the most restrictive one when absent). */
export type RegistryEnvironment = Pick<Config, 'openai' | 'gemini'> & Partial<Pick<Config, 'outbound'>>;

/** Builds and caches adapters per (provider, base URL, key). */
export class ProviderRegistry {
  /** SDK clients by (provider, base URL, key hash): bounded in entries and idle time. */
  private readonly clients: LRUCache<string, LanguageModelProvider>;
  private readonly offline = new OfflineProvider();
  private readonly tenantHttp: SafeHttpClient;
  private readonly tenantFetch: SafeHttpClient['fetch'];

  constructor(
    private readonly environment: RegistryEnvironment,
    /** Adapters that replace the built ones by provider id (benchmarks, local experiments). */
    private readonly overrides: Record<string, LanguageModelProvider> = {},
    /** The client for tenant base URLs; built from environment.outbound when absent (tests inject a resolver). */
    tenantHttp?: SafeHttpClient,
    clientCache: ClientCacheOptions = {},
  ) {
    this.clients = boundedCache({ max: clientCache.max ?? CLIENT_CACHE_LIMIT, ttlMs: CLIENT_IDLE_MS, refreshOnRead: true, now: clientCache.now });
    this.tenantHttp = tenantHttp ?? new SafeHttpClient(environment.outbound ?? { requireHttps: true, allowedHosts: [] });
    // An SDK request carries the key: never follow a redirect with it. Model calls may run long (the failover engine
    // enforces the attempt timeout), so the total-time cap here is only a backstop.
    this.tenantFetch = this.tenantHttp.fetchWith({ maxRedirects: 0, timeoutMs: 300_000 });
  }

  /** How many SDK clients are kept (at most the cache's max). */
  cachedClients(): number {
    this.clients.purgeStale();
    return this.clients.size;
  }

  /** The providers a tenant may use under its policy. */
  forTenant(credentials: Pick<TenantCredentials, 'openaiApiKey' | 'geminiApiKey' | 'providerApiKeys'>, policy: RoutingPolicy): TenantProviders {
    const enabled = policy.enabledProviders ? new Set([...policy.enabledProviders, OFFLINE_PROVIDER_ID]) : undefined;
    const resolved = new Map<string, LanguageModelProvider | undefined>();
    const build = (provider: string): LanguageModelProvider | undefined => {
      if (enabled && !enabled.has(provider)) return undefined;
      if (provider === OFFLINE_PROVIDER_ID) return this.offline;
      if (this.overrides[provider]) return this.overrides[provider];
      if (provider === 'openai') {
        const tenantBaseUrl = policy.openaiBaseUrl;
        if (tenantBaseUrl === undefined) {
          const apiKey = credentials.openaiApiKey ?? this.environment.openai.apiKey;
          const baseUrl = this.environment.openai.baseUrl;
          return apiKey ? this.client(provider, baseUrl, apiKey, () => new OpenAIChatProvider({ apiKey, baseUrl })) : undefined;
        }
        // A tenant's base URL gets the tenant's own key or nothing.
        const apiKey = credentials.openaiApiKey;
        if (!apiKey || !this.isUsableTenantUrl(tenantBaseUrl)) return undefined;
        const fetch = this.tenantFetch;
        return this.client(`${provider}|tenant`, tenantBaseUrl, apiKey, () => new OpenAIChatProvider({ apiKey, baseUrl: tenantBaseUrl, fetch }));
      }
      if (provider === 'gemini') {
        const tenantBaseUrl = policy.geminiBaseUrl;
        if (tenantBaseUrl === undefined) {
          const apiKey = credentials.geminiApiKey ?? this.environment.gemini.apiKey;
          const baseUrl = this.environment.gemini.baseUrl;
          return apiKey ? this.client(provider, baseUrl, apiKey, () => new GeminiChatProvider({ apiKey, baseUrl })) : undefined;
        }
        const apiKey = credentials.geminiApiKey;
        if (!apiKey || !this.isUsableTenantUrl(tenantBaseUrl)) return undefined;
        const fetch = this.tenantFetch;
        return this.client(`${provider}|tenant`, tenantBaseUrl, apiKey, () => new GeminiChatProvider({ apiKey, baseUrl: tenantBaseUrl, fetch }));
      }
      const compatible = policy.compatibleProviders.find((candidate) => candidate.id === provider);
      if (!compatible || !this.isUsableTenantUrl(compatible.baseUrl)) return undefined;
      const apiKey = credentials.providerApiKeys?.[provider] ?? (compatible.requiresKey ? undefined : 'not-needed');
      if (!apiKey) return undefined;
      const options = { id: provider, apiKey, baseUrl: compatible.baseUrl, headers: compatible.headers, query: compatible.query, fetch: this.tenantFetch };
      return this.client(`${provider}|${JSON.stringify(compatible.headers ?? {})}|${JSON.stringify(compatible.query ?? {})}`, compatible.baseUrl, apiKey, () => new OpenAIChatProvider(options));
    };
    const get = (provider: string) => {
      if (!resolved.has(provider)) resolved.set(provider, build(provider));
      return resolved.get(provider);
    };
    return { get, has: (provider) => get(provider) !== undefined };
  }

  /** A tenant base URL passes the same checks as at write time (https in production, no internal host). */
  private isUsableTenantUrl(url: string): boolean {
    return checkTenantUrl(url, this.tenantHttp.urlPolicy).ok;
  }

  private client(identity: string, baseUrl: string | undefined, apiKey: string, create: () => LanguageModelProvider): LanguageModelProvider {
    // Keys are hashed so the cache's keys never hold a secret in clear.
    const key = `${identity}|${baseUrl ?? ''}|${crypto.createHash('sha256').update(apiKey).digest('hex').slice(0, 32)}`;
    let client = this.clients.get(key);
    if (!client) {
      client = create();
      this.clients.set(key, client);
    }
    return client;
  }
}
