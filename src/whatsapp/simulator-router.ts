/**
 * For tenants on the simulated transport only (the embedded demo): lets `npm run chat` read the bot's replies.
 * Requests are signed like Twilio webhooks with the tenant's token, so nobody else can read a conversation.
 */
import { Router } from 'express';
import { z } from 'zod';
import type { OfferedChoice } from '../db/entities/message';
import type { MessageRepository } from '../db/repositories/message-repository';
import { forbidden, notFound } from '../http/errors';
import { registerRoute } from '../http/openapi/route-registry';
import { safeText } from '../http/safe-text';
import { parseRequest } from '../http/validate';
import type { TenantService } from '../tenants/tenant-service';
import { isValidTwilioSignature } from './twilio-client';

const querySchema = z.object({
  tenant: safeText().min(1).max(64),
  customer: safeText().min(1).max(64),
  after: z.coerce.number().int().min(0).default(0),
});

registerRoute({
  method: 'get',
  path: '/v1/simulator/replies',
  scope: 'twilio-signature',
  summary: "The bot's replies to a simulated customer (demo transport)",
  tags: ['simulator'],
  query: querySchema,
  responses: { 200: { description: 'Replies after the given sequence number' } },
});

/** A reply as `npm run chat` reads it. */
export interface SimulatedReply {
  seq: number;
  body: string;
  contentSid: string | null;
  contentVariables: Record<string, string> | null;
  /** Buttons the message offered; `npm run chat` shows them and sends the id back as ButtonPayload. */
  choices: OfferedChoice[] | null;
  author: string;
  status: string;
}

/** GET /v1/simulator/replies?tenant=whatsapp:+1...&customer=whatsapp:+1...&after=<seq> */
export function createSimulatorRouter(deps: { messages: MessageRepository; tenants: TenantService; publicBaseUrl: string }): Router {
  const router = Router();
  router.get('/replies', async (request, response) => {
    const query = parseRequest(querySchema, request.query, 'query');
    const resolved = await deps.tenants.findByWhatsAppAddress(query.tenant);
    if (!resolved || resolved.credentials.twilioAccountSid) throw notFound('Simulated tenant');
    const signature = request.get('x-twilio-signature') ?? '';
    if (!isValidTwilioSignature(resolved.credentials.twilioAuthToken, signature, `${deps.publicBaseUrl}${request.originalUrl}`, {})) {
      throw forbidden('Invalid X-Twilio-Signature', 'invalid_signature');
    }
    const rows = await deps.messages.simulatedReplies(resolved.tenant.id, query.customer, query.after, 100);
    const replies: SimulatedReply[] = rows.map((row) => ({
      seq: Number(row.seq),
      body: row.body,
      contentSid: row.content_sid,
      contentVariables: row.content_variables,
      choices: row.choices,
      author: row.author,
      status: row.status,
    }));
    response.json({ replies });
  });
  return router;
}
