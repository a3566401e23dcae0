/**
 * GET /metrics: Prometheus exposition. No label carries a tenant id or a secret; still, an operator who cannot keep
 * the port private sets METRICS_TOKEN and the scraper sends it as a bearer token.
 */
import crypto from 'node:crypto';
import { Router } from 'express';
import type { Metrics } from '../metrics';
import { unauthorized } from './errors';
import { registerRoute } from './openapi/route-registry';

registerRoute({
  method: 'get', path: '/metrics', scope: 'public', summary: 'Prometheus metrics (bearer METRICS_TOKEN when the operator sets one)', tags: ['health'],
  responses: { 200: { description: 'Prometheus text exposition format', contentType: 'text/plain' }, 401: { description: 'METRICS_TOKEN is set and the request does not carry it' } },
});

/** Compares in constant time (hashing first makes the lengths equal). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => crypto.createHash('sha256').update(value).digest();
  return crypto.timingSafeEqual(digest(given), digest(expected));
}

/** The /metrics route; `token` (METRICS_TOKEN) guards it when set. */
export function createMetricsRouter(metrics: Metrics, token: string | undefined): Router {
  const router = Router();
  router.get('/metrics', async (request, response) => {
    if (token !== undefined) {
      const match = /^Bearer (.+)$/.exec(request.get('authorization') ?? '');
      if (!match || !sameSecret(match[1], token)) throw unauthorized('GET /metrics requires the METRICS_TOKEN as a bearer token');
    }
    const { contentType, body } = await metrics.render();
    response.type(contentType).send(body);
  });
  return router;
}
