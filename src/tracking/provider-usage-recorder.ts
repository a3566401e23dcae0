/** Writes one ProviderUsage row per model attempt and answers the spend questions routing asks. */
import type { EntityManager } from 'typeorm';
import { preparedStatement, queryPrepared } from '../db/direct-query';
import type { UsageAttempt, UsageRecorder } from '../llm/usage-recording';

/** One attempt's row: one on every model call, so a prepared statement, not TypeORM's insert builder. */
const INSERT_USAGE = preparedStatement(
  'parley_insert_provider_usage',
  `INSERT INTO provider_usage (tenant_id, conversation_id, agent_interaction_id, provider, model, credential_fingerprint,
                              input_tokens, cached_input_tokens, output_tokens, reasoning_tokens, total_tokens, cost_usd,
                              latency_ms, success, error_kind, error_status, error_message, finish_reason, was_failover,
                              attempt_number, routing_reason, complexity_score, metadata)
   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23::jsonb)`,
);

/** Records attempts; callers may pass the manager of their transaction. */
export class ProviderUsageRecorder implements UsageRecorder {
  constructor(private readonly manager: EntityManager) {}

  /** Inserts the row for one attempt. */
  async record(attempt: UsageAttempt, manager: EntityManager = this.manager): Promise<void> {
    await queryPrepared(manager, INSERT_USAGE, [
      attempt.tenantId,
      attempt.conversationId,
      attempt.interactionId,
      attempt.provider,
      attempt.model,
      attempt.credentialFingerprint ?? null,
      attempt.usage.inputTokens,
      attempt.usage.cachedInputTokens,
      attempt.usage.outputTokens,
      attempt.usage.reasoningTokens,
      attempt.usage.totalTokens,
      attempt.costUsd,
      attempt.latencyMs,
      attempt.success,
      attempt.errorKind ?? null,
      attempt.errorStatus ?? null,
      // Messages are ours (provider/model: HTTP status kind), never upstream bodies, and capped to the column.
      attempt.errorMessage?.slice(0, 500) ?? null,
      attempt.finishReason ?? null,
      attempt.wasFailover,
      attempt.attemptNumber,
      attempt.routingReason?.slice(0, 300) ?? null,
      attempt.complexityScore === undefined ? null : attempt.complexityScore.toFixed(3),
      JSON.stringify(attempt.metadata ?? {}),
    ]);
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
