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

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
