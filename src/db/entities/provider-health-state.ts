import { Column, Entity, PrimaryColumn } from 'typeorm';

export type HealthState = 'healthy' | 'unhealthy';

/** The last health verdict of a tenant's provider + model, so an alert fires once per change, not every hour. */
@Entity({ name: 'provider_health_states' })
export class ProviderHealthState {
  @PrimaryColumn({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @PrimaryColumn({ type: 'varchar', length: 64 })
  provider: string;

  @PrimaryColumn({ type: 'varchar', length: 128 })
  model: string;

  @Column({ type: 'varchar', length: 16 })
  state: HealthState;

  @Column({ type: 'jsonb', default: () => "'[]'::jsonb" })
  reasons: string[];

  @Column({ name: 'changed_at', type: 'timestamptz' })
  changedAt: Date;

  @Column({ name: 'checked_at', type: 'timestamptz' })
  checkedAt: Date;
}
