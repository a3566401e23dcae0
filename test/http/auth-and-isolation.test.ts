import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, createTenant, inboundParams, postInbound, type TenantFixture } from '../support/factories';
import { createTestContext, type TestContext } from '../support/test-context';

describe('API authentication and tenant isolation (GET /v1/bot/conversations)', () => {
  let context: TestContext;
  let tenantA: TenantFixture;
  let tenantB: TenantFixture;
  let keyA: Awaited<ReturnType<typeof createApiKey>>;
  let keyB: Awaited<ReturnType<typeof createApiKey>>;
  let conversationOfB: string;

  beforeAll(async () => {
    context = await createTestContext();
    tenantA = await createTenant(context, { name: 'A' });
    tenantB = await createTenant(context, { name: 'B' });
    keyA = await createApiKey(context, tenantA.tenant, { scopes: ['conversations:manage'] });
    keyB = await createApiKey(context, tenantB.tenant, { scopes: ['conversations:manage'] });
    await postInbound(context, tenantA, inboundParams(tenantA, { Body: 'from a customer of A', From: 'whatsapp:+14155550001' })).expect(
      200,
    );
    await postInbound(context, tenantB, inboundParams(tenantB, { Body: 'secret of B', From: 'whatsapp:+14155550002' })).expect(200);
    const listB = await request(context.app).get('/v1/bot/conversations').set('Authorization', `Bearer ${keyB.secret}`).expect(200);
    conversationOfB = listB.body.data[0].id;
  });
  afterAll(async () => {
    await context.close();
  });

  it("shows a key only its own tenant's conversations", async () => {
    const response = await request(context.app).get('/v1/bot/conversations').set('Authorization', `Bearer ${keyA.secret}`);
    expect(response.status).toBe(200);
    expect(response.body.data).toHaveLength(1);
    expect(response.body.data[0].customer.whatsapp_address).toBe('whatsapp:+14155550001');
    expect(JSON.stringify(response.body)).not.toContain('secret of B');
  });

  it("returns 404, not 403, for another tenant's conversation", async () => {
    const response = await request(context.app)
      .get(`/v1/bot/conversations/${conversationOfB}`)
      .set('Authorization', `Bearer ${keyA.secret}`);
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ error: { code: 'not_found', message: 'Conversation not found' } });
    const own = await request(context.app).get(`/v1/bot/conversations/${conversationOfB}`).set('Authorization', `Bearer ${keyB.secret}`);
    expect(own.status).toBe(200);
    expect(own.body.messages.map((message: { body: string }) => message.body)).toEqual(['secret of B']);
  });

  it('accepts X-TENANT-ID with X-TENANT-API-KEY, and refuses a key presented for another tenant', async () => {
    const ok = await request(context.app)
      .get('/v1/bot/conversations')
      .set('X-TENANT-ID', tenantA.tenant.id)
      .set('X-TENANT-API-KEY', keyA.secret);
    expect(ok.status).toBe(200);
    const mismatched = await request(context.app)
      .get('/v1/bot/conversations')
      .set('X-TENANT-ID', tenantB.tenant.id)
      .set('X-TENANT-API-KEY', keyA.secret);
    expect(mismatched.status).toBe(401);
  });

  it('returns 401 without a key, with an unknown key and with a revoked key', async () => {
    expect((await request(context.app).get('/v1/bot/conversations')).status).toBe(401);
    const unknown = await request(context.app).get('/v1/bot/conversations').set('Authorization', 'Bearer pk_unknown');
    expect(unknown.status).toBe(401);
    expect(unknown.body.error.code).toBe('unauthorized');
    const revoked = await createApiKey(context, tenantA.tenant, { scopes: ['conversations:manage'] });
    await context.services.apiKeys.revoke(revoked.apiKeyId);
    expect((await request(context.app).get('/v1/bot/conversations').set('Authorization', `Bearer ${revoked.secret}`)).status).toBe(401);
  });

  it('returns 403 when the key lacks the scope', async () => {
    const analyst = await createApiKey(context, tenantA.tenant, { scopes: ['analytics:view'] });
    const response = await request(context.app).get('/v1/bot/conversations').set('Authorization', `Bearer ${analyst.secret}`);
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('missing_scope');
  });

  it('returns 400 for a malformed id or filter, and a JSON 404 for unknown routes', async () => {
    const auth = { Authorization: `Bearer ${keyA.secret}` };
    expect((await request(context.app).get('/v1/bot/conversations/not-a-uuid').set(auth)).status).toBe(400);
    expect((await request(context.app).get('/v1/bot/conversations?status=sleeping').set(auth)).status).toBe(400);
    const missing = await request(context.app).get('/nowhere');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('route_not_found');
  });

  it('answers a malformed JSON body with 400 and an oversized one with 413', async () => {
    const auth = { Authorization: `Bearer ${keyA.secret}` };
    const malformed = await request(context.app)
      .post('/v1/bot/conversations')
      .set(auth)
      .set('content-type', 'application/json')
      .send('{"a":');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('malformed_body');
    const huge = await request(context.app)
      .post('/v1/bot/conversations')
      .set(auth)
      .set('content-type', 'application/json')
      .send(`{"a":"${'x'.repeat(1_100_000)}"}`);
    expect(huge.status).toBe(413);
  });
});
