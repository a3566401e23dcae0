/**
 * Bulk import of knowledge entries from JSON ([{question, answer, tags?}]) or CSV (header: question,answer[,tags]
 * with tags separated by ";"). Used by `npm run admin -- knowledge:import` and the knowledge API.
 */
import { z } from 'zod';
import { KnowledgeEntry } from '../db/entities/knowledge-entry';
import { badRequest } from '../http/errors';
import { safeText } from '../http/safe-text';
import type { KnowledgeEntryStore } from './knowledge-service';

export const knowledgeEntryInputSchema = z.object({
  question: safeText().trim().min(1).max(2000),
  answer: safeText().trim().min(1).max(8000),
  tags: z.array(safeText().trim().min(1).max(50)).max(20).default([]),
});

export type KnowledgeEntryInput = z.infer<typeof knowledgeEntryInputSchema>;

/** At most this many entries per import, so one request cannot hold the database for long. */
export const MAX_IMPORT_ENTRIES = 5000;

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF) into rows. */
export function parseCsv(content: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let index = 0; index < content.length; index += 1) {
    const character = content[index];
    if (quoted) {
      if (character === '"' && content[index + 1] === '"') {
        field += '"';
        index += 1;
      } else if (character === '"') quoted = false;
      else field += character;
    } else if (character === '"' && field === '') quoted = true;
    else if (character === ',') {
      row.push(field);
      field = '';
    } else if (character === '\n' || character === '\r') {
      if (character === '\r' && content[index + 1] === '\n') index += 1;
      row.push(field);
      if (row.some((value) => value !== '')) rows.push(row);
      row = [];
      field = '';
    } else field += character;
  }
  if (quoted) throw badRequest('CSV has an unterminated quoted field');
  row.push(field);
  if (row.some((value) => value !== '')) rows.push(row);
  return rows;
}

/** Parses and validates a knowledge file; 400 with the offending line or index. */
export function parseKnowledgeFile(content: string, format: 'json' | 'csv'): KnowledgeEntryInput[] {
  let candidates: unknown[];
  if (format === 'json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(content);
    } catch {
      throw badRequest('The file is not valid JSON');
    }
    if (!Array.isArray(parsed)) throw badRequest('Expected a JSON array of {question, answer, tags?}');
    candidates = parsed;
  } else {
    const [header, ...rows] = parseCsv(content.replace(/^\uFEFF/, ''));
    const columns = (header ?? []).map((name) => name.trim().toLowerCase());
    const questionColumn = columns.indexOf('question');
    const answerColumn = columns.indexOf('answer');
    const tagsColumn = columns.indexOf('tags');
    if (questionColumn < 0 || answerColumn < 0) throw badRequest('CSV header must name the columns question and answer');
    candidates = rows.map((row) => ({
      question: row[questionColumn] ?? '',
      answer: row[answerColumn] ?? '',
      tags:
        tagsColumn >= 0 && row[tagsColumn]
          ? row[tagsColumn]
              .split(';')
              .map((tag) => tag.trim())
              .filter(Boolean)
          : [],
    }));
  }
  if (candidates.length > MAX_IMPORT_ENTRIES) throw badRequest(`At most ${MAX_IMPORT_ENTRIES} entries per import`);
  return candidates.map((candidate, index) => {
    const result = knowledgeEntryInputSchema.safeParse(candidate);
    if (!result.success) {
      const where = format === 'csv' ? `line ${index + 2}` : `entry ${index}`;
      throw badRequest(
        `Invalid knowledge ${where}`,
        result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
      );
    }
    return result.data;
  });
}

/** Inserts the entries for a tenant, with their passages, in one transaction; returns how many were stored. */
export async function importKnowledge(store: KnowledgeEntryStore, tenantId: string, entries: KnowledgeEntryInput[]): Promise<number> {
  if (entries.length === 0) return 0;
  await store.manager.transaction(async (transaction) => {
    for (let start = 0; start < entries.length; start += 500) {
      const inserted = await transaction.save(
        KnowledgeEntry,
        entries.slice(start, start + 500).map((entry) => transaction.create(KnowledgeEntry, { ...entry, tenantId })),
      );
      await store.passages.indexEntries(transaction, tenantId, inserted);
    }
  });
  store.passages.changed(tenantId);
  return entries.length;
}
