/**
 * For tenants on the simulated transport only (the embedded demo): lets `npm run chat` read the bot's replies.
 * Requests are signed like Twilio webhooks with the tenant's token, so nobody else can read a conversation.
 */
import { Router } from 'express';
import type { OfferedChoice } from '../db/entities/message';
import type { EntityManager } from 'typeorm';
import { z } from 'zod';
import { forbidden, notFound } from '../http/errors';
import { parseRequest } from '../http/validate';
import type { TenantService } from '../tenants/tenant-service';
import { isValidTwilioSignature } from './twilio-client';

const querySchema = z.object({
  tenant: z.string().min(1).max(64),
  customer: z.string().min(1).max(64),
  after: z.coerce.number().int().min(0).default(0),
});

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
export function createSimulatorRouter(deps: { manager: EntityManager; tenants: TenantService; publicBaseUrl: string }): Router {
  const router = Router();
  router.get('/replies', async (request, response) => {
    const query = parseRequest(querySchema, request.query, 'query');
    const resolved = await deps.tenants.findByWhatsAppAddress(query.tenant);
    if (!resolved || resolved.credentials.twilioAccountSid) throw notFound('Simulated tenant');
    const signature = request.get('x-twilio-signature') ?? '';
    if (!isValidTwilioSignature(resolved.credentials.twilioAuthToken, signature, `${deps.publicBaseUrl}${request.originalUrl}`, {})) {
      throw forbidden('Invalid X-Twilio-Signature', 'invalid_signature');
    }
    const rows: Array<Record<string, unknown>> = await deps.manager.query(
      `SELECT messages.seq, messages.body, messages.content_sid, messages.content_variables, messages.choices, messages.author, messages.status
       FROM messages
       JOIN conversations ON conversations.id = messages.conversation_id
       JOIN customers ON customers.id = conversations.customer_id
       WHERE messages.tenant_id = $1 AND customers.whatsapp_address = $2 AND messages.direction = 'outbound'
         AND messages.seq > $3 AND messages.status NOT IN ('pending', 'sending')
       ORDER BY messages.seq LIMIT 100`,
      [resolved.tenant.id, query.customer, query.after],
    );
    const replies: SimulatedReply[] = rows.map((row) => ({
      seq: Number(row.seq),
      body: row.body as string,
      contentSid: (row.content_sid as string | null) ?? null,
      contentVariables: (row.content_variables as Record<string, string> | null) ?? null,
      choices: (row.choices as OfferedChoice[] | null) ?? null,
      author: row.author as string,
      status: row.status as string,
    }));
    response.json({ replies });
  });
  return router;
}
