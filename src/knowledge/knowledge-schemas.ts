/** Request and response schemas of the knowledge API; the router validates with them and the OpenAPI document is built from them. */
import { z } from 'zod';
import { paginationQueryShape } from '../http/pagination';
import { safeText } from '../http/safe-text';
import { knowledgeEntryInputSchema, MAX_IMPORT_ENTRIES } from './knowledge-import';

export const knowledgeIdParamsSchema = z.object({ id: z.uuid() });

export const knowledgeListQuerySchema = z.object({
  ...paginationQueryShape,
  tag: safeText().trim().min(1).max(50).optional().describe('Only entries carrying this tag'),
  q: safeText().trim().min(1).max(200).optional().describe('Case-insensitive text contained in the question or answer'),
});
export type KnowledgeListQuery = z.output<typeof knowledgeListQuerySchema>;

export const createKnowledgeBodySchema = knowledgeEntryInputSchema.strict();
export type CreateKnowledgeBody = z.output<typeof createKnowledgeBodySchema>;

export const updateKnowledgeBodySchema = z
  .object({
    question: knowledgeEntryInputSchema.shape.question.optional(),
    answer: knowledgeEntryInputSchema.shape.answer.optional(),
    tags: z.array(safeText().trim().min(1).max(50)).max(20).optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'Give at least one of question, answer, tags');
export type UpdateKnowledgeBody = z.output<typeof updateKnowledgeBodySchema>;

export const importKnowledgeBodySchema = z
  .object({
    format: z.enum(['json', 'csv']),
    content: safeText()
      .min(1)
      .max(1_000_000)
      .describe(
        `The file: a JSON array of {question, answer, tags?} or CSV with a question,answer[,tags] header (tags separated by ";"); at most ${MAX_IMPORT_ENTRIES} entries`,
      ),
  })
  .strict();

export const knowledgeEntrySchema = z.object({
  id: z.uuid(),
  question: z.string(),
  answer: z.string(),
  tags: z.array(z.string()),
  created_at: z.string(),
  updated_at: z.string(),
});
export type KnowledgeEntryBody = z.infer<typeof knowledgeEntrySchema>;

export const importKnowledgeResultSchema = z.object({ imported: z.number().int() });
