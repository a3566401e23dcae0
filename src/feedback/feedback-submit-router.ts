/**
 * POST /v1/bot/feedback/submit: public, no API key; the feedback token proves the caller saw the answer.
 * Rate-limited per client IP (before any database work) and per interaction, with in-memory token buckets.
 */
import express, { Router } from 'express';
import type { AgentInteractionRepository } from '../db/repositories/agent-interaction-repository';
import { tooManyRequests } from '../http/errors';
import { registerRoute } from '../http/openapi/route-registry';
import { type RateLimitOptions, TokenBucketLimiter } from '../http/rate-limit';
import { parseRequest } from '../http/validate';
import { submitFeedbackBodySchema, submitFeedbackResultSchema } from './feedback-api-schemas';
import { submitFeedback } from './feedback-submission';
import type { InteractionFeedbackService } from './interaction-feedback-service';

export const SUBMIT_PATH = '/v1/bot/feedback/submit';

registerRoute({
  method: 'post',
  path: `${SUBMIT_PATH}/`,
  scope: 'public',
  tags: ['feedback'],
  summary: 'Rate a bot answer with the feedback token issued with it (creates or replaces the rating, source api)',
  description:
    'Rate-limited per client IP and per interaction (429 with Retry-After). 404 for an unknown interaction, 403 for a token that does not match it.',
  body: submitFeedbackBodySchema,
  responses: {
    201: { description: 'The interaction’s first rating', schema: submitFeedbackResultSchema },
    200: { description: 'An earlier rating was replaced', schema: submitFeedbackResultSchema },
    403: { description: 'The feedback token does not match the interaction' },
    404: { description: 'Unknown interaction' },
    429: { description: 'Too many submissions from this client or for this interaction' },
  },
});

export interface FeedbackSubmitDependencies {
  interactions: AgentInteractionRepository;
  feedback: InteractionFeedbackService;
  tokenKey: Buffer;
  perClient?: RateLimitOptions;
  perInteraction?: RateLimitOptions;
}

/** The public submit router, mounted at SUBMIT_PATH ahead of the authenticated API. */
export function createFeedbackSubmitRouter(deps: FeedbackSubmitDependencies): Router {
  const perClient = new TokenBucketLimiter(deps.perClient ?? { perMinute: 30, burst: 10 });
  const perInteraction = new TokenBucketLimiter(deps.perInteraction ?? { perMinute: 6, burst: 3 });
  const router = Router();

  router.post(
    '/',
    (request, response, next) => {
      // trust proxy is off, so this is the socket's address; behind a proxy every client shares one bucket.
      const decision = perClient.take(request.ip ?? 'unknown');
      if (!decision.allowed) {
        response.setHeader('Retry-After', String(decision.retryAfterSeconds));
        throw tooManyRequests('Too many feedback submissions from this client');
      }
      next();
    },
    express.json({ limit: '16kb' }),
    async (request, response) => {
      const body = parseRequest(submitFeedbackBodySchema, request.body, 'body');
      const decision = perInteraction.take(body.interaction_id.toLowerCase());
      if (!decision.allowed) {
        response.setHeader('Retry-After', String(decision.retryAfterSeconds));
        throw tooManyRequests('Too many feedback submissions for this interaction');
      }
      const result = await submitFeedback(deps.interactions, deps.feedback, deps.tokenKey, {
        interactionId: body.interaction_id,
        feedbackToken: body.feedback_token,
        rating: body.rating,
        feedbackText: body.feedback_text,
      });
      response.status(result.created ? 201 : 200).json({
        interaction_id: result.interactionId,
        rating: result.rating,
        feedback_text: result.feedbackText,
        source: 'api',
        created: result.created,
      });
    },
  );
  return router;
}
