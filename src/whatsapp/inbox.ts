/**
 * Accepting inbound messages. Webhooks that arrive together are written together: every request parsed in the
 * same turn of the event loop joins one batch, and one SQL statement (atomic by itself) finds or creates the
 * customers and conversations and inserts the messages, deduplicated on Twilio's MessageSid. Each request is
 * acknowledged only after the statement holding its message has committed, so batching trades nothing in
 * durability; it saves a round trip, a statement and a commit per message, which under load is most of the
 * acknowledgement's cost. When every sender of a batch has a conversation this process already knows, the
 * statement is the message insert alone (ACCEPT_KNOWN_SQL). A retried webhook inserts nothing and gets no reply.
 */
import type { DataSource } from 'typeorm';
import { queryDirect } from '../db/direct-query';
import type { ResolvedTenant } from '../tenants/tenant-service';
import { flattenParams, readMedia, type InboundParams } from './inbound-params';

export interface AcceptedMessage {
  messageId: string;
  conversationId: string;
  duplicate: boolean;
}

/** One statement never carries more than this many messages (bounds its size and its locks). */
export const MAX_ACCEPT_BATCH = 100;

// Known customers and conversations are only read (no row update on the hot path: fewer writes, no row-lock
// queueing behind a chatty customer); new ones are inserted, in a fixed order so that two concurrent batches
// take their locks in the same order. Profile changes and last_message_at are written by the processor, off
// the acknowledgement path. Messages go in in arrival order (ORDER BY ordinality), which is the order their
// seq values, and so their replies, follow.
const ACCEPT_BATCH_SQL = `
WITH input AS (
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::text[],
                       $9::text[], $10::text[], $11::text[], $12::jsonb[])
    WITH ORDINALITY AS input(tenant_id, address, wa_id, profile_name, sid, body, media, message_type,
                             button_payload, button_text, replied_to_sid, raw_payload, position)
), address AS (
  SELECT DISTINCT tenant_id, address FROM input
), known_customer AS (
  SELECT customers.id, customers.tenant_id, customers.whatsapp_address AS address
  FROM customers JOIN address USING (tenant_id) WHERE customers.whatsapp_address = address.address
), new_customer AS (
  INSERT INTO customers (tenant_id, whatsapp_address, wa_id, profile_name)
  SELECT DISTINCT ON (tenant_id, address) tenant_id, address, wa_id, profile_name FROM input
  WHERE NOT EXISTS (SELECT 1 FROM known_customer WHERE known_customer.tenant_id = input.tenant_id AND known_customer.address = input.address)
    AND NOT EXISTS (SELECT 1 FROM messages WHERE messages.message_sid = input.sid)
  ORDER BY tenant_id, address, position
  ON CONFLICT (tenant_id, whatsapp_address) DO UPDATE SET updated_at = customers.updated_at
  RETURNING id, tenant_id, whatsapp_address AS address
), customer AS (
  SELECT id, tenant_id, address FROM known_customer UNION ALL SELECT id, tenant_id, address FROM new_customer
), known_conversation AS (
  SELECT conversations.id, conversations.customer_id FROM conversations
  JOIN customer ON conversations.customer_id = customer.id AND conversations.tenant_id = customer.tenant_id
), new_conversation AS (
  INSERT INTO conversations (tenant_id, customer_id, last_message_at)
  SELECT customer.tenant_id, customer.id, now() FROM customer
  WHERE NOT EXISTS (SELECT 1 FROM known_conversation WHERE known_conversation.customer_id = customer.id)
  ORDER BY customer.id
  ON CONFLICT (tenant_id, customer_id) DO UPDATE SET updated_at = conversations.updated_at
  RETURNING id, customer_id
), conversation AS (
  SELECT id, customer_id FROM known_conversation UNION ALL SELECT id, customer_id FROM new_conversation
)
INSERT INTO messages (tenant_id, conversation_id, direction, author, message_sid, body, media, message_type,
                      button_payload, button_text, replied_to_sid, raw_payload, status)
SELECT input.tenant_id, conversation.id, 'inbound', 'customer', input.sid, input.body, input.media, input.message_type,
       input.button_payload, input.button_text, input.replied_to_sid, input.raw_payload, 'received'
FROM input
JOIN customer ON customer.tenant_id = input.tenant_id AND customer.address = input.address
JOIN conversation ON conversation.customer_id = customer.id
ORDER BY input.position
ON CONFLICT (message_sid) DO NOTHING
RETURNING id, conversation_id, message_sid`;

