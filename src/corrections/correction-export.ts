/**
 * Training export of approved corrections as JSON Lines, in three formats:
 * - openai: chat fine-tuning, {"messages":[system, ...context, user, assistant = the human's answer]}
 * - openai-preference: preference tuning, {"input":{"messages":[...]},"preferred_output":[human],"non_preferred_output":[bot]}
 * - gemini: tuning, {"systemInstruction":{"role":"system","parts":[{"text"}]},"contents":[{"role":"user"|"model","parts":[{"text"}]}]}
 * Rows are read in keyset batches and written as they come, so an export of any size holds one batch in memory.
 */
import { buildSystemPrompt } from '../agent/agent';
import type { CorrectionContextMessage } from '../db/entities/correction';
import type { ResolvedTenant } from '../tenants/tenant-service';
import type { CorrectionRepository } from '../db/repositories/correction-repository';
import type { ChatMessage } from '../llm/types';
import type { ExportFormat, ExportQuery } from './correction-schemas';

const BATCH_SIZE = 500;

export interface ExportableCorrection {
  customerMessage: string;
  context: CorrectionContextMessage[];
  botResponse: string;
  humanResponse: string;
}

/** The prompt the model saw: system, the earlier conversation, then the customer's message. */
function promptMessages(systemPrompt: string, correction: ExportableCorrection): ChatMessage[] {
  return [
    { role: 'system', content: systemPrompt },
    ...correction.context.map((message) => ({ role: message.role, content: message.content })),
    { role: 'user', content: correction.customerMessage },
  ];
}

/** Gemini wants user/model turns that start with user and alternate; adjacent turns of one role are merged. */
function geminiContents(messages: ChatMessage[]): Array<{ role: 'user' | 'model'; parts: Array<{ text: string }> }> {
  const contents: Array<{ role: 'user' | 'model'; parts: Array<{ text: string }> }> = [];
  for (const message of messages) {
    if (message.role === 'system') continue;
    const role = message.role === 'user' ? 'user' : 'model';
    if (contents.length === 0 && role === 'model') continue;
    const last = contents[contents.length - 1];
    if (last && last.role === role) last.parts.push({ text: message.content });
    else contents.push({ role, parts: [{ text: message.content }] });
  }
  return contents;
}

/** One JSONL line (without the newline) for a correction in the given format. */
export function formatTrainingLine(format: ExportFormat, systemPrompt: string, correction: ExportableCorrection): string {
  const prompt = promptMessages(systemPrompt, correction);
  switch (format) {
    case 'openai':
      return JSON.stringify({ messages: [...prompt, { role: 'assistant', content: correction.humanResponse }] });
    case 'openai-preference':
      return JSON.stringify({
        input: { messages: prompt },
        preferred_output: [{ role: 'assistant', content: correction.humanResponse }],
        non_preferred_output: [{ role: 'assistant', content: correction.botResponse }],
      });
    case 'gemini':
      return JSON.stringify({
        systemInstruction: { role: 'system', parts: [{ text: systemPrompt }] },
        contents: geminiContents([...prompt, { role: 'assistant', content: correction.humanResponse }]),
      });
  }
}

/**
 * Writes the tenant's approved corrections (quality >= min_quality), oldest first, one line each, through `write`;
 * `write` resolves when the consumer is ready for more. Returns how many lines were written.
 */
export async function exportCorrections(
  corrections: CorrectionRepository,
  tenant: Pick<ResolvedTenant, 'tenant' | 'settings'>,
  query: ExportQuery,
  write: (chunk: string) => Promise<void>,
): Promise<number> {
  const systemPrompt = buildSystemPrompt(tenant, []);
  let after: { createdAt: string; id: string } | null = null;
  let written = 0;
  for (;;) {
    const rows = await corrections.exportBatch(
      tenant.tenant.id,
      { minQuality: query.min_quality, category: query.category },
      after,
      BATCH_SIZE,
    );
    if (rows.length === 0) return written;
    const lines = rows.map((row) =>
      formatTrainingLine(query.format, systemPrompt, {
        customerMessage: row.customer_message,
        context: row.context,
        botResponse: row.bot_response,
        humanResponse: row.human_response,
      }),
    );
    await write(`${lines.join('\n')}\n`);
    written += rows.length;
    const last = rows[rows.length - 1];
    after = { createdAt: last.created_at_text, id: last.id };
    if (rows.length < BATCH_SIZE) return written;
  }
}
