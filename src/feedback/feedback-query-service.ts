/** Reading feedback for the API: pages of the tenant's feedback rows and single rows, with the answering model (the one API form of a feedback row). */
import type { EntityManager } from 'typeorm';
import { notFound } from '../http/errors';
import { addPageConditions, cursorKeySql, type Page, pageOrderSql, toPage } from '../http/pagination';
import type { FeedbackBody, FeedbackListQuery } from './feedback-api-schemas';
import type { FeedbackRow } from './interaction-feedback-service';

type FeedbackListRow = FeedbackRow & { provider: string; model: string; cursor_micros: string };

const SELECT_FEEDBACK = `SELECT feedback.*, interaction.provider, interaction.model, ${cursorKeySql('feedback.created_at')} AS cursor_micros
  FROM interaction_feedback feedback JOIN agent_interactions interaction ON interaction.id = feedback.agent_interaction_id`;

/** The API form of a feedback row with its interaction's provider and model. */
export function presentFeedbackRow(row: FeedbackListRow): FeedbackBody {
  return {
    id: row.id,
    interaction_id: row.agent_interaction_id,
    conversation_id: row.conversation_id,
    provider: row.provider,
    model: row.model,
    rating: row.rating,
    feedback_text: row.feedback_text,
    user_continued: row.user_continued,
    completed_action: row.completed_action,
    requested_human: row.requested_human,
    response_time_seconds: row.response_time_seconds,
    source: row.source,
    implicit_satisfaction: Number(row.implicit_satisfaction),
    metadata: row.metadata,
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}

/** A page of the tenant's feedback, newest first, filtered by rating, source, comments and conversation. */
export async function listFeedback(manager: EntityManager, tenantId: string, query: FeedbackListQuery): Promise<Page<FeedbackBody>> {
  const parameters: unknown[] = [tenantId];
  const conditions = ['feedback.tenant_id = $1'];
  const add = (sql: (placeholder: string) => string, value: unknown) => {
    parameters.push(value);
    conditions.push(sql(`$${parameters.length}`));
  };
  if (query.rating === 'none') conditions.push('feedback.rating IS NULL');
  else if (query.rating) add((placeholder) => `feedback.rating = ${placeholder}`, query.rating);
  if (query.source) add((placeholder) => `feedback.source = ${placeholder}`, query.source);
  if (query.with_comments !== undefined) {
    conditions.push(`${query.with_comments ? '' : 'NOT '}(feedback.feedback_text IS NOT NULL AND feedback.feedback_text <> '')`);
  }
  if (query.conversation_id) add((placeholder) => `feedback.conversation_id = ${placeholder}`, query.conversation_id);
  const columns = { createdAt: 'feedback.created_at', id: 'feedback.id' };
  addPageConditions(query, columns, conditions, parameters);
  const order = pageOrderSql(query, columns, parameters);
  const rows: FeedbackListRow[] = await manager.query(`${SELECT_FEEDBACK} WHERE ${conditions.join(' AND ')} ${order}`, parameters);
  return toPage(rows, query.limit, presentFeedbackRow);
}

/** One feedback row of the tenant; 404 otherwise. */
export async function findFeedback(manager: EntityManager, tenantId: string, id: string): Promise<FeedbackBody> {
  const [row]: FeedbackListRow[] = await manager.query(`${SELECT_FEEDBACK} WHERE feedback.id = $1 AND feedback.tenant_id = $2`, [id, tenantId]);
  if (!row) throw notFound('Feedback');
  return presentFeedbackRow(row);
}
