/**
 * GET /v1/bot/providers/health: per-model calls, success rate, latency percentiles and the state of the breakers
 * that apply to the key's tenant (its own credentials', the platform's shared ones it uses) (analytics:view).
 */
import { Router } from 'express';
import type { EntityManager } from 'typeorm';
import { z } from 'zod';
import { authOf, requireScope } from '../http/auth';
import type { TenantBreakers } from '../llm/tenant-breakers';
import { registerRoute } from '../http/openapi/route-registry';
import { parseRequest } from '../http/validate';
import { queryProviderHealth } from './model-health-report';

const healthQuerySchema = z.object({
  /** The health window; the breaker's default window is 60 minutes. */
  window_minutes: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60)
    .default(60),
});

registerRoute({
  method: 'get',
  path: '/v1/bot/providers/health/',
  scope: 'analytics:view',
  tags: ['providers'],
  summary: 'Per-model calls, success rate, latency percentiles and circuit-breaker state',
  query: healthQuerySchema,
  responses: {
    200: {
      description:
        "Health of each provider and model the tenant used in the window, with the breaker of the credential it uses (its own key's, or the platform's shared one)",
    },
  },
});

/** Routes under /v1/bot/providers. */
export function createProvidersRouter(deps: { manager: EntityManager; breakers: Pick<TenantBreakers, 'credentialsOf'> }): Router {
  const router = Router();
  router.use(requireScope('analytics:view'));

  router.get('/health', async (request, response) => {
    const query = parseRequest(healthQuerySchema, request.query, 'query');
    const { tenantId } = authOf(response);
    const models = await queryProviderHealth(deps.manager, tenantId, query.window_minutes, await deps.breakers.credentialsOf(tenantId));
    response.json({
      window_minutes: query.window_minutes,
      data: models.map((model) => ({
        provider: model.provider,
        model: model.model,
        calls: model.calls,
        success_rate: model.successRate,
        latency_p50_ms: model.latencyP50Ms,
        latency_p95_ms: model.latencyP95Ms,
        breaker: {
          state: model.breaker.state,
          since: model.breaker.since,
          consecutive_failures: model.breaker.consecutiveFailures,
          credential: model.breaker.credential,
        },
      })),
    });
  });
  return router;
}
