/**
 * Accepting inbound messages: one SQL statement (atomic by itself) upserts the customer and conversation and
 * inserts the message, deduplicated on Twilio's MessageSid. A retried webhook inserts nothing and gets no reply.
 */
import type { EntityManager } from 'typeorm';
import type { ResolvedTenant } from '../tenants/tenant-service';
import { flattenParams, readMedia, type InboundParams } from './inbound-params';

export interface AcceptedMessage {
  messageId: string;
  conversationId: string;
  duplicate: boolean;
}

const ACCEPT_SQL = `
WITH customer AS (
  INSERT INTO customers (tenant_id, whatsapp_address, wa_id, profile_name)
  SELECT $1, $2, $3, $4
  WHERE NOT EXISTS (SELECT 1 FROM messages WHERE message_sid = $5)
  ON CONFLICT (tenant_id, whatsapp_address) DO UPDATE
    SET profile_name = COALESCE(EXCLUDED.profile_name, customers.profile_name),
        wa_id = COALESCE(EXCLUDED.wa_id, customers.wa_id),
        updated_at = now()
  RETURNING id
), conversation AS (
  INSERT INTO conversations (tenant_id, customer_id, last_message_at)
  SELECT $1, customer.id, now() FROM customer
  ON CONFLICT (tenant_id, customer_id) DO UPDATE SET last_message_at = now(), updated_at = now()
  RETURNING id
)
INSERT INTO messages (tenant_id, conversation_id, direction, author, message_sid, body, media, message_type,
                      button_payload, button_text, replied_to_sid, raw_payload, status)
SELECT $1, conversation.id, 'inbound', 'customer', $5, $6, $7::jsonb, $8, $9, $10, $11, $12::jsonb, 'received'
FROM conversation
ON CONFLICT (message_sid) DO NOTHING
RETURNING id, conversation_id`;

/** Stores inbound messages durably; processing happens later, from the database. */
export class Inbox {
  constructor(private readonly manager: EntityManager) {}

  /** Stores the message unless its MessageSid is already stored. */
  async accept({ tenant }: ResolvedTenant, params: InboundParams, raw: Record<string, unknown>): Promise<AcceptedMessage> {
    const media = readMedia(raw, params.NumMedia ?? 0);
    const rows: Array<{ id: string; conversation_id: string }> = await this.manager.query(ACCEPT_SQL, [
      tenant.id,
      params.From,
      params.WaId ?? null,
      params.ProfileName ?? null,
      params.MessageSid,
      params.Body,
      JSON.stringify(media),
      params.MessageType ?? null,
      params.ButtonPayload ?? null,
      params.ButtonText ?? null,
      params.OriginalRepliedMessageSid ?? null,
      JSON.stringify(flattenParams(raw)),
    ]);
    if (rows.length > 0) return { messageId: rows[0].id, conversationId: rows[0].conversation_id, duplicate: false };
    const existing: Array<{ id: string; conversation_id: string; tenant_id: string }> = await this.manager.query(
      'SELECT id, conversation_id, tenant_id FROM messages WHERE message_sid = $1',
      [params.MessageSid],
    );
    // A SID stored under another tenant is not this tenant's business: report a duplicate without details.
    const row = existing[0];
    return { messageId: row?.tenant_id === tenant.id ? row.id : '', conversationId: row?.tenant_id === tenant.id ? row.conversation_id : '', duplicate: true };
  }
}
