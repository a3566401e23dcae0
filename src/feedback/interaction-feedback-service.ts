/**
 * Feedback on answers: explicit ratings (a button, the API), the customer's behaviour (continued, asked for a
 * person, completed an action) and the tenant's reported events, all written to the interaction's one
 * interaction_feedback row through its repository.
 */
import type { EntityManager } from 'typeorm';
import type { AgentInteractionRepository } from '../db/repositories/agent-interaction-repository';
import type { FeedbackRow, InteractionFeedbackRepository } from '../db/repositories/interaction-feedback-repository';
import type { FeedbackRating, FeedbackSource } from '../db/entities/interaction-feedback';
import type { RoutingFeedback } from './routing-feedback';

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

/** Records explicit feedback and implicit signals on interactions. */
export class InteractionFeedbackService {
  constructor(
    private readonly rows: InteractionFeedbackRepository,
    private readonly interactions: AgentInteractionRepository,
    /** Credits ratings and implicit signals to the routing posteriors (absent: routing does not learn). */
    private readonly routing?: RoutingFeedback,
  ) {}

  /** Sets (or changes) the customer's rating; null when the tenant has no such interaction. */
  async recordRating(input: RatingInput, manager?: EntityManager): Promise<FeedbackRow | null> {
    const row = await this.rows.upsert(
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
      manager,
    );
    return this.credited(row, manager);
  }

  /** The customer asked for a person after this answer. */
  async recordHumanRequest(tenantId: string, interactionId: string, manager?: EntityManager): Promise<FeedbackRow | null> {
    const row = await this.rows.upsert(
      tenantId,
      interactionId,
      { requested_human: { value: true }, source: { value: 'implicit' } },
      'requested_human = true',
      manager,
    );
    return this.credited(row, manager);
  }

  /** The tenant's backend reports a purchase, booking or other completed action after this answer. */
  async recordEvent(
    tenantId: string,
    interactionId: string,
    event: InteractionEvent,
    at: Date,
    manager?: EntityManager,
  ): Promise<FeedbackRow | null> {
    const row = await this.rows.upsert(
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
      manager,
    );
    return this.credited(row, manager);
  }

  /** The conversation's latest answer before `inbound`, if any. */
  async findPreviousInteractionId(inbound: InboundRef, manager?: EntityManager): Promise<string | null> {
    return (await this.interactions.findPreviousAnswer(inbound, manager))?.id ?? null;
  }

  /** Passes a written feedback row on to routing (continuations are not a routing signal, see feedback-rewards.ts). */
  private async credited(row: FeedbackRow | null, manager?: EntityManager): Promise<FeedbackRow | null> {
    if (row && this.routing) await this.routing.credit(row.tenant_id, row.agent_interaction_id, manager);
    return row;
  }

  /** The row of an interaction of the tenant, if any. */
  find(tenantId: string, interactionId: string): Promise<FeedbackRow | null> {
    return this.rows.findByInteraction(tenantId, interactionId);
  }
}
