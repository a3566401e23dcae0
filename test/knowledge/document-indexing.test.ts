import crypto from 'node:crypto';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DocumentIndexer, type DocumentSources } from '../../src/knowledge/document-indexer';
import type { ExtractedDocument } from '../../src/knowledge/sources/types';
import { SourceError } from '../../src/knowledge/sources/types';
import { SafeHttpClient } from '../../src/net/safe-http';
import type { FakeGeminiServer } from '../fakes/gemini-server';
import type { FakeOpenAIServer } from '../fakes/openai-server';
import { createTenant, type TenantFixture } from '../support/factories';
import { useFakeProvidersContext } from '../support/fake-openai-context';
import { silentLogger, type TestContext } from '../support/test-context';

let context: TestContext;
let openai: FakeOpenAIServer;
let gemini: FakeGeminiServer;
let shop: TenantFixture;

const POLICY =
  '# Returns\n\nYou can return shoes within 30 days of delivery.\n\n## Refunds\n\nRefunds reach your card within 5 business days.\n';

// Keys and base URLs from the environment (the fakes'); the tenants have none of their own.
const suite = useFakeProvidersContext();
beforeAll(() => {
  ({ context, openai, gemini } = suite);
});
beforeEach(async () => {
  shop = await createTenant(context);
});

/** The app's indexer, with the source side replaced where a test scripts it. */
function indexer(options: { sources?: Partial<DocumentSources>; maxChunksPerTenant?: number } = {}) {
  const { services } = context;
  return new DocumentIndexer({
    dataSource: services.dataSource,
    documents: services.repositories.knowledgeDocuments,
    chunks: services.repositories.knowledgeChunks,
    tenants: services.tenants,
    embeddings: services.embeddings,
    http: new SafeHttpClient({ requireHttps: false, allowedHosts: [] }),
    logger: silentLogger,
    sources: options.sources,
    limits: options.maxChunksPerTenant ? { maxChunksPerTenant: options.maxChunksPerTenant } : undefined,
  });
}

function uploadFile(fixture: TenantFixture, content: string, fileName = 'policy.md') {
  return context.services.repositories.knowledgeDocuments.insert({
    tenantId: fixture.tenant.id,
    title: fileName,
    sourceKind: 'file',
    fileName,
    contentType: 'text/markdown',
    sourceBytes: Buffer.from(content),
  });
}

const query = <Row = Record<string, unknown>>(sql: string, parameters: unknown[] = []) =>
  context.database.dataSource.query(sql, parameters) as Promise<Row[]>;

const documentRow = async (id: string) => (await query('SELECT * FROM knowledge_documents WHERE id = $1', [id]))[0];
const chunkRows = (documentId: string) =>
  query<{ id: string; heading_path: string[]; text: string; embedding_model: string | null; embedding_dimensions: number | null }>(
    'SELECT id::text, heading_path, text, embedding_model, embedding_dimensions FROM knowledge_chunks WHERE document_id = $1 ORDER BY ordinal',
    [documentId],
  );

const page = (title: string, text: string): ExtractedDocument => ({ title, sections: [{ headingPath: [title], text }], text });

