/** GET /healthz (the process is up) and GET /readyz (the database answers): for load balancers and orchestrators. */
import { Router } from 'express';
import { z } from 'zod';
import { registerRoute } from './openapi/route-registry';

const okSchema = z.object({ status: z.string() });

registerRoute({
  method: 'get',
  path: '/healthz',
  scope: 'public',
  summary: 'Liveness',
  tags: ['health'],
  responses: { 200: { description: 'The process is up', schema: okSchema } },
});
registerRoute({
  method: 'get',
  path: '/readyz',
  scope: 'public',
  summary: 'Readiness (database reachable)',
  tags: ['health'],
  responses: { 200: { description: 'Ready', schema: okSchema }, 503: { description: 'Database unreachable' } },
});

/** The health routes; `databaseReachable` resolves false (never throws) when the database does not answer. */
export function createHealthRouter(deps: { databaseReachable: () => Promise<boolean> }): Router {
  const router = Router();
  router.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });
  router.get('/readyz', async (_request, response) => {
    if (await deps.databaseReachable()) response.json({ status: 'ready' });
    else response.status(503).json({ error: { code: 'not_ready', message: 'Database unreachable' } });
  });
  return router;
}
