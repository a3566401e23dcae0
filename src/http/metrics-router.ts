/** GET /metrics: Prometheus exposition. Unauthenticated like /healthz; no label carries a tenant id or a secret. */
import { Router } from 'express';
import type { Metrics } from '../metrics';
import { registerRoute } from './openapi/route-registry';

registerRoute({
  method: 'get', path: '/metrics', scope: 'public', summary: 'Prometheus metrics', tags: ['health'],
  responses: { 200: { description: 'Prometheus text exposition format', contentType: 'text/plain' } },
});

/** The /metrics route. */
export function createMetricsRouter(metrics: Metrics): Router {
  const router = Router();
  router.get('/metrics', async (_request, response) => {
    const { contentType, body } = await metrics.render();
    response.type(contentType).send(body);
  });
  return router;
}
