import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature, webhookSigningSecret } from '../../src/net/outbound-webhooks';
import { startFakeTwilio, type FakeTwilioServer } from '../fakes/twilio-server';
import { createApiKey, createTenant, inboundParams, postInbound, type TenantFixture } from '../support/factories';
import { echoReplies } from '../support/scripted-replies';
import { createTestContext, type TestContext } from '../support/test-context';

const CUSTOMER = 'whatsapp:+14155550100';

/** A loopback receiver for the tenant's handoff webhook (parsed bodies, and raw ones with headers); it can leave requests hanging. */
async function startWebhookReceiver() {
  const received: Array<Record<string, unknown>> = [];
  const raw: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
  const hung: http.ServerResponse[] = [];
  const control = { hangNext: 0 };
  const server = http.createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push(JSON.parse(body) as Record<string, unknown>);
      raw.push({ headers: incoming.headers, body });
      if (control.hangNext > 0) {
        control.hangNext -= 1;
        hung.push(response);
      } else {
        response.writeHead(204).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    received,
    raw,
    control,
    hung,
    /** Drops the connections of the requests left hanging (the sender sees a network error and retries). */
    release: () => {
      for (const response of hung.splice(0)) response.socket?.destroy();
    },
    url: `http://127.0.0.1:${port}/handoff`,
    /** What OUTBOUND_ALLOWED_HOSTS must list for Parley to reach this loopback receiver. */
    hostPort: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('human handoff', () => {
  let fake: FakeTwilioServer;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let context: TestContext;
  let replies: ReturnType<typeof echoReplies>;
  let shop: TenantFixture;
  let agentKey: Awaited<ReturnType<typeof createApiKey>>;
  const accountSid = `AC${crypto.randomBytes(16).toString('hex')}`;
  const authToken = crypto.randomBytes(16).toString('hex');

  beforeAll(async () => {
    fake = await startFakeTwilio();
    fake.accounts.set(accountSid, authToken);
    receiver = await startWebhookReceiver();
    replies = echoReplies();
    // The receiver is on loopback: the test opts in to it explicitly, as an operator would for a local service.
    context = await createTestContext({
      replies,
      environment: { TWILIO_API_BASE_URL: fake.url, OUTBOUND_ALLOWED_HOSTS: `${receiver.hostPort},127.0.0.1:1` },
    });
  });
  afterAll(async () => {
    await context.close();
    await fake.close();
    await receiver.close();
  });
  beforeEach(async () => {
    await context.database.truncateAll();
    fake.reset();
    replies.calls.length = 0;
    receiver.received.length = 0;
    receiver.raw.length = 0;
    receiver.control.hangNext = 0;
    shop = await createTenant(context, {
      credentials: { twilioAccountSid: accountSid, twilioAuthToken: authToken },
      settings: { handoffWebhookUrl: receiver.url },
    });
    agentKey = await createApiKey(context, shop.tenant, { scopes: ['conversations:manage'], name: 'Agent Ana' });
  });

  const say = async (body: string, tenant = shop) => {
    await postInbound(context, tenant, inboundParams(tenant, { Body: body, From: CUSTOMER })).expect(200);
    await context.services.processor.drain();
  };
  const api = (method: 'get' | 'post', path: string, key = agentKey.secret) =>
    request(context.app)[method](`/v1/bot${path}`).set('Authorization', `Bearer ${key}`);
  const conversationId = async () => (await context.database.dataSource.query('SELECT id FROM conversations'))[0].id as string;

  it('hands the conversation to a person, stores what the customer writes meanwhile, lets an agent answer and hand it back', async () => {
    await say('what are your opening hours?');
    await say('I want to talk to a human');
    await context.services.handoffs.settle();
    const id = await conversationId();

    // The customer is told, without buttons; the tenant's webhook hears about it; the answer before is marked.
    expect(fake.messages.map((message) => message.params.Body)).toEqual([
      'echo: what are your opening hours?',
      'Thanks for waiting. A person from our team will reply here as soon as possible.',
    ]);
    expect(receiver.received).toMatchObject([
      {
        type: 'conversation.handoff',
        tenant_id: shop.tenant.id,
        conversation_id: id,
        reason: 'customer_asked',
        customer: { whatsapp_address: CUSTOMER },
      },
    ]);
    const [{ headers, body }] = receiver.raw;
    const secret = webhookSigningSecret(context.encryptionKey, shop.tenant.id);
    expect(
      verifyWebhookSignature({
        secret,
        timestamp: headers[TIMESTAMP_HEADER] as string,
        signature: headers[SIGNATURE_HEADER] as string,
        body,
      }),
    ).toBe(true);
    const [feedback] = await context.database.dataSource.query('SELECT requested_human, user_continued FROM interaction_feedback');
    expect(feedback).toEqual({ requested_human: true, user_continued: true });

    // While in handoff the bot is silent, but nothing the customer writes is lost.
    await say('hello? anyone there?');
    await say('my order is #1234');
    expect(replies.calls).toHaveLength(1);
    expect(fake.messages).toHaveLength(2);
    const waiting = await api('get', '/conversations?status=handoff').expect(200);
    expect(waiting.body.data.map((conversation: { id: string }) => conversation.id)).toEqual([id]);
    expect((await api('get', '/conversations?status=active').expect(200)).body.data).toEqual([]);
    const thread = await api('get', `/conversations/${id}`).expect(200);
    expect(thread.body.status).toBe('handoff');
    expect(thread.body.messages.slice(-2)).toMatchObject([
      { direction: 'inbound', body: 'hello? anyone there?', status: 'skipped' },
      { direction: 'inbound', body: 'my order is #1234', status: 'skipped' },
    ]);

    // The agent answers through WhatsApp, recorded as that agent.
    const sent = await api('post', `/conversations/${id}/messages`).send({ body: 'Hi, I am Ana. Order #1234 ships today.' }).expect(201);
    expect(sent.body).toMatchObject({ direction: 'outbound', author: 'agent', author_user_id: agentKey.userId, status: 'queued' });
    expect(fake.messages[2].params).toMatchObject({ Body: 'Hi, I am Ana. Order #1234 ships today.', To: CUSTOMER, From: shop.address });

    // Handed back, the bot answers again.
    expect((await api('post', `/conversations/${id}/handback`).expect(200)).body).toEqual({ id, status: 'active' });
    await say('thanks! and the opening hours?');
    expect(replies.calls).toHaveLength(2);
    expect(fake.messages[3].params.Body).toBe('echo: thanks! and the opening hours?');
  });

  it('recognises requests in Spanish and Portuguese, and a second request changes nothing', async () => {
    await say('Quiero hablar con un agente');
    await say('quero falar com um atendente');
    await context.services.handoffs.settle();
    expect(receiver.received).toHaveLength(1);
    expect(fake.messages).toHaveLength(1);
    expect(replies.calls).toHaveLength(0);
  });

  it('hands the conversation over while the webhook hangs: the reply path never waits for it, the delivery is retried', async () => {
    receiver.control.hangNext = 1;
    const started = performance.now();
    await say('I want to talk to a human');
    const elapsed = performance.now() - started;
    expect(fake.messages.map((message) => message.params.Body)).toEqual([
      'Thanks for waiting. A person from our team will reply here as soon as possible.',
    ]);
    await vi.waitFor(() => expect(receiver.hung).toHaveLength(1));
    // The webhook's attempt timeout is 5 s: a reply path that waited for it could not have finished sooner.
    expect(elapsed).toBeLessThan(5_000);
    receiver.release();
    await context.services.handoffs.settle();
    expect(receiver.raw).toHaveLength(2);
    expect(receiver.raw[1].headers['x-parley-delivery']).toBe(receiver.raw[0].headers['x-parley-delivery']);
  });

  it('uses the tenant handoff message and survives a webhook that does not answer', async () => {
    // Port 1 refuses connections; it is allowlisted (OUTBOUND_ALLOWED_HOSTS) so the URL passes the settings check.
    const quiet = await createTenant(context, {
      credentials: { twilioAccountSid: accountSid, twilioAuthToken: authToken },
      settings: { handoffMessage: 'Un momento, te paso con una persona.', handoffWebhookUrl: 'http://127.0.0.1:1/unreachable' },
    });
    await say('agent', quiet);
    await context.services.handoffs.settle();
    const [conversation] = await context.database.dataSource.query('SELECT status FROM conversations WHERE tenant_id = $1', [
      quiet.tenant.id,
    ]);
    expect(conversation.status).toBe('handoff');
    expect(fake.messages[0].params.Body).toBe('Un momento, te paso con una persona.');
  });

  describe('agent endpoints', () => {
    it("reports Twilio's refusal of an agent message (outside the 24-hour window) on the stored message", async () => {
      await say('agent');
      fake.injectFault('messages', { kind: 'status', status: 400, code: 63016, message: 'Outside the 24-hour window' });
      const response = await api('post', `/conversations/${await conversationId()}/messages`).send({ body: 'Hello again' });
      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({ author: 'agent', status: 'failed', error_code: '63016' });
    });

    it('answers 409 to a handback of a conversation that is not in handoff', async () => {
      await say('hello');
      const response = await api('post', `/conversations/${await conversationId()}/handback`);
      expect(response.status).toBe(409);
      expect(response.body).toEqual({ error: { code: 'conflict', message: 'The conversation is active, not in handoff' } });
    });

    it("answers 404 for an unknown or another tenant's conversation", async () => {
      const other = await createTenant(context);
      await say('hello from another tenant', other);
      const foreign = (await context.database.dataSource.query('SELECT id FROM conversations WHERE tenant_id = $1', [other.tenant.id]))[0]
        .id;
      for (const id of [crypto.randomUUID(), foreign]) {
        for (const path of [`/conversations/${id}/messages`, `/conversations/${id}/handback`]) {
          const response = await api('post', path).send({ body: 'hi' });
          expect(response.status).toBe(404);
          expect(response.body).toEqual({ error: { code: 'not_found', message: 'Conversation not found' } });
        }
      }
      expect(fake.messages).toHaveLength(0);
    });

    it('validates the id and the body with 400 in the one error shape', async () => {
      await say('agent');
      const id = await conversationId();
      const badId = await api('post', '/conversations/not-a-uuid/handback');
      expect(badId.status).toBe(400);
      expect(badId.body.error).toMatchObject({ code: 'validation_failed', message: 'Invalid path' });
      for (const body of [{}, { body: '   ' }, { body: 'x'.repeat(1601) }, { body: 42 }]) {
        const response = await api('post', `/conversations/${id}/messages`).send(body);
        expect(response.status).toBe(400);
        expect(response.body.error).toMatchObject({ code: 'validation_failed', message: 'Invalid body' });
        expect(response.body.error.details[0]).toHaveProperty('path', 'body');
      }
      const malformed = await api('post', `/conversations/${id}/messages`).set('content-type', 'application/json').send('{"body":');
      expect(malformed.status).toBe(400);
      expect(malformed.body.error.code).toBe('malformed_body');
    });

    it('requires the conversations:manage scope (403) and a key (401)', async () => {
      await say('agent');
      const id = await conversationId();
      const analyst = await createApiKey(context, shop.tenant, { scopes: ['analytics:view'] });
      const forbidden = await api('post', `/conversations/${id}/messages`, analyst.secret).send({ body: 'hi' });
      expect(forbidden.status).toBe(403);
      expect(forbidden.body).toEqual({ error: { code: 'missing_scope', message: 'This API key lacks the conversations:manage scope' } });
      expect((await request(context.app).post(`/v1/bot/conversations/${id}/handback`)).status).toBe(401);
    });
  });
});
