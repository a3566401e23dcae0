/**
 * Declarations of the foundation's routes (health, Twilio webhooks, simulator) for the OpenAPI
 * document. Their routers predate the registry; when a router declares its own routes, drop its entries here.
 */
import { z } from 'zod';
import { inboundParamsSchema } from '../../whatsapp/inbound-params';
import { registerRoute } from './route-registry';

const okSchema = z.object({ status: z.string() });

registerRoute({
  method: 'get', path: '/healthz', scope: 'public', summary: 'Liveness', tags: ['health'],
  responses: { 200: { description: 'The process is up', schema: okSchema } },
});
registerRoute({
  method: 'get', path: '/readyz', scope: 'public', summary: 'Readiness (database reachable)', tags: ['health'],
  responses: { 200: { description: 'Ready', schema: okSchema }, 503: { description: 'Database unreachable' } },
});
registerRoute({
  method: 'post', path: '/v1/webhooks/twilio/whatsapp', scope: 'twilio-signature', summary: 'Inbound WhatsApp message (Twilio webhook)',
  tags: ['webhooks'], body: inboundParamsSchema, bodyContentType: 'application/x-www-form-urlencoded',
  responses: { 200: { description: 'Empty TwiML; the reply is sent asynchronously', contentType: 'text/xml' } },
});
registerRoute({
  method: 'post', path: '/v1/webhooks/twilio/status', scope: 'twilio-signature', summary: 'Message status callback (Twilio webhook)',
  tags: ['webhooks'], bodyContentType: 'application/x-www-form-urlencoded',
  body: z.object({ MessageSid: z.string(), MessageStatus: z.string(), From: z.string(), ErrorCode: z.string().optional() }),
  responses: { 200: { description: 'Acknowledged' } },
});
registerRoute({
  method: 'get', path: '/v1/simulator/replies', scope: 'twilio-signature', summary: "The bot's replies to a simulated customer (demo transport)",
  tags: ['simulator'],
  query: z.object({ tenant: z.string(), customer: z.string(), after: z.coerce.number().int().min(0).default(0) }),
  responses: { 200: { description: 'Replies after the given sequence number' } },
});
registerRoute({
  method: 'get', path: '/v1/bot/providers/health/', scope: 'analytics:view', tags: ['providers'],
  summary: 'Per-model calls, success rate, latency percentiles and circuit-breaker state',
  query: z.object({ window_minutes: z.coerce.number().int().min(1).max(7 * 24 * 60).default(60) }),
  responses: { 200: { description: 'Health of each provider and model the tenant used in the window' } },
});
