import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';

/** Someone writing to a tenant on WhatsApp, identified by their WhatsApp address. */
@Entity({ name: 'customers' })
@Unique('uq_customers_tenant_address', ['tenantId', 'whatsappAddress'])
export class Customer {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  /** As Twilio sends it in From: whatsapp:+E164. */
  @Column({ name: 'whatsapp_address', type: 'varchar', length: 64 })
  whatsappAddress: string;

  @Column({ name: 'wa_id', type: 'varchar', length: 32, nullable: true })
  waId: string | null;

  @Column({ name: 'profile_name', type: 'varchar', length: 200, nullable: true })
  profileName: string | null;

  /** When the customer opted out of messages (STOP, or Twilio's 21610); null while messages may be sent. */
  @Column({ name: 'opted_out_at', type: 'timestamptz', nullable: true })
  optedOutAt: Date | null;

  /** The latest consent change (opt-out or opt-in) and where it came from (keyword, start_keyword, twilio_21610). */
  @Column({ name: 'consent_changed_at', type: 'timestamptz', nullable: true })
  consentChangedAt: Date | null;

  @Column({ name: 'consent_source', type: 'varchar', length: 32, nullable: true })
  consentSource: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
