/** POST /v1/bot/interactions/{id}/events: the tenant's backend reports what the customer did after an answer. */
import { Router } from 'express';
import { z } from 'zod';
import { authOf, requireScope } from '../http/auth';
import { notFound } from '../http/errors';
import { registerRoute } from '../http/openapi/route-registry';
import { parseRequest } from '../http/validate';
import { feedbackSchema } from './feedback-api-schemas';
import type { FeedbackQueryService } from './feedback-query-service';
import { INTERACTION_EVENT_TYPES, type InteractionFeedbackService } from './interaction-feedback-service';

const paramsSchema = z.object({ id: z.uuid() });

export const interactionEventSchema = z
  .object({
    id: z
      .string()
      .regex(/^[A-Za-z0-9._:#-]{1,100}$/, 'must be 1 to 100 letters, digits or . _ : # -')
      .optional()
      .describe('Your id for the event (e.g. the order number): a retried report with the same id is recorded once'),
    type: z.enum(INTERACTION_EVENT_TYPES),
    // Money stays exact: kept as a decimal string whether it arrives as a number or a string.
    value: z
      .union([z.number().finite().nonnegative().max(1e12), z.string().regex(/^\d{1,12}(\.\d{1,6})?$/, 'must be a decimal amount')])
      .transform(String)
      .optional(),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR')
      .optional(),
  })
  .strict();

registerRoute({
  method: 'post',
  path: '/v1/bot/interactions/{id}/events/',
  scope: 'conversations:manage',
  tags: ['feedback'],
  summary: 'Report a purchase, booking or other action the customer completed after an answer (sets completed_action)',
  params: paramsSchema,
  body: interactionEventSchema,
  responses: { 201: { description: "The interaction's feedback row, as GET /v1/bot/feedback/{id} returns it", schema: feedbackSchema } },
});

/** Routes under /v1/bot/interactions. */
export function createInteractionEventsRouter(deps: {
  feedback: InteractionFeedbackService;
  feedbackQueries: FeedbackQueryService;
  now: () => Date;
}): Router {
  const router = Router();
  router.use(requireScope('conversations:manage'));

  router.post('/:id/events', async (request, response) => {
    const { id } = parseRequest(paramsSchema, request.params, 'path');
    const event = parseRequest(interactionEventSchema, request.body, 'body');
    const { tenantId } = authOf(response);
    const row = await deps.feedback.recordEvent(tenantId, id, event, deps.now());
    if (!row) throw notFound('Interaction');
    response.status(201).json(await deps.feedbackQueries.find(tenantId, row.id));
  });
  return router;
}
