/**
 * The one home of the SQL on `routing_posteriors`: per tenant and (message kind, tier) cell, the feedback credited
 * so far (weighted good and bad outcomes). Crediting is idempotent per answer: the answer's row remembers what it
 * credited (agent_interactions.credited_good/bad), so a changed rating moves its cell by the difference only and a
 * repeated signal moves nothing. Every instance reads the same rows, like the circuit breakers.
 */
import type { EntityManager } from 'typeorm';

/** How much each feedback signal counts, in units of one explicit button click (documented in docs/llm.md). */
export interface RewardWeights {
  /** A helpful / not-helpful click or API rating. */
  rating: number;
  /** No rating, and the tenant reported a completed action (purchase, booking) after the answer. */
  completedAction: number;
  /** No rating, and the customer asked for a person right after the answer. */
  requestedHuman: number;
}

/** The observations of one (kind, tier) cell. */
export interface CellObservations {
  messageKind: string;
  tier: string;
  good: number;
  bad: number;
}

/** What crediting an answer changed. */
export interface CreditResult {
  conversationId: string;
  messageKind: string;
  tier: string;
  goodDelta: number;
  badDelta: number;
  /** The answer's explicit rating now. */
  rating: 'helpful' | 'not_helpful' | null;
  /** The bad outcome credited before this call (0 when a not-helpful click is new). */
  previousBad: number;
}

const CREDIT_SQL = `
WITH outcome AS (
  SELECT interaction.id, interaction.tenant_id, interaction.conversation_id, interaction.message_kind, interaction.routing_tier,
         interaction.credited_good, interaction.credited_bad, feedback.rating,
         CASE WHEN feedback.rating = 'helpful' THEN $2::numeric
              WHEN feedback.rating IS NULL AND feedback.completed_action THEN $3::numeric ELSE 0 END AS good,
         CASE WHEN feedback.rating = 'not_helpful' THEN $2::numeric
              WHEN feedback.rating IS NULL AND feedback.requested_human THEN $4::numeric ELSE 0 END AS bad
  FROM agent_interactions interaction JOIN interaction_feedback feedback ON feedback.agent_interaction_id = interaction.id
  WHERE interaction.id = $1 AND interaction.message_kind IS NOT NULL AND interaction.routing_tier IS NOT NULL
), credited AS (
  UPDATE agent_interactions SET credited_good = outcome.good, credited_bad = outcome.bad
  FROM outcome
  WHERE agent_interactions.id = outcome.id AND (outcome.good <> outcome.credited_good OR outcome.bad <> outcome.credited_bad)
  RETURNING outcome.tenant_id, outcome.conversation_id, outcome.message_kind, outcome.routing_tier, outcome.rating,
            outcome.good - outcome.credited_good AS good_delta, outcome.bad - outcome.credited_bad AS bad_delta,
            outcome.credited_bad AS previous_bad
), cell AS (
  INSERT INTO routing_posteriors (tenant_id, message_kind, tier, good, bad, updated_at)
  SELECT tenant_id, message_kind, routing_tier, good_delta, bad_delta, now() FROM credited
  ON CONFLICT (tenant_id, message_kind, tier) DO UPDATE
    SET good = routing_posteriors.good + EXCLUDED.good, bad = routing_posteriors.bad + EXCLUDED.bad, updated_at = now()
)
SELECT conversation_id, message_kind, routing_tier, rating, good_delta::float8 AS good_delta, bad_delta::float8 AS bad_delta,
       previous_bad::float8 AS previous_bad
FROM credited`;

/** Reads and writes `routing_posteriors`. */
export class RoutingPosteriorRepository {
  constructor(private readonly manager: EntityManager) {}

  /** Every cell of the tenant with observations. */
  async cells(tenantId: string): Promise<CellObservations[]> {
    const rows: Array<{ message_kind: string; tier: string; good: string; bad: string }> = await this.manager.query(
      'SELECT message_kind, tier, good, bad FROM routing_posteriors WHERE tenant_id = $1',
      [tenantId],
    );
    return rows.map((row) => ({ messageKind: row.message_kind, tier: row.tier, good: Number(row.good), bad: Number(row.bad) }));
  }

  /**
   * Credits the answer's current feedback to its cell, by the difference from what it credited before; null when
   * nothing changed (or the answer was not routed by the learning router). The answer's row is locked first, and
   * the crediting statement reads after the lock is granted, so two signals for one answer cannot both credit it.
   */
  credit(interactionId: string, weights: RewardWeights, manager?: EntityManager): Promise<CreditResult | null> {
    const run = async (transaction: EntityManager): Promise<CreditResult | null> => {
      await transaction.query('SELECT 1 FROM agent_interactions WHERE id = $1 FOR UPDATE', [interactionId]);
      const rows: Array<{
        conversation_id: string;
        message_kind: string;
        routing_tier: string;
        rating: 'helpful' | 'not_helpful' | null;
        good_delta: number;
        bad_delta: number;
        previous_bad: number;
      }> = await transaction.query(CREDIT_SQL, [interactionId, weights.rating, weights.completedAction, weights.requestedHuman]);
      const row = rows[0];
      if (!row) return null;
      return {
        conversationId: row.conversation_id,
        messageKind: row.message_kind,
        tier: row.routing_tier,
        goodDelta: row.good_delta,
        badDelta: row.bad_delta,
        rating: row.rating,
        previousBad: row.previous_bad,
      };
    };
    return manager ? run(manager) : this.manager.transaction(run);
  }
}
