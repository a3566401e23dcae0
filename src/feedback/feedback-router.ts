/** /v1/bot/feedback (analytics:view): the tenant's feedback rows, one row, and analytics over a window of days. */
import { Router } from 'express';
import { authOf, requireScope } from '../http/auth';
import { registerRoute } from '../http/openapi/route-registry';
import { pageSchema } from '../http/pagination';
import { parseRequest } from '../http/validate';
import {
  analyticsQuerySchema,
  analyticsSchema,
  feedbackIdParamsSchema,
  feedbackListQuerySchema,
  feedbackSchema,
} from './feedback-api-schemas';
import type { FeedbackQueryService } from './feedback-query-service';

const PREFIX = '/v1/bot/feedback';
const SCOPE = 'analytics:view';
const tags = ['feedback'];

registerRoute({
  method: 'get',
  path: `${PREFIX}/`,
  scope: SCOPE,
  tags,
  summary: 'List feedback on bot answers, newest first',
  query: feedbackListQuerySchema,
  responses: { 200: { description: 'A page of feedback', schema: pageSchema(feedbackSchema) } },
});
registerRoute({
  method: 'get',
  path: `${PREFIX}/analytics/`,
  scope: SCOPE,
  tags,
  summary: 'Feedback metrics over the last N days, by UTC day and by provider/model',
  query: analyticsQuerySchema,
  responses: { 200: { description: 'Totals and breakdowns', schema: analyticsSchema } },
});
registerRoute({
  method: 'get',
  path: `${PREFIX}/{id}/`,
  scope: SCOPE,
  tags,
  summary: 'One feedback row',
  params: feedbackIdParamsSchema,
  responses: { 200: { description: 'The feedback', schema: feedbackSchema } },
});

/** Routes under /v1/bot/feedback (mounted behind authenticate; the public submit route is separate). */
export function createFeedbackRouter(deps: { feedbackQueries: FeedbackQueryService }): Router {
  const router = Router();
  router.use(requireScope(SCOPE));

  router.get('/', async (request, response) => {
    const query = parseRequest(feedbackListQuerySchema, request.query, 'query');
    response.json(await deps.feedbackQueries.list(authOf(response).tenantId, query));
  });

  router.get('/analytics', async (request, response) => {
    const { days } = parseRequest(analyticsQuerySchema, request.query, 'query');
    response.json(await deps.feedbackQueries.analytics(authOf(response).tenantId, days));
  });

  router.get('/:id', async (request, response) => {
    const { id } = parseRequest(feedbackIdParamsSchema, request.params, 'path');
    response.json(await deps.feedbackQueries.find(authOf(response).tenantId, id));
  });
  return router;
}
