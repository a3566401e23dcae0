/** Writes one ProviderUsage row per model attempt and answers the spend questions routing asks. */
import type { EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { ProviderUsage } from '../db/entities/provider-usage';
import type { UsageAttempt, UsageRecorder } from '../llm/usage-recording';

/** Records attempts; callers may pass the manager of their transaction. */
export class ProviderUsageRecorder implements UsageRecorder {
  constructor(private readonly manager: EntityManager) {}

  /** Inserts the row for one attempt. */
  async record(attempt: UsageAttempt, manager: EntityManager = this.manager): Promise<void> {
    await manager.insert(ProviderUsage, {
      tenantId: attempt.tenantId,
      conversationId: attempt.conversationId,
      agentInteractionId: attempt.interactionId,
      provider: attempt.provider,
      model: attempt.model,
      credentialFingerprint: attempt.credentialFingerprint ?? null,
      inputTokens: attempt.usage.inputTokens,
      cachedInputTokens: attempt.usage.cachedInputTokens,
      outputTokens: attempt.usage.outputTokens,
      reasoningTokens: attempt.usage.reasoningTokens,
      totalTokens: attempt.usage.totalTokens,
      costUsd: attempt.costUsd,
      latencyMs: attempt.latencyMs,
      success: attempt.success,
      errorKind: attempt.errorKind ?? null,
      errorStatus: attempt.errorStatus ?? null,
      // Messages are ours (provider/model: HTTP status kind), never upstream bodies, and capped to the column.
      errorMessage: attempt.errorMessage?.slice(0, 500) ?? null,
      finishReason: attempt.finishReason ?? null,
      wasFailover: attempt.wasFailover,
      attemptNumber: attempt.attemptNumber,
      routingReason: attempt.routingReason?.slice(0, 300) ?? null,
      complexityScore: attempt.complexityScore === undefined ? null : attempt.complexityScore.toFixed(3),
      metadata: (attempt.metadata ?? {}) as QueryDeepPartialEntity<Record<string, unknown>>,
    });
  }

  /** The tenant's spend since the start of the current UTC month, as a decimal string. */
  async monthToDateSpend(tenantId: string, manager: EntityManager = this.manager): Promise<string> {
    const rows: Array<{ spend: string }> = await manager.query(
      `SELECT COALESCE(SUM(cost_usd), 0)::text AS spend FROM provider_usage
       WHERE tenant_id = $1 AND created_at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`,
      [tenantId],
    );
    return rows[0]?.spend ?? '0';
  }
}
