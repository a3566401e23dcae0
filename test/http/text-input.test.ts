/**
 * Text that PostgreSQL cannot store (NUL, U+0000) or that is not Unicode (a lone surrogate, possible in a JSON
 * "\ud800" escape) is refused by every API with 400 and a message on the field, before any query sees it.
 */
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { createApiKey, createTenant, type TenantFixture } from '../support/factories';
import { answeredInteraction, correctionBody } from '../support/correction-factories';
import { feedbackTokenFor } from '../support/feedback-factories';
import { useTestContext } from '../support/test-context';

const NUL = 'before\u0000after';
const LONE_SURROGATE = 'before\ud800after';

describe('text input with NUL or lone surrogates', () => {
  const context = useTestContext();
  let shop: TenantFixture;
  let key: string;
  let interactionId: string;
  let conversationId: string;
  let knowledgeId: string;
  let correctionId: string;

  const call = (method: 'get' | 'post' | 'patch', path: string) => request(context.app)[method](path).set('Authorization', `Bearer ${key}`);

  beforeEach(async () => {
    shop = await createTenant(context);
    key = (await createApiKey(context, shop.tenant, { scopes: ['analytics:view', 'users:manage', 'conversations:manage'] })).secret;
    ({ interactionId, conversationId } = await answeredInteraction(context, shop, 'What are your opening hours?'));
    knowledgeId = (await call('post', '/v1/bot/knowledge/').send({ question: 'Opening hours?', answer: '9 to 5' }).expect(201)).body.id;
    correctionId = (await call('post', '/v1/bot/corrections/').send(correctionBody()).expect(201)).body.id;
  });

  const counts = async () =>
    (
      await context.database.dataSource.query(
        `SELECT (SELECT count(*) FROM knowledge_entries)::int AS knowledge, (SELECT count(*) FROM corrections)::int AS corrections,
                (SELECT count(*) FROM messages)::int AS messages, (SELECT count(*) FROM interaction_feedback)::int AS feedback`,
      )
    )[0];

  /** Each request body with `text` in one field, and the path zod reports for that field. */
  const writes = (text: string) => [
    {
      name: 'knowledge question',
      method: 'post' as const,
      path: '/v1/bot/knowledge/',
      body: { question: text, answer: 'a' },
      field: 'question',
    },
    {
      name: 'knowledge tag',
      method: 'post' as const,
      path: '/v1/bot/knowledge/',
      body: { question: 'q', answer: 'a', tags: [text] },
      field: 'tags.0',
    },
    {
      name: 'knowledge update',
      method: 'patch' as const,
      path: `/v1/bot/knowledge/${knowledgeId}/`,
      body: { answer: text },
      field: 'answer',
    },
    {
      name: 'JSON import',
      method: 'post' as const,
      path: '/v1/bot/knowledge/import/',
      body: { format: 'json', content: JSON.stringify([{ question: text, answer: 'a' }]) },
      field: 'question',
    },
    {
      name: 'CSV import',
      method: 'post' as const,
      path: '/v1/bot/knowledge/import/',
      body: { format: 'csv', content: `question,answer\n"${text}",a` },
      field: 'content',
    },
    {
      name: 'raw JSON array import',
      method: 'post' as const,
      path: '/v1/bot/knowledge/import/',
      body: [{ question: 'q', answer: text }],
      field: 'answer',
    },
    {
      name: 'correction',
      method: 'post' as const,
      path: '/v1/bot/corrections/',
      body: correctionBody({ human_response: text }),
      field: 'human_response',
    },
    {
      name: 'correction reason',
      method: 'post' as const,
      path: '/v1/bot/corrections/',
      body: correctionBody({ correction_reason: text }),
      field: 'correction_reason',
    },
    {
      name: 'correction update',
      method: 'patch' as const,
      path: `/v1/bot/corrections/${correctionId}/`,
      body: { bot_response: text },
      field: 'bot_response',
    },
    {
      name: 'agent message',
      method: 'post' as const,
      path: `/v1/bot/conversations/${conversationId}/messages/`,
      body: { body: text },
      field: 'body',
    },
  ];

  for (const [label, text] of [
    ['NUL', NUL],
    ['a lone surrogate', LONE_SURROGATE],
  ]) {
    it(`refuses ${label} in every text field of a write with 400 naming the field, and stores nothing`, async () => {
      const before = await counts();
      for (const write of writes(text)) {
        const response = await call(write.method, write.path).send(write.body);
        expect(response.status, write.name).toBe(400);
        expect(response.body.error.details, write.name).toEqual(
          expect.arrayContaining([expect.objectContaining({ path: write.field, message: expect.stringMatching(/NUL|surrogate/) })]),
        );
      }
      expect(await counts()).toEqual(before);
    });
  }

  it('refuses NUL in a raw CSV upload with 400 naming the line', async () => {
    const response = await call('post', '/v1/bot/knowledge/import/').set('content-type', 'text/csv').send(`question,answer\nq,${NUL}\n`);
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({
      message: 'Invalid knowledge line 2',
      details: [{ path: 'answer', message: 'must not contain NUL characters (U+0000)' }],
    });
  });

  it('refuses NUL in the q and tag filters with 400 naming the parameter', async () => {
    for (const parameter of ['q', 'tag']) {
      const response = await call('get', `/v1/bot/knowledge/?${parameter}=before%00after`);
      expect(response.status, parameter).toBe(400);
      expect(response.body.error.details).toEqual([{ path: parameter, message: 'must not contain NUL characters (U+0000)' }]);
    }
  });

  it('refuses NUL in feedback text with 400 (the public submit endpoint)', async () => {
    const response = await request(context.app)
      .post('/v1/bot/feedback/submit/')
      .send({
        interaction_id: interactionId,
        feedback_token: feedbackTokenFor(context, shop.tenant.id, interactionId),
        rating: 'helpful',
        feedback_text: NUL,
      });
    expect(response.status).toBe(400);
    expect(response.body.error.details).toEqual([{ path: 'feedback_text', message: 'must not contain NUL characters (U+0000)' }]);
  });
});
