import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** One tenant's use of one provider + model on one UTC day; kept after the raw provider_usage rows are deleted. */
@Entity({ name: 'provider_daily_summaries' })
@Unique('uq_provider_daily_summaries_key', ['tenantId', 'date', 'provider', 'model'])
export class ProviderDailySummary {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  /** UTC calendar day, YYYY-MM-DD. */
  @Column({ type: 'date' })
  date: string;

  @Column({ type: 'varchar', length: 64 })
  provider: string;

  @Column({ type: 'varchar', length: 128 })
  model: string;

  @Column({ name: 'total_calls', type: 'integer' })
  totalCalls: number;

  @Column({ name: 'successful_calls', type: 'integer' })
  successfulCalls: number;

  @Column({ name: 'failed_calls', type: 'integer' })
  failedCalls: number;

  /** bigint columns come back from pg as decimal strings. */
  @Column({ name: 'input_tokens', type: 'bigint' })
  inputTokens: string;

  @Column({ name: 'cached_input_tokens', type: 'bigint' })
  cachedInputTokens: string;

  @Column({ name: 'output_tokens', type: 'bigint' })
  outputTokens: string;

  @Column({ name: 'total_tokens', type: 'bigint' })
  totalTokens: string;

  /** Exact dollars (numeric(24,12)) as a decimal string. */
  @Column({ name: 'total_cost_usd', type: 'numeric', precision: 24, scale: 12 })
  totalCostUsd: string;

  @Column({ name: 'avg_latency_ms', type: 'numeric', precision: 12, scale: 3 })
  avgLatencyMs: string;

  @Column({ name: 'p50_latency_ms', type: 'numeric', precision: 12, scale: 3 })
  p50LatencyMs: string;

  @Column({ name: 'p95_latency_ms', type: 'numeric', precision: 12, scale: 3 })
  p95LatencyMs: string;

  @Column({ name: 'p99_latency_ms', type: 'numeric', precision: 12, scale: 3 })
  p99LatencyMs: string;

  @Column({ name: 'failover_count', type: 'integer' })
  failoverCount: number;

  /** When this row was last computed; a day is final once this is after the day ended. */
  @Column({ name: 'computed_at', type: 'timestamptz' })
  computedAt: Date;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
