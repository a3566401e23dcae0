/**
 * GET /metrics: Prometheus exposition. No label carries a tenant id or a secret; still, an operator who cannot keep
 * the port private sets METRICS_TOKEN and the scraper sends it as a bearer token.
 */
import { Router } from 'express';
import { safeEqual, sha256Hex } from '../crypto/secrets';
import type { Metrics } from '../metrics';
import { unauthorized } from './errors';
import { registerRoute } from './openapi/route-registry';

registerRoute({
  method: 'get',
  path: '/metrics',
  scope: 'public',
  summary: 'Prometheus metrics (bearer METRICS_TOKEN when the operator sets one)',
  tags: ['health'],
  responses: {
    200: { description: 'Prometheus text exposition format', contentType: 'text/plain' },
    401: { description: 'METRICS_TOKEN is set and the request does not carry it' },
  },
});

/** The /metrics route; `token` (METRICS_TOKEN) guards it when set. */
export function createMetricsRouter(metrics: Metrics, token: string | undefined): Router {
  const router = Router();
  // Digests are compared, not the tokens: equal lengths, so the constant-time comparison leaks no length either.
  const tokenDigest = token === undefined ? undefined : sha256Hex(token);
  router.get('/metrics', async (request, response) => {
    if (tokenDigest !== undefined) {
      const match = /^Bearer (.+)$/.exec(request.get('authorization') ?? '');
      if (!match || !safeEqual(sha256Hex(match[1]), tokenDigest))
        throw unauthorized('GET /metrics requires the METRICS_TOKEN as a bearer token');
    }
    const { contentType, body } = await metrics.render();
    response.type(contentType).send(body);
  });
  return router;
}
