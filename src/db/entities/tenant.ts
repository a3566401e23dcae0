import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A business answering its customers through Parley. Secrets live only in encryptedCredentials. */
@Entity({ name: 'tenants' })
export class Tenant {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  /** E.164 number without the whatsapp: prefix, e.g. +14155238886. Unique: it routes inbound webhooks. */
  @Column({ name: 'whatsapp_number', type: 'varchar', length: 32, unique: true })
  whatsappNumber: string;

  /** AES-256-GCM ciphertext of TenantCredentials (see tenants/tenant-credentials.ts and crypto/secrets.ts). */
  @Column({ name: 'encrypted_credentials', type: 'text' })
  encryptedCredentials: string;

  /**
   * Per-tenant behaviour that is not a secret, as stored. Read it through tenants/tenant-settings.ts (the one
   * schema): ResolvedTenant.settings holds the validated values, with invalid sections at their restrictive value.
   */
  @Column({ type: 'jsonb', default: () => "'{}'::jsonb" })
  settings: Record<string, unknown>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
