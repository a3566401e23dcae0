/**
 * How the customer's feedback on an answer counts for routing, in units of one explicit click. A helpful click (or
 * API rating) is one good outcome and a not-helpful one one bad outcome. Implicit signals count half, and only when
 * the customer gave no rating: asking for a person right after the answer is half a bad outcome; a purchase or
 * booking the tenant reports after it is half a good one. Merely writing again says nothing either way (the
 * customer may be following up or rephrasing), so it is not counted.
 */
import type { RewardWeights } from '../../db/repositories/routing-posterior-repository';

export const DEFAULT_REWARD_WEIGHTS: RewardWeights = { rating: 1, completedAction: 0.5, requestedHuman: 0.5 };

/** How many tiers up a conversation's next turns may go after not-helpful answers. */
export const MAX_ROUTING_ESCALATION = 2;

/** How long after the last not-helpful answer its escalation applies. */
export const ROUTING_ESCALATION_MS = 24 * 60 * 60 * 1000;

/** The escalation in force for a conversation at `now`. */
export function escalationInForce(conversation: { routingEscalation: number; routingEscalatedAt: Date | null }, now: Date): number {
  if (!conversation.routingEscalatedAt || now.getTime() - conversation.routingEscalatedAt.getTime() > ROUTING_ESCALATION_MS) return 0;
  return Math.min(MAX_ROUTING_ESCALATION, conversation.routingEscalation);
}
