/**
 * The one home of the SQL on `interaction_feedback` outside the analytics reports (feedback/feedback-analytics.ts,
 * dashboard/overview.ts): one row per agent interaction, created by whichever signal comes first and updated in
 * place by the rest. Every write is one upsert statement, so concurrent signals cannot create a second row; the
 * satisfaction score is a generated column, recomputed by the database.
 */
import type { EntityManager } from 'typeorm';
import { preparedStatement, queryPrepared } from '../direct-query';
import { PREVIOUS_ANSWER_SQL } from './agent-interaction-repository';
import { addPageConditions, cursorKeySql, type PageQuery, pageOrderSql } from '../keyset-pagination';
import type { FeedbackRating, FeedbackSource } from '../entities/interaction-feedback';

/** A stored feedback row. */
export interface FeedbackRow {
  id: string;
  tenant_id: string;
  agent_interaction_id: string;
  conversation_id: string;
  customer_id: string;
  rating: FeedbackRating | null;
  feedback_text: string | null;
  user_continued: boolean;
  completed_action: boolean;
  requested_human: boolean;
  response_time_seconds: number | null;
  source: FeedbackSource;
  metadata: Record<string, unknown>;
  implicit_satisfaction: string;
  created_at: Date;
  updated_at: Date;
}

/** A feedback row with the model that gave the answer, and its page cursor key. */
export type ListedFeedbackRow = FeedbackRow & { provider: string; model: string; cursor_micros: string };

/** Filters of the feedback list. */
export interface FeedbackFilter extends PageQuery {
  rating?: FeedbackRating | 'none';
  source?: FeedbackSource;
  withComments?: boolean;
  conversationId?: string;
}

/** A column to write: its value and an optional SQL cast of the placeholder. */
export type FeedbackColumns = Record<string, { value: unknown; cast?: string }>;

const SELECT_LISTED = `SELECT feedback.*, interaction.provider, interaction.model, ${cursorKeySql('feedback.created_at')} AS cursor_micros
  FROM interaction_feedback feedback JOIN agent_interactions interaction ON interaction.id = feedback.agent_interaction_id`;

/** A FeedbackRow's columns, named: a prepared statement's result must not change when a migration adds one. */
const FEEDBACK_COLUMNS = `id, tenant_id, agent_interaction_id, conversation_id, customer_id, rating, feedback_text, user_continued,
  completed_action, requested_human, response_time_seconds, source, metadata, implicit_satisfaction, created_at, updated_at`;

/**
 * The customer wrote again (not a button tap): the conversation's previous answer before that message ($1
 * conversation, $2 tenant, $3 the message's seq) is marked continued, with the seconds from its reply's sending to
 * the message ($4, its time), when that is at most $5 seconds (a message the clocks put before the reply counts as
 * 0 s). Only the first message after an answer sets the response time. One statement: finding the answer
 * (PREVIOUS_ANSWER_SQL) and writing its row were two on every turn (issue 18).
 */
const RECORD_CONTINUATION = preparedStatement(
  'parley_record_continuation',
  `
WITH previous AS (${PREVIOUS_ANSWER_SQL}
), signal AS (
  SELECT previous.id, previous.tenant_id, previous.conversation_id,
         round(extract(epoch FROM $4::timestamptz - previous.reply_sent_at))::int AS seconds
    FROM previous
)
INSERT INTO interaction_feedback (tenant_id, agent_interaction_id, conversation_id, customer_id, user_continued,
                                  response_time_seconds, source)
SELECT signal.tenant_id, signal.id, signal.conversation_id, conversation.customer_id, true, greatest(0, signal.seconds), 'implicit'
  FROM signal JOIN conversations conversation ON conversation.id = signal.conversation_id
 WHERE signal.seconds <= $5
ON CONFLICT (agent_interaction_id) DO UPDATE
   SET user_continued = true,
       response_time_seconds = COALESCE(interaction_feedback.response_time_seconds, EXCLUDED.response_time_seconds),
       updated_at = now()
RETURNING ${FEEDBACK_COLUMNS}`,
);

/** Reads and writes `interaction_feedback`. */
export class InteractionFeedbackRepository {
  constructor(private readonly manager: EntityManager) {}

