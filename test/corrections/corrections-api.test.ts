import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApiKey, createTenant, type TenantFixture } from '../support/factories';
import { answeredInteraction, correctionBody, withKey } from '../support/correction-factories';
import { useTestContext } from '../support/test-context';

const BASE = '/v1/bot/corrections';
const UNKNOWN_UUID = '00000000-0000-4000-8000-000000000000';

describe('corrections API', () => {
  const context = useTestContext();
  let shop: TenantFixture;
  let manager: ReturnType<typeof withKey>;
  let managerUserId: string;
  let reviewer: ReturnType<typeof withKey>;
  let analyst: ReturnType<typeof withKey>;
  let agent: ReturnType<typeof withKey>;

  beforeEach(async () => {
    shop = await createTenant(context);
    const managerKey = await createApiKey(context, shop.tenant, { scopes: ['users:manage', 'analytics:view'], name: 'Maria' });
    manager = withKey(context, managerKey.secret);
    managerUserId = managerKey.userId;
    reviewer = withKey(context, (await createApiKey(context, shop.tenant, { scopes: ['users:manage'], name: 'Rui' })).secret);
    analyst = withKey(context, (await createApiKey(context, shop.tenant, { scopes: ['analytics:view'] })).secret);
    agent = withKey(context, (await createApiKey(context, shop.tenant, { scopes: ['conversations:manage'] })).secret);
  });

  describe('POST /v1/bot/corrections/', () => {
    it('records a free-standing correction by the key’s user (201)', async () => {
      const response = await manager.post(`${BASE}/`, correctionBody());
      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({
        customer_message: 'Do you deliver on Sundays?',
        bot_response: 'No, we never deliver on Sundays.',
        human_response: 'Yes: Sunday delivery is available in the city centre.',
        correction_reason: 'Policy changed in May',
        correction_category: 'factual_error',
        corrected_by: managerUserId,
        approved_for_training: false,
        quality_score: null,
        approved_by: null,
        interaction_id: null,
      });
      expect((await analyst.get(`${BASE}/${response.body.id}/`)).body).toEqual(response.body);
    });

    it('takes the message, reply, conversation and earlier context from an interaction', async () => {
      await answeredInteraction(context, shop, 'hello');
      const { interactionId, conversationId, reply } = await answeredInteraction(context, shop, 'Where is my order?');
      const response = await manager.post(BASE, {
        interaction_id: interactionId,
        human_response: 'Let me check: it left today.',
        correction_category: 'missing_information',
      });
      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({
        interaction_id: interactionId,
        conversation_id: conversationId,
        customer_message: 'Where is my order?',
        bot_response: reply,
      });
      expect(response.body.context[0]).toEqual({ role: 'user', content: 'hello' });
      expect(response.body.context[1].role).toBe('assistant');
      const filtered = await analyst.get(`${BASE}/?interaction_id=${interactionId}`);
      expect(filtered.body.data.map((row: { id: string }) => row.id)).toEqual([response.body.id]);
    });

    it.each([
      ['human_response', { human_response: '' }],
      ['correction_category', { correction_category: 'rude' }],
      ['correction_reason', { correction_reason: 'x'.repeat(2001) }],
      ['interaction_id', { interaction_id: 'nope' }],
      ['conversation_id', { conversation_id: 42 }],
      ['customer_message', { customer_message: undefined }],
      ['bot_response', { bot_response: 'x'.repeat(8001) }],
      ['unknown field', { approved_for_training: true }],
    ])('rejects an invalid %s with 400', async (_field, override) => {
      const response = await manager.post(BASE, correctionBody(override));
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('validation_failed');
    });

    it('answers 404 for another tenant’s interaction or conversation', async () => {
      const other = await createTenant(context);
      const theirs = await answeredInteraction(context, other, 'hello there');
      const byInteraction = await manager.post(BASE, {
        interaction_id: theirs.interactionId,
        human_response: 'x',
        correction_category: 'other',
      });
      expect(byInteraction.status).toBe(404);
      expect((await manager.post(BASE, correctionBody({ conversation_id: theirs.conversationId }))).status).toBe(404);
    });

    it('needs a key (401) with users:manage (403)', async () => {
      expect((await request(context.app).post(BASE).send(correctionBody())).status).toBe(401);
      expect((await analyst.post(BASE, correctionBody())).status).toBe(403);
      expect((await agent.post(BASE, correctionBody())).status).toBe(403);
    });
  });

  describe('GET /v1/bot/corrections/ and /approved/', () => {
    it('filters by category, approval and quality, and pages stably under inserts', async () => {
      const ids: string[] = [];
      for (let index = 0; index < 5; index += 1) {
        const category = index % 2 === 0 ? 'factual_error' : 'tone_inappropriate';
        ids.push((await manager.post(BASE, correctionBody({ human_response: `Answer ${index}`, correction_category: category }))).body.id);
      }
      await reviewer.post(`${BASE}/${ids[1]}/approve`, { approved: true, quality_score: 2 }).expect(200);
      await reviewer.post(`${BASE}/${ids[3]}/approve`, { approved: true, quality_score: 5 }).expect(200);

      expect((await analyst.get(`${BASE}/?category=factual_error`)).body.data).toHaveLength(3);
      expect((await analyst.get(`${BASE}/?approved=false`)).body.data).toHaveLength(3);
      const approved = await analyst.get(`${BASE}/approved/`);
      expect(approved.body.data.map((row: { id: string }) => row.id)).toEqual([ids[3], ids[1]]);
      expect((await analyst.get(`${BASE}/approved?min_quality=3`)).body.data.map((row: { id: string }) => row.id)).toEqual([ids[3]]);

      const first = await analyst.get(`${BASE}/?limit=2`);
      expect(first.body.data.map((row: { id: string }) => row.id)).toEqual([ids[4], ids[3]]);
      await manager.post(BASE, correctionBody({ human_response: 'Newest' })).expect(201);
      const second = await analyst.get(`${BASE}/?limit=2&cursor=${first.body.next_cursor}`);
      expect(second.body.data.map((row: { id: string }) => row.id)).toEqual([ids[2], ids[1]]);
      const third = await analyst.get(`${BASE}/?limit=2&cursor=${second.body.next_cursor}`);
      expect(third.body.data.map((row: { id: string }) => row.id)).toEqual([ids[0]]);
      expect(third.body.next_cursor).toBeNull();

      const future = new Date(Date.now() + 60_000).toISOString();
      expect((await analyst.get(`${BASE}/?from=${encodeURIComponent(future)}`)).body.data).toEqual([]);
      expect((await analyst.get(`${BASE}/?to=${encodeURIComponent(future)}`)).body.data).toHaveLength(6);
    });

    it.each([
      ['approved=yes'],
      ['category=nope'],
      ['min_quality=6'],
      ['min_quality=4.55'],
      ['limit=101'],
      ['cursor=%%%'],
      ['to=2026-13-01'],
      ['interaction_id=1'],
    ])('rejects %s with 400', async (query) => {
      const response = await analyst.get(`${BASE}/?${query}`);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('validation_failed');
    });

    it('needs analytics:view and shows only the tenant’s corrections', async () => {
      expect((await agent.get(BASE)).status).toBe(403);
      expect((await agent.get(`${BASE}/approved`)).status).toBe(403);
      expect((await request(context.app).get(BASE)).status).toBe(401);
      const other = await createTenant(context);
      const otherManager = withKey(context, (await createApiKey(context, other.tenant)).secret);
      await otherManager.post(BASE, correctionBody()).expect(201);
      expect((await analyst.get(BASE)).body.data).toEqual([]);
    });
  });

  describe('GET|PATCH|DELETE /v1/bot/corrections/{id}/', () => {
    it('changes fields, withdraws approval when the answer changes, and deletes', async () => {
      const created = (await manager.post(BASE, correctionBody())).body;
      await reviewer.post(`${BASE}/${created.id}/approve/`, { approved: true, quality_score: 4 }).expect(200);
      const recategorised = await manager.patch(`${BASE}/${created.id}/`, { correction_category: 'wrong_intent', correction_reason: null });
      expect(recategorised.status).toBe(200);
      expect(recategorised.body).toMatchObject({
        correction_category: 'wrong_intent',
        correction_reason: null,
        approved_for_training: true,
      });
      const rewritten = await manager.patch(`${BASE}/${created.id}`, { human_response: 'A better answer' });
      expect(rewritten.body).toMatchObject({
        human_response: 'A better answer',
        approved_for_training: false,
        approved_by: null,
        approved_at: null,
      });
      expect((await manager.delete(`${BASE}/${created.id}/`)).status).toBe(204);
      expect((await analyst.get(`${BASE}/${created.id}/`)).status).toBe(404);
    });

    it('rejects a non-UUID id, an empty patch and invalid fields with 400', async () => {
      const created = (await manager.post(BASE, correctionBody())).body;
      expect((await analyst.get(`${BASE}/not-a-uuid/`)).status).toBe(400);
      expect((await manager.patch(`${BASE}/${created.id}`, {})).status).toBe(400);
      expect((await manager.patch(`${BASE}/${created.id}`, { correction_category: 'bad' })).status).toBe(400);
      expect((await manager.patch(`${BASE}/${created.id}`, { human_response: ' ' })).status).toBe(400);
      expect((await manager.patch(`${BASE}/${created.id}`, { corrected_by: UNKNOWN_UUID })).status).toBe(400);
    });

    it('answers 404 for another tenant’s correction, 403 without the scope, 401 without a key', async () => {
      const other = await createTenant(context);
      const theirs = (await withKey(context, (await createApiKey(context, other.tenant)).secret).post(BASE, correctionBody())).body;
      expect((await analyst.get(`${BASE}/${theirs.id}/`)).status).toBe(404);
      expect((await manager.patch(`${BASE}/${theirs.id}/`, { human_response: 'mine now' })).status).toBe(404);
      expect((await manager.delete(`${BASE}/${theirs.id}/`)).status).toBe(404);
      expect((await reviewer.post(`${BASE}/${theirs.id}/approve/`, { approved: true, quality_score: 5 })).status).toBe(404);
      expect((await manager.get(`${BASE}/${UNKNOWN_UUID}/`)).status).toBe(404);
      expect((await agent.get(`${BASE}/${theirs.id}/`)).status).toBe(403);
      expect((await analyst.delete(`${BASE}/${theirs.id}/`)).status).toBe(403);
      expect((await request(context.app).delete(`${BASE}/${theirs.id}/`)).status).toBe(401);
    });
  });

  describe('POST /v1/bot/corrections/{id}/approve/', () => {
    it('sets approved_for_training, quality_score, approved_by and approved_at', async () => {
      const created = (await manager.post(BASE, correctionBody())).body;
      const approved = await manager.post(`${BASE}/${created.id}/approve/`, { approved: true, quality_score: 5 });
      expect(approved.status).toBe(200);
      expect(approved.body).toMatchObject({ approved_for_training: true, quality_score: 5, approved_by: managerUserId });
      expect(Date.parse(approved.body.approved_at)).not.toBeNaN();
    });

    it.each([
      ['approved', { approved: 'yes', quality_score: 3 }],
      ['quality_score above 5', { approved: true, quality_score: 6 }],
      ['negative quality_score', { approved: true, quality_score: -1 }],
      ['quality_score with two decimals', { approved: true, quality_score: 2.55 }],
      ['quality_score as a string', { approved: true, quality_score: '4.5' }],
      ['missing quality_score', { approved: true }],
    ])('rejects an invalid %s with 400', async (_case, body) => {
      const created = (await manager.post(BASE, correctionBody())).body;
      const response = await manager.post(`${BASE}/${created.id}/approve`, body);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('validation_failed');
    });

    it('forbids approving one’s own correction when the tenant says so', async () => {
      const strict = await createTenant(context, { settings: { forbidSelfApproval: true } });
      const author = await createApiKey(context, strict.tenant, { role: 'supervisor' });
      const other = withKey(context, (await createApiKey(context, strict.tenant, { role: 'supervisor' })).secret);
      const created = (await withKey(context, author.secret).post(BASE, correctionBody())).body;
      const own = await withKey(context, author.secret).post(`${BASE}/${created.id}/approve`, { approved: true, quality_score: 5 });
      expect(own.status).toBe(403);
      expect(own.body.error.code).toBe('self_approval_forbidden');
      expect((await other.post(`${BASE}/${created.id}/approve`, { approved: true, quality_score: 5 })).body.approved_by).not.toBe(
        author.userId,
      );
    });

    it('needs users:manage', async () => {
      const created = (await manager.post(BASE, correctionBody())).body;
      expect((await analyst.post(`${BASE}/${created.id}/approve`, { approved: true, quality_score: 5 })).status).toBe(403);
    });
  });

  describe('GET /v1/bot/corrections/export', () => {
    const openAiMessage = z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string().min(1) }).strict();
    const openAiLine = z.object({ messages: z.array(openAiMessage).min(3) }).strict();
    const preferenceLine = z
      .object({
        input: z.object({ messages: z.array(openAiMessage).min(2) }).strict(),
        preferred_output: z.array(openAiMessage.extend({ role: z.literal('assistant') })).length(1),
        non_preferred_output: z.array(openAiMessage.extend({ role: z.literal('assistant') })).length(1),
      })
      .strict();
    const geminiPart = z.object({ text: z.string().min(1) }).strict();
    const geminiLine = z
      .object({
        systemInstruction: z.object({ role: z.literal('system'), parts: z.array(geminiPart).min(1) }).strict(),
        contents: z.array(z.object({ role: z.enum(['user', 'model']), parts: z.array(geminiPart).min(1) }).strict()).min(2),
      })
      .strict();

    const lines = (text: string) =>
      text
        .split('\n')
        .filter((line, index, all) => line !== '' || index < all.length - 1)
        .map((line) => JSON.parse(line));

    beforeEach(async () => {
      await answeredInteraction(context, shop, 'hello');
      const { interactionId } = await answeredInteraction(context, shop, 'Do you deliver on Sundays?');
      const withContext = (
        await manager.post(BASE, {
          interaction_id: interactionId,
          human_response: 'Yes, on Sundays too.',
          correction_category: 'factual_error',
        })
      ).body;
      const free = (await manager.post(BASE, correctionBody({ human_response: 'Refunds take 5 days.' }))).body;
      const unapproved = (await manager.post(BASE, correctionBody({ human_response: 'Never exported' }))).body;
      await reviewer.post(`${BASE}/${withContext.id}/approve`, { approved: true, quality_score: 5 }).expect(200);
      await reviewer.post(`${BASE}/${free.id}/approve`, { approved: true, quality_score: 2 }).expect(200);
      expect(unapproved.approved_for_training).toBe(false);
    });

    it('streams OpenAI chat fine-tuning lines of approved corrections only', async () => {
      const response = await analyst.get(`${BASE}/export?format=openai`);
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/jsonl/);
      expect(response.headers['content-disposition']).toContain('corrections-openai.jsonl');
      expect(response.text.endsWith('\n')).toBe(true);
      const parsed = lines(response.text);
      expect(parsed).toHaveLength(2);
      for (const line of parsed) openAiLine.parse(line);
      const [first] = parsed;
      expect(first.messages[0].role).toBe('system');
      expect(first.messages.slice(1).map((message: { role: string }) => message.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
      expect(first.messages.at(-2)).toEqual({ role: 'user', content: 'Do you deliver on Sundays?' });
      expect(first.messages.at(-1)).toEqual({ role: 'assistant', content: 'Yes, on Sundays too.' });
      expect(response.text).not.toContain('Never exported');
    });

    it('streams preference lines with the human answer preferred, filtered by min_quality', async () => {
      const response = await analyst.get(`${BASE}/export/?format=openai-preference&min_quality=3`);
      const parsed = lines(response.text);
      expect(parsed).toHaveLength(1);
      const line = preferenceLine.parse(parsed[0]);
      expect(line.preferred_output[0].content).toBe('Yes, on Sundays too.');
      expect(line.non_preferred_output[0].content).not.toBe('Yes, on Sundays too.');
      expect(line.input.messages.at(-1)).toEqual({ role: 'user', content: 'Do you deliver on Sundays?' });
    });

    it('streams Gemini tuning lines that alternate user and model, starting with user and ending with model', async () => {
      const parsed = lines((await analyst.get(`${BASE}/export?format=gemini`)).text);
      expect(parsed).toHaveLength(2);
      for (const raw of parsed) {
        const line = geminiLine.parse(raw);
        const roles = line.contents.map((content) => content.role);
        expect(roles[0]).toBe('user');
        expect(roles.at(-1)).toBe('model');
        for (let index = 1; index < roles.length; index++) expect(roles[index]).not.toBe(roles[index - 1]);
      }
      expect(parsed[1].contents.at(-1).parts[0].text).toBe('Refunds take 5 days.');
    });

    it('rejects a bad format or min_quality with 400, and needs analytics:view', async () => {
      expect((await analyst.get(`${BASE}/export?format=csv`)).status).toBe(400);
      expect((await analyst.get(`${BASE}/export?min_quality=9`)).status).toBe(400);
      const forbidden = await agent.get(`${BASE}/export`);
      expect(forbidden.status).toBe(403);
      expect(forbidden.body.error.code).toBe('missing_scope');
    });

    it('exports nothing of another tenant', async () => {
      const other = await createTenant(context);
      const otherAnalyst = withKey(context, (await createApiKey(context, other.tenant)).secret);
      const response = await otherAnalyst.get(`${BASE}/export?format=openai`);
      expect(response.status).toBe(200);
      expect(response.text).toBe('');
    });
  });
});
