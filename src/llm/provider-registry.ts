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
import { type CredentialParts, type ProviderCredential, providerCredential } from './provider-credential';
import type { LanguageModelProvider } from './types';

/** The adapters available to one request, and the credential each one uses. */
export interface TenantProviders {
  has(provider: string): boolean;
  get(provider: string): LanguageModelProvider | undefined;
  /** The credential the provider's requests use (its breaker's key); undefined when the provider is unavailable. */
  credential(provider: string): ProviderCredential | undefined;
}

/** A provider as resolved for one tenant: its adapter and the credential that adapter sends. */
interface Resolved {
  provider: LanguageModelProvider;
  /** Computed when asked: only the breakers and usage rows need it. */
  credential: () => ProviderCredential;
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
    this.clients = boundedCache({
      max: clientCache.max ?? CLIENT_CACHE_LIMIT,
      ttlMs: CLIENT_IDLE_MS,
      refreshOnRead: true,
      now: clientCache.now,
    });
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

  /**
   * The providers a tenant may use under its policy. `tenantId` scopes the fingerprints of the tenant's own
   * credentials (its key, base URL or keyless endpoint); without it only the adapters can be asked for.
   */
  forTenant(
    credentials: Pick<TenantCredentials, 'openaiApiKey' | 'geminiApiKey' | 'providerApiKeys'>,
    policy: RoutingPolicy,
    tenantId?: string,
  ): TenantProviders {
    const enabled = policy.enabledProviders ? new Set([...policy.enabledProviders, OFFLINE_PROVIDER_ID]) : undefined;
    const resolved = new Map<string, Resolved | undefined>();
    const owned = (parts: Omit<CredentialParts, 'tenantId'>) =>
      once((): ProviderCredential => {
        if (tenantId === undefined)
          throw new Error(`the credential of ${parts.provider} is the tenant's own: forTenant needs the tenant id`);
        return providerCredential({ ...parts, tenantId });
      });
    const platform = (parts: Omit<CredentialParts, 'tenantId'>) =>
      once((): ProviderCredential => providerCredential({ ...parts, tenantId: null }));
    const build = (provider: string): Resolved | undefined => {
      if (enabled && !enabled.has(provider)) return undefined;
      if (provider === OFFLINE_PROVIDER_ID)
        return { provider: this.offline, credential: platform({ provider, baseUrl: undefined, apiKey: '' }) };
      // An override stands in for the platform's adapter (benchmarks, experiments): one shared credential.
      if (this.overrides[provider])
        return { provider: this.overrides[provider], credential: platform({ provider, baseUrl: 'override', apiKey: '' }) };
      if (provider === 'openai') {
        const tenantBaseUrl = policy.openaiBaseUrl;
        if (tenantBaseUrl === undefined) {
          const baseUrl = this.environment.openai.baseUrl;
          const tenantKey = credentials.openaiApiKey;
          const apiKey = tenantKey ?? this.environment.openai.apiKey;
          if (!apiKey) return undefined;
          const credential = tenantKey ? owned({ provider, baseUrl, apiKey }) : platform({ provider, baseUrl, apiKey });
          return { provider: this.client(provider, baseUrl, apiKey, () => new OpenAIChatProvider({ apiKey, baseUrl })), credential };
        }
        // A tenant's base URL gets the tenant's own key or nothing.
        const apiKey = credentials.openaiApiKey;
        if (!apiKey || !this.isUsableTenantUrl(tenantBaseUrl)) return undefined;
        const fetch = this.tenantFetch;
        return {
          provider: this.client(
            `${provider}|tenant`,
            tenantBaseUrl,
            apiKey,
            () => new OpenAIChatProvider({ apiKey, baseUrl: tenantBaseUrl, fetch }),
          ),
          credential: owned({ provider, baseUrl: tenantBaseUrl, apiKey }),
        };
      }
      if (provider === 'gemini') {
        const tenantBaseUrl = policy.geminiBaseUrl;
        if (tenantBaseUrl === undefined) {
          const baseUrl = this.environment.gemini.baseUrl;
          const tenantKey = credentials.geminiApiKey;
          const apiKey = tenantKey ?? this.environment.gemini.apiKey;
          if (!apiKey) return undefined;
          const credential = tenantKey ? owned({ provider, baseUrl, apiKey }) : platform({ provider, baseUrl, apiKey });
          return { provider: this.client(provider, baseUrl, apiKey, () => new GeminiChatProvider({ apiKey, baseUrl })), credential };
        }
        const apiKey = credentials.geminiApiKey;
        if (!apiKey || !this.isUsableTenantUrl(tenantBaseUrl)) return undefined;
        const fetch = this.tenantFetch;
        return {
          provider: this.client(
            `${provider}|tenant`,
            tenantBaseUrl,
            apiKey,
            () => new GeminiChatProvider({ apiKey, baseUrl: tenantBaseUrl, fetch }),
          ),
          credential: owned({ provider, baseUrl: tenantBaseUrl, apiKey }),
        };
      }
      const compatible = policy.compatibleProviders.find((candidate) => candidate.id === provider);
      if (!compatible || !this.isUsableTenantUrl(compatible.baseUrl)) return undefined;
      const apiKey = credentials.providerApiKeys?.[provider] ?? (compatible.requiresKey ? undefined : 'not-needed');
      if (!apiKey) return undefined;
      const options = {
        id: provider,
        apiKey,
        baseUrl: compatible.baseUrl,
        headers: compatible.headers,
        query: compatible.query,
        fetch: this.tenantFetch,
      };
      return {
        provider: this.client(
          `${provider}|${JSON.stringify(compatible.headers ?? {})}|${JSON.stringify(compatible.query ?? {})}`,
          compatible.baseUrl,
          apiKey,
          () => new OpenAIChatProvider(options),
        ),
        // Always the tenant's: a compatible endpoint is configured by the tenant, key or no key.
        credential: owned({
          provider,
          baseUrl: compatible.baseUrl,
          apiKey,
          extra: { headers: compatible.headers ?? {}, query: compatible.query ?? {} },
        }),
      };
    };
    const resolve = (provider: string) => {
      if (!resolved.has(provider)) resolved.set(provider, build(provider));
      return resolved.get(provider);
    };
    return {
      get: (provider) => resolve(provider)?.provider,
      has: (provider) => resolve(provider) !== undefined,
      credential: (provider) => resolve(provider)?.credential(),
    };
  }

