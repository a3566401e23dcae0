import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { createApiKey, createTenant, type TenantFixture } from '../support/factories';
import { useTestContext } from '../support/test-context';

const BASE = '/v1/bot/knowledge';
const OTHER_UUID = '00000000-0000-4000-8000-000000000000';
const POLICY =
  '# Returns\n\nYou can return unworn shoes within 30 days of delivery.\n\n## Refunds\n\nYour refund reaches the card in 5 days.\n';

describe('knowledge documents API', () => {
  // Offline tenants (the test config has no provider keys): keyword search only.
  const context = useTestContext();
  let shop: TenantFixture;
  let admin: string;
  let agent: string;

  beforeEach(async () => {
    shop = await createTenant(context, { settings: { knowledge: { language: 'english' } } });
    admin = (await createApiKey(context, shop.tenant, { role: 'admin' })).secret;
    agent = (await createApiKey(context, shop.tenant, { role: 'agent', scopes: ['conversations:manage'] })).secret;
  });

  const upload = (secret: string, content: string | Buffer, fileName: string, contentType = 'text/markdown') =>
    request(context.app)
      .post(`${BASE}/documents`)
      .set('Authorization', `Bearer ${secret}`)
      .attach('file', Buffer.isBuffer(content) ? content : Buffer.from(content), { filename: fileName, contentType });
  const get = (secret: string, path: string) => request(context.app).get(path).set('Authorization', `Bearer ${secret}`);
  const post = (secret: string, path: string, body?: object) =>
    request(context.app).post(path).set('Authorization', `Bearer ${secret}`).send(body);
  const indexQueued = () => context.services.documentIndexer.runUntilIdle();

  describe('POST /v1/bot/knowledge/documents', () => {
    it('takes a multipart upload, answers 202 with the queued document, and indexes it in the background', async () => {
      const response = await upload(admin, POLICY, 'policy.md').field('title', 'Returns policy').expect(202);
      expect(response.body).toMatchObject({ title: 'Returns policy', source_kind: 'file', file_name: 'policy.md', status: 'queued' });
      await indexQueued();
      const detail = await get(admin, `${BASE}/documents/${response.body.id}`).expect(200);
      // The title given with the upload is kept; only a default one (the file name) gives way to the document's heading.
      expect(detail.body).toMatchObject({
        title: 'Returns policy',
        status: 'ready',
        chunk_count: 2,
        embedding_model: null,
        failure_reason: null,
      });
      expect(detail.body.fingerprint).toMatch(/^[0-9a-f]{64}$/);
      expect(detail.body.chunks).toEqual([
        expect.objectContaining({ ordinal: 0, heading_path: ['Returns'], source: 'policy.md', embedded: false }),
        expect.objectContaining({ ordinal: 1, heading_path: ['Returns', 'Refunds'], text: 'Your refund reaches the card in 5 days.' }),
      ]);
      expect(detail.body.chunks[0].token_count).toBeGreaterThan(5);
    });

    it('takes a web page or a site as JSON', async () => {
      const page = await post(admin, `${BASE}/documents`, { url: 'https://shop.example/returns' }).expect(202);
      expect(page.body).toMatchObject({ source_kind: 'url', source_url: 'https://shop.example/returns', status: 'queued' });
      const site = await post(admin, `${BASE}/documents`, { sitemapUrl: 'https://shop.example/sitemap.xml', title: 'Help centre' }).expect(
        202,
      );
      expect(site.body).toMatchObject({ source_kind: 'site', title: 'Help centre' });
    });

    it('refuses a URL of a private or loopback address with 400', async () => {
      const response = await post(admin, `${BASE}/documents`, { url: 'http://127.0.0.1:8080/admin' }).expect(400);
      expect(response.body.error.code).toBe('forbidden_destination');
    });

    it('refuses a file type it cannot read with 415, and points CSV files to the import', async () => {
      const image = await upload(admin, Buffer.from([0x89, 0x50, 0x4e, 0x47]), 'photo.png', 'image/png').expect(415);
      expect(image.body.error).toMatchObject({ code: 'unsupported_type' });
      const csv = await upload(admin, 'question,answer\nq,a\n', 'faq.csv', 'text/csv').expect(415);
      expect(csv.body.error.message).toContain('/v1/bot/knowledge/import');
    });

    it('refuses a file over 10 MiB with 413', async () => {
      const response = await upload(admin, Buffer.alloc(10 * 1024 * 1024 + 10, 'a'), 'big.txt', 'text/plain').expect(413);
      expect(response.body.error.code).toBe('too_large');
    });

    it('answers 400 for a form without a file, and 415 for another body type', async () => {
      await request(context.app).post(`${BASE}/documents`).set('Authorization', `Bearer ${admin}`).field('title', 'x').expect(400);
      await request(context.app)
        .post(`${BASE}/documents`)
        .set('Authorization', `Bearer ${admin}`)
        .set('Content-Type', 'text/plain')
        .send('hello')
        .expect(415);
    });

    it('ends a file it cannot read as failed with the reason, never half-indexed', async () => {
      const response = await upload(admin, Buffer.from('%PDF-1.4\n%%EOF\n'), 'scan.pdf', 'application/pdf').expect(202);
      await indexQueued();
      const detail = await get(admin, `${BASE}/documents/${response.body.id}`).expect(200);
      expect(detail.body).toMatchObject({ status: 'failed', chunk_count: 0, chunks: [] });
      expect(detail.body.failure_reason).toMatch(/^[a-z_]+: /);
    });

    it('needs users:manage', async () => {
      await upload(agent, POLICY, 'policy.md').expect(403);
    });
  });

  describe('GET /v1/bot/knowledge/documents', () => {
    it('lists documents with their status, newest first, a page at a time', async () => {
      for (const name of ['a.md', 'b.md', 'c.md']) await upload(admin, POLICY, name).expect(202);
      const first = await get(agent, `${BASE}/documents?limit=2`).expect(200);
      expect(first.body.data.map((document: { file_name: string }) => document.file_name)).toEqual(['c.md', 'b.md']);
      const second = await get(agent, `${BASE}/documents?limit=2&cursor=${first.body.next_cursor}`).expect(200);
      expect(second.body).toMatchObject({ data: [expect.objectContaining({ file_name: 'a.md' })], next_cursor: null });
      await indexQueued();
      const ready = await get(agent, `${BASE}/documents?status=ready`).expect(200);
      expect(ready.body.data).toHaveLength(3);
    });
  });

  describe('POST /v1/bot/knowledge/documents/{id}/resync and DELETE', () => {
    it('queues a document again, and deletes it with its passages', async () => {
      const { body } = await upload(admin, POLICY, 'policy.md').expect(202);
      await indexQueued();
      expect((await post(admin, `${BASE}/documents/${body.id}/resync`).expect(202)).body.status).toBe('queued');
      await indexQueued();
      expect((await get(admin, `${BASE}/documents/${body.id}`)).body.status).toBe('ready');
      await request(context.app).delete(`${BASE}/documents/${body.id}`).set('Authorization', `Bearer ${admin}`).expect(204);
      await get(admin, `${BASE}/documents/${body.id}`).expect(404);
      expect(await context.database.dataSource.query('SELECT 1 FROM knowledge_chunks')).toEqual([]);
    });

    it('answers 409 to a re-sync while the document is being indexed', async () => {
      const { body } = await upload(admin, POLICY, 'policy.md').expect(202);
      await context.services.repositories.knowledgeDocuments.claimNext(600);
      expect((await post(admin, `${BASE}/documents/${body.id}/resync`).expect(409)).body.error.code).toBe('conflict');
    });
  });

  describe('GET /v1/bot/knowledge/search', () => {
    it("returns ranked passages with the keyword leg's rank and score", async () => {
      await upload(admin, POLICY, 'policy.md').expect(202);
      await indexQueued();
      const response = await get(agent, `${BASE}/search?q=${encodeURIComponent('how long until my refund arrives?')}`).expect(200);
      expect(response.body).toMatchObject({ vector_leg: 'no_provider', embedding_model: null });
      expect(response.body.passages[0]).toMatchObject({
        text: 'Your refund reaches the card in 5 days.',
        heading_path: ['Returns', 'Refunds'],
        title: 'Returns',
        keyword: { rank: 1 },
        vector: null,
      });
      expect(response.body.passages[0].score).toBeCloseTo(1 / 61, 12);
    });

    it('refuses a missing or NUL-laden query with 400', async () => {
      await get(agent, `${BASE}/search`).expect(400);
      await get(agent, `${BASE}/search?q=a%00b`).expect(400);
    });
  });

  describe('tenant isolation', () => {
    it("never shows, changes or searches another tenant's documents", async () => {
      const { body } = await upload(admin, POLICY, 'policy.md').expect(202);
      await indexQueued();
      const other = await createTenant(context);
      const otherAdmin = (await createApiKey(context, other.tenant, { role: 'admin' })).secret;
      await get(otherAdmin, `${BASE}/documents/${body.id}`).expect(404);
      await post(otherAdmin, `${BASE}/documents/${body.id}/resync`).expect(404);
      await request(context.app).delete(`${BASE}/documents/${body.id}`).set('Authorization', `Bearer ${otherAdmin}`).expect(404);
      expect((await get(otherAdmin, `${BASE}/documents`).expect(200)).body.data).toEqual([]);
      expect((await get(otherAdmin, `${BASE}/search?q=refund`).expect(200)).body.passages).toEqual([]);
      await get(admin, `${BASE}/documents/${body.id}`).expect(200);
      await get(admin, `${BASE}/documents/${OTHER_UUID}`).expect(404);
    });
  });
});
