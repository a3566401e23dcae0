import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** One model attempt, success or failure: tokens, exact cost, measured latency and why it was made. */
@Entity({ name: 'provider_usage' })
@Index('ix_provider_usage_tenant_created', ['tenantId', 'createdAt'])
// The breaker's health window: one credential's attempts at one model, by time (migration 1764001100001).
@Index('ix_provider_usage_credential_created', ['credentialFingerprint', 'model', 'createdAt'], {
  where: 'credential_fingerprint IS NOT NULL',
})
// BRIN on created_at for the jobs' time-range scans (migration 1764000400001); TypeORM cannot declare BRIN itself.
@Index('ix_provider_usage_created_brin', { synchronize: false })
export class ProviderUsage {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Column({ name: 'conversation_id', type: 'uuid', nullable: true })
  conversationId: string | null;

  /** The AgentInteraction this attempt served; no foreign key, the row is written before the interaction. */
  @Index('ix_provider_usage_interaction')
  @Column({ name: 'agent_interaction_id', type: 'uuid', nullable: true })
  agentInteractionId: string | null;

  @Column({ type: 'varchar', length: 64 })
  provider: string;

  @Column({ type: 'varchar', length: 128 })
  model: string;

  /** The credential the attempt used (llm/provider-credential.ts), never the key; null for the offline model. */
  @Column({ name: 'credential_fingerprint', type: 'varchar', length: 64, nullable: true })
  credentialFingerprint: string | null;

  @Column({ name: 'input_tokens', type: 'integer', default: 0 })
  inputTokens: number;

  @Column({ name: 'cached_input_tokens', type: 'integer', default: 0 })
  cachedInputTokens: number;

  @Column({ name: 'output_tokens', type: 'integer', default: 0 })
  outputTokens: number;

  @Column({ name: 'reasoning_tokens', type: 'integer', default: 0 })
  reasoningTokens: number;

  @Column({ name: 'total_tokens', type: 'integer', default: 0 })
  totalTokens: number;

  /** Dollars as an exact decimal string (numeric(20,12)); never a float. */
  @Column({ name: 'cost_usd', type: 'numeric', precision: 20, scale: 12, default: 0 })
  costUsd: string;

  @Column({ name: 'latency_ms', type: 'integer' })
  latencyMs: number;

  @Column({ type: 'boolean' })
  success: boolean;

  @Column({ name: 'error_kind', type: 'varchar', length: 32, nullable: true })
  errorKind: string | null;

  @Column({ name: 'error_status', type: 'integer', nullable: true })
  errorStatus: number | null;

  @Column({ name: 'error_message', type: 'varchar', length: 500, nullable: true })
  errorMessage: string | null;

  @Column({ name: 'finish_reason', type: 'varchar', length: 32, nullable: true })
  finishReason: string | null;

  @Column({ name: 'was_failover', type: 'boolean', default: false })
  wasFailover: boolean;

  @Column({ name: 'attempt_number', type: 'integer' })
  attemptNumber: number;

  @Column({ name: 'routing_reason', type: 'varchar', length: 300, nullable: true })
  routingReason: string | null;

  @Column({ name: 'complexity_score', type: 'numeric', precision: 4, scale: 3, nullable: true })
  complexityScore: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'::jsonb" })
  metadata: Record<string, unknown>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
