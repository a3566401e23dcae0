import express from 'express';
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app';
import { createFeedbackSubmitRouter, SUBMIT_PATH } from '../../src/feedback/feedback-submit-router';
import { errorHandler } from '../../src/http/errors';
import { createTenant, type TenantFixture } from '../support/factories';
import { answeredInteraction } from '../support/correction-factories';
import { feedbackTokenFor } from '../support/feedback-factories';
import { silentLogger, useTestContext } from '../support/test-context';

const PATH = '/v1/bot/feedback/submit/';

describe('POST /v1/bot/feedback/submit', () => {
  const context = useTestContext();
  let app: express.Express;
  let shop: TenantFixture;
  let interactionId: string;
  let token: string;

  beforeEach(async () => {
    // A fresh app per test: the rate limiters live in the app, so tests do not share their buckets.
    app = createApp(context.services);
    shop = await createTenant(context);
    interactionId = (await answeredInteraction(context, shop, 'What are your opening hours?')).interactionId;
    token = feedbackTokenFor(context, shop.tenant.id, interactionId);
  });

  const submit = (body: object, target: express.Express = app) => request(target).post(PATH).send(body);
  const storedFeedback = async () =>
    context.database.dataSource.query('SELECT rating, feedback_text, source FROM interaction_feedback WHERE agent_interaction_id = $1', [
      interactionId,
    ]);

  it('creates the rating with 201 and source api, without an API key', async () => {
    const response = await submit({
      interaction_id: interactionId,
      feedback_token: token,
      rating: 'helpful',
      feedback_text: 'Quick and clear',
    });
    expect(response.status).toBe(201);
    expect(response.body).toEqual({
      interaction_id: interactionId,
      rating: 'helpful',
      feedback_text: 'Quick and clear',
      source: 'api',
      created: true,
    });
    expect(await storedFeedback()).toEqual([{ rating: 'helpful', feedback_text: 'Quick and clear', source: 'api' }]);
  });

  it('replaces an earlier rating with 200, keeping the comment when none is given; the path works without the slash', async () => {
    await submit({ interaction_id: interactionId, feedback_token: token, rating: 'helpful', feedback_text: 'ok' }).expect(201);
    const changed = await request(app)
      .post('/v1/bot/feedback/submit')
      .send({ interaction_id: interactionId, feedback_token: token, rating: 'not_helpful' });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ rating: 'not_helpful', feedback_text: 'ok', created: false });
    expect(await storedFeedback()).toEqual([{ rating: 'not_helpful', feedback_text: 'ok', source: 'api' }]);
  });

  it('rejects an unknown interaction with 404', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    const response = await submit({
      interaction_id: unknown,
      feedback_token: feedbackTokenFor(context, shop.tenant.id, unknown),
      rating: 'helpful',
    });
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('not_found');
  });

  it('rejects a token of another interaction, of another tenant, or tampered, with 403 and stores nothing', async () => {
    const second = (await answeredInteraction(context, shop, 'refund?', 'whatsapp:+14155550199')).interactionId;
    const other = await createTenant(context);
    const tampered = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    for (const feedbackToken of [
      feedbackTokenFor(context, shop.tenant.id, second),
      feedbackTokenFor(context, other.tenant.id, interactionId),
      tampered,
      'not-a-token',
    ]) {
      // A fresh app each time: bad attempts count against the interaction's rate limit too.
      const response = await submit(
        { interaction_id: interactionId, feedback_token: feedbackToken, rating: 'helpful' },
        createApp(context.services),
      );
      expect(response.status).toBe(403);
      expect(response.body.error.code).toBe('invalid_feedback_token');
    }
    expect(await storedFeedback()).toEqual([]);
  });

  it.each([
    ['interaction_id', { interaction_id: 'abc' }],
    ['feedback_token', { feedback_token: '' }],
    ['rating', { rating: 'great' }],
    ['missing rating', { rating: undefined }],
    ['feedback_text', { feedback_text: 'x'.repeat(2001) }],
    ['unknown field', { source: 'whatsapp_button' }],
  ])('rejects an invalid %s with 400', async (_field, override) => {
    const response = await submit({ interaction_id: interactionId, feedback_token: token, rating: 'helpful', ...override });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('validation_failed');
  });

  it('rejects malformed JSON with 400', async () => {
    const response = await request(app).post(PATH).set('content-type', 'application/json').send('{"interaction_id":');
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('malformed_body');
  });

  it('limits submissions per interaction (429 with Retry-After)', async () => {
    const body = { interaction_id: interactionId, feedback_token: token, rating: 'helpful' };
    for (let attempt = 0; attempt < 3; attempt += 1) expect((await submit(body)).status).toBeLessThan(300);
    const limited = await submit(body);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('limits submissions per client before touching the database, and refills with time', async () => {
    let now = 0;
    const limitedApp = express()
      .use(
        SUBMIT_PATH,
        createFeedbackSubmitRouter({
          interactions: context.services.repositories.interactions,
          feedback: context.services.feedback,
          tokenKey: context.services.feedbackTokenKey,
          perClient: { perMinute: 6, burst: 2, now: () => now },
        }),
      )
      .use(errorHandler(silentLogger));
    const body = { interaction_id: interactionId, feedback_token: token, rating: 'helpful' };
    expect((await submit(body, limitedApp)).status).toBe(201);
    expect((await submit({ ...body, rating: 'nope' }, limitedApp)).status).toBe(400);
    const limited = await submit(body, limitedApp);
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('10');
    now += 10_000;
    expect((await submit(body, limitedApp)).status).toBe(200);
  });
});
