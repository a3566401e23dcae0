/**
 * Closes the loop from the customer's feedback to routing: every explicit or implicit signal on an answer credits
 * the answer's (message kind, tier) cell of the tenant's posteriors, and a new not-helpful click sends the
 * conversation's next turns one tier up. See llm/routing/tier-policy.ts for how the posteriors are used.
 */
import type { EntityManager } from 'typeorm';
import type { ConversationRepository } from '../db/repositories/conversation-repository';
import type { RoutingPosteriorRepository } from '../db/repositories/routing-posterior-repository';
import { DEFAULT_REWARD_WEIGHTS, MAX_ROUTING_ESCALATION, ROUTING_ESCALATION_MS } from '../llm/routing/feedback-rewards';
import type { RoutingPosteriors } from '../llm/routing/routing-posteriors';

/** Credits feedback to the routing posteriors. */
export class RoutingFeedback {
  constructor(
    private readonly posteriorRows: RoutingPosteriorRepository,
    private readonly conversations: ConversationRepository,
    /** This process's snapshot of the posteriors, refreshed at once for the tenant whose cell changed. */
    private readonly posteriors?: RoutingPosteriors,
  ) {}

  /** Credits the answer's current feedback (idempotent); escalates its conversation on a new not-helpful rating. */
  async credit(tenantId: string, interactionId: string, manager?: EntityManager): Promise<void> {
    const result = await this.posteriorRows.credit(interactionId, DEFAULT_REWARD_WEIGHTS, manager);
    if (!result) return;
    if (result.rating === 'not_helpful' && result.previousBad < DEFAULT_REWARD_WEIGHTS.rating) {
      await this.conversations.escalateRouting(result.conversationId, MAX_ROUTING_ESCALATION, ROUTING_ESCALATION_MS, manager);
    }
    this.posteriors?.invalidate(tenantId);
  }
}
