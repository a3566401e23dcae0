/**
 * Which circuit breakers apply to a tenant: those of the credentials its requests resolve to now. That is its own
 * credentials' breakers, and the platform's shared ones for the providers it reaches with the platform key; never
 * another tenant's. The providers-health endpoint (and the dashboard through it) shows a tenant exactly these.
 */
import type { TenantCredentials } from '../tenants/tenant-credentials';
import type { ProviderCredential } from './provider-credential';
import type { ProviderRegistry } from './provider-registry';
import { resolveRoutingPolicy } from './routing-policy';

/** The lookup a tenant's credentials and validated settings come from (tenants/tenant-service.ts). */
export interface TenantLookup {
  findById(id: string): Promise<{ settings: Record<string, unknown>; credentials: TenantCredentials } | null>;
}

/** A provider and the credential the tenant reaches it with. */
export type TenantProviderCredential = ProviderCredential & { provider: string };

/** Resolves, per tenant, the credentials whose breakers apply to it. */
export class TenantBreakers {
  constructor(
    private readonly tenants: TenantLookup,
    private readonly registry: ProviderRegistry,
  ) {}

  /** The tenant's credential per provider; none for an unknown tenant, or one whose routing policy is invalid (it answers offline). */
  async credentialsOf(tenantId: string): Promise<TenantProviderCredential[]> {
    const found = await this.tenants.findById(tenantId);
    if (!found) return [];
    let policy: ReturnType<typeof resolveRoutingPolicy>;
    try {
      // The validated settings: an invalid llm section is already offline-only there, like the replies' routing.
      policy = resolveRoutingPolicy(found.settings);
    } catch {
      return [];
    }
    return this.registry.credentialsOf(tenantId, found.credentials, policy);
  }
}
