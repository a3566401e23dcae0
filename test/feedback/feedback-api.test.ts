import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { createApiKey, createTenant, type TenantFixture } from '../support/factories';
import { withKey } from '../support/correction-factories';
import { seedFeedback } from '../support/feedback-factories';
import { useTestContext } from '../support/test-context';

const BASE = '/v1/bot/feedback';

describe('GET /v1/bot/feedback and /v1/bot/feedback/{id}', () => {
  const context = useTestContext();
  let shop: TenantFixture;
  let analyst: ReturnType<typeof withKey>;

  beforeEach(async () => {
    shop = await createTenant(context);
    analyst = withKey(context, (await createApiKey(context, shop.tenant, { scopes: ['analytics:view'] })).secret);
  });

  const interactionIds = (body: { data: Array<{ interaction_id: string }> }) => body.data.map((row) => row.interaction_id);

  it('lists feedback newest first with its model, and reads one row', async () => {
    const [older, newer] = await seedFeedback(context, shop, [
      { rating: 'helpful', daysAgo: 2, text: 'Nice' },
      { rating: 'not_helpful', daysAgo: 1, provider: 'openai', model: 'gpt-4o-mini' },
    ]);
    const list = await analyst.get(`${BASE}/`);
    expect(list.status).toBe(200);
    expect(interactionIds(list.body)).toEqual([newer, older]);
    expect(list.body.data[0]).toMatchObject({
      rating: 'not_helpful',
      provider: 'openai',
      model: 'gpt-4o-mini',
      source: 'whatsapp_button',
      implicit_satisfaction: 0.5,
    });
    expect(list.body.next_cursor).toBeNull();
    const one = await analyst.get(`${BASE}/${list.body.data[1].id}/`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(list.body.data[1]);
    expect((await analyst.get(`${BASE}/${list.body.data[1].id}`)).body.feedback_text).toBe('Nice');
  });

  it('filters by rating, comments, source and date range', async () => {
    const [helpful, notHelpful, implicit] = await seedFeedback(context, shop, [
      { rating: 'helpful', daysAgo: 5, text: 'Thanks' },
      { rating: 'not_helpful', daysAgo: 3 },
      { rating: null, continued: true, daysAgo: 1 },
    ]);
    expect(interactionIds((await analyst.get(`${BASE}?rating=helpful`)).body)).toEqual([helpful]);
    expect(interactionIds((await analyst.get(`${BASE}?rating=none`)).body)).toEqual([implicit]);
    expect(interactionIds((await analyst.get(`${BASE}?with_comments=true`)).body)).toEqual([helpful]);
    expect(interactionIds((await analyst.get(`${BASE}?with_comments=false`)).body)).toEqual([implicit, notHelpful]);
    expect(interactionIds((await analyst.get(`${BASE}?source=implicit`)).body)).toEqual([implicit]);
    const from = new Date(Date.now() - 4 * 86_400_000).toISOString();
    const to = new Date(Date.now() - 2 * 86_400_000).toISOString();
    expect(interactionIds((await analyst.get(`${BASE}?from=${from}&to=${to}`)).body)).toEqual([notHelpful]);
  });

  it('pages with a cursor that stays stable while feedback arrives', async () => {
    const ids = await seedFeedback(
      context,
      shop,
      [5, 4, 3, 2, 1].map((daysAgo) => ({ rating: 'helpful' as const, daysAgo })),
    );
    const newestFirst = [...ids].reverse();
    const first = await analyst.get(`${BASE}?limit=2`);
    expect(interactionIds(first.body)).toEqual(newestFirst.slice(0, 2));
    const [newest, middle] = await seedFeedback(context, shop, [
      { rating: 'not_helpful', daysAgo: 0 },
      { rating: 'helpful', daysAgo: 3 },
    ]);
    const second = await analyst.get(`${BASE}?limit=2&cursor=${first.body.next_cursor}`);
    // The newest row is before the cursor and stays out; the one created at the same instant as newestFirst[2]
    // sorts next to it (ties broken by id). Nothing repeats and nothing is skipped.
    expect(new Set(interactionIds(second.body))).toEqual(new Set([newestFirst[2], middle]));
    const seen = [...interactionIds(first.body), ...interactionIds(second.body)];
    let cursor = second.body.next_cursor;
    while (cursor) {
      const page = await analyst.get(`${BASE}?limit=2&cursor=${cursor}`);
      seen.push(...interactionIds(page.body));
      cursor = page.body.next_cursor;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).not.toContain(newest);
    expect(seen.sort()).toEqual([...ids, middle].sort());
  });

  it.each([
    ['rating=great'],
    ['source=email'],
    ['with_comments=1'],
    ['limit=0'],
    ['cursor=abc'],
    ['from=not-a-date'],
    ['conversation_id=42'],
  ])('rejects %s with 400', async (query) => {
    const response = await analyst.get(`${BASE}?${query}`);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('validation_failed');
  });

  it('answers 400 for a non-UUID id, 404 for another tenant’s feedback, 403 without the scope and 401 without a key', async () => {
    const other = await createTenant(context);
    await seedFeedback(context, other, [{ rating: 'helpful' }]);
    const otherAnalyst = withKey(context, (await createApiKey(context, other.tenant)).secret);
    const theirs = (await otherAnalyst.get(BASE)).body.data[0].id;
    expect((await analyst.get(`${BASE}/${theirs}/`)).status).toBe(404);
    expect((await analyst.get(BASE)).body.data).toEqual([]);
    expect((await analyst.get(`${BASE}/12345/`)).status).toBe(400);
    const agent = withKey(context, (await createApiKey(context, shop.tenant, { scopes: ['conversations:manage'] })).secret);
    expect((await agent.get(BASE)).status).toBe(403);
    expect((await agent.get(`${BASE}/${theirs}`)).status).toBe(403);
    expect((await request(context.app).get(`${BASE}/${theirs}`)).status).toBe(401);
  });
});
