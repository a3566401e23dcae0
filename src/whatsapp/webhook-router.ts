/**
 * Twilio's webhooks: inbound WhatsApp messages and delivery status callbacks. Both resolve the tenant by number,
 * check X-Twilio-Signature against PUBLIC_BASE_URL + the path (never forwarded headers), and answer at once.
 */
import express, { type Request, type Response, Router } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { AppError, badRequest, forbidden, notFound } from '../http/errors';
import { registerRoute } from '../http/openapi/route-registry';
import { cleanedText } from '../http/safe-text';
import { parseRequest } from '../http/validate';
import type { ResolvedTenant, TenantService } from '../tenants/tenant-service';
import type { DeliveryStatusService } from './delivery-status';
import { inboundParamsSchema, uncleanParamNames } from './inbound-params';
import type { Inbox } from './inbox';
import { isValidTwilioSignature } from './twilio-client';

export interface WebhookDependencies {
  tenants: TenantService;
  deliveryStatus: DeliveryStatusService;
  inbox: Inbox;
  publicBaseUrl: string;
  logger: Logger;
  /** Called after a new message is stored (wakes the in-process processor). */
  onAccepted: (conversationId: string, tenantId: string) => void;
  /** Observes how long the acknowledgement took (metrics). */
  observeAck?: (seconds: number, outcome: string) => void;
}

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';
const EMPTY_TWIML_HEADERS = { 'Content-Type': 'text/xml; charset=utf-8', 'Content-Length': String(Buffer.byteLength(EMPTY_TWIML)) };

/**
 * Writes the empty TwiML acknowledgement. It is the same bytes every time, so express's send() (an ETag hashed
 * from the body, a freshness check against the request's cache headers) would only add work to the hot path.
 */
function acknowledge(response: Response): void {
  response.writeHead(200, EMPTY_TWIML_HEADERS).end(EMPTY_TWIML);
}

/** Twilio posts form bodies; anything else is refused before it is parsed. */
function requireFormBody(request: Request): void {
  if (!request.is('application/x-www-form-urlencoded')) {
    throw new AppError(415, 'unsupported_media_type', 'Expected application/x-www-form-urlencoded');
  }
}

function bodyParams(request: Request): Record<string, string | string[]> {
  const body = request.body;
  return typeof body === 'object' && body !== null ? (body as Record<string, string | string[]>) : {};
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** 403 unless the request carries a valid signature for this tenant. */
function verifySignature(request: Request, resolved: ResolvedTenant, publicBaseUrl: string): void {
  const signature = request.get('x-twilio-signature');
  if (!signature) throw forbidden('Missing X-Twilio-Signature', 'invalid_signature');
  const url = `${publicBaseUrl}${request.originalUrl}`;
  if (!isValidTwilioSignature(resolved.credentials.twilioAuthToken, signature, url, bodyParams(request))) {
    throw forbidden('Invalid X-Twilio-Signature', 'invalid_signature');
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// Cleaned like the inbound parameters (inbound-params.ts): a status is Twilio's to report, and NUL cannot be stored.
const statusParamsSchema = z.object({
  MessageSid: cleanedText().min(1).max(64),
  MessageStatus: z.enum([
    'queued',
    'accepted',
    'sending',
    'sent',
    'delivered',
    'read',
    'failed',
    'undelivered',
    'canceled',
    'scheduled',
    'receiving',
    'received',
  ]),
  From: cleanedText().min(1).max(64),
  // Whom the message went to: a send Parley did not make (a person on the business number) takes the conversation over.
  To: cleanedText().max(64).optional(),
  ErrorCode: cleanedText().max(32).optional(),
});

registerRoute({
  method: 'post',
  path: '/v1/webhooks/twilio/whatsapp',
  scope: 'twilio-signature',
  summary: 'Inbound WhatsApp message (Twilio webhook)',
  tags: ['webhooks'],
  body: inboundParamsSchema,
  bodyContentType: 'application/x-www-form-urlencoded',
  responses: { 200: { description: 'Empty TwiML; the reply is sent asynchronously', contentType: 'text/xml' } },
});
registerRoute({
  method: 'post',
  path: '/v1/webhooks/twilio/status',
  scope: 'twilio-signature',
  summary: 'Message status callback (Twilio webhook)',
  tags: ['webhooks'],
  bodyContentType: 'application/x-www-form-urlencoded',
  body: statusParamsSchema,
  responses: { 204: { description: 'Acknowledged' } },
});

/** The router for /v1/webhooks/twilio/*. */
export function createWebhookRouter(deps: WebhookDependencies): Router {
  const router = Router();
  // Twilio's bodies are small; 64 kB and 200 parameters leave room for media URLs and nothing abusive.
  const formParser = express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 200 });

  router.post(
    '/whatsapp',
    (request, _response, next) => {
      requireFormBody(request);
      next();
    },
    formParser,
    async (request, response) => {
      const started = performance.now();
      const raw = bodyParams(request);
      const to = firstValue(raw.To);
      if (!to) throw badRequest('Missing To');
      const resolved = await deps.tenants.findByWhatsAppAddress(to);
      if (!resolved) throw notFound('Tenant for this WhatsApp number');
      verifySignature(request, resolved, deps.publicBaseUrl);
      const params = parseRequest(inboundParamsSchema, raw, 'Twilio parameters');
      const accepted = await deps.inbox.accept(resolved, params, raw);
      const cleaned = uncleanParamNames(raw);
      // Names only: the values are the customer's text.
      if (cleaned.length > 0) {
        deps.logger.warn(
          { tenantId: resolved.tenant.id, messageSid: params.MessageSid, cleanedParams: cleaned },
          'inbound parameters had NUL or unpaired surrogates removed',
        );
      }
      deps.logger.info(
        {
          tenantId: resolved.tenant.id,
          conversationId: accepted.conversationId,
          messageSid: params.MessageSid,
          duplicate: accepted.duplicate,
        },
        accepted.duplicate ? 'duplicate inbound message ignored' : 'inbound message accepted',
      );
      acknowledge(response);
      deps.observeAck?.((performance.now() - started) / 1000, accepted.duplicate ? 'duplicate' : 'accepted');
      if (!accepted.duplicate) deps.onAccepted(accepted.conversationId, resolved.tenant.id);
    },
  );

  router.post(
    '/status',
    (request, _response, next) => {
      requireFormBody(request);
      next();
    },
    formParser,
    async (request, response) => {
      const raw = bodyParams(request);
      const from = firstValue(raw.From);
      if (!from) throw badRequest('Missing From');
      const resolved = await deps.tenants.findByWhatsAppAddress(from);
      if (!resolved) throw notFound('Tenant for this WhatsApp number');
      verifySignature(request, resolved, deps.publicBaseUrl);
      const params = parseRequest(
        statusParamsSchema,
        Object.fromEntries(Object.entries(raw).map(([key, value]) => [key, firstValue(value)])),
        'Twilio parameters',
      );
      const messageId =
        typeof request.query.message_id === 'string' && UUID.test(request.query.message_id) ? request.query.message_id : null;
      await deps.deliveryStatus.record(resolved.tenant.id, {
        messageId,
        messageSid: params.MessageSid,
        status: params.MessageStatus,
        errorCode: params.ErrorCode ?? null,
        to: params.To ?? null,
      });
      response.status(204).end();
    },
  );

  return router;
}
