/**
 * /v1/bot/knowledge/documents and /v1/bot/knowledge/search: documents the bot answers from, and the retrieval test
 * bench. Same scopes as the Q/A entries: reads need conversations:manage, changes need users:manage. Mounted before
 * the entries router, whose /:id would otherwise take "documents" for an id.
 */
import express, { type Request, Router } from 'express';
import { authOf, requireScope } from '../http/auth';
import { AppError } from '../http/errors';
import { registerRoute } from '../http/openapi/route-registry';
import { pageSchema } from '../http/pagination';
import { parseRequest } from '../http/validate';
import {
  addDocumentBodySchema,
  documentDetailSchema,
  documentIdParamsSchema,
  documentListQuerySchema,
  documentSchema,
  searchQuerySchema,
  searchResultSchema,
} from './document-schemas';
import { type DocumentUpload, type KnowledgeDocumentService, MAX_UPLOAD_BYTES } from './document-service';

const PREFIX = '/v1/bot/knowledge';
const READ_SCOPE = 'conversations:manage';
const WRITE_SCOPE = 'users:manage';
const tags = ['knowledge'];

registerRoute({
  method: 'post',
  path: `${PREFIX}/documents/`,
  scope: WRITE_SCOPE,
  tags,
  summary: 'Add a document: an uploaded file, a web page or a site',
  description:
    'A multipart/form-data upload with a `file` part (Markdown, plain text, HTML or PDF, at most 10 MiB) and an optional `title`, ' +
    'or a JSON body {url} (one page), {siteUrl} (crawl from a start page) or {sitemapUrl}. The document is stored `queued` and ' +
    'indexed in the background; poll GET /documents/{id}. A file of another type is 415, a larger one 413; a file that cannot be ' +
    'read (encrypted or image-only PDF, no text) ends `failed` with the reason.',
  body: addDocumentBodySchema,
  responses: { 202: { description: 'The document, queued', schema: documentSchema } },
});
registerRoute({
  method: 'get',
  path: `${PREFIX}/documents/`,
  scope: READ_SCOPE,
  tags,
  summary: "List the tenant's documents with their status, newest first",
  query: documentListQuerySchema,
  responses: { 200: { description: 'A page of documents', schema: pageSchema(documentSchema) } },
});
registerRoute({
  method: 'get',
  path: `${PREFIX}/documents/{id}/`,
  scope: READ_SCOPE,
  tags,
  summary: 'One document with its passages',
  params: documentIdParamsSchema,
  responses: { 200: { description: 'The document and its chunks', schema: documentDetailSchema } },
});
registerRoute({
  method: 'post',
  path: `${PREFIX}/documents/{id}/resync/`,
  scope: WRITE_SCOPE,
  tags,
  summary: 'Fetch or read a document again; only changed text is re-indexed',
  params: documentIdParamsSchema,
  responses: { 202: { description: 'The document, queued', schema: documentSchema } },
});
registerRoute({
  method: 'delete',
  path: `${PREFIX}/documents/{id}/`,
  scope: WRITE_SCOPE,
  tags,
  summary: 'Delete a document with its passages (a site with its pages)',
  description:
    "409 for the tenant's `faq` document (its Q/A entries and approved corrections): delete those through /v1/bot/knowledge and /v1/bot/corrections.",
  params: documentIdParamsSchema,
  responses: { 204: { description: 'Deleted' } },
});
registerRoute({
  method: 'get',
  path: `${PREFIX}/search/`,
  scope: READ_SCOPE,
  tags,
  summary: 'Retrieval test bench: the passages a message would retrieve, with both legs’ ranks and scores',
  description:
    'Passages of documents, Q/A entries and approved corrections alike, each with its `kind` (and `entry_id` or `correction_id`); ' +
    'the agent grounds its answers on the same search.',
  query: searchQuerySchema,
  responses: { 200: { description: 'Ranked passages', schema: searchResultSchema } },
});

