/** Tenants: creation, lookup by WhatsApp number (the webhook's hot path, cached briefly) and their credentials. */
import type { EntityManager } from 'typeorm';
import { Tenant } from '../db/entities/tenant';
import { badRequest, conflict, validationFailed } from '../http/errors';
import type { TenantUrlPolicy } from '../net/tenant-url';
import { openCredentials, sealCredentials, type TenantCredentials } from './tenant-credentials';
import { effectiveTenantSettings, type SettingsProblem, tenantSettingsSchema, type TenantSettingsInput } from './tenant-settings';
import type { ResolvedTenant } from './resolved-tenant';
import { TenantLookups, type TenantLookupsOptions } from './tenant-lookups';
import { toE164 } from './whatsapp-number';

// Its own module, so the lookups cache can hold it without importing this service.
export type { ResolvedTenant } from './resolved-tenant';

export interface CreateTenantInput {
  name: string;
  whatsappNumber: string;
  credentials: TenantCredentials;
  settings?: TenantSettingsInput;
}

export interface TenantServiceOptions {
  /** Which tenant URLs are acceptable (https in production; the operator's allowlist). */
  urlPolicy?: TenantUrlPolicy;
  /** How long a lookup is reused; short, so settings changes show up quickly. */
  cacheMilliseconds?: number;
  /** Bounds of the lookup caches (tenant-lookups.ts defaults). */
  lookups?: TenantLookupsOptions;
}

/** Finds and creates tenants; decrypted credentials never leave memory. */
export class TenantService {
  /** Recent lookups, bounded in entries and age; numbers no tenant owns are kept apart (tenant-lookups.ts). */
  readonly lookups: TenantLookups;

  readonly urlPolicy: TenantUrlPolicy;
  private readonly cacheMilliseconds: number;

  constructor(
    private readonly manager: EntityManager,
    private readonly encryptionKey: Buffer,
    options: TenantServiceOptions = {},
  ) {
    this.urlPolicy = options.urlPolicy ?? { requireHttps: false };
    this.cacheMilliseconds = options.cacheMilliseconds ?? 5_000;
    this.lookups = new TenantLookups(options.lookups);
  }

  /** A stored tenant with its opened credentials and validated settings. */
  resolve(tenant: Tenant): ResolvedTenant {
    const { settings, problems } = effectiveTenantSettings(tenant.settings, this.urlPolicy);
    return { tenant, credentials: openCredentials(this.encryptionKey, tenant.encryptedCredentials), settings, settingsProblems: problems };
  }

  /** Creates a tenant; 409 when the WhatsApp number is taken. */
  async create(input: CreateTenantInput, manager: EntityManager = this.manager): Promise<Tenant> {
    const whatsappNumber = toE164(input.whatsappNumber);
    if (!whatsappNumber) throw badRequest(`Not an E.164 phone number: ${input.whatsappNumber}`);
    const checked = tenantSettingsSchema(this.urlPolicy).safeParse(input.settings ?? {});
    if (!checked.success) throw validationFailed(checked.error, 'settings');
    const existing = await manager.findOneBy(Tenant, { whatsappNumber });
    if (existing) throw conflict(`A tenant already uses ${whatsappNumber}`);
    const tenant = manager.create(Tenant, {
      name: input.name,
      whatsappNumber,
      encryptedCredentials: sealCredentials(this.encryptionKey, input.credentials),
      settings: checked.data,
    });
    const saved = await manager.save(tenant);
    this.lookups.forgetNumber(whatsappNumber);
    return saved;
  }

  /** The tenant owning a WhatsApp number (as Twilio sends it in To), with its credentials; null when unknown. */
  async findByWhatsAppAddress(address: string): Promise<ResolvedTenant | null> {
    const number = toE164(address);
    if (!number) return null;
    const cached = this.lookups.byNumber(number);
    if (cached !== undefined) return cached;
    const tenant = await this.manager.findOneBy(Tenant, { whatsappNumber: number });
    const value = tenant ? this.resolve(tenant) : null;
    this.lookups.rememberNumber(number, value, this.cacheMilliseconds);
    return value;
  }

  /** A tenant by id with its credentials (cached briefly, like lookups by number); null when unknown. */
  async findById(id: string, manager: EntityManager = this.manager): Promise<ResolvedTenant | null> {
    const cached = manager === this.manager ? this.lookups.byId(id) : undefined;
    if (cached) return cached;
    const tenant = await manager.findOneBy(Tenant, { id });
    if (!tenant) return null;
    const value = this.resolve(tenant);
    if (manager === this.manager) this.lookups.rememberId(id, value, this.cacheMilliseconds);
    return value;
  }

  /** Forgets cached lookups (after a tenant's settings or credentials change in this process). */
  invalidate(): void {
    this.lookups.clear();
  }

  /** Replaces a tenant's credentials (re-encrypted). */
  async updateCredentials(id: string, credentials: TenantCredentials): Promise<void> {
    await this.manager.update(Tenant, { id }, { encryptedCredentials: sealCredentials(this.encryptionKey, credentials) });
    this.invalidate();
  }

  /** Every tenant whose stored settings are invalid, with the problems (start-up check, metrics). */
  async tenantsWithInvalidSettings(): Promise<Array<{ tenantId: string; name: string; problems: SettingsProblem[] }>> {
    const rows: Array<{ id: string; name: string; settings: unknown }> = await this.manager.query(
      'SELECT id, name, settings FROM tenants ORDER BY created_at',
    );
    return rows
      .map((row) => ({ tenantId: row.id, name: row.name, problems: effectiveTenantSettings(row.settings, this.urlPolicy).problems }))
      .filter((row) => row.problems.length > 0);
  }

  /** How many tenants exist. */
  count(): Promise<number> {
    return this.manager.count(Tenant);
  }
}
