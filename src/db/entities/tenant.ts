import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** Per-tenant behaviour that is not a secret; later features add keys here, all optional. */
export interface TenantSettings {
  /** Free text the agent's system prompt starts from (the business's voice and rules). */
  systemPrompt?: string;
  /** Days of raw provider usage kept (default USAGE_RETENTION_DAYS); daily summaries are kept. */
  retentionDays?: number;
  /** Where provider-health alerts are POSTed (JSON, signed, retried: docs/webhooks.md), once per state change. */
  alertWebhookUrl?: string;
  /** When replies carry 👍/👎 buttons: always (default), every Nth reply of a conversation, or never. */
  feedbackButtons?: 'always' | 'never' | { everyNth: number };
  /** Content SIDs the tenant made itself, by Parley's template name (feedback, handoff_offer); they win over Parley's. */
  contentSids?: Record<string, string>;
  /** Told to the customer when a person takes over. */
  handoffMessage?: string;
  /** POSTed (JSON, signed, in the background with retries: docs/webhooks.md) when a conversation is handed to a person. */
  handoffWebhookUrl?: string;
  /** When true, a correction must be approved by someone other than its author (POST /v1/bot/corrections/{id}/approve). */
  forbidSelfApproval?: boolean;
  [key: string]: unknown;
}

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

  @Column({ type: 'jsonb', default: () => "'{}'::jsonb" })
  settings: TenantSettings;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