// An upload is read whole (bounded) and parsed by undici's multipart parser; a little room for the form's framing.
const multipartBody = express.raw({ type: 'multipart/form-data', limit: MAX_UPLOAD_BYTES + 64 * 1024 });

/** The `file` part (and `title`) of a multipart upload; 400 when the form is malformed or has no file. */
async function uploadedFile(request: Request): Promise<DocumentUpload> {
  let form: FormData;
  try {
    form = await new Response(request.body as Buffer, { headers: { 'content-type': request.get('content-type') ?? '' } }).formData();
  } catch {
    throw new AppError(400, 'malformed_body', 'The multipart form could not be parsed');
  }
  const file = form.get('file');
  if (!file || typeof file === 'string') throw new AppError(400, 'bad_request', 'The form needs a `file` part holding the document');
  const title = form.get('title');
  if (title !== null && (typeof title !== 'string' || title.trim() === '' || title.length > 300 || title.includes('\u0000')))
    throw new AppError(400, 'bad_request', '`title` must be text of 1 to 300 characters');
  return {
    bytes: Buffer.from(await file.arrayBuffer()),
    fileName: file.name || 'upload',
    contentType: file.type || undefined,
    title: typeof title === 'string' ? title.trim() : undefined,
  };
}

/** Routes under /v1/bot/knowledge for documents and search (mounted behind authenticate). */
export function createKnowledgeDocumentRouter(deps: { documents: KnowledgeDocumentService }): Router {
  const { documents } = deps;
  const router = Router();

  router.post('/documents', requireScope(WRITE_SCOPE), multipartBody, async (request, response) => {
    const tenantId = authOf(response).tenantId;
    if (request.is('multipart/form-data')) {
      response.status(202).json(await documents.addFile(tenantId, await uploadedFile(request)));
      return;
    }
    if (!request.is('application/json'))
      throw new AppError(
        415,
        'unsupported_media_type',
        'Send multipart/form-data with a `file` part, or JSON {url}, {siteUrl} or {sitemapUrl}',
      );
    const body = parseRequest(addDocumentBodySchema, request.body, 'body');
    const added =
      'url' in body
        ? await documents.addUrl(tenantId, { url: body.url, kind: 'url', title: body.title })
        : await documents.addUrl(tenantId, { url: 'siteUrl' in body ? body.siteUrl : body.sitemapUrl, kind: 'site', title: body.title });
    response.status(202).json(added);
  });

  router.get('/documents', requireScope(READ_SCOPE), async (request, response) => {
    const query = parseRequest(documentListQuerySchema, request.query, 'query');
    response.json(
      await documents.list(authOf(response).tenantId, {
        limit: query.limit,
        cursor: query.cursor,
        from: query.from,
        to: query.to,
        status: query.status,
        siteDocumentId: query.site_document_id,
      }),
    );
  });

  router.get('/documents/:id', requireScope(READ_SCOPE), async (request, response) => {
    const { id } = parseRequest(documentIdParamsSchema, request.params, 'path');
    response.json(await documents.get(authOf(response).tenantId, id));
  });

  router.post('/documents/:id/resync', requireScope(WRITE_SCOPE), async (request, response) => {
    const { id } = parseRequest(documentIdParamsSchema, request.params, 'path');
    response.status(202).json(await documents.resync(authOf(response).tenantId, id));
  });

  router.delete('/documents/:id', requireScope(WRITE_SCOPE), async (request, response) => {
    const { id } = parseRequest(documentIdParamsSchema, request.params, 'path');
    await documents.delete(authOf(response).tenantId, id);
    response.status(204).end();
  });

  router.get('/search', requireScope(READ_SCOPE), async (request, response) => {
    const query = parseRequest(searchQuerySchema, request.query, 'query');
    response.json(await documents.search(authOf(response).tenantId, query.q, query.limit));
  });
  return router;
}
