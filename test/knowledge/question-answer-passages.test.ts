/**
 * Q/A entries and approved corrections are passages of the one hybrid search (issue 19, must-have 3): written with
 * the change that makes them, found by GET /v1/bot/knowledge/search with their kind, used by the agent, and kept to
 * their tenant. The test config has no provider keys: the keyword leg answers (the vector leg of these passages is
 * covered in hybrid-search.test.ts).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { KnowledgeEntry } from '../../src/db/entities/knowledge-entry';
import { answeredInteraction, correctionBody, withKey } from '../support/correction-factories';
import { createApiKey, createTenant, type TenantFixture } from '../support/factories';
import { useTestContext } from '../support/test-context';

const BASE = '/v1/bot/knowledge';
const QUESTION = 'Do you ship to the Azores?';
const ANSWER = 'Yes, we ship to the Azores in 4 to 6 working days.';

describe('Q/A entries and approved corrections as passages of the hybrid search', () => {
  const context = useTestContext();
  let shop: TenantFixture;
  let admin: ReturnType<typeof withKey>;

  beforeEach(async () => {
    shop = await createTenant(context, { settings: { knowledge: { language: 'english' } } });
    admin = withKey(context, (await createApiKey(context, shop.tenant, { role: 'admin' })).secret);
  });

  const search = async (client: ReturnType<typeof withKey>, query: string) =>
    (await client.get(`${BASE}/search?q=${encodeURIComponent(query)}`).expect(200)).body as {
      vector_leg: string;
      passages: Array<Record<string, unknown> & { chunk_id: string; text: string; kind: string }>;
    };
  const addEntry = async (question = QUESTION, answer = ANSWER) =>
    (await admin.post(`${BASE}/`, { question, answer }).expect(201)).body as { id: string };

  describe('a Q/A entry', () => {
    it('is found by knowledge search as soon as POST /v1/bot/knowledge answers, with its kind and the keyword leg', async () => {
      const entry = await addEntry();
      const result = await search(admin, 'shipping to the azores');
      expect(result.vector_leg).toBe('no_provider');
      expect(result.passages).toHaveLength(1);
      expect(result.passages[0]).toMatchObject({
        kind: 'entry',
        entry_id: entry.id,
        correction_id: null,
        heading_path: [QUESTION],
        text: ANSWER,
        title: 'Questions and answers',
        keyword: { rank: 1 },
        vector: null,
      });
    });

    it('is used by the agent, which records its passage in chunk_ids and the entry in knowledge_ids', async () => {
      const entry = await addEntry();
      const answered = await answeredInteraction(context, shop, QUESTION);
      expect(answered.reply).toContain(ANSWER);
      const [interaction] = await context.database.dataSource.query(
        'SELECT knowledge_ids, chunk_ids FROM agent_interactions WHERE id = $1',
        [answered.interactionId],
      );
      const [passage] = (await search(admin, QUESTION)).passages;
      expect(interaction.knowledge_ids).toEqual([entry.id]);
      expect(interaction.chunk_ids).toEqual([passage.chunk_id]);
    });

    it('answers a long message that asks its question among other words (covering the stored question counts)', async () => {
      await addEntry('What is your refund policy?', 'Full refund within 30 days.');
      const message = 'Hi, I bought shoes last week and they pinch, what is your refund policy?';
      const [passage] = (await search(admin, message)).passages;
      expect(passage.keyword).toMatchObject({ coverage: expect.closeTo(2 / 7, 6) });
      expect(passage.relevance).toBeGreaterThanOrEqual(0.35);
      expect((await answeredInteraction(context, shop, message)).reply).toContain('Full refund within 30 days.');
    });

    it('is searched with its new text after PATCH, and no longer after DELETE', async () => {
      const entry = await addEntry();
      await admin.patch(`${BASE}/${entry.id}`, { answer: 'No, the islands are served by our partner Ilhas Express.' }).expect(200);
      expect((await search(admin, 'working days')).passages).toEqual([]);
      expect((await search(admin, 'Ilhas Express')).passages).toEqual([
        expect.objectContaining({ kind: 'entry', entry_id: entry.id, text: 'No, the islands are served by our partner Ilhas Express.' }),
      ]);
      await admin.delete(`${BASE}/${entry.id}`).expect(204);
      expect((await search(admin, 'Azores Ilhas Express')).passages).toEqual([]);
    });

    it('is imported with its passage (POST /v1/bot/knowledge/import)', async () => {
      await admin
        .post(`${BASE}/import`, {
          format: 'json',
          content: JSON.stringify([
            { question: 'Do you sell gift cards?', answer: 'Gift cards from 10 to 200 euros.' },
            { question: QUESTION, answer: ANSWER },
          ]),
        })
        .expect(201);
      expect((await search(admin, 'gift cards')).passages.map((passage) => passage.kind)).toEqual(['entry']);
    });

    it('is not found by the stop words a question shares with it (a tenant searched with the simple configuration)', async () => {
      const simple = await createTenant(context);
      const simpleAdmin = withKey(context, (await createApiKey(context, simple.tenant, { role: 'admin' })).secret);
      await simpleAdmin.post(`${BASE}/`, { question: 'How do I track my order?', answer: 'Send us your order number.' }).expect(201);
      expect((await search(simpleAdmin, 'Do you sell unicorns?')).passages).toEqual([]);
      expect((await search(simpleAdmin, 'track my order')).passages).toHaveLength(1);
    });

    it("is never found by another tenant's search nor used by its agent", async () => {
      await addEntry();
      const other = await createTenant(context, { settings: { knowledge: { language: 'english' } } });
      const otherAdmin = withKey(context, (await createApiKey(context, other.tenant, { role: 'admin' })).secret);
      expect((await search(otherAdmin, QUESTION)).passages).toEqual([]);
      expect((await answeredInteraction(context, other, QUESTION)).reply).not.toContain(ANSWER);
    });
  });

  describe('a correction', () => {
    const HUMAN = 'Yes: Sunday delivery is available in the city centre.';

    it('is found only while approved, with kind correction', async () => {
      const created = (await admin.post('/v1/bot/corrections', correctionBody()).expect(201)).body as { id: string };
      expect((await search(admin, 'Sunday delivery')).passages).toEqual([]);

      await admin.post(`/v1/bot/corrections/${created.id}/approve`, { approved: true, quality_score: 5 }).expect(200);
      expect((await search(admin, 'Sunday delivery')).passages).toEqual([
        expect.objectContaining({
          kind: 'correction',
          correction_id: created.id,
          entry_id: null,
          heading_path: ['Do you deliver on Sundays?'],
          text: HUMAN,
        }),
      ]);

      await admin.post(`/v1/bot/corrections/${created.id}/approve`, { approved: false, quality_score: 1 }).expect(200);
      expect((await search(admin, 'Sunday delivery')).passages).toEqual([]);
    });

    it('loses its passage when its text changes (the approval is withdrawn) or it is deleted', async () => {
      const created = (await admin.post('/v1/bot/corrections', correctionBody()).expect(201)).body as { id: string };
      await admin.post(`/v1/bot/corrections/${created.id}/approve`, { approved: true, quality_score: 5 }).expect(200);
      await admin.patch(`/v1/bot/corrections/${created.id}`, { human_response: 'Sunday delivery is paused.' }).expect(200);
      expect((await search(admin, 'Sunday delivery')).passages).toEqual([]);

      await admin.post(`/v1/bot/corrections/${created.id}/approve`, { approved: true, quality_score: 5 }).expect(200);
      expect((await search(admin, 'Sunday delivery')).passages).toHaveLength(1);
      await admin.delete(`/v1/bot/corrections/${created.id}`).expect(204);
      expect((await search(admin, 'Sunday delivery')).passages).toEqual([]);
    });
  });

  describe("the tenant's Questions and answers document", () => {
    const documents = async () =>
      (await admin.get(`${BASE}/documents`).expect(200)).body.data as Array<{
        id: string;
        source_kind: string;
        status: string;
        chunk_count: number;
      }>;

    it('is listed with its passage count once indexed, and cannot be deleted as a document', async () => {
      await addEntry();
      await addEntry('Are you open on holidays?', 'We close on public holidays.');
      await context.services.documentIndexer.runUntilIdle();
      const [faq] = await documents();
      expect(faq).toMatchObject({ source_kind: 'faq', status: 'ready', chunk_count: 2 });
      const refused = await admin.delete(`${BASE}/documents/${faq.id}`).expect(409);
      expect(refused.body.error).toMatchObject({ code: 'conflict' });
      expect((await search(admin, 'holidays')).passages).toHaveLength(1);
    });

    it('writes on re-sync the passages of entries stored without one (the migration and bulk writers leave them to it)', async () => {
      await addEntry();
      const [faq] = await documents();
      await context.database.dataSource.manager.insert(KnowledgeEntry, {
        tenantId: shop.tenant.id,
        question: 'Do you gift wrap?',
        answer: 'Gift wrapping costs 2 euros.',
        tags: [],
      });
      expect((await search(admin, 'gift wrapping')).passages).toEqual([]);
      await context.services.documentIndexer.runUntilIdle();
      await admin.post(`${BASE}/documents/${faq.id}/resync`).expect(202);
      await context.services.documentIndexer.runUntilIdle();
      expect((await search(admin, 'gift wrapping')).passages).toEqual([
        expect.objectContaining({ kind: 'entry', text: 'Gift wrapping costs 2 euros.' }),
      ]);
    });
  });
});