// The common case: every sender in the batch already has a conversation this process knows. Then the message
// insert is all there is to do, and this plain statement costs PostgreSQL a fraction of ACCEPT_BATCH_SQL (no
// customer or conversation lookups, a trivial plan). The composite foreign key still checks that the
// conversation exists and belongs to the tenant. Its plan (insert from the parameters, nothing scanned) is the same
// at any table size, so it is prepared once per connection (see db/direct-query.ts).
const ACCEPT_KNOWN_SQL = `
INSERT INTO messages (tenant_id, conversation_id, direction, author, message_sid, body, media, message_type,
                      button_payload, button_text, replied_to_sid, raw_payload, status)
SELECT tenant_id, conversation_id, 'inbound', 'customer', sid, body, media, message_type,
       button_payload, button_text, replied_to_sid, raw_payload, 'received'
FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::jsonb[], $6::text[], $7::text[], $8::text[], $9::text[],
            $10::jsonb[])
  WITH ORDINALITY AS input(tenant_id, conversation_id, sid, body, media, message_type, button_payload, button_text,
                           replied_to_sid, raw_payload, position)
ORDER BY position
ON CONFLICT (message_sid) DO NOTHING
RETURNING id, conversation_id, message_sid`;

/** How many senders' conversation ids a process remembers (about 150 bytes each). */
export const KNOWN_CONVERSATION_LIMIT = 50_000;

const FOREIGN_KEY_VIOLATION = '23503';

const FIND_BY_SIDS_SQL = 'SELECT id, conversation_id, tenant_id, message_sid FROM messages WHERE message_sid = ANY($1::text[])';

interface PendingAccept {
  tenantId: string;
  params: InboundParams;
  raw: Record<string, unknown>;
  resolve: (accepted: AcceptedMessage) => void;
  reject: (error: unknown) => void;
}

/** Stores inbound messages durably; processing happens later, from the database. */
export class Inbox {
  private waiting: PendingAccept[] = [];
  private flushScheduled = false;
  /**
   * Conversation id by tenant and sender address, learnt from earlier inserts. A conversation is never moved to
   * another customer and is only deleted with its tenant; a stale entry fails the foreign key and is forgotten.
   */
  private readonly knownConversations = new Map<string, string>();

  constructor(private readonly dataSource: DataSource) {}