  /**
   * The credentials a tenant's requests use now, one per provider it can reach except the offline one: the
   * breakers that apply to it (its own credentials', and the platform's shared ones where it uses the platform key).
   */
  credentialsOf(
    tenantId: string,
    credentials: Pick<TenantCredentials, 'openaiApiKey' | 'geminiApiKey' | 'providerApiKeys'>,
    policy: RoutingPolicy,
  ): Array<ProviderCredential & { provider: string }> {
    const providers = this.forTenant(credentials, policy, tenantId);
    const ids = ['openai', 'gemini', ...policy.compatibleProviders.map((compatible) => compatible.id)];
    return [...new Set(ids)].flatMap((provider) => {
      const credential = providers.credential(provider);
      return credential ? [{ provider, ...credential }] : [];
    });
  }

  /** A tenant base URL passes the same checks as at write time (https in production, no internal host). */
  private isUsableTenantUrl(url: string): boolean {
    return checkTenantUrl(url, this.tenantHttp.urlPolicy).ok;
  }

  private client(
    identity: string,
    baseUrl: string | undefined,
    apiKey: string,
    create: () => LanguageModelProvider,
  ): LanguageModelProvider {
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

/** A function that computes its value on the first call and returns it ever after. */
function once<T>(compute: () => T): () => T {
  let computed: { value: T } | undefined;
  return () => {
    computed ??= { value: compute() };
    return computed.value;
  };
}
