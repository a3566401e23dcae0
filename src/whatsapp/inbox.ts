/**
 * Accepting inbound messages: one SQL statement (atomic by itself) finds or creates the customer and conversation
 * and inserts the message, deduplicated on Twilio's MessageSid. A retried webhook inserts nothing and gets no reply.
 */
import type { DataSource } from 'typeorm';
import { runPrepared } from '../db/prepared-statement';
import type { ResolvedTenant } from '../tenants/tenant-service';
import { flattenParams, readMedia, type InboundParams } from './inbound-params';

export interface AcceptedMessage {
  messageId: string;
  conversationId: string;
  duplicate: boolean;
}

// Known customers and conversations are only read (no row update on the hot path: fewer writes, no row-lock
// queueing behind a chatty customer); new ones are inserted. Profile changes and last_message_at are written
// by the processor, off the acknowledgement path.
const ACCEPT_SQL = `
WITH known_customer AS (
  SELECT id FROM customers WHERE tenant_id = $1 AND whatsapp_address = $2
), new_customer AS (
  INSERT INTO customers (tenant_id, whatsapp_address, wa_id, profile_name)
  SELECT $1, $2, $3, $4
  WHERE NOT EXISTS (SELECT 1 FROM known_customer) AND NOT EXISTS (SELECT 1 FROM messages WHERE message_sid = $5)
  ON CONFLICT (tenant_id, whatsapp_address) DO UPDATE SET updated_at = customers.updated_at
  RETURNING id
), customer AS (
  SELECT id FROM known_customer UNION ALL SELECT id FROM new_customer
), known_conversation AS (
  SELECT conversations.id FROM conversations JOIN customer ON conversations.customer_id = customer.id
  WHERE conversations.tenant_id = $1
), new_conversation AS (
  INSERT INTO conversations (tenant_id, customer_id, last_message_at)
  SELECT $1, customer.id, now() FROM customer
  WHERE NOT EXISTS (SELECT 1 FROM known_conversation)
  ON CONFLICT (tenant_id, customer_id) DO UPDATE SET updated_at = conversations.updated_at
  RETURNING id
), conversation AS (
  SELECT id FROM known_conversation UNION ALL SELECT id FROM new_conversation
)
INSERT INTO messages (tenant_id, conversation_id, direction, author, message_sid, body, media, message_type,
                      button_payload, button_text, replied_to_sid, raw_payload, status)
SELECT $1, conversation.id, 'inbound', 'customer', $5, $6, $7::jsonb, $8, $9, $10, $11, $12::jsonb, 'received'
FROM conversation
ON CONFLICT (message_sid) DO NOTHING
RETURNING id, conversation_id`;

/** Stores inbound messages durably; processing happens later, from the database. */
export class Inbox {
  constructor(private readonly dataSource: DataSource) {}

  /** Stores the message unless its MessageSid is already stored. */
  async accept({ tenant }: ResolvedTenant, params: InboundParams, raw: Record<string, unknown>): Promise<AcceptedMessage> {
    const media = readMedia(raw, params.NumMedia ?? 0);
    const rows = await runPrepared<{ id: string; conversation_id: string }>(this.dataSource, 'parley_accept_inbound', ACCEPT_SQL, [
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
    const existing = await runPrepared<{ id: string; conversation_id: string; tenant_id: string }>(
      this.dataSource,
      'parley_find_inbound_by_sid',
      'SELECT id, conversation_id, tenant_id FROM messages WHERE message_sid = $1',
      [params.MessageSid],
    );
    // A SID stored under another tenant is not this tenant's business: report a duplicate without details.
    const row = existing[0];
    return { messageId: row?.tenant_id === tenant.id ? row.id : '', conversationId: row?.tenant_id === tenant.id ? row.conversation_id : '', duplicate: true };
  }
}
