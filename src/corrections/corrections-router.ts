/**
 * /v1/bot/corrections: human corrections of bot answers. Reads need analytics:view; writes and approvals need
 * users:manage. Approved corrections guide the bot at once (as passages of the hybrid search) and feed the training export.
 */
import { once } from 'node:events';
import { Router, type Response } from 'express';
import { z } from 'zod';
import { authOf, requireScope } from '../http/auth';
import { registerRoute } from '../http/openapi/route-registry';
import { pageSchema } from '../http/pagination';
import { parseRequest } from '../http/validate';
import {
  approveCorrectionBodySchema,
  approvedListQuerySchema,
  correctionIdParamsSchema,
  correctionListQuerySchema,
  correctionSchema,
  createCorrectionBodySchema,
  exportQuerySchema,
  updateCorrectionBodySchema,
} from './correction-schemas';
import type { CorrectionService } from './correction-service';

const PREFIX = '/v1/bot/corrections';
const READ_SCOPE = 'analytics:view';
const WRITE_SCOPE = 'users:manage';
const tags = ['corrections'];
const page = pageSchema(correctionSchema);
const one = (description: string, status = 200) => ({ [status]: { description, schema: correctionSchema } });

registerRoute({
  method: 'get',
  path: `${PREFIX}/`,
  scope: READ_SCOPE,
  tags,
  summary: 'List corrections, newest first',
  query: correctionListQuerySchema,
  responses: { 200: { description: 'A page of corrections', schema: page } },
});
registerRoute({
  method: 'post',
  path: `${PREFIX}/`,
  scope: WRITE_SCOPE,
  tags,
  summary: 'Correct a bot answer (corrected_by is the key’s user)',
  body: createCorrectionBodySchema,
  responses: one('The new correction', 201),
});
registerRoute({
  method: 'get',
  path: `${PREFIX}/approved/`,
  scope: READ_SCOPE,
  tags,
  summary: 'List corrections approved for training',
  query: approvedListQuerySchema,
  responses: { 200: { description: 'A page of approved corrections', schema: page } },
});
registerRoute({
  method: 'get',
  path: `${PREFIX}/export/`,
  scope: READ_SCOPE,
  tags,
  summary: 'Export approved corrections as JSONL training data (streamed)',
  description:
    'openai: chat fine-tuning lines; openai-preference: the human answer preferred over the bot’s; gemini: tuning lines with systemInstruction and contents.',
  query: exportQuerySchema,
  responses: { 200: { description: 'One JSON object per line', contentType: 'application/jsonl' } },
});
registerRoute({
  method: 'get',
  path: `${PREFIX}/{id}/`,
  scope: READ_SCOPE,
  tags,
  summary: 'One correction',
  params: correctionIdParamsSchema,
  responses: one('The correction'),
});
registerRoute({
  method: 'patch',
  path: `${PREFIX}/{id}/`,
  scope: WRITE_SCOPE,
  tags,
  summary: 'Change a correction (changing the texts withdraws its approval)',
  params: correctionIdParamsSchema,
  body: updateCorrectionBodySchema,
  responses: one('The changed correction'),
});
registerRoute({
  method: 'delete',
  path: `${PREFIX}/{id}/`,
  scope: WRITE_SCOPE,
  tags,
  summary: 'Delete a correction',
  params: correctionIdParamsSchema,
  responses: { 204: { description: 'Deleted' } },
});
registerRoute({
  method: 'post',
  path: `${PREFIX}/{id}/approve/`,
  scope: WRITE_SCOPE,
  tags,
  summary: 'Approve a correction for training and guidance, or withdraw approval',
  description: 'With the tenant setting forbidSelfApproval, approving one’s own correction answers 403 self_approval_forbidden.',
  params: correctionIdParamsSchema,
  body: approveCorrectionBodySchema,
  responses: {
    ...one('The reviewed correction'),
    403: {
      description: 'Missing scope, or self-approval forbidden by the tenant',
      schema: z.object({ error: z.object({ code: z.string(), message: z.string() }) }),
    },
  },
});

/** Writes a chunk, waiting for the socket to drain; rejects when the client went away, which stops the export. */
function writer(response: Response): (chunk: string) => Promise<void> {
  return async (chunk) => {
    if (response.destroyed) throw new Error('client disconnected');
    if (response.write(chunk)) return;
    await Promise.race([once(response, 'drain'), once(response, 'close').then(() => Promise.reject(new Error('client disconnected')))]);
  };
}

/** Routes under /v1/bot/corrections (mounted behind authenticate). */
export function createCorrectionsRouter(deps: { corrections: CorrectionService }): Router {
  const { corrections } = deps;
  const router = Router();

  router.get('/', requireScope(READ_SCOPE), async (request, response) => {
    const query = parseRequest(correctionListQuerySchema, request.query, 'query');
    response.json(await corrections.list(authOf(response).tenantId, query));
  });

  router.post('/', requireScope(WRITE_SCOPE), async (request, response) => {
    const body = parseRequest(createCorrectionBodySchema, request.body, 'body');
    response.status(201).json(await corrections.create(authOf(response), body));
  });

  router.get('/approved', requireScope(READ_SCOPE), async (request, response) => {
    const query = parseRequest(approvedListQuerySchema, request.query, 'query');
    response.json(await corrections.list(authOf(response).tenantId, { ...query, approved: true }));
  });

  router.get('/export', requireScope(READ_SCOPE), async (request, response) => {
    const query = parseRequest(exportQuerySchema, request.query, 'query');
    response.setHeader('Content-Type', 'application/jsonl; charset=utf-8');
    response.setHeader('Content-Disposition', `attachment; filename="corrections-${query.format}.jsonl"`);
    try {
      await corrections.export(authOf(response).tenantId, query, writer(response));
    } catch (error) {
      // Once lines have gone out the status cannot change: cut the stream so the client sees it incomplete.
      if (response.headersSent) return void response.destroy();
      throw error;
    }
    response.end();
  });

  router.get('/:id', requireScope(READ_SCOPE), async (request, response) => {
    const { id } = parseRequest(correctionIdParamsSchema, request.params, 'path');
    response.json(await corrections.find(authOf(response).tenantId, id));
  });

  router.patch('/:id', requireScope(WRITE_SCOPE), async (request, response) => {
    const { id } = parseRequest(correctionIdParamsSchema, request.params, 'path');
    const body = parseRequest(updateCorrectionBodySchema, request.body, 'body');
    response.json(await corrections.update(authOf(response).tenantId, id, body));
  });

  router.delete('/:id', requireScope(WRITE_SCOPE), async (request, response) => {
    const { id } = parseRequest(correctionIdParamsSchema, request.params, 'path');
    await corrections.delete(authOf(response).tenantId, id);
    response.status(204).end();
  });

  router.post('/:id/approve', requireScope(WRITE_SCOPE), async (request, response) => {
    const { id } = parseRequest(correctionIdParamsSchema, request.params, 'path');
    const body = parseRequest(approveCorrectionBodySchema, request.body, 'body');
    response.json(await corrections.approve(authOf(response), id, body));
  });
  return router;
}
