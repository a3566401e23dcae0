/** Tenants: creation, lookup by WhatsApp number (the webhook's hot path, cached briefly) and their credentials. */
import type { EntityManager } from 'typeorm';
import { Tenant, type TenantSettings } from '../db/entities/tenant';
import { conflict, badRequest } from '../http/errors';
import { openCredentials, sealCredentials, type TenantCredentials } from './tenant-credentials';
import { TenantLookups } from './tenant-lookups';
import { toE164 } from './whatsapp-number';

export interface ResolvedTenant {
  tenant: Tenant;
  credentials: TenantCredentials;
}

export interface CreateTenantInput {
  name: string;
  whatsappNumber: string;
  credentials: TenantCredentials;
  settings?: TenantSettings;
}

/** Finds and creates tenants; decrypted credentials never leave memory. */
export class TenantService {
  /** Recent lookups, bounded in entries and age; numbers no tenant owns are kept apart (tenant-lookups.ts). */
  readonly lookups = new TenantLookups();

  constructor(
    private readonly manager: EntityManager,
    private readonly encryptionKey: Buffer,
    /** How long a number -> tenant lookup is reused; short, so settings changes show up quickly. */
    private readonly cacheMilliseconds = 5_000,
  ) {}

  /** Creates a tenant; 409 when the WhatsApp number is taken. */
  async create(input: CreateTenantInput, manager: EntityManager = this.manager): Promise<Tenant> {
    const whatsappNumber = toE164(input.whatsappNumber);
    if (!whatsappNumber) throw badRequest(`Not an E.164 phone number: ${input.whatsappNumber}`);
    const existing = await manager.findOneBy(Tenant, { whatsappNumber });
    if (existing) throw conflict(`A tenant already uses ${whatsappNumber}`);
    const tenant = manager.create(Tenant, {
      name: input.name,
      whatsappNumber,
      encryptedCredentials: sealCredentials(this.encryptionKey, input.credentials),
      settings: input.settings ?? {},
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
    const value = tenant ? { tenant, credentials: openCredentials(this.encryptionKey, tenant.encryptedCredentials) } : null;
    this.lookups.rememberNumber(number, value, this.cacheMilliseconds);
    return value;
  }

  /** A tenant by id with its credentials (cached briefly, like lookups by number); null when unknown. */
  async findById(id: string, manager: EntityManager = this.manager): Promise<ResolvedTenant | null> {
    const cached = manager === this.manager ? this.lookups.byId(id) : undefined;
    if (cached) return cached;
    const tenant = await manager.findOneBy(Tenant, { id });
    if (!tenant) return null;
    const value = { tenant, credentials: openCredentials(this.encryptionKey, tenant.encryptedCredentials) };
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

  /** How many tenants exist. */
  count(): Promise<number> {
    return this.manager.count(Tenant);
  }
}
