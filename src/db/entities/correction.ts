import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export const CORRECTION_CATEGORIES = [
  'factual_error',
  'tone_inappropriate',
  'missing_information',
  'wrong_intent',
  'poor_recommendation',
  'other',
] as const;
export type CorrectionCategory = (typeof CORRECTION_CATEGORIES)[number];

/** One earlier turn of the conversation, kept with the correction for training export. */
export interface CorrectionContextMessage {
  role: 'user' | 'assistant';
  content: string;
}

/** A human's better answer to a bot answer; once approved it guides the bot and can be exported for fine-tuning. */
@Entity({ name: 'corrections' })
@Index('ix_corrections_tenant_created', ['tenantId', 'createdAt'])
export class Correction {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Index('ix_corrections_interaction')
  @Column({ name: 'agent_interaction_id', type: 'uuid', nullable: true })
  agentInteractionId: string | null;

  @Index('ix_corrections_conversation', { where: 'conversation_id IS NOT NULL' })
  @Column({ name: 'conversation_id', type: 'uuid', nullable: true })
  conversationId: string | null;

  /** The customer's message the bot answered. */
  @Column({ name: 'customer_message', type: 'text' })
  customerMessage: string;

  @Column({ type: 'jsonb', default: () => "'[]'::jsonb" })
  context: CorrectionContextMessage[];

  @Column({ name: 'bot_response', type: 'text' })
  botResponse: string;

  @Column({ name: 'human_response', type: 'text' })
  humanResponse: string;

  @Column({ name: 'correction_reason', type: 'text', nullable: true })
  correctionReason: string | null;

  @Column({ name: 'correction_category', type: 'varchar', length: 32 })
  correctionCategory: CorrectionCategory;

  @Index('ix_corrections_corrected_by', { where: 'corrected_by IS NOT NULL' })
  @Column({ name: 'corrected_by', type: 'uuid', nullable: true })
  correctedBy: string | null;

  @Column({ name: 'approved_for_training', type: 'boolean', default: false })
  approvedForTraining: boolean;

  /** 0.0 to 5.0 in tenths, kept exactly in numeric(2,1); read back as a number, which prints as the decimal given. */
  @Column({
    name: 'quality_score',
    type: 'numeric',
    precision: 2,
    scale: 1,
    nullable: true,
    transformer: { to: (value: number | null) => value, from: (value: string | null) => (value === null ? null : Number(value)) },
  })
  qualityScore: number | null;

  @Index('ix_corrections_approved_by', { where: 'approved_by IS NOT NULL' })
  @Column({ name: 'approved_by', type: 'uuid', nullable: true })
  approvedBy: string | null;

  @Column({ name: 'approved_at', type: 'timestamptz', nullable: true })
  approvedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
