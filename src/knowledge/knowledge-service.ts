/** Knowledge entries of a tenant: list, create, update, delete. Every query is scoped to the tenant. */
import type { EntityManager } from 'typeorm';
import { KnowledgeEntry } from '../db/entities/knowledge-entry';
import { notFound } from '../http/errors';
import { addPageConditions, cursorKeySql, pageOrderSql } from '../db/keyset-pagination';
import { type Page, toPage } from '../http/pagination';
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

/** Adds one entry. */
export function createKnowledgeEntry(manager: EntityManager, tenantId: string, body: CreateKnowledgeBody): Promise<KnowledgeEntry> {
  return manager.save(manager.create(KnowledgeEntry, { tenantId, question: body.question, answer: body.answer, tags: body.tags }));
}

/** One entry of the tenant; 404 when it does not exist or belongs to another tenant. */
export async function findKnowledgeEntry(manager: EntityManager, tenantId: string, id: string): Promise<KnowledgeEntry> {
  const entry = await manager.findOneBy(KnowledgeEntry, { id, tenantId });
  if (!entry) throw notFound('Knowledge entry');
  return entry;
}

/** Changes the given fields of an entry. */
export async function updateKnowledgeEntry(
  manager: EntityManager,
  tenantId: string,
  id: string,
  body: UpdateKnowledgeBody,
): Promise<KnowledgeEntry> {
  const entry = await findKnowledgeEntry(manager, tenantId, id);
  if (body.question !== undefined) entry.question = body.question;
  if (body.answer !== undefined) entry.answer = body.answer;
  if (body.tags !== undefined) entry.tags = body.tags;
  return manager.save(entry);
}

/** Removes an entry; 404 when the tenant has no such entry. */
export async function deleteKnowledgeEntry(manager: EntityManager, tenantId: string, id: string): Promise<void> {
  const result = await manager.delete(KnowledgeEntry, { id, tenantId });
  if (!result.affected) throw notFound('Knowledge entry');
}
