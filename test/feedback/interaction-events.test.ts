import crypto from 'node:crypto';
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { createApiKey, createTenant, inboundParams, postInbound, type TenantFixture } from '../support/factories';
import { useTestContext } from '../support/test-context';

const NOW = new Date('2026-03-01T12:00:00.000Z');

describe('POST /v1/bot/interactions/{id}/events', () => {
  const context = useTestContext({ now: () => NOW });
  let shop: TenantFixture;
  let key: Awaited<ReturnType<typeof createApiKey>>;
  let interactionId: string;

  beforeEach(async () => {
    shop = await createTenant(context);
    key = await createApiKey(context, shop.tenant, { scopes: ['conversations:manage'] });
    await postInbound(context, shop, inboundParams(shop, { Body: 'do you have the blue shoes in 42?' })).expect(200);
    await context.services.processor.drain();
    interactionId = (await context.database.dataSource.query('SELECT id FROM agent_interactions'))[0].id;
  });

  const post = (id: string, body: unknown, secret = key.secret) =>
    request(context.app)
      .post(`/v1/bot/interactions/${id}/events`)
      .set('Authorization', `Bearer ${secret}`)
      .send(body as object);

  it('sets completed_action, keeps every event with the time it was reported, and scores 0.5 + 0.5', async () => {
    const first = await post(interactionId, { type: 'purchase', value: 19.99, currency: 'EUR' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      interaction_id: interactionId,
      completed_action: true,
      rating: null,
      source: 'implicit',
      implicit_satisfaction: 1,
      metadata: { events: [{ type: 'purchase', value: '19.99', currency: 'EUR', at: NOW.toISOString() }] },
    });
    const second = await post(interactionId, { type: 'booking', value: '120.50' }).expect(201);
    expect(second.body.metadata.events.map((event: { type: string }) => event.type)).toEqual(['purchase', 'booking']);
    // The one API form of a feedback row: what GET /v1/bot/feedback/{id} returns.
    const reader = await createApiKey(context, shop.tenant, { scopes: ['analytics:view'] });
    const detail = await request(context.app)
      .get(`/v1/bot/feedback/${second.body.id}`)
      .set('Authorization', `Bearer ${reader.secret}`)
      .expect(200);
    expect(second.body).toEqual(detail.body);
    const rows = await context.database.dataSource.query('SELECT completed_action, implicit_satisfaction FROM interaction_feedback');
    expect(rows).toEqual([{ completed_action: true, implicit_satisfaction: '1.000' }]);
  });

  it('records a retried report with the same event id once; other ids and id-less reports are appended', async () => {
    await post(interactionId, { id: 'order-1042', type: 'purchase', value: '19.99', currency: 'EUR' }).expect(201);
    const retried = await post(interactionId, { id: 'order-1042', type: 'purchase', value: '19.99', currency: 'EUR' }).expect(201);
    expect(retried.body.metadata.events).toEqual([
      { id: 'order-1042', type: 'purchase', value: '19.99', currency: 'EUR', at: NOW.toISOString() },
    ]);
    await post(interactionId, { id: 'order-1043', type: 'purchase' }).expect(201);
    const withoutId = await post(interactionId, { type: 'booking' }).expect(201);
    expect(withoutId.body.metadata.events.map((event: { id?: string; type: string }) => event.id ?? event.type)).toEqual([
      'order-1042',
      'order-1043',
      'booking',
    ]);
    expect((await post(interactionId, { id: 'not an id!', type: 'purchase' })).status).toBe(400);
  });

  it('requires the conversations:manage scope', async () => {
    const analyst = await createApiKey(context, shop.tenant, { scopes: ['analytics:view'] });
    const response = await post(interactionId, { type: 'purchase' }, analyst.secret);
    expect(response.status).toBe(403);
    expect(response.body).toEqual({ error: { code: 'missing_scope', message: 'This API key lacks the conversations:manage scope' } });
    const anonymous = await request(context.app).post(`/v1/bot/interactions/${interactionId}/events`).send({ type: 'purchase' });
    expect(anonymous.status).toBe(401);
    expect(await context.database.dataSource.query('SELECT * FROM interaction_feedback')).toEqual([]);
  });

  it("answers 404 for an unknown interaction and for another tenant's", async () => {
    const other = await createTenant(context);
    const otherKey = await createApiKey(context, other.tenant, { scopes: ['conversations:manage'] });
    for (const [id, secret] of [
      [crypto.randomUUID(), key.secret],
      [interactionId, otherKey.secret],
    ]) {
      const response = await post(id, { type: 'other' }, secret);
      expect(response.status).toBe(404);
      expect(response.body).toEqual({ error: { code: 'not_found', message: 'Interaction not found' } });
    }
  });

  it('rejects bad input with 400 in the one error shape', async () => {
    for (const body of [
      {},
      { type: 'refund' },
      { type: 'purchase', currency: 'eur' },
      { type: 'purchase', value: -1 },
      { type: 'purchase', value: '1e3' },
      { type: 'purchase', extra: true },
    ]) {
      const response = await post(interactionId, body);
      expect(response.status).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'validation_failed', message: 'Invalid body' });
    }
    const badId = await post('123', { type: 'purchase' });
    expect(badId.status).toBe(400);
    expect(badId.body.error.code).toBe('validation_failed');
  });
});
