import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';

export const CONVERSATION_STATUSES = ['active', 'handoff', 'closed'] as const;
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];

/** Why a conversation went to a person. */
export const HANDOFF_REASONS = [
  'customer_asked',
  'not_helpful_feedback',
  'low_retrieval_confidence',
  'provider_failure',
  'agent_took_over',
] as const;
export type HandoffReason = (typeof HANDOFF_REASONS)[number];

/** The thread between one customer and one tenant. */
@Entity({ name: 'conversations' })
@Unique('uq_conversations_tenant_customer', ['tenantId', 'customerId'])
// The target of messages' (conversation_id, tenant_id) foreign key: a message's tenant is its conversation's.
@Unique('uq_conversations_id_tenant', ['id', 'tenantId'])
export class Conversation {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Index()
  @Column({ name: 'customer_id', type: 'uuid' })
  customerId: string;

  @Column({ type: 'varchar', length: 20, default: 'active' })
  status: ConversationStatus;

  @Column({ name: 'last_message_at', type: 'timestamptz' })
  lastMessageAt: Date;

  /** How many tiers up the router sends this conversation's next turns, after not-helpful answers (0 to 2). */
  @Column({ name: 'routing_escalation', type: 'smallint', default: 0 })
  routingEscalation: number;

  /** Why a person should look at this conversation (the bot keeps answering), e.g. unsupported_media; null when not flagged. */
  @Column({ name: 'flagged_reason', type: 'varchar', length: 32, nullable: true })
  flaggedReason: string | null;

  @Column({ name: 'flagged_at', type: 'timestamptz', nullable: true })
  flaggedAt: Date | null;

  /** When the last not-helpful answer raised routingEscalation; the escalation lapses a day later. */
  @Column({ name: 'routing_escalated_at', type: 'timestamptz', nullable: true })
  routingEscalatedAt: Date | null;

  /** Why the latest handoff happened, and when (kept after a hand-back, for the record). */
  @Column({ name: 'handoff_reason', type: 'varchar', length: 32, nullable: true })
  handoffReason: HandoffReason | null;

  @Column({ name: 'handoff_at', type: 'timestamptz', nullable: true })
  handoffAt: Date | null;

  /** When a human agent last wrote to the customer; the bot is silent until the tenant's idle time has passed since. */
  @Column({ name: 'agent_replied_at', type: 'timestamptz', nullable: true })
  agentRepliedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
