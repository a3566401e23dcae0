import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** One answer of the bot: which inbound message, which reply, which model and what it cost in tokens and time. */
@Entity({ name: 'agent_interactions' })
@Index('ix_agent_interactions_tenant_created', ['tenantId', 'createdAt'])
export class AgentInteraction {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Index()
  @Column({ name: 'conversation_id', type: 'uuid' })
  conversationId: string;

  @Column({ name: 'inbound_message_id', type: 'uuid', unique: true })
  inboundMessageId: string;

  /** The first outbound chunk of the reply. */
  @Index('ix_agent_interactions_reply', { where: 'reply_message_id IS NOT NULL' })
  @Column({ name: 'reply_message_id', type: 'uuid', nullable: true })
  replyMessageId: string | null;

  @Column({ type: 'varchar', length: 64 })
  provider: string;

  @Column({ type: 'varchar', length: 128 })
  model: string;

  @Column({ name: 'input_tokens', type: 'integer', default: 0 })
  inputTokens: number;

  @Column({ name: 'cached_input_tokens', type: 'integer', default: 0 })
  cachedInputTokens: number;

  @Column({ name: 'output_tokens', type: 'integer', default: 0 })
  outputTokens: number;

  @Column({ name: 'total_tokens', type: 'integer', default: 0 })
  totalTokens: number;

  /** Measured wall time of the whole turn's model work, in milliseconds. */
  @Column({ name: 'latency_ms', type: 'integer' })
  latencyMs: number;

  @Column({ name: 'finish_reason', type: 'varchar', length: 32 })
  finishReason: string;

  /** Knowledge entries (and later corrections) given to the model. */
  @Column({ name: 'knowledge_ids', type: 'jsonb', default: () => "'[]'::jsonb" })
  knowledgeIds: string[];

  /** Document passages (knowledge_chunks ids, as strings) the answer was grounded on. */
  @Column({ name: 'chunk_ids', type: 'jsonb', default: () => "'[]'::jsonb" })
  chunkIds: string[];

  /** The routing decision that picked the model (filled by the router). */
  @Column({ type: 'jsonb', nullable: true })
  routing: Record<string, unknown> | null;

  /** The message kind the router predicted: the feedback cell, with routingTier. */
  @Column({ name: 'message_kind', type: 'varchar', length: 32, nullable: true })
  messageKind: string | null;

  /** The tier the learning policy chose (cheap, balanced, reasoning), or null when a hard rule decided. */
  @Column({ name: 'routing_tier', type: 'varchar', length: 16, nullable: true })
  routingTier: string | null;

  /** The probability the policy gave routingTier, for off-policy evaluation. */
  @Column({ name: 'routing_propensity', type: 'numeric', precision: 7, scale: 6, nullable: true })
  routingPropensity: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
