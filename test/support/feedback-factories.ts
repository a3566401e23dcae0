/** Factories for the feedback API tests: feedback tokens, and feedback rows on real answered interactions. */
import { feedbackTokenKey, issueFeedbackToken } from '../../src/feedback/feedback-token';
import { answeredInteraction } from './correction-factories';
import type { TenantFixture } from './factories';
import type { TestContext } from './test-context';

/** The token the bot would have sent with its reply to this interaction. */
export function feedbackTokenFor(context: TestContext, tenantId: string, interactionId: string): string {
  return issueFeedbackToken(feedbackTokenKey(context.encryptionKey), tenantId, interactionId);
}

export interface FeedbackSpec {
  rating: 'helpful' | 'not_helpful' | null;
  text?: string;
  continued?: boolean;
  completed?: boolean;
  human?: boolean;
  responseTimeSeconds?: number;
  provider?: string;
  model?: string;
  /** The row's created_at: this many whole days before today's UTC midnight, plus 12 hours. */
  daysAgo?: number;
}

let customerNumber = 0;

/**
 * One answered interaction per spec (each from its own customer, so no implicit continuation links them) with the
 * given model and a feedback row carrying the spec's signals. Returns the interaction ids in order.
 */
export async function seedFeedback(context: TestContext, fixture: TenantFixture, specs: FeedbackSpec[]): Promise<string[]> {
  const ids: string[] = [];
  for (const spec of specs) {
    customerNumber += 1;
    const { interactionId } = await answeredInteraction(
      context,
      fixture,
      'What are your opening hours?',
      `whatsapp:+1415700${String(customerNumber).padStart(4, '0')}`,
    );
    const database = context.database.dataSource;
    await database.query('UPDATE agent_interactions SET provider = $2, model = $3 WHERE id = $1', [
      interactionId,
      spec.provider ?? 'offline',
      spec.model ?? 'offline-v1',
    ]);
    await database.query(
      `INSERT INTO interaction_feedback (tenant_id, agent_interaction_id, conversation_id, customer_id, rating, feedback_text,
         user_continued, completed_action, requested_human, response_time_seconds, source, created_at)
       SELECT interaction.tenant_id, interaction.id, interaction.conversation_id, conversation.customer_id, $2, $3, $4, $5, $6, $7,
              CASE WHEN $2::varchar IS NULL THEN 'implicit' ELSE 'whatsapp_button' END,
              date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - make_interval(days => $8) + interval '12 hours'
       FROM agent_interactions interaction JOIN conversations conversation ON conversation.id = interaction.conversation_id
       WHERE interaction.id = $1
       ON CONFLICT (agent_interaction_id) DO UPDATE SET rating = EXCLUDED.rating, feedback_text = EXCLUDED.feedback_text,
         user_continued = EXCLUDED.user_continued, completed_action = EXCLUDED.completed_action,
         requested_human = EXCLUDED.requested_human, response_time_seconds = EXCLUDED.response_time_seconds,
         source = EXCLUDED.source, created_at = EXCLUDED.created_at`,
      [
        interactionId,
        spec.rating,
        spec.text ?? null,
        spec.continued ?? false,
        spec.completed ?? false,
        spec.human ?? false,
        spec.responseTimeSeconds ?? null,
        spec.daysAgo ?? 1,
      ],
    );
    ids.push(interactionId);
  }
  return ids;
}

/** The UTC date (YYYY-MM-DD) of `daysAgo` days before today, by the database's clock (the one that stamped the rows). */
export async function utcDay(context: TestContext, daysAgo: number): Promise<string> {
  const [row] = await context.database.dataSource.query(
    `SELECT to_char(date_trunc('day', now() AT TIME ZONE 'UTC') - make_interval(days => $1), 'YYYY-MM-DD') AS day`,
    [daysAgo],
  );
  return row.day;
}
