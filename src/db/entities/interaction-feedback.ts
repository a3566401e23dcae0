import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export const FEEDBACK_RATINGS = ['helpful', 'not_helpful'] as const;
export type FeedbackRating = (typeof FEEDBACK_RATINGS)[number];

export const FEEDBACK_SOURCES = ['whatsapp_button', 'api', 'implicit'] as const;
export type FeedbackSource = (typeof FEEDBACK_SOURCES)[number];

/** The customer's verdict on one bot answer, explicit (rating) and implicit (what they did next). */
@Entity({ name: 'interaction_feedback' })
@Index('ix_interaction_feedback_tenant_created', ['tenantId', 'createdAt'])
export class InteractionFeedback {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Column({ name: 'agent_interaction_id', type: 'uuid', unique: true })
  agentInteractionId: string;

  @Index('ix_interaction_feedback_conversation')
  @Column({ name: 'conversation_id', type: 'uuid' })
  conversationId: string;

  @Index('ix_interaction_feedback_customer')
  @Column({ name: 'customer_id', type: 'uuid' })
  customerId: string;

  @Column({ type: 'varchar', length: 16, nullable: true })
  rating: FeedbackRating | null;

  @Column({ name: 'feedback_text', type: 'text', nullable: true })
  feedbackText: string | null;

  @Column({ name: 'user_continued', type: 'boolean', default: false })
  userContinued: boolean;

  @Column({ name: 'completed_action', type: 'boolean', default: false })
  completedAction: boolean;

  @Column({ name: 'requested_human', type: 'boolean', default: false })
  requestedHuman: boolean;

  @Column({ name: 'response_time_seconds', type: 'integer', nullable: true })
  responseTimeSeconds: number | null;

  /** Where the latest explicit feedback came from; 'implicit' while there is only behaviour. */
  @Column({ type: 'varchar', length: 20 })
  source: FeedbackSource;

  @Column({ type: 'jsonb', default: () => "'{}'::jsonb" })
  metadata: Record<string, unknown>;

  /** Computed by the database from the signals (see docs/feedback.md); never written by the application. */
  @Column({
    name: 'implicit_satisfaction',
    type: 'numeric',
    precision: 4,
    scale: 3,
    insert: false,
    update: false,
    generatedType: 'STORED',
    asExpression: `LEAST(1, GREATEST(0, 0.5 + CASE WHEN user_continued THEN 0.3 ELSE 0 END + CASE WHEN completed_action THEN 0.5 ELSE 0 END - CASE WHEN requested_human THEN 0.5 ELSE 0 END + CASE WHEN response_time_seconds IS NOT NULL AND response_time_seconds <= 30 THEN 0.2 ELSE 0 END))`,
  })
  implicitSatisfaction: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