  /**
   * Inserts the row for an interaction of the tenant with `columns`, or applies `onConflict` (SQL assignments that
   * may read EXCLUDED) to the existing one. Null when the tenant has no such interaction.
   */
  async upsert(
    tenantId: string,
    interactionId: string,
    columns: FeedbackColumns,
    onConflict: string,
    manager: EntityManager = this.manager,
  ): Promise<FeedbackRow | null> {
    const names = Object.keys(columns);
    const placeholders = names.map((name, index) => `$${index + 3}${columns[name].cast ?? ''}`);
    const rows: FeedbackRow[] = await manager.query(
      `INSERT INTO interaction_feedback (tenant_id, agent_interaction_id, conversation_id, customer_id, ${names.join(', ')})
       SELECT interaction.tenant_id, interaction.id, interaction.conversation_id, conversation.customer_id, ${placeholders.join(', ')}
       FROM agent_interactions interaction JOIN conversations conversation ON conversation.id = interaction.conversation_id
       WHERE interaction.id = $2 AND interaction.tenant_id = $1
       ON CONFLICT (agent_interaction_id) DO UPDATE SET ${onConflict}, updated_at = now()
       RETURNING *`,
      [tenantId, interactionId, ...names.map((name) => columns[name].value)],
    );
    return rows[0] ?? null;
  }

  /**
   * Marks the conversation's answer before `inbound` continued when `inbound` came within `windowSeconds` of its
   * reply being sent; the row written, or null when there was no such answer (or it came later).
   */
  async recordContinuation(
    inbound: { tenantId: string; conversationId: string; seq: string; createdAt: Date },
    windowSeconds: number,
    manager: EntityManager = this.manager,
  ): Promise<FeedbackRow | null> {
    const rows = await queryPrepared<FeedbackRow>(manager, RECORD_CONTINUATION, [
      inbound.conversationId,
      inbound.tenantId,
      inbound.seq,
      inbound.createdAt,
      windowSeconds,
    ]);
    return rows[0] ?? null;
  }

  /** The row of an interaction of the tenant, if any. */
  async findByInteraction(tenantId: string, interactionId: string): Promise<FeedbackRow | null> {
    const rows: FeedbackRow[] = await this.manager.query(
      'SELECT * FROM interaction_feedback WHERE tenant_id = $1 AND agent_interaction_id = $2',
      [tenantId, interactionId],
    );
    return rows[0] ?? null;
  }

  /** One row of the tenant by its own id, with the answering model; null otherwise. */
  async findListed(tenantId: string, id: string): Promise<ListedFeedbackRow | null> {
    const rows: ListedFeedbackRow[] = await this.manager.query(`${SELECT_LISTED} WHERE feedback.id = $1 AND feedback.tenant_id = $2`, [
      id,
      tenantId,
    ]);
    return rows[0] ?? null;
  }

  /** A page (limit + 1 rows, newest first) of the tenant's feedback matching the filter. */
  list(tenantId: string, filter: FeedbackFilter): Promise<ListedFeedbackRow[]> {
    const parameters: unknown[] = [tenantId];
    const conditions = ['feedback.tenant_id = $1'];
    const add = (sql: (placeholder: string) => string, value: unknown) => {
      parameters.push(value);
      conditions.push(sql(`$${parameters.length}`));
    };
    if (filter.rating === 'none') conditions.push('feedback.rating IS NULL');
    else if (filter.rating) add((placeholder) => `feedback.rating = ${placeholder}`, filter.rating);
    if (filter.source) add((placeholder) => `feedback.source = ${placeholder}`, filter.source);
    if (filter.withComments !== undefined) {
      conditions.push(`${filter.withComments ? '' : 'NOT '}(feedback.feedback_text IS NOT NULL AND feedback.feedback_text <> '')`);
    }
    if (filter.conversationId) add((placeholder) => `feedback.conversation_id = ${placeholder}`, filter.conversationId);
    const columns = { createdAt: 'feedback.created_at', id: 'feedback.id' };
    addPageConditions(filter, columns, conditions, parameters);
    const order = pageOrderSql(filter, columns, parameters);
    return this.manager.query(`${SELECT_LISTED} WHERE ${conditions.join(' AND ')} ${order}`, parameters);
  }
}
