/**
 * InteractionFeedback rows: one per agent interaction, created by whichever signal comes first (a button, the API,
 * or the customer's behaviour) and updated in place by the rest. Every write is one upsert statement, so
 * concurrent signals cannot create a second row; the satisfaction score is recomputed by the database.
 */
import type { EntityManager } from 'typeorm';
import type { FeedbackRating, FeedbackSource } from '../db/entities/interaction-feedback';
import { continuationSignal } from './satisfaction';

export interface FeedbackRow {
  id: string;
  tenant_id: string;
  agent_interaction_id: string;
  conversation_id: string;
  customer_id: string;
  rating: FeedbackRating | null;
  feedback_text: string | null;
  user_continued: boolean;
  completed_action: boolean;
  requested_human: boolean;
  response_time_seconds: number | null;
  source: FeedbackSource;
  metadata: Record<string, unknown>;
  implicit_satisfaction: string;
  created_at: Date;
  updated_at: Date;
}

export interface RatingInput {
  tenantId: string;
  interactionId: string;
  rating: FeedbackRating | null;
  source: Exclude<FeedbackSource, 'implicit'>;
  feedbackText?: string | null;
  metadata?: Record<string, unknown>;
}

/** The inbound message a signal comes from. */
export interface InboundRef {
  tenantId: string;
  conversationId: string;
  seq: string;
  createdAt: Date;
}

export const INTERACTION_EVENT_TYPES = ['purchase', 'booking', 'other'] as const;
export type InteractionEventType = (typeof INTERACTION_EVENT_TYPES)[number];

export interface InteractionEvent {
  /** The reporter's id for the event (an order number): a retried report with the same id is recorded once. */
  id?: string;
  type: InteractionEventType;
  /** A decimal amount as a string, so money is never a float. */
  value?: string;
  currency?: string;
}

/**
 * Inserts the row for an interaction of the tenant, or applies `onConflict` to the existing one. Parameters $1..$2
 * are the tenant and interaction; the caller's columns follow. Null when the tenant has no such interaction.
 */
async function upsert(
  manager: EntityManager,
  tenantId: string,
  interactionId: string,
  columns: Record<string, { value: unknown; cast?: string }>,
  onConflict: string,
): Promise<FeedbackRow | null> {
  const names = Object.keys(columns);
  const placeholders = names.map((name, index) => `$${index + 3}${columns[name].cast ?? ''}`);
  const rows: FeedbackRow[] = await manager.query(
    `INSERT INTO interaction_feedback (tenant_id, agent_interaction_id, conversation_id, customer_id, ${names.join(', ')})
     SELECT interaction.tenant_id, interaction.id, interaction.conversation_id, conversation.customer_id, ${placeholders.join(', ')}
     FROM agent_interactions interaction JOIN conversations conversation ON conversation.id = interaction.conversation_id
     WHERE interaction.id = $2 AND interaction.tenant_id = $1
     ON CONFLICT (agent_interaction_id) DO UPDATE SET ${onConflict}, updated_at = now()
     RETURNING *`,
    [tenantId, interactionId, ...names.map((name) => columns[name].value)],
  );
  return rows[0] ?? null;
}

/** Records explicit feedback and implicit signals on interactions. */
export class InteractionFeedbackService {
  constructor(private readonly manager: EntityManager) {}

  /** Sets (or changes) the customer's rating; null when the tenant has no such interaction. */
  recordRating(input: RatingInput, manager: EntityManager = this.manager): Promise<FeedbackRow | null> {
    return upsert(
      manager,
      input.tenantId,
      input.interactionId,
      {
        rating: { value: input.rating },
        feedback_text: { value: input.feedbackText ?? null },
        source: { value: input.source },
        metadata: { value: JSON.stringify(input.metadata ?? {}), cast: '::jsonb' },
      },
      `rating = EXCLUDED.rating, feedback_text = COALESCE(EXCLUDED.feedback_text, interaction_feedback.feedback_text),
       source = EXCLUDED.source, metadata = interaction_feedback.metadata || EXCLUDED.metadata`,
    );
  }

