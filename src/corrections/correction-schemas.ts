/** Request and response schemas of the corrections API; the router validates with them and the OpenAPI document is built from them. */
import { z } from 'zod';
import { CORRECTION_CATEGORIES } from '../db/entities/correction';
import { paginationQueryShape } from '../http/pagination';
import { safeText } from '../http/safe-text';

const text = (max: number) => safeText().trim().min(1).max(max);
const booleanQuery = z.enum(['true', 'false']).transform((value) => value === 'true');
/** 0 to 5 in steps of 0.1 (4.5), as stored in numeric(2,1); a query string is coerced first. */
const qualityScore = z.number().min(0).max(5).multipleOf(0.1);
const minQuality = z.coerce.number().min(0).max(5).multipleOf(0.1);

export const correctionIdParamsSchema = z.object({ id: z.uuid() });

export const correctionListQuerySchema = z.object({
  ...paginationQueryShape,
  category: z.enum(CORRECTION_CATEGORIES).optional(),
  approved: booleanQuery.optional().describe('true: only approved for training; false: only not (yet) approved'),
  min_quality: minQuality.optional().describe('Only corrections with at least this quality score (0 to 5, one decimal)'),
  interaction_id: z.uuid().optional(),
});
export type CorrectionListQuery = z.output<typeof correctionListQuerySchema>;

export const approvedListQuerySchema = correctionListQuerySchema.omit({ approved: true });

export const createCorrectionBodySchema = z
  .object({
    interaction_id: z
      .uuid()
      .optional()
      .describe('The bot answer being corrected; fills conversation, customer message, bot response and context'),
    conversation_id: z.uuid().optional(),
    customer_message: text(4000).optional().describe('Required without interaction_id'),
    bot_response: text(8000).optional().describe('Required without interaction_id'),
    human_response: text(8000),
    correction_reason: safeText().trim().max(2000).optional(),
    correction_category: z.enum(CORRECTION_CATEGORIES),
  })
  .strict()
  .refine((body) => body.interaction_id !== undefined || (body.customer_message !== undefined && body.bot_response !== undefined), {
    message: 'Give interaction_id, or customer_message and bot_response',
    path: ['interaction_id'],
  });
export type CreateCorrectionBody = z.output<typeof createCorrectionBodySchema>;

export const updateCorrectionBodySchema = z
  .object({
    customer_message: text(4000).optional(),
    bot_response: text(8000).optional(),
    human_response: text(8000).optional(),
    correction_reason: safeText().trim().max(2000).nullable().optional(),
    correction_category: z.enum(CORRECTION_CATEGORIES).optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'Give at least one field to change');
export type UpdateCorrectionBody = z.output<typeof updateCorrectionBodySchema>;

export const approveCorrectionBodySchema = z
  .object({
    approved: z.boolean(),
    quality_score: qualityScore.describe('0 to 5 with at most one decimal, e.g. 4.5'),
  })
  .strict();
export type ApproveCorrectionBody = z.output<typeof approveCorrectionBodySchema>;

export const EXPORT_FORMATS = ['openai', 'openai-preference', 'gemini'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const exportQuerySchema = z.object({
  format: z.enum(EXPORT_FORMATS).default('openai'),
  min_quality: minQuality.default(0).describe('Only approved corrections with at least this quality score (0 to 5, one decimal)'),
  category: z.enum(CORRECTION_CATEGORIES).optional(),
});
export type ExportQuery = z.output<typeof exportQuerySchema>;

export const correctionSchema = z.object({
  id: z.uuid(),
  interaction_id: z.uuid().nullable(),
  conversation_id: z.uuid().nullable(),
  customer_message: z.string(),
  context: z.array(z.object({ role: z.enum(['user', 'assistant']), content: z.string() })),
  bot_response: z.string(),
  human_response: z.string(),
  correction_reason: z.string().nullable(),
  correction_category: z.enum(CORRECTION_CATEGORIES),
  corrected_by: z.uuid().nullable(),
  approved_for_training: z.boolean(),
  quality_score: z.number().nullable().describe('0 to 5 with at most one decimal; null until reviewed'),
  approved_by: z.uuid().nullable(),
  approved_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type CorrectionBody = z.infer<typeof correctionSchema>;
