/**
 * /v1/bot/knowledge: the tenant's question/answer knowledge. Reads need conversations:manage (the people answering
 * customers consult it); writes and imports need users:manage, like every other change to what the bot says.
 */
import express, { type Request, Router } from 'express';
import { authOf, requireScope } from '../http/auth';
import { registerRoute } from '../http/openapi/route-registry';
import { pageSchema } from '../http/pagination';
import { parseRequest } from '../http/validate';
import { importKnowledge, type KnowledgeEntryInput, parseKnowledgeFile } from './knowledge-import';
import {
  createKnowledgeBodySchema,
  importKnowledgeBodySchema,
  importKnowledgeResultSchema,
  knowledgeEntrySchema,
  knowledgeIdParamsSchema,
  knowledgeListQuerySchema,
  updateKnowledgeBodySchema,
} from './knowledge-schemas';
import {
  createKnowledgeEntry,
  deleteKnowledgeEntry,
  findKnowledgeEntry,
  type KnowledgeEntryStore,
  listKnowledge,
  presentKnowledgeEntry,
  updateKnowledgeEntry,
} from './knowledge-service';

const PREFIX = '/v1/bot/knowledge';
const READ_SCOPE = 'conversations:manage';
const WRITE_SCOPE = 'users:manage';
const tags = ['knowledge'];

registerRoute({
  method: 'get',
  path: `${PREFIX}/`,
  scope: READ_SCOPE,
  tags,
  summary: 'List knowledge entries, newest first',
  query: knowledgeListQuerySchema,
  responses: { 200: { description: 'A page of entries', schema: pageSchema(knowledgeEntrySchema) } },
});
registerRoute({
  method: 'post',
  path: `${PREFIX}/`,
  scope: WRITE_SCOPE,
  tags,
  summary: 'Add a knowledge entry',
  body: createKnowledgeBodySchema,
  responses: { 201: { description: 'The new entry', schema: knowledgeEntrySchema } },
});
registerRoute({
  method: 'post',
  path: `${PREFIX}/import/`,
  scope: WRITE_SCOPE,
  tags,
  summary: 'Bulk import entries from a JSON or CSV file (all or nothing)',
  description:
    'The body is {format, content}; a raw JSON array of entries, or a raw CSV file sent as Content-Type text/csv, is accepted too.',
  body: importKnowledgeBodySchema,
  responses: { 201: { description: 'How many entries were added', schema: importKnowledgeResultSchema } },
});
registerRoute({
  method: 'get',
  path: `${PREFIX}/{id}/`,
  scope: READ_SCOPE,
  tags,
  summary: 'One knowledge entry',
  params: knowledgeIdParamsSchema,
  responses: { 200: { description: 'The entry', schema: knowledgeEntrySchema } },
});
registerRoute({
  method: 'patch',
  path: `${PREFIX}/{id}/`,
  scope: WRITE_SCOPE,
  tags,
  summary: 'Change a knowledge entry',
  params: knowledgeIdParamsSchema,
  body: updateKnowledgeBodySchema,
  responses: { 200: { description: 'The changed entry', schema: knowledgeEntrySchema } },
});
registerRoute({
  method: 'delete',
  path: `${PREFIX}/{id}/`,
  scope: WRITE_SCOPE,
  tags,
  summary: 'Delete a knowledge entry',
  params: knowledgeIdParamsSchema,
  responses: { 204: { description: 'Deleted' } },
});

// A raw CSV upload (`curl --data-binary @faq.csv -H 'Content-Type: text/csv'`) is read as text; JSON is parsed upstream.
const csvBody = express.text({ type: 'text/csv', limit: '1mb' });

/** The entries of an import request: a raw CSV body, a raw JSON array, or {format, content}. */
function importedEntries(request: Request): KnowledgeEntryInput[] {
  if (request.is('text/csv')) return parseKnowledgeFile(typeof request.body === 'string' ? request.body : '', 'csv');
  if (Array.isArray(request.body)) return parseKnowledgeFile(JSON.stringify(request.body), 'json');
  const body = parseRequest(importKnowledgeBodySchema, request.body, 'body');
  return parseKnowledgeFile(body.content, body.format);
}

/** Routes under /v1/bot/knowledge (mounted behind authenticate). */
export function createKnowledgeRouter(deps: KnowledgeEntryStore): Router {
  const { manager } = deps;
  const router = Router();

  router.get('/', requireScope(READ_SCOPE), async (request, response) => {
    const query = parseRequest(knowledgeListQuerySchema, request.query, 'query');
    response.json(await listKnowledge(manager, authOf(response).tenantId, query));
  });

  router.post('/', requireScope(WRITE_SCOPE), async (request, response) => {
    const body = parseRequest(createKnowledgeBodySchema, request.body, 'body');
    const entry = await createKnowledgeEntry(deps, authOf(response).tenantId, body);
    response.status(201).json(presentKnowledgeEntry(entry));
  });

  router.post('/import', requireScope(WRITE_SCOPE), csvBody, async (request, response) => {
    const imported = await importKnowledge(deps, authOf(response).tenantId, importedEntries(request));
    response.status(201).json({ imported });
  });

  router.get('/:id', requireScope(READ_SCOPE), async (request, response) => {
    const { id } = parseRequest(knowledgeIdParamsSchema, request.params, 'path');
    response.json(presentKnowledgeEntry(await findKnowledgeEntry(manager, authOf(response).tenantId, id)));
  });

  router.patch('/:id', requireScope(WRITE_SCOPE), async (request, response) => {
    const { id } = parseRequest(knowledgeIdParamsSchema, request.params, 'path');
    const body = parseRequest(updateKnowledgeBodySchema, request.body, 'body');
    response.json(presentKnowledgeEntry(await updateKnowledgeEntry(deps, authOf(response).tenantId, id, body)));
  });

  router.delete('/:id', requireScope(WRITE_SCOPE), async (request, response) => {
    const { id } = parseRequest(knowledgeIdParamsSchema, request.params, 'path');
    await deleteKnowledgeEntry(deps, authOf(response).tenantId, id);
    response.status(204).end();
  });
  return router;
}