describe('indexing a document', () => {
  it('takes an uploaded file from queued to ready: passages with their headings, a fingerprint, embeddings', async () => {
    const document = await uploadFile(shop, POLICY);
    expect(document.status).toBe('queued');
    expect(await indexer().runUntilIdle()).toBe(1);
    const row = await documentRow(document.id);
    expect(row).toMatchObject({
      status: 'ready',
      failure_reason: null,
      chunk_count: 2,
      embedding_model: 'openai/text-embedding-3-small@256',
    });
    expect(row.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    const chunks = await chunkRows(document.id);
    expect(chunks.map((chunk) => chunk.heading_path)).toEqual([['Returns'], ['Returns', 'Refunds']]);
    expect(
      chunks.every((chunk) => chunk.embedding_model === 'openai/text-embedding-3-small@256' && chunk.embedding_dimensions === 256),
    ).toBe(true);
    expect(openai.book.requests.map((request) => request.body)).toEqual([
      expect.objectContaining({
        model: 'text-embedding-3-small',
        dimensions: 256,
        input: [
          'Returns\nYou can return shoes within 30 days of delivery.',
          'Returns > Refunds\nRefunds reach your card within 5 business days.',
        ],
      }),
    ]);
  });

  it('records one provider_usage row per embedding batch, priced at $0.02 per million tokens', async () => {
    await uploadFile(shop, POLICY);
    await indexer().runUntilIdle();
    const usage = await query<{
      provider: string;
      model: string;
      input_tokens: number;
      cost_usd: string;
      success: boolean;
      metadata: unknown;
    }>('SELECT provider, model, input_tokens, cost_usd::text, success, metadata FROM provider_usage');
    expect(usage).toHaveLength(1);
    expect(usage[0]).toMatchObject({ provider: 'openai', model: 'text-embedding-3-small', success: true });
    expect(usage[0].input_tokens).toBeGreaterThan(0);
    expect(Number(usage[0].cost_usd)).toBeCloseTo((usage[0].input_tokens * 0.02) / 1_000_000, 12);
    expect(usage[0].metadata).toMatchObject({ embedding: true, purpose: 'document', texts: 2 });
  });

  it('does nothing on a re-sync whose text has not changed', async () => {
    const document = await uploadFile(shop, POLICY);
    await indexer().runUntilIdle();
    const before = await chunkRows(document.id);
    expect(await context.services.repositories.knowledgeDocuments.requeue(shop.tenant.id, document.id)).toBe(true);
    openai.book.reset();
    expect(await indexer().indexNext()).toEqual({ documentId: document.id, outcome: 'unchanged' });
    expect((await chunkRows(document.id)).map((chunk) => chunk.id)).toEqual(before.map((chunk) => chunk.id));
    expect(openai.book.requests).toEqual([]);
    expect(await documentRow(document.id)).toMatchObject({ status: 'ready' });
  });

  it('embeds with Gemini when that is the provider the tenant uses', async () => {
    const geminiOnly = await createTenant(context, { settings: { llm: { enabledProviders: ['gemini'] } } });
    const document = await uploadFile(geminiOnly, POLICY);
    await indexer().runUntilIdle();
    expect(await documentRow(document.id)).toMatchObject({ status: 'ready', embedding_model: 'gemini/gemini-embedding-001@256' });
    const [request] = gemini.book.requests;
    expect(request.path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents');
    expect((request.body as { requests: unknown[] }).requests[0]).toMatchObject({
      outputDimensionality: 256,
      taskType: 'RETRIEVAL_DOCUMENT',
    });
  });

  it('indexes for keyword search only when the tenant has no provider able to embed', async () => {
    const offline = await createTenant(context, { settings: { llm: { enabledProviders: [] } } });
    const document = await uploadFile(offline, POLICY);
    await indexer().runUntilIdle();
    expect(await documentRow(document.id)).toMatchObject({ status: 'ready', embedding_model: null, chunk_count: 2 });
    expect((await chunkRows(document.id)).every((chunk) => chunk.embedding_model === null)).toBe(true);
    expect(openai.book.requests).toEqual([]);
  });

  it('still indexes by keyword when the embedding model keeps failing, and records the failed attempts', async () => {
    openai.book.fail('server_error', { model: 'text-embedding-3-small', times: Infinity });
    const document = await uploadFile(shop, POLICY);
    await indexer().runUntilIdle();
    expect(await documentRow(document.id)).toMatchObject({ status: 'ready', embedding_model: null, chunk_count: 2 });
    const usage = await query<{ success: boolean; error_kind: string }>(
      'SELECT success, error_kind FROM provider_usage ORDER BY attempt_number',
    );
    expect(usage).toEqual([
      { success: false, error_kind: 'server' },
      { success: false, error_kind: 'server' },
    ]);
  });

  it('leaves no passages when writing them fails part-way (the whole document is one transaction)', async () => {
    // 501 sections: the 501st is in the second INSERT batch, and PostgreSQL refuses its NUL (the extractor would
    // have removed it; this source hands it over as is).
    const sections = Array.from({ length: 501 }, (_, index) => ({
      headingPath: [`Part ${index}`],
      text: `Item ${index} ships in ${index} days${index === 500 ? '\u0000' : ''}.`,
    }));
    const extract = async () => ({ title: 'Big', sections, text: sections.map((section) => section.text).join('\n') });
    const offline = await createTenant(context, { settings: { llm: { enabledProviders: [] } } });
    const document = await uploadFile(offline, 'big');
    await indexer({ sources: { extract } }).runUntilIdle();
    const row = await documentRow(document.id);
    expect(row.status).toBe('failed');
    expect(row.failure_reason).toMatch(/^internal_error/);
    expect(await chunkRows(document.id)).toEqual([]);
  });

  it('fails a document that would take the tenant over its passage limit, storing none of it', async () => {
    const document = await uploadFile(shop, POLICY);
    await indexer({ maxChunksPerTenant: 1 }).runUntilIdle();
    expect(await documentRow(document.id)).toMatchObject({ status: 'failed', failure_reason: expect.stringMatching(/^too_many_chunks: /) });
    expect(await chunkRows(document.id)).toEqual([]);
  });

  it("fails a file the source side refuses, with the source's reason", async () => {
    const document = await uploadFile(shop, POLICY);
    await indexer({
      sources: {
        extract: async () => {
          throw new SourceError('encrypted', 'the PDF is encrypted');
        },
      },
    }).runUntilIdle();
    expect(await documentRow(document.id)).toMatchObject({
      status: 'failed',
      failure_reason: 'encrypted: the PDF is encrypted',
      chunk_count: 0,
    });
  });
});

describe('re-syncing a URL and a site', () => {
  const insertUrl = (kind: 'url' | 'site', url: string) =>
    context.services.repositories.knowledgeDocuments.insert({ tenantId: shop.tenant.id, title: url, sourceKind: kind, sourceUrl: url });

  it('keeps the last good passages of a page that cannot be fetched now, and says why', async () => {
    let available = true;
    const sources = {
      fetch: async () => {
        if (!available) throw new SourceError('fetch_failed', 'HTTP 503');
        return page('Returns', 'Returns are free within 30 days.');
      },
    };
    const document = await insertUrl('url', 'https://shop.example/returns');
    await indexer({ sources }).runUntilIdle();
    const indexed = await chunkRows(document.id);
    available = false;
    await context.services.repositories.knowledgeDocuments.requeue(shop.tenant.id, document.id);
    await indexer({ sources }).runUntilIdle();
    expect(await documentRow(document.id)).toMatchObject({ status: 'failed', failure_reason: 'fetch_failed: HTTP 503' });
    expect(await chunkRows(document.id)).toEqual(indexed);
  });

  it('re-indexes only the pages whose fingerprint changed, adds new pages and removes deleted ones', async () => {
    let pages: Record<string, string> = {
      'https://shop.example/': 'Welcome to the shop.',
      'https://shop.example/returns': 'Returns are free within 30 days.',
    };
    const sources: Partial<DocumentSources> = {
      crawl: async function* () {
        for (const [url, text] of Object.entries(pages)) yield { url, document: page(url, text) };
      },
    };
    const site = await insertUrl('site', 'https://shop.example/');
    await indexer({ sources }).runUntilIdle();
    const pageIds = async () =>
      Object.fromEntries(
        (
          await query<{ id: string; source_url: string }>('SELECT id, source_url FROM knowledge_documents WHERE site_document_id = $1', [
            site.id,
          ])
        ).map((row) => [row.source_url, row.id]),
      );
    const first = await pageIds();
    expect(Object.keys(first).sort()).toEqual(['https://shop.example/', 'https://shop.example/returns']);
    const home = await chunkRows(first['https://shop.example/']);

    pages = {
      'https://shop.example/': 'Welcome to the shop.',
      'https://shop.example/returns': 'Returns are free within 60 days.',
      'https://shop.example/shipping': 'Shipping takes 3 days.',
    };
    await context.services.repositories.knowledgeDocuments.requeue(shop.tenant.id, site.id);
    await indexer({ sources }).runUntilIdle();
    const second = await pageIds();
    expect(Object.keys(second).sort()).toEqual(['https://shop.example/', 'https://shop.example/returns', 'https://shop.example/shipping']);
    // The unchanged page kept its passages (same ids); the changed one was re-indexed.
    expect(await chunkRows(second['https://shop.example/'])).toEqual(home);
    expect((await chunkRows(second['https://shop.example/returns'])).map((chunk) => chunk.text)).toEqual([
      'Returns are free within 60 days.',
    ]);
    const returnsFingerprint = (await documentRow(second['https://shop.example/returns'])).fingerprint;
    expect(returnsFingerprint).toBe(crypto.createHash('sha256').update('Returns are free within 60 days.').digest('hex'));

    pages = { 'https://shop.example/': 'Welcome to the shop.' };
    await context.services.repositories.knowledgeDocuments.requeue(shop.tenant.id, site.id);
    await indexer({ sources }).runUntilIdle();
    expect(Object.keys(await pageIds())).toEqual(['https://shop.example/']);
    expect(await query('SELECT 1 FROM knowledge_chunks WHERE document_id = $1', [second['https://shop.example/returns']])).toEqual([]);
    expect(await documentRow(site.id)).toMatchObject({ status: 'ready' });
  });

  it('removes nothing when the start page of a site cannot be fetched', async () => {
    let down = false;
    const sources: Partial<DocumentSources> = {
      crawl: async function* () {
        if (down) yield { url: 'https://shop.example/', error: new SourceError('fetch_failed', 'connection refused') };
        else yield { url: 'https://shop.example/', document: page('Home', 'Welcome to the shop.') };
      },
    };
    const site = await insertUrl('site', 'https://shop.example/');
    await indexer({ sources }).runUntilIdle();
    down = true;
    await context.services.repositories.knowledgeDocuments.requeue(shop.tenant.id, site.id);
    await indexer({ sources }).runUntilIdle();
    expect(await query('SELECT 1 FROM knowledge_chunks WHERE tenant_id = $1', [shop.tenant.id])).toHaveLength(1);
  });
});
