import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** A Twilio Content API resource Parley created for a tenant, reused for every send of the same shape. */
@Entity({ name: 'content_templates' })
@Unique('uq_content_templates_tenant_key_account', ['tenantId', 'templateKey', 'accountSid'])
export class ContentTemplate {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  /** The shape of the resource (kind + hash of its definition), so a changed definition gets a new resource. */
  @Column({ name: 'template_key', type: 'varchar', length: 80 })
  templateKey: string;

  @Column({ name: 'account_sid', type: 'varchar', length: 34 })
  accountSid: string;

  @Column({ name: 'content_sid', type: 'varchar', length: 34 })
  contentSid: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
