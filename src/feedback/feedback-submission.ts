/**
 * The public feedback submission: a customer-facing client (a web widget, a landing page) rates an answer with the
 * token that came with it. The token is checked against the interaction's own tenant, so a valid token for one
 * interaction cannot rate another, and nobody can rate an interaction they never saw.
 */
import type { FeedbackRating } from '../db/entities/interaction-feedback';
import type { AgentInteractionRepository } from '../db/repositories/agent-interaction-repository';
import { forbidden, notFound } from '../http/errors';
import { verifyFeedbackToken } from './feedback-token';
import type { InteractionFeedbackService } from './interaction-feedback-service';

export interface FeedbackSubmission {
  interactionId: string;
  feedbackToken: string;
  rating: FeedbackRating;
  feedbackText?: string;
}

export interface SubmissionResult {
  interactionId: string;
  rating: FeedbackRating;
  feedbackText: string | null;
  /** True when the interaction had no rating before (201); false when an earlier rating was replaced (200). */
  created: boolean;
}

/** Verifies the token and records the rating with source 'api'. 404 for an unknown interaction, 403 for a bad token. */
export async function submitFeedback(
  interactions: AgentInteractionRepository,
  feedback: InteractionFeedbackService,
  tokenKey: Buffer,
  submission: FeedbackSubmission,
): Promise<SubmissionResult> {
  const tenantId = await interactions.tenantOf(submission.interactionId);
  if (!tenantId) throw notFound('Interaction');
  if (verifyFeedbackToken(tokenKey, tenantId, submission.feedbackToken) !== submission.interactionId.toLowerCase()) {
    throw forbidden('The feedback token does not match this interaction', 'invalid_feedback_token');
  }
  const previous = await feedback.find(tenantId, submission.interactionId);
  const row = await feedback.recordRating({
    tenantId,
    interactionId: submission.interactionId,
    rating: submission.rating,
    source: 'api',
    feedbackText: submission.feedbackText || null,
  });
  if (!row) throw notFound('Interaction');
  return {
    interactionId: row.agent_interaction_id,
    rating: submission.rating,
    feedbackText: row.feedback_text,
    created: !previous?.rating,
  };
}
