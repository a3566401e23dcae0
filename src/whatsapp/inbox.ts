/**
 * Accepting inbound messages. Webhooks that arrive together are written together: every request parsed in the
 * same turn of the event loop joins one batch, and one SQL statement (atomic by itself) finds or creates the
 * customers and conversations and inserts the messages, deduplicated on Twilio's MessageSid. Each request is
 * acknowledged only after the statement holding its message has committed, so batching trades nothing in
 * durability; it saves a round trip, a statement and a commit per message, which under load is most of the
 * acknowledgement's cost. When every sender of a batch has a conversation this process already knows, the
 * statement is the message insert alone (insertInboundForKnownConversations). A retried webhook inserts nothing and gets no reply.
 */
import type { LRUCache } from 'lru-cache';
import { boundedCache } from '../bounded-cache';
import type { InboundRow, InsertedInbound, MessageRepository } from '../db/repositories/message-repository';
import type { ResolvedTenant } from '../tenants/tenant-service';
import { flattenParams, readMedia, type InboundParams } from './inbound-params';

export interface AcceptedMessage {
  messageId: string;
  conversationId: string;
  duplicate: boolean;
}

/** One statement never carries more than this many messages (bounds its size and its locks). */
export const MAX_ACCEPT_BATCH = 100;

/** How many senders' conversation ids a process remembers (about 150 bytes each). */
export const KNOWN_CONVERSATION_LIMIT = 50_000;
/** How long one is remembered: then the sender's next message costs one lookup statement, and it is learnt again. */
export const KNOWN_CONVERSATION_MS = 60 * 60_000;

export interface InboxOptions {
  knownConversationLimit?: number;
  knownConversationMs?: number;
  /** Millisecond clock of the conversation cache (tests pass their own). */
  now?: () => number;
}

const FOREIGN_KEY_VIOLATION = '23503';

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
   * Bounded in entries (the least recently used goes first) and age.
   */
  private readonly knownConversations: LRUCache<string, string>;

  constructor(
    private readonly messages: MessageRepository,
    options: InboxOptions = {},
  ) {
    this.knownConversations = boundedCache({
      max: options.knownConversationLimit ?? KNOWN_CONVERSATION_LIMIT,
      ttlMs: options.knownConversationMs ?? KNOWN_CONVERSATION_MS,
      now: options.now,
    });
  }

  /** How many senders' conversations this process remembers (at most knownConversationLimit). */
  knownConversationCount(): number {
    this.knownConversations.purgeStale();
    return this.knownConversations.size;
  }

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
      for (const [index, item] of batch.entries()) item.resolve(results[index]);
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
    const existing = await this.messages.findBySids(duplicates.map((index) => batch[index].params.MessageSid));
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
  private async insertKnown(batch: PendingAccept[]): Promise<InsertedInbound[] | null> {
    const conversationIds = batch.map((item) => this.knownConversations.get(conversationKey(item)));
    if (conversationIds.some((id) => id === undefined)) return null;
    try {
      return await this.messages.insertInboundForKnownConversations(batch.map(toInboundRow), conversationIds as string[]);
    } catch (error) {
      if ((error as { code?: string }).code !== FOREIGN_KEY_VIOLATION) throw error;
      // A conversation went away (its tenant was deleted): forget the batch's entries and look them up again.
      for (const item of batch) this.knownConversations.delete(conversationKey(item));
      return null;
    }
  }

  /** Inserts the batch, finding or creating each sender's customer and conversation in the same statement. */
  private insertFindingConversations(batch: PendingAccept[]): Promise<InsertedInbound[]> {
    return this.messages.insertInboundFindingConversations(batch.map(toInboundRow));
  }

  private rememberConversation(item: PendingAccept, conversationId: string): void {
    const key = conversationKey(item);
    if (this.knownConversations.get(key) === conversationId) return;
    this.knownConversations.set(key, conversationId);
  }
}

/** A webhook's parameters as the columns the accept statements write. */
function toInboundRow(item: PendingAccept): InboundRow {
  const { params } = item;
  return {
    tenantId: item.tenantId,
    address: params.From,
    waId: params.WaId ?? null,
    profileName: params.ProfileName ?? null,
    sid: params.MessageSid,
    body: params.Body,
    media: JSON.stringify(readMedia(item.raw, params.NumMedia ?? 0)),
    messageType: params.MessageType ?? null,
    buttonPayload: params.ButtonPayload ?? null,
    buttonText: params.ButtonText ?? null,
    repliedToSid: params.OriginalRepliedMessageSid ?? null,
    rawPayload: JSON.stringify(flattenParams(item.raw)),
  };
}

function conversationKey(item: PendingAccept): string {
  return `${item.tenantId} ${item.params.From}`;
}