  /** The customer asked for a person after this answer. */
  recordHumanRequest(tenantId: string, interactionId: string, manager: EntityManager = this.manager): Promise<FeedbackRow | null> {
    return upsert(manager, tenantId, interactionId, { requested_human: { value: true }, source: { value: 'implicit' } }, 'requested_human = true');
  }

  /** The tenant's backend reports a purchase, booking or other completed action after this answer. */
  recordEvent(tenantId: string, interactionId: string, event: InteractionEvent, at: Date, manager: EntityManager = this.manager): Promise<FeedbackRow | null> {
    return upsert(
      manager,
      tenantId,
      interactionId,
      {
        completed_action: { value: true },
        source: { value: 'implicit' },
        metadata: { value: JSON.stringify({ events: [{ ...event, at: at.toISOString() }] }), cast: '::jsonb' },
      },
      // An event whose id is already recorded (a retried POST) is not appended again.
      `completed_action = true,
       metadata = CASE
         WHEN EXCLUDED.metadata->'events'->0 ? 'id'
          AND COALESCE(interaction_feedback.metadata->'events', '[]'::jsonb) @> jsonb_build_array(jsonb_build_object('id', EXCLUDED.metadata->'events'->0->'id'))
         THEN interaction_feedback.metadata
         ELSE jsonb_set(interaction_feedback.metadata, '{events}',
           COALESCE(interaction_feedback.metadata->'events', '[]'::jsonb) || (EXCLUDED.metadata->'events'))
       END`,
    );
  }

  /**
   * A customer message that is not a button click: marks the conversation's previous answer as continued (when
   * it came within 30 minutes of the reply) with the response time. The first message after an answer decides.
   */
  async recordContinuation(inbound: InboundRef, manager: EntityManager = this.manager): Promise<FeedbackRow | null> {
    const previous = await this.findPrevious(inbound, manager);
    if (!previous?.reply_sent_at) return null;
    const signal = continuationSignal(new Date(previous.reply_sent_at), inbound.createdAt);
    if (!signal) return null;
    return upsert(
      manager,
      inbound.tenantId,
      previous.id,
      { user_continued: { value: true }, response_time_seconds: { value: signal.responseTimeSeconds }, source: { value: 'implicit' } },
      // Only the first message after the answer counts; later ones leave the recorded timing alone.
      `user_continued = true, response_time_seconds = COALESCE(interaction_feedback.response_time_seconds, EXCLUDED.response_time_seconds)`,
    );
  }

  /** The conversation's latest answer before `inbound`, if any. */
  async findPreviousInteractionId(inbound: InboundRef, manager: EntityManager = this.manager): Promise<string | null> {
    return (await this.findPrevious(inbound, manager))?.id ?? null;
  }

  private async findPrevious(inbound: InboundRef, manager: EntityManager): Promise<{ id: string; reply_sent_at: Date | null } | null> {
    const rows: Array<{ id: string; reply_sent_at: Date | null }> = await manager.query(
      `SELECT interaction.id,
              (SELECT max(COALESCE(reply.processed_at, reply.created_at)) FROM messages reply
               WHERE reply.reply_to_message_id = interaction.inbound_message_id AND reply.author = 'bot') AS reply_sent_at
       FROM agent_interactions interaction JOIN messages answered ON answered.id = interaction.inbound_message_id
       WHERE interaction.conversation_id = $1 AND interaction.tenant_id = $2 AND answered.seq < $3
       ORDER BY answered.seq DESC LIMIT 1`,
      [inbound.conversationId, inbound.tenantId, inbound.seq],
    );
    return rows[0] ?? null;
  }

  /** The row of an interaction of the tenant, if any. */
  async find(tenantId: string, interactionId: string): Promise<FeedbackRow | null> {
    const rows: FeedbackRow[] = await this.manager.query(
      'SELECT * FROM interaction_feedback WHERE tenant_id = $1 AND agent_interaction_id = $2',
      [tenantId, interactionId],
    );
    return rows[0] ?? null;
  }
}
