/** Provider usage rows with chosen timestamps and figures, for the jobs and usage API tests. */
import crypto from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { ProviderUsage } from '../../src/db/entities/provider-usage';
import { Tenant } from '../../src/db/entities/tenant';

export interface UsageRow {
  /** ISO instant of created_at. */
  at: string;
  provider?: string;
  model?: string;
  latencyMs?: number;
  success?: boolean;
  /** Exact dollars as a decimal string. */
  costUsd?: string;
  inputTokens?: number;
  cachedInputTokens?: number;
  outputTokens?: number;
  wasFailover?: boolean;
}

/** A bare tenant row (the jobs never read credentials). */
export async function insertTenant(manager: EntityManager, settings: Tenant['settings'] = {}): Promise<Tenant> {
  const number = `+1777${String(crypto.randomInt(1_000_000, 9_999_999))}`;
  return manager.save(
    manager.create(Tenant, { name: `Jobs tenant ${number}`, whatsappNumber: number, encryptedCredentials: 'unused', settings }),
  );
}

/** Inserts usage rows for a tenant. */
export async function insertUsage(manager: EntityManager, tenantId: string, rows: UsageRow[]): Promise<void> {
  if (rows.length === 0) return;
  await manager.insert(
    ProviderUsage,
    rows.map((row) => {
      const inputTokens = row.inputTokens ?? 10;
      const outputTokens = row.outputTokens ?? 5;
      return {
        tenantId,
        provider: row.provider ?? 'openai',
        model: row.model ?? 'gpt-4o-mini',
        inputTokens,
        cachedInputTokens: row.cachedInputTokens ?? 0,
        outputTokens,
        totalTokens: inputTokens + outputTokens,
        costUsd: row.costUsd ?? '0.000100000000',
        latencyMs: row.latencyMs ?? 100,
        success: row.success ?? true,
        errorKind: row.success === false ? 'server_error' : null,
        wasFailover: row.wasFailover ?? false,
        attemptNumber: 1,
        createdAt: new Date(row.at),
      };
    }),
  );
}

/** The summaries of a tenant, ordered, as plain comparable objects. */
export async function summariesOf(manager: EntityManager, tenantId: string): Promise<Array<Record<string, unknown>>> {
  return manager.query(
    `SELECT date::text AS date, provider, model, total_calls, successful_calls, failed_calls, input_tokens::text, cached_input_tokens::text,
            output_tokens::text, total_tokens::text, total_cost_usd::text, avg_latency_ms::text, p50_latency_ms::text,
            p95_latency_ms::text, p99_latency_ms::text, failover_count
     FROM provider_daily_summaries WHERE tenant_id = $1 ORDER BY date, provider, model`,
    [tenantId],
  );
}
