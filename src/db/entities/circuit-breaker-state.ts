import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export type BreakerState = 'closed' | 'open' | 'half_open';

/**
 * The circuit breaker of one provider + model reached with one credential, shared by every instance through the
 * database: the platform key's breaker is shared by every tenant on it, a tenant's own key has its own.
 */
@Entity({ name: 'llm_circuit_breakers' })
@Index('ix_llm_circuit_breakers_tenant', ['tenantId'], { where: 'tenant_id IS NOT NULL' })
export class CircuitBreakerState {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  provider: string;

  @PrimaryColumn({ type: 'varchar', length: 128 })
  model: string;

  /** The fingerprint of the credential (llm/provider-credential.ts): a hash, never the key. */
  @PrimaryColumn({ name: 'credential_fingerprint', type: 'varchar', length: 64 })
  credentialFingerprint: string;

  /** Whose credential: the tenant's own (deleted with it), or null for the platform's shared one. */
  @Column({ name: 'tenant_id', type: 'uuid', nullable: true })
  tenantId: string | null;

  @Column({ type: 'varchar', length: 10, default: 'closed' })
  state: BreakerState;

  @Column({ name: 'consecutive_failures', type: 'integer', default: 0 })
  consecutiveFailures: number;

  @Column({ name: 'opened_at', type: 'timestamptz', nullable: true })
  openedAt: Date | null;

  /** Start of the current health window: failures before the last close do not count again. */
  @Column({ name: 'closed_at', type: 'timestamptz' })
  closedAt: Date;

  /** When an instance claimed the single half-open probe; a stale claim may be taken over. */
  @Column({ name: 'probe_claimed_at', type: 'timestamptz', nullable: true })
  probeClaimedAt: Date | null;

  @Column({ name: 'probe_owner', type: 'varchar', length: 64, nullable: true })
  probeOwner: string | null;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
