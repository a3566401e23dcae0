/** Request and response schemas of the feedback API (submit, list, detail, analytics); validation and OpenAPI both use them. */
import { z } from 'zod';
import { FEEDBACK_RATINGS, FEEDBACK_SOURCES } from '../db/entities/interaction-feedback';
import { paginationQueryShape } from '../http/pagination';
import { safeText } from '../http/safe-text';

export const submitFeedbackBodySchema = z
  .object({
    interaction_id: z.uuid(),
    feedback_token: safeText().min(1).max(100).describe('The token issued with the bot’s reply'),
    rating: z.enum(FEEDBACK_RATINGS),
    feedback_text: safeText().trim().max(2000).optional(),
  })
  .strict();

export const feedbackIdParamsSchema = z.object({ id: z.uuid() });

export const feedbackListQuerySchema = z.object({
  ...paginationQueryShape,
  rating: z
    .enum([...FEEDBACK_RATINGS, 'none'])
    .optional()
    .describe('helpful, not_helpful, or none (implicit signals only)'),
  source: z.enum(FEEDBACK_SOURCES).optional(),
  with_comments: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional(),
  conversation_id: z.uuid().optional(),
});
export type FeedbackListQuery = z.output<typeof feedbackListQuerySchema>;

export const analyticsQuerySchema = z.object({
  days: z.coerce.number().int().min(1).max(365).default(30).describe('The window: feedback recorded in the last N days'),
});

export const feedbackSchema = z.object({
  id: z.uuid(),
  interaction_id: z.uuid(),
  conversation_id: z.uuid(),
  provider: z.string(),
  model: z.string(),
  rating: z.enum(FEEDBACK_RATINGS).nullable(),
  feedback_text: z.string().nullable(),
  user_continued: z.boolean(),
  completed_action: z.boolean(),
  requested_human: z.boolean(),
  response_time_seconds: z.number().int().nullable(),
  source: z.enum(FEEDBACK_SOURCES),
  implicit_satisfaction: z.number(),
  metadata: z.record(z.string(), z.unknown()).describe('Signal details, e.g. events: the purchases and bookings reported for the answer'),
  created_at: z.string(),
  updated_at: z.string(),
});
export type FeedbackBody = z.infer<typeof feedbackSchema>;

const metricsShape = {
  total: z.number().int(),
  helpful: z.number().int(),
  not_helpful: z.number().int(),
  helpful_rate: z.number().nullable().describe('helpful / (helpful + not_helpful); null without ratings'),
  avg_implicit_score: z.number().nullable(),
  with_comments: z.number().int(),
  user_continued_rate: z.number().nullable(),
  completed_action_rate: z.number().nullable(),
  requested_human_rate: z.number().nullable(),
};
export const feedbackMetricsSchema = z.object(metricsShape);
export type FeedbackMetrics = z.infer<typeof feedbackMetricsSchema>;

export const analyticsSchema = z.object({
  days: z.number().int(),
  since: z.string(),
  ...metricsShape,
  by_day: z.array(z.object({ day: z.string().describe('UTC date, YYYY-MM-DD'), ...metricsShape })),
  by_model: z.array(z.object({ provider: z.string(), model: z.string(), ...metricsShape })),
});
export type AnalyticsBody = z.infer<typeof analyticsSchema>;

export const submitFeedbackResultSchema = z.object({
  interaction_id: z.uuid(),
  rating: z.enum(FEEDBACK_RATINGS),
  feedback_text: z.string().nullable(),
  source: z.enum(FEEDBACK_SOURCES),
  created: z.boolean().describe('true when this is the interaction’s first rating'),
});
