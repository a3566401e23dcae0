/**
 * Reading feedback for the API: pages of the tenant's feedback rows and single rows, with the answering model (the
 * one API form of a feedback row), and the analytics report.
 */
import type { EntityManager } from 'typeorm';
import type { InteractionFeedbackRepository, ListedFeedbackRow } from '../db/repositories/interaction-feedback-repository';
import { notFound } from '../http/errors';
import { type Page, toPage } from '../http/pagination';
import { feedbackAnalytics } from './feedback-analytics';
import type { AnalyticsBody, FeedbackBody, FeedbackListQuery } from './feedback-api-schemas';

/** The API form of a feedback row with its interaction's provider and model. */
export function presentFeedbackRow(row: ListedFeedbackRow): FeedbackBody {
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

/** The feedback API's reads. */
export class FeedbackQueryService {
  constructor(
    private readonly rows: InteractionFeedbackRepository,
    /** For the analytics report, which aggregates in SQL across feedback and interactions. */
    private readonly manager: EntityManager,
  ) {}

  /** A page of the tenant's feedback, newest first, filtered by rating, source, comments and conversation. */
  async list(tenantId: string, query: FeedbackListQuery): Promise<Page<FeedbackBody>> {
    const listed = await this.rows.list(tenantId, { ...query, withComments: query.with_comments, conversationId: query.conversation_id });
    return toPage(listed, query.limit, presentFeedbackRow);
  }

  /** One feedback row of the tenant; 404 otherwise. */
  async find(tenantId: string, id: string): Promise<FeedbackBody> {
    const row = await this.rows.findListed(tenantId, id);
    if (!row) throw notFound('Feedback');
    return presentFeedbackRow(row);
  }

  /** Totals, per-UTC-day and per-provider/model metrics of the tenant's feedback of the last `days` days. */
  analytics(tenantId: string, days: number): Promise<AnalyticsBody> {
    return feedbackAnalytics(this.manager, tenantId, days);
  }
}
