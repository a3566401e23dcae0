import { Column, CreateDateColumn, Entity, Generated, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type MessageDirection = 'inbound' | 'outbound';
export type MessageAuthor = 'customer' | 'bot' | 'agent' | 'system';

/**
 * The status vocabulary of messages, the one set every module uses (SQL lives in db/repositories/message-repository.ts).
 * Inbound processing: received -> processing -> replied | failed; skipped when no reply is due (handoff, feedback click).
 * Outbound delivery: pending -> sending -> queued/sent -> delivered -> read; failed/undelivered; simulated without Twilio.
 */
export const INBOUND_STATUSES = ['received', 'processing', 'replied', 'failed', 'skipped'] as const;
export const OUTBOUND_STATUSES = [
  'pending',
  'sending',
  'queued',
  'accepted',
  'sent',
  'delivered',
  'read',
  'failed',
  'undelivered',
  'simulated',
] as const;
export type InboundStatus = (typeof INBOUND_STATUSES)[number];
export type OutboundStatus = (typeof OUTBOUND_STATUSES)[number];
export type MessageStatus = InboundStatus | OutboundStatus;

/** Work not yet done: an inbound message to answer or an outbound one to send. It holds its conversation's later messages. */
export const UNFINISHED_STATUSES = ['received', 'processing', 'pending', 'sending'] as const satisfies readonly MessageStatus[];
/** Held by a worker under a lease. */
export const CLAIMED_STATUSES = ['processing', 'sending'] as const satisfies readonly MessageStatus[];
/** Messages the customer never got: left out of the history a model or a correction sees. */
export const NEVER_DELIVERED_STATUSES = ['failed', 'undelivered'] as const satisfies readonly MessageStatus[];

/**
 * How far an outbound message got, for status callbacks that arrive out of order (never move read back to delivered).
 * Failures rank last: a message Twilio failed stays failed.
 */
export const DELIVERY_RANK: Readonly<Record<OutboundStatus, number>> = {
  pending: 0,
  sending: 0,
  queued: 1,
  accepted: 1,
  sent: 2,
  delivered: 3,
  read: 4,
  simulated: 4,
  failed: 5,
  undelivered: 5,
};

/** An option a message offered (a button or a numbered line of a text fallback): what it says and its payload. */
export interface OfferedChoice {
  id: string;
  title: string;
}

/** What the media-understanding step made of an item (whatsapp/media/media-understanding.ts). */
export type MediaOutcome =
  | 'transcribed'
  | 'shown_to_model'
  /** A PDF whose text was read and given to the agent (whatsapp/media/customer-document.ts). */
  | 'text_extracted'
  /** A PDF with no text to read, protected by a password, or that could not be parsed in time (`detail` says which). */
  | 'unreadable'
  /** A PDF received before PDFs were read (kept on older rows; no longer produced). */
  | 'acknowledged'
  | 'unsupported_type'
  | 'no_provider'
  | 'provider_failed'
  | 'download_failed';

/** One MediaUrlN of an inbound message, with what became of it once a turn looked at it. */
export interface MediaItem {
  url: string;
  contentType: string | null;
  kind?: 'audio' | 'image' | 'document' | 'other';
  outcome?: MediaOutcome;
  /** A voice note's transcript (kept; the audio is not). */
  transcript?: string;
  /** A photo's description, written by a vision model for the record (kept; the photo is not). */
  description?: string;
  /** A PDF's extracted text, cut to MAX_DOCUMENT_TEXT_CHARACTERS (kept; the file is not), and its title. */
  text?: string;
  title?: string;
  /** The PDF's text was longer than what is kept. */
  truncated?: boolean;
  /** provider/model that transcribed or described it. */
  model?: string;
  /** Why a download or a provider failed (too_large, wrong_type, forbidden_host, ...). */
  detail?: string;
  /** Size of the download; the bytes themselves are never stored. */
  bytes?: number;
}

/** One WhatsApp message in either direction; inbound rows double as the durable work queue. */
@Entity({ name: 'messages' })
@Index('ix_messages_conversation_seq', ['conversationId', 'seq'])
export class Message {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** Arrival order; replies follow it per conversation. */
  @Column({ type: 'bigint' })
  @Generated('increment')
  seq: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Column({ name: 'conversation_id', type: 'uuid' })
  conversationId: string;

  @Column({ type: 'varchar', length: 10 })
  direction: MessageDirection;

  @Column({ type: 'varchar', length: 10 })
  author: MessageAuthor;

  /** The human agent who wrote an outbound message. */
  /** Partial indexes (here and on reply_to_message_id) serve the ON DELETE SET NULL lookups, which never ask for NULL. */
  @Index('ix_messages_author_user', { where: 'author_user_id IS NOT NULL' })
  @Column({ name: 'author_user_id', type: 'uuid', nullable: true })
  authorUserId: string | null;

  /** Twilio's SID; unique, which is what makes a retried webhook a no-op. */
  @Column({ name: 'message_sid', type: 'varchar', length: 64, nullable: true, unique: true })
  messageSid: string | null;

  @Column({ type: 'text', default: '' })
  body: string;

  @Column({ type: 'jsonb', default: () => "'[]'::jsonb" })
  media: MediaItem[];

  /** The body is a voice note's transcript, not typed text (shown so in the dashboard and the API). */
  @Column({ type: 'boolean', default: false })
  transcribed: boolean;

  @Column({ name: 'message_type', type: 'varchar', length: 32, nullable: true })
  messageType: string | null;

  @Column({ name: 'button_payload', type: 'varchar', length: 1024, nullable: true })
  buttonPayload: string | null;

  @Column({ name: 'button_text', type: 'varchar', length: 256, nullable: true })
  buttonText: string | null;

  @Column({ name: 'replied_to_sid', type: 'varchar', length: 64, nullable: true })
  repliedToSid: string | null;

  @Column({ name: 'content_sid', type: 'varchar', length: 64, nullable: true })
  contentSid: string | null;

  @Column({ name: 'content_variables', type: 'jsonb', nullable: true })
  contentVariables: Record<string, string> | null;

  /** Options this outbound message offered; a later "1", title or emoji from the customer picks one. */
  @Column({ type: 'jsonb', nullable: true })
  choices: OfferedChoice[] | null;

  /** Every parameter Twilio sent, as received. */
  @Column({ name: 'raw_payload', type: 'jsonb', nullable: true })
  rawPayload: Record<string, string> | null;

  @Column({ type: 'varchar', length: 20 })
  status: MessageStatus;

  @Column({ name: 'error_code', type: 'varchar', length: 32, nullable: true })
  errorCode: string | null;

  @Column({ name: 'error_message', type: 'text', nullable: true })
  errorMessage: string | null;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  /** Lease on the row while a worker processes or sends it; an expired lease means the worker died. */
  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true })
  lockedUntil: Date | null;

  /**
   * For inbound messages answered together with earlier ones (a burst): the first message of the turn, whose reply
   * (reply_to_message_id) answered this one too. Null for a turn's first message and for outbound messages.
   */
  @Index('ix_messages_burst_head', { where: 'burst_head_id IS NOT NULL' })
  @Column({ name: 'burst_head_id', type: 'uuid', nullable: true })
  burstHeadId: string | null;

  /** For outbound replies: the inbound message answered. (reply_to_message_id, chunk_index) is unique. */
  @Index('ix_messages_reply_to', { where: 'reply_to_message_id IS NOT NULL' })
  @Column({ name: 'reply_to_message_id', type: 'uuid', nullable: true })
  replyToMessageId: string | null;

  @Column({ name: 'chunk_index', type: 'integer', default: 0 })
  chunkIndex: number;

  /** The opt-out's confirmation: the one message an opted-out customer still gets (stored with the opt-out). */
  @Column({ name: 'confirms_opt_out', type: 'boolean', default: false })
  confirmsOptOut: boolean;

  @Column({ name: 'processed_at', type: 'timestamptz', nullable: true })
  processedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
