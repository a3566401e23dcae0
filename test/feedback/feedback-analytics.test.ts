import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { createApiKey, createTenant, type TenantFixture } from '../support/factories';
import { withKey } from '../support/correction-factories';
import { seedFeedback, utcDay } from '../support/feedback-factories';
import { useTestContext } from '../support/test-context';

const PATH = '/v1/bot/feedback/analytics';
const OPENAI = { provider: 'openai', model: 'gpt-4o-mini' };

describe('GET /v1/bot/feedback/analytics', () => {
  const context = useTestContext();
  let shop: TenantFixture;
  let analyst: ReturnType<typeof withKey>;

  beforeEach(async () => {
    shop = await createTenant(context);
    analyst = withKey(context, (await createApiKey(context, shop.tenant, { scopes: ['analytics:view'] })).secret);
  });

  it('matches a hand-computed fixture: 8 helpful and 2 not helpful is 0.8, with implicit averages, by day and by model', async () => {
    await seedFeedback(context, shop, [
      // Yesterday, offline model. Implicit score = clamp(0.5 + 0.3 continued + 0.5 completed - 0.5 human + 0.2 fast reply).
      { rating: 'helpful', continued: true, responseTimeSeconds: 10, text: 'Great' }, // 1.0
      { rating: 'helpful', continued: true, responseTimeSeconds: 10 }, // 1.0
      { rating: 'helpful', continued: true, responseTimeSeconds: 10 }, // 1.0
      { rating: 'helpful', continued: true, responseTimeSeconds: 10 }, // 1.0
      { rating: 'helpful', completed: true }, // 1.0
      { rating: null, completed: true }, // 1.0, implicit only: counts in total, not in the helpful rate
      // Three days ago.
      { rating: 'helpful', completed: true, daysAgo: 3 }, // 1.0, offline
      { rating: 'helpful', daysAgo: 3, ...OPENAI }, // 0.5
      { rating: 'helpful', daysAgo: 3, ...OPENAI }, // 0.5
      { rating: 'not_helpful', human: true, text: 'Wrong', daysAgo: 3, ...OPENAI }, // 0.0
      { rating: 'not_helpful', continued: true, responseTimeSeconds: 100, text: 'Meh', daysAgo: 3, ...OPENAI }, // 0.8
      // Outside a 30-day window.
      { rating: 'not_helpful', daysAgo: 40 },
    ]);
    const other = await createTenant(context);
    await seedFeedback(context, other, [{ rating: 'not_helpful', human: true }]);

    const response = await analyst.get(`${PATH}/?days=30`);
    expect(response.status).toBe(200);
    const body = response.body;
    expect(body).toMatchObject({
      days: 30,
      total: 11,
      helpful: 8,
      not_helpful: 2,
      helpful_rate: 0.8,
      avg_implicit_score: 0.8, // (4 x 1.0 + 1.0 + 1.0 + 1.0 + 0.5 + 0.5 + 0.0 + 0.8) / 11 = 8.8 / 11
      with_comments: 3,
      user_continued_rate: 0.4545, // 5 / 11
      completed_action_rate: 0.2727, // 3 / 11
      requested_human_rate: 0.0909, // 1 / 11
    });
    expect(body.by_day).toEqual([
      {
        day: await utcDay(context, 3),
        total: 5,
        helpful: 3,
        not_helpful: 2,
        helpful_rate: 0.6,
        avg_implicit_score: 0.56,
        with_comments: 2,
        user_continued_rate: 0.2,
        completed_action_rate: 0.2,
        requested_human_rate: 0.2,
      },
      {
        day: await utcDay(context, 1),
        total: 6,
        helpful: 5,
        not_helpful: 0,
        helpful_rate: 1,
        avg_implicit_score: 1,
        with_comments: 1,
        user_continued_rate: 0.6667,
        completed_action_rate: 0.3333,
        requested_human_rate: 0,
      },
    ]);
    expect(body.by_model).toEqual([
      {
        provider: 'offline',
        model: 'offline-v1',
        total: 7,
        helpful: 6,
        not_helpful: 0,
        helpful_rate: 1,
        avg_implicit_score: 1,
        with_comments: 1,
        user_continued_rate: 0.5714,
        completed_action_rate: 0.4286,
        requested_human_rate: 0,
      },
      {
        provider: 'openai',
        model: 'gpt-4o-mini',
        total: 4,
        helpful: 2,
        not_helpful: 2,
        helpful_rate: 0.5,
        avg_implicit_score: 0.45,
        with_comments: 2,
        user_continued_rate: 0.25,
        completed_action_rate: 0,
        requested_human_rate: 0.25,
      },
    ]);

    const wider = (await analyst.get(`${PATH}?days=60`)).body;
    expect(wider).toMatchObject({ total: 12, helpful: 8, not_helpful: 3, helpful_rate: 0.7273 });
    expect(wider.by_day).toHaveLength(3);
  });

  it('answers zeros and nulls for a tenant without feedback, with a 30-day default', async () => {
    const body = (await analyst.get(PATH)).body;
    expect(body).toMatchObject({
      days: 30,
      total: 0,
      helpful: 0,
      not_helpful: 0,
      helpful_rate: null,
      avg_implicit_score: null,
      with_comments: 0,
      user_continued_rate: null,
      completed_action_rate: null,
      requested_human_rate: null,
      by_day: [],
      by_model: [],
    });
  });

  it.each([['days=0'], ['days=366'], ['days=abc'], ['days=1.5']])('rejects %s with 400', async (query) => {
    const response = await analyst.get(`${PATH}?${query}`);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('validation_failed');
  });

  it('needs a key with analytics:view', async () => {
    expect((await request(context.app).get(PATH)).status).toBe(401);
    const agent = withKey(context, (await createApiKey(context, shop.tenant, { scopes: ['conversations:manage', 'users:manage'] })).secret);
    expect((await agent.get(PATH)).status).toBe(403);
  });
});