  /** Stores the message unless its MessageSid is already stored; resolves once it is committed. */
  accept({ tenant }: ResolvedTenant, params: InboundParams, raw: Record<string, unknown>): Promise<AcceptedMessage> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ tenantId: tenant.id, params, raw, resolve, reject });
      // setImmediate runs after the poll phase: every request whose body arrived in this turn is in the batch.
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    while (this.waiting.length > 0) void this.writeBatch(this.waiting.splice(0, MAX_ACCEPT_BATCH));
  }

  private async writeBatch(batch: PendingAccept[]): Promise<void> {
    try {
      const results = await this.store(batch);
      batch.forEach((item, index) => item.resolve(results[index]));
    } catch (error) {
      if (batch.length === 1) return batch[0].reject(error);
      // One bad message (or a deadlock between batches) must not fail the others: retry each on its own, one
      // after another, so that messages of one conversation keep their arrival order.
      for (const item of batch) await this.writeBatch([item]);
    }
  }

  private async store(batch: PendingAccept[]): Promise<AcceptedMessage[]> {
    const inserted = (await this.insertKnown(batch)) ?? (await this.insertFindingConversations(batch));
    // A SID sent twice in one batch (a retry racing its original) is stored once; only its first request owns it.
    const insertedBySid = new Map(inserted.map((row) => [row.message_sid, row]));
    const results: AcceptedMessage[] = [];
    const duplicates: number[] = [];
    batch.forEach((item, index) => {
      const row = insertedBySid.get(item.params.MessageSid);
      if (row) {
        insertedBySid.delete(item.params.MessageSid);
        this.rememberConversation(item, row.conversation_id);
        results[index] = { messageId: row.id, conversationId: row.conversation_id, duplicate: false };
      } else {
        duplicates.push(index);
      }
    });
    if (duplicates.length === 0) return results;
    const existing = await queryDirect<{ id: string; conversation_id: string; tenant_id: string; message_sid: string }>(
      this.dataSource, FIND_BY_SIDS_SQL, [duplicates.map((index) => batch[index].params.MessageSid)],
    );
    const existingBySid = new Map(existing.map((row) => [row.message_sid, row]));
    for (const index of duplicates) {
      const row = existingBySid.get(batch[index].params.MessageSid);
      // A SID stored under another tenant is not this tenant's business: report a duplicate without details.
      const own = row?.tenant_id === batch[index].tenantId;
      results[index] = { messageId: own ? row!.id : '', conversationId: own ? row!.conversation_id : '', duplicate: true };
    }
    return results;
  }

  /** Inserts the batch when every sender's conversation is known; null when one is not (or one was stale). */
  private async insertKnown(batch: PendingAccept[]): Promise<InsertedRow[] | null> {
    const conversationIds = batch.map((item) => this.knownConversations.get(conversationKey(item)));
    if (conversationIds.some((id) => id === undefined)) return null;
    try {
      return await queryDirect<InsertedRow>(this.dataSource, ACCEPT_KNOWN_SQL, [
        batch.map((item) => item.tenantId),
        conversationIds,
        ...this.messageColumns(batch),
      ], 'parley_accept_known');
    } catch (error) {
      if ((error as { code?: string }).code !== FOREIGN_KEY_VIOLATION) throw error;
      // A conversation went away (its tenant was deleted): forget the batch's entries and look them up again.
      for (const item of batch) this.knownConversations.delete(conversationKey(item));
      return null;
    }
  }

  /** Inserts the batch, finding or creating each sender's customer and conversation in the same statement. */
  private insertFindingConversations(batch: PendingAccept[]): Promise<InsertedRow[]> {
    return queryDirect<InsertedRow>(this.dataSource, ACCEPT_BATCH_SQL, [
      batch.map((item) => item.tenantId),
      batch.map((item) => item.params.From),
      batch.map((item) => item.params.WaId ?? null),
      batch.map((item) => item.params.ProfileName ?? null),
      ...this.messageColumns(batch),
    ]);
  }

  /** The message's own columns, in the order both statements take them. */
  private messageColumns(batch: PendingAccept[]): unknown[][] {
    const column = <T>(read: (item: PendingAccept) => T) => batch.map(read);
    return [
      column((item) => item.params.MessageSid),
      column((item) => item.params.Body),
      column((item) => JSON.stringify(readMedia(item.raw, item.params.NumMedia ?? 0))),
      column((item) => item.params.MessageType ?? null),
      column((item) => item.params.ButtonPayload ?? null),
      column((item) => item.params.ButtonText ?? null),
      column((item) => item.params.OriginalRepliedMessageSid ?? null),
      column((item) => JSON.stringify(flattenParams(item.raw))),
    ];
  }

  private rememberConversation(item: PendingAccept, conversationId: string): void {
    const key = conversationKey(item);
    if (this.knownConversations.get(key) === conversationId) return;
    // Oldest first out: a Map iterates in insertion order.
    if (this.knownConversations.size >= KNOWN_CONVERSATION_LIMIT) this.knownConversations.delete(this.knownConversations.keys().next().value as string);
    this.knownConversations.set(key, conversationId);
  }
}

interface InsertedRow {
  id: string;
  conversation_id: string;
  message_sid: string;
}

function conversationKey(item: PendingAccept): string {
  return `${item.tenantId} ${item.params.From}`;
}
