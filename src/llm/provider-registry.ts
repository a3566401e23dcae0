/**
 * Which adapters a tenant can use: keys from the tenant's encrypted credentials, else from the environment;
 * base URLs from the tenant's settings, else from the environment. SDK clients are reused across requests.
 */
import crypto from 'node:crypto';
import type { Config } from '../config';
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

/** Builds and caches adapters per (provider, base URL, key). */
export class ProviderRegistry {
  private readonly clients = new Map<string, LanguageModelProvider>();
  private readonly offline = new OfflineProvider();

  constructor(
    private readonly environment: Pick<Config, 'openai' | 'gemini'>,
    /** Adapters that replace the built ones by provider id (benchmarks, local experiments). */
    private readonly overrides: Record<string, LanguageModelProvider> = {},
  ) {}

  /** The providers a tenant may use under its policy. */
  forTenant(credentials: Pick<TenantCredentials, 'openaiApiKey' | 'geminiApiKey' | 'providerApiKeys'>, policy: RoutingPolicy): TenantProviders {
    const enabled = policy.enabledProviders ? new Set([...policy.enabledProviders, OFFLINE_PROVIDER_ID]) : undefined;
    const resolved = new Map<string, LanguageModelProvider | undefined>();
    const build = (provider: string): LanguageModelProvider | undefined => {
      if (enabled && !enabled.has(provider)) return undefined;
      if (provider === OFFLINE_PROVIDER_ID) return this.offline;
      if (this.overrides[provider]) return this.overrides[provider];
      if (provider === 'openai') {
        const apiKey = credentials.openaiApiKey ?? this.environment.openai.apiKey;
        const baseUrl = policy.openaiBaseUrl ?? this.environment.openai.baseUrl;
        return apiKey ? this.client(provider, baseUrl, apiKey, () => new OpenAIChatProvider({ apiKey, baseUrl })) : undefined;
      }
      if (provider === 'gemini') {
        const apiKey = credentials.geminiApiKey ?? this.environment.gemini.apiKey;
        const baseUrl = policy.geminiBaseUrl ?? this.environment.gemini.baseUrl;
        return apiKey ? this.client(provider, baseUrl, apiKey, () => new GeminiChatProvider({ apiKey, baseUrl })) : undefined;
      }
      const compatible = policy.compatibleProviders.find((candidate) => candidate.id === provider);
      if (!compatible) return undefined;
      const apiKey = credentials.providerApiKeys?.[provider] ?? (compatible.requiresKey ? undefined : 'not-needed');
      if (!apiKey) return undefined;
      const options = { id: provider, apiKey, baseUrl: compatible.baseUrl, headers: compatible.headers, query: compatible.query };
      return this.client(`${provider}|${JSON.stringify(compatible.headers ?? {})}|${JSON.stringify(compatible.query ?? {})}`, compatible.baseUrl, apiKey, () => new OpenAIChatProvider(options));
    };
    const get = (provider: string) => {
      if (!resolved.has(provider)) resolved.set(provider, build(provider));
      return resolved.get(provider);
    };
    return { get, has: (provider) => get(provider) !== undefined };
  }

  private client(identity: string, baseUrl: string | undefined, apiKey: string, create: () => LanguageModelProvider): LanguageModelProvider {
    // Keys are hashed so the cache's keys never hold a secret in clear.
    const key = `${identity}|${baseUrl ?? ''}|${crypto.createHash('sha256').update(apiKey).digest('hex').slice(0, 32)}`;
    let client = this.clients.get(key);
    if (!client) {
      if (this.clients.size >= CLIENT_CACHE_LIMIT) this.clients.delete(this.clients.keys().next().value as string);
      client = create();
      this.clients.set(key, client);
    }
    return client;
  }
}
