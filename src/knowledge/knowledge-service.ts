/**
 * Knowledge entries of a tenant: list, create, update, delete. Every query is scoped to the tenant. A write changes
 * the entry's passage of the hybrid search in the same transaction (question-answer-passages.ts).
 */
import type { EntityManager } from 'typeorm';
import { KnowledgeEntry } from '../db/entities/knowledge-entry';
import { notFound } from '../http/errors';
import { addPageConditions, cursorKeySql, pageOrderSql } from '../db/keyset-pagination';
import { type Page, toPage } from '../http/pagination';
import type { QuestionAnswerPassages } from './question-answer-passages';
import type { CreateKnowledgeBody, KnowledgeEntryBody, KnowledgeListQuery, UpdateKnowledgeBody } from './knowledge-schemas';

interface KnowledgeRow {
  id: string;
  question: string;
  answer: string;
  tags: string[];
  created_at: Date;
  updated_at: Date;
  cursor_micros: string;
}

/** The API form of an entry. */
export function presentKnowledgeEntry(
  entry: Pick<KnowledgeEntry, 'id' | 'question' | 'answer' | 'tags' | 'createdAt' | 'updatedAt'>,
): KnowledgeEntryBody {
  return {
    id: entry.id,
    question: entry.question,
    answer: entry.answer,
    tags: entry.tags,
    created_at: entry.createdAt.toISOString(),
    updated_at: entry.updatedAt.toISOString(),
  };
}

/** A page of the tenant's entries, newest first. */
export async function listKnowledge(
  manager: EntityManager,
  tenantId: string,
  query: KnowledgeListQuery,
): Promise<Page<KnowledgeEntryBody>> {
  const parameters: unknown[] = [tenantId];
  const conditions = ['tenant_id = $1'];
  if (query.tag) {
    parameters.push(query.tag);
    conditions.push(`$${parameters.length} = ANY(tags)`);
  }
  if (query.q) {
    // Escaped so % and _ in the search text match literally.
    parameters.push(`%${query.q.replace(/[\\%_]/g, (character) => `\\${character}`)}%`);
    conditions.push(`(question ILIKE $${parameters.length} OR answer ILIKE $${parameters.length})`);
  }
  const columns = { createdAt: 'created_at', id: 'id' };
  addPageConditions(query, columns, conditions, parameters);
  const order = pageOrderSql(query, columns, parameters);
  const rows: KnowledgeRow[] = await manager.query(
    `SELECT id, question, answer, tags, created_at, updated_at, ${cursorKeySql('created_at')} AS cursor_micros
     FROM knowledge_entries WHERE ${conditions.join(' AND ')} ${order}`,
    parameters,
  );
  return toPage(rows, query.limit, (row) =>
    presentKnowledgeEntry({ ...row, createdAt: new Date(row.created_at), updatedAt: new Date(row.updated_at) }),
  );
}

/** Where entries are written: the database and the passages that make them searchable. */
export interface KnowledgeEntryStore {
  manager: EntityManager;
  passages: QuestionAnswerPassages;
}

/** Adds one entry with its passage. */
export async function createKnowledgeEntry(
  store: KnowledgeEntryStore,
  tenantId: string,
  body: CreateKnowledgeBody,
): Promise<KnowledgeEntry> {
  const entry = await store.manager.transaction(async (manager) => {
    const saved = await manager.save(
      manager.create(KnowledgeEntry, { tenantId, question: body.question, answer: body.answer, tags: body.tags }),
    );
    await store.passages.indexEntries(manager, tenantId, [saved]);
    return saved;
  });
  store.passages.changed(tenantId);
  return entry;
}

/** One entry of the tenant; 404 when it does not exist or belongs to another tenant. */
export async function findKnowledgeEntry(manager: EntityManager, tenantId: string, id: string): Promise<KnowledgeEntry> {
  const entry = await manager.findOneBy(KnowledgeEntry, { id, tenantId });
  if (!entry) throw notFound('Knowledge entry');
  return entry;
}

/** Changes the given fields of an entry; its passage is rewritten when the question or the answer changed. */
export async function updateKnowledgeEntry(
  store: KnowledgeEntryStore,
  tenantId: string,
  id: string,
  body: UpdateKnowledgeBody,
): Promise<KnowledgeEntry> {
  const entry = await store.manager.transaction(async (manager) => {
    const found = await findKnowledgeEntry(manager, tenantId, id);
    const textChanged =
      (body.question !== undefined && body.question !== found.question) || (body.answer !== undefined && body.answer !== found.answer);
    if (body.question !== undefined) found.question = body.question;
    if (body.answer !== undefined) found.answer = body.answer;
    if (body.tags !== undefined) found.tags = body.tags;
    const saved = await manager.save(found);
    if (textChanged) await store.passages.indexEntries(manager, tenantId, [saved]);
    return saved;
  });
  store.passages.changed(tenantId);
  return entry;
}

/** Removes an entry with its passage; 404 when the tenant has no such entry. */
export async function deleteKnowledgeEntry(store: KnowledgeEntryStore, tenantId: string, id: string): Promise<void> {
  await store.manager.transaction(async (manager) => {
    const result = await manager.delete(KnowledgeEntry, { id, tenantId });
    if (!result.affected) throw notFound('Knowledge entry');
    await store.passages.sourceDeleted(manager, tenantId);
  });
  store.passages.changed(tenantId);
}
