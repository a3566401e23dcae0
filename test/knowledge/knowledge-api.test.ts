import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { createApiKey, createKnowledge, createTenant, type TenantFixture } from '../support/factories';
import { useTestContext } from '../support/test-context';

const BASE = '/v1/bot/knowledge';
const OTHER_UUID = '00000000-0000-4000-8000-000000000000';

describe('knowledge API', () => {
  const context = useTestContext();
  let shop: TenantFixture;
  let admin: string;
  let agent: string;

  beforeEach(async () => {
    shop = await createTenant(context);
    admin = (await createApiKey(context, shop.tenant, { role: 'admin' })).secret;
    agent = (await createApiKey(context, shop.tenant, { role: 'agent', scopes: ['conversations:manage'] })).secret;
  });

  const as = (secret: string) => ({
    get: (path: string) => request(context.app).get(path).set('Authorization', `Bearer ${secret}`),
    post: (path: string, body: unknown) =>
      request(context.app)
        .post(path)
        .set('Authorization', `Bearer ${secret}`)
        .send(body as object),
    patch: (path: string, body: unknown) =>
      request(context.app)
        .patch(path)
        .set('Authorization', `Bearer ${secret}`)
        .send(body as object),
    delete: (path: string) => request(context.app).delete(path).set('Authorization', `Bearer ${secret}`),
  });

  describe('POST /v1/bot/knowledge/', () => {
    it('creates an entry and returns it with 201', async () => {
      const response = await as(admin).post(`${BASE}/`, {
        question: 'Do you ship to Spain?',
        answer: 'Yes, in 3 days.',
        tags: ['shipping'],
      });
      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({ question: 'Do you ship to Spain?', answer: 'Yes, in 3 days.', tags: ['shipping'] });
      expect(response.body.id).toMatch(/^[0-9a-f-]{36}$/);
      const read = await as(agent).get(`${BASE}/${response.body.id}/`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(response.body);
    });

    it.each([
      ['question', { question: '', answer: 'A' }],
      ['answer', { question: 'Q', answer: 'x'.repeat(8001) }],
      ['tags', { question: 'Q', answer: 'A', tags: ['ok', ''] }],
      ['unknown field', { question: 'Q', answer: 'A', colour: 'red' }],
    ])('rejects an invalid %s with 400', async (_field, body) => {
      const response = await as(admin).post(BASE, body);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('validation_failed');
    });

    it('requires users:manage (403) and a key (401)', async () => {
      expect((await as(agent).post(BASE, { question: 'Q', answer: 'A' })).status).toBe(403);
      const anonymous = await request(context.app).post(BASE).send({ question: 'Q', answer: 'A' });
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error.code).toBe('unauthorized');
    });
  });

  describe('GET /v1/bot/knowledge/', () => {
    it('lists newest first with filters, with or without the trailing slash', async () => {
      await createKnowledge(context, shop.tenant, [{ question: 'Opening hours?', answer: '9 to 5' }]);
      await as(admin)
        .post(BASE, { question: 'Refunds?', answer: 'Within 30 days', tags: ['billing'] })
        .expect(201);
      const all = await as(agent).get(`${BASE}/`);
      expect(all.status).toBe(200);
      expect(all.body.data.map((entry: { question: string }) => entry.question)).toEqual(['Refunds?', 'Opening hours?']);
      expect(all.body.next_cursor).toBeNull();
      const noSlash = await as(agent).get(BASE);
      expect(noSlash.body).toEqual(all.body);
      expect((await as(agent).get(`${BASE}/?tag=billing`)).body.data).toHaveLength(1);
      expect((await as(agent).get(`${BASE}/?q=9%20TO`)).body.data[0].question).toBe('Opening hours?');
    });

    it('pages with a cursor that stays stable while entries are inserted', async () => {
      for (let index = 0; index < 5; index += 1) {
        await as(admin)
          .post(BASE, { question: `Question ${index}`, answer: `Answer ${index}` })
          .expect(201);
      }
      const first = await as(agent).get(`${BASE}/?limit=2`);
      expect(first.body.data.map((entry: { question: string }) => entry.question)).toEqual(['Question 4', 'Question 3']);
      await as(admin).post(BASE, { question: 'Inserted later', answer: 'x' }).expect(201);
      const second = await as(agent).get(`${BASE}/?limit=2&cursor=${first.body.next_cursor}`);
      expect(second.body.data.map((entry: { question: string }) => entry.question)).toEqual(['Question 2', 'Question 1']);
      const third = await as(agent).get(`${BASE}/?limit=2&cursor=${second.body.next_cursor}`);
      expect(third.body.data.map((entry: { question: string }) => entry.question)).toEqual(['Question 0']);
      expect(third.body.next_cursor).toBeNull();
    });

    it.each([['limit=0'], ['limit=abc'], ['cursor=not-a-cursor'], ['from=yesterday'], ['tag=']])('rejects %s with 400', async (query) => {
      const response = await as(agent).get(`${BASE}/?${query}`);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('validation_failed');
    });

    it('never shows another tenant’s entries', async () => {
      const other = await createTenant(context);
      await createKnowledge(context, other.tenant, [{ question: 'Secret?', answer: 'Theirs' }]);
      expect((await as(agent).get(BASE)).body.data).toEqual([]);
    });

    it('needs conversations:manage', async () => {
      const analyst = (await createApiKey(context, shop.tenant, { scopes: ['analytics:view'] })).secret;
      expect((await as(analyst).get(BASE)).status).toBe(403);
    });
  });

  describe('PATCH and DELETE /v1/bot/knowledge/{id}/', () => {
    it('changes given fields and deletes', async () => {
      const created = await as(admin).post(BASE, { question: 'Q1', answer: 'A1' });
      const changed = await as(admin).patch(`${BASE}/${created.body.id}/`, { answer: 'A2', tags: ['new'] });
      expect(changed.status).toBe(200);
      expect(changed.body).toMatchObject({ question: 'Q1', answer: 'A2', tags: ['new'] });
      expect((await as(admin).delete(`${BASE}/${created.body.id}/`)).status).toBe(204);
      expect((await as(agent).get(`${BASE}/${created.body.id}`)).status).toBe(404);
    });

    it('rejects an empty patch, a bad field and a non-UUID id with 400', async () => {
      const created = await as(admin).post(BASE, { question: 'Q1', answer: 'A1' });
      expect((await as(admin).patch(`${BASE}/${created.body.id}`, {})).status).toBe(400);
      expect((await as(admin).patch(`${BASE}/${created.body.id}`, { question: '  ' })).status).toBe(400);
      expect((await as(admin).patch(`${BASE}/${created.body.id}`, { tags: 'x' })).status).toBe(400);
      expect((await as(admin).patch(`${BASE}/not-a-uuid`, { answer: 'x' })).status).toBe(400);
      expect((await as(admin).delete(`${BASE}/not-a-uuid`)).status).toBe(400);
    });

    it('answers 404 for another tenant’s entry and for an unknown id, and 403 without the scope', async () => {
      const other = await createTenant(context);
      const otherAdmin = (await createApiKey(context, other.tenant)).secret;
      const theirs = await as(otherAdmin).post(BASE, { question: 'Theirs', answer: 'x' });
      expect((await as(admin).patch(`${BASE}/${theirs.body.id}/`, { answer: 'mine' })).status).toBe(404);
      expect((await as(admin).delete(`${BASE}/${theirs.body.id}/`)).status).toBe(404);
      expect((await as(agent).get(`${BASE}/${theirs.body.id}/`)).status).toBe(404);
      expect((await as(admin).delete(`${BASE}/${OTHER_UUID}/`)).status).toBe(404);
      expect((await as(agent).delete(`${BASE}/${theirs.body.id}/`)).status).toBe(403);
      expect((await as(otherAdmin).get(`${BASE}/${theirs.body.id}/`)).body.answer).toBe('x');
    });
  });

  describe('POST /v1/bot/knowledge/import/', () => {
    it('imports JSON and CSV files', async () => {
      const json = JSON.stringify([
        { question: 'Q1', answer: 'A1', tags: ['a'] },
        { question: 'Q2', answer: 'A2' },
      ]);
      expect((await as(admin).post(`${BASE}/import/`, { format: 'json', content: json })).body).toEqual({ imported: 2 });
      const csv = 'question,answer,tags\r\n"Do you deliver, too?","Yes, ""always""",shipping;delivery\r\nQ4,A4,\r\n';
      const imported = await as(admin).post(`${BASE}/import`, { format: 'csv', content: csv });
      expect(imported.status).toBe(201);
      expect(imported.body).toEqual({ imported: 2 });
      const listed = await as(agent).get(`${BASE}/?tag=delivery`);
      expect(listed.body.data[0]).toMatchObject({
        question: 'Do you deliver, too?',
        answer: 'Yes, "always"',
        tags: ['shipping', 'delivery'],
      });
    });

    it('accepts a raw CSV upload and a raw JSON array', async () => {
      const csv = await request(context.app)
        .post(`${BASE}/import/`)
        .set('Authorization', `Bearer ${admin}`)
        .set('Content-Type', 'text/csv')
        .send('question,answer\nDo you ship abroad?,Yes\n');
      expect(csv.status).toBe(201);
      expect(csv.body).toEqual({ imported: 1 });
      expect(
        (
          await as(admin).post(`${BASE}/import`, [
            { question: 'Q', answer: 'A' },
            { question: 'Q2', answer: 'A2', tags: ['x'] },
          ])
        ).body,
      ).toEqual({ imported: 2 });
      const invalid = await as(admin).post(`${BASE}/import`, [{ question: 'Q' }]);
      expect(invalid.status).toBe(400);
      expect(invalid.body.error.message).toContain('entry 0');
      const empty = await request(context.app)
        .post(`${BASE}/import`)
        .set('Authorization', `Bearer ${admin}`)
        .set('Content-Type', 'text/csv')
        .send('');
      expect(empty.status).toBe(400);
      expect((await as(agent).get(BASE)).body.data).toHaveLength(3);
    });

    it('rejects a bad format, a broken file and an invalid row with 400, storing nothing', async () => {
      expect((await as(admin).post(`${BASE}/import`, { format: 'xml', content: '<a/>' })).status).toBe(400);
      expect((await as(admin).post(`${BASE}/import`, { format: 'json', content: '' })).status).toBe(400);
      const broken = await as(admin).post(`${BASE}/import`, { format: 'json', content: '[{' });
      expect(broken.status).toBe(400);
      expect(broken.body.error.code).toBe('bad_request');
      const invalid = await as(admin).post(`${BASE}/import`, { format: 'csv', content: 'question,answer\nQ1,A1\nQ2,\n' });
      expect(invalid.status).toBe(400);
      expect(invalid.body.error.message).toContain('line 3');
      expect((await as(agent).get(BASE)).body.data).toEqual([]);
      expect((await as(agent).post(`${BASE}/import`, { format: 'json', content: '[]' })).status).toBe(403);
    });
  });
});
