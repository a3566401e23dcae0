/** Writes one ProviderUsage row per model attempt and answers the spend questions routing asks. */
import type { EntityManager } from 'typeorm';
import { preparedStatement, queryPrepared } from '../db/direct-query';
import { WriteBatcher } from '../db/write-batcher';
import type { UsageAttempt, UsageRecorder } from '../llm/usage-recording';

/** The columns of an attempt's row, in the order of the statements' parameters. */
const COLUMNS = `tenant_id, conversation_id, agent_interaction_id, provider, model, credential_fingerprint, input_tokens,
  cached_input_tokens, output_tokens, reasoning_tokens, total_tokens, cost_usd, latency_ms, success, error_kind, error_status,
  error_message, finish_reason, was_failover, attempt_number, routing_reason, complexity_score, metadata`;

/**
 * The rows of the attempts recorded in one turn of the event loop (db/write-batcher.ts): one on every model call,
 * so one statement for many calls, each parameter an array of one column's values.
 */
const INSERT_USAGE = preparedStatement(
  'parley_insert_provider_usage',
  `INSERT INTO provider_usage (${COLUMNS})
   SELECT ${COLUMNS}
     FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::int[], $8::int[], $9::int[],
                 $10::int[], $11::int[], $12::numeric[], $13::int[], $14::boolean[], $15::text[], $16::int[], $17::text[],
                 $18::text[], $19::boolean[], $20::int[], $21::text[], $22::numeric[], $23::jsonb[]) AS attempt(${COLUMNS})`,
);

/** An attempt's column values, in COLUMNS' order. */
function rowOf(attempt: UsageAttempt): unknown[] {
  return [
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
  ];
}

/** Records attempts. */
export class ProviderUsageRecorder implements UsageRecorder {
  private readonly rows = new WriteBatcher<unknown[]>(async (rows) => {
    const columns = rows[0].map((_value, column) => rows.map((row) => row[column]));
    await queryPrepared(this.manager, INSERT_USAGE, columns);
  });

  constructor(private readonly manager: EntityManager) {}

  /**
   * Inserts the row for one attempt, with the other attempts recorded at the same moment; committed when this
   * resolves (the breakers' health window reads it).
   */
  record(attempt: UsageAttempt): Promise<void> {
    return this.rows.write(rowOf(attempt));
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
