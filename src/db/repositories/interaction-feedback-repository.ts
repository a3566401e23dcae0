/**
 * The one home of the SQL on `interaction_feedback` outside the analytics reports (feedback/feedback-analytics.ts,
 * dashboard/overview.ts): one row per agent interaction, created by whichever signal comes first and updated in
 * place by the rest. Every write is one upsert statement, so concurrent signals cannot create a second row; the
 * satisfaction score is a generated column, recomputed by the database.
 */
import type { EntityManager } from 'typeorm';
import { previousAnswerSql } from './agent-interaction-repository';
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

/**
 * The implicit-feedback write, as common table expressions for the statement that settles a turn
 * (MessageRepository.finishTurn): the customer wrote again (not a button tap), so the conversation's previous answer
 * before that message is marked continued, with the seconds from its reply's sending to the message, when that is
 * at most the window (a message the clocks put before the reply counts as 0 s). Only the first message after an
 * answer sets the response time. The arguments are SQL expressions for the message's conversation, tenant, seq and
 * time, and for the window in seconds (NULL: no signal, nothing written). Stored with the turn, it costs no
 * statement of its own (it was two per turn, then one: issue 18). Defines `continued`, the rows written.
 */
export const continuationCtes = (
  message: { conversationId: string; tenantId: string; seq: string; createdAt: string },
  windowSeconds: string,
) => `
previous_answer AS (${previousAnswerSql(message.conversationId, message.tenantId, message.seq)}
), continuation AS (
  SELECT previous_answer.id, previous_answer.tenant_id, previous_answer.conversation_id,
         round(extract(epoch FROM ${message.createdAt} - previous_answer.reply_sent_at))::int AS seconds
    FROM previous_answer WHERE ${windowSeconds} IS NOT NULL
), continued AS (
  INSERT INTO interaction_feedback (tenant_id, agent_interaction_id, conversation_id, customer_id, user_continued,
                                    response_time_seconds, source)
  SELECT continuation.tenant_id, continuation.id, continuation.conversation_id, conversation.customer_id, true,
         greatest(0, continuation.seconds), 'implicit'
    FROM continuation JOIN conversations conversation ON conversation.id = continuation.conversation_id
   WHERE continuation.seconds <= ${windowSeconds}
  ON CONFLICT (agent_interaction_id) DO UPDATE
     SET user_continued = true,
         response_time_seconds = COALESCE(interaction_feedback.response_time_seconds, EXCLUDED.response_time_seconds),
         updated_at = now()
  RETURNING interaction_feedback.id
)`;

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
