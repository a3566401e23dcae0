/**
 * Who may write to a WhatsApp customer: opt-out (STOP and the like, START resumes, Twilio's 21610), WhatsApp's
 * 24-hour window for agents' messages (a template, or a 409), and ownership (an agent who writes owns the
 * conversation until hand-back or the tenant's idle time; the customer is never answered by both). Sends go through
 * the fake Twilio API; time moves on the test's clock.
 */
import crypto from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeTwilio, type FakeTwilioServer } from '../fakes/twilio-server';
import { createApiKey, createTenant, inboundParams, messageSid, postInbound, signTwilio, type TenantFixture } from '../support/factories';
import { echoReplies } from '../support/scripted-replies';
import { createTestContext, TEST_PUBLIC_BASE_URL, type TestContext } from '../support/test-context';

const CUSTOMER = 'whatsapp:+5511955550100';
const TEMPLATE_SID = `HX${'ab'.repeat(16)}`;
const HOUR = 60 * 60_000;

describe('WhatsApp conversation rules', () => {
  let fake: FakeTwilioServer;
  let context: TestContext;
  let shop: TenantFixture;
  let agentKey: Awaited<ReturnType<typeof createApiKey>>;
  let clock = new Date();
  const replies = echoReplies();
  const accountSid = `AC${crypto.randomBytes(16).toString('hex')}`;
  const authToken = crypto.randomBytes(16).toString('hex');

  beforeAll(async () => {
    fake = await startFakeTwilio();
    fake.accounts.set(accountSid, authToken);
    context = await createTestContext({ replies, now: () => clock, environment: { TWILIO_API_BASE_URL: fake.url } });
  });
  afterAll(async () => {
    await context.close();
    await fake.close();
  });
  beforeEach(async () => {
    await context.database.truncateAll();
    fake.reset();
    replies.calls.length = 0;
    clock = new Date();
    shop = await tenantWith({});
  });

  async function tenantWith(whatsapp: Record<string, unknown>, language?: string): Promise<TenantFixture> {
    const tenant = await createTenant(context, {
      credentials: { twilioAccountSid: accountSid, twilioAuthToken: authToken },
      settings: { whatsapp, ...(language ? { language } : {}) },
    });
    agentKey = await createApiKey(context, tenant.tenant, { scopes: ['conversations:manage'], name: 'Agent Ana' });
    return tenant;
  }

  const say = async (body: string) => {
    await postInbound(context, shop, inboundParams(shop, { Body: body, From: CUSTOMER })).expect(200);
    await context.services.processor.drain();
  };
  const sent = () => fake.messages.map((message) => message.params.Body ?? `[template ${message.params.ContentSid}]`);
  const conversationId = async () => (await context.database.dataSource.query('SELECT id FROM conversations'))[0].id as string;
  const agentSays = async (body: string) =>
    request(context.app)
      .post(`/v1/bot/conversations/${await conversationId()}/messages`)
      .set('Authorization', `Bearer ${agentKey.secret}`)
      .send({ body });
  const conversation = async () =>
    (
      await request(context.app)
        .get(`/v1/bot/conversations/${await conversationId()}`)
        .set('Authorization', `Bearer ${agentKey.secret}`)
        .expect(200)
    ).body;
  const customer = async () =>
    (await context.database.dataSource.query('SELECT opted_out_at, consent_changed_at, consent_source FROM customers'))[0];

  describe('opt-out', () => {
    it('STOP stops every message, confirmed once, with the consent on record; START resumes', async () => {
      await say('hello');
      await say('STOP');
      expect(sent()).toEqual(['echo: hello', "You won't get any more messages from us. Reply START to receive messages again."]);
      const optedOut = await customer();
      expect(optedOut).toMatchObject({ consent_source: 'keyword' });
      expect(optedOut.opted_out_at).not.toBeNull();
      expect((await conversation()).opted_out_at).not.toBeNull();

      await say('are you there?');
      await say('stop');
      expect(sent()).toHaveLength(2);
      expect(replies.calls).toHaveLength(1);
      const refused = await agentSays('We miss you');
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('customer_opted_out');

      await say('Start');
      expect(sent().at(-1)).toBe("Welcome back! You'll receive our messages again.");
      expect(await customer()).toMatchObject({ opted_out_at: null, consent_source: 'start_keyword' });
      await say('where is my order?');
      expect(sent().at(-1)).toBe('echo: where is my order?');
    });

    it('matches the whole message ignoring case, accents and punctuation, in Portuguese and Spanish and the tenant words', async () => {
      shop = await tenantWith({ optOutKeywords: ['Cancelar'] }, 'es');
      await say(' Saír! ');
      expect(sent()).toEqual(['Você não receberá mais mensagens nossas. Responda START para voltar a recebê-las.']);
      await say('START');
      await say('cancelar.');
      expect(sent().at(-1)).toBe('No recibirás más mensajes nuestros. Responde START para volver a recibirlos.');
      await say('START');
      // A keyword inside a sentence is an ordinary message.
      await say('please stop sending me offers about shoes');
      expect(sent().at(-1)).toBe('echo: please stop sending me offers about shoes');
    });

    it('records an opt-out when Twilio answers 21610 to a send, and holds back what is queued', async () => {
      fake.injectFault('messages', { kind: 'status', status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' });
      await say('hi');
      expect(await customer()).toMatchObject({ consent_source: 'twilio_21610' });
      const [reply] = (await conversation()).messages.filter((message: { direction: string }) => message.direction === 'outbound');
      expect(reply).toMatchObject({ status: 'failed', error_code: '21610' });
      expect(reply.error).toMatch(/unsubscribed/);
      expect((await agentSays('hello?')).status).toBe(409);
    });
  });

  describe("WhatsApp's 24-hour window", () => {
    it("refuses an agent's message with 409 once 24 hours have passed since the customer's last message", async () => {
      await say('hello');
      clock = new Date(Date.now() + 25 * HOUR);
      const response = await agentSays('Are you still interested?');
      expect(response.status).toBe(409);
      expect(response.body.error.code).toBe('outside_whatsapp_window');
      expect(response.body.error.message).toMatch(/more than 24 hours ago.*approved template.*outsideWindowTemplate/);
      expect(sent()).toEqual(['echo: hello']);
    });

    it("sends it through the tenant's approved template instead, when one is configured", async () => {
      shop = await tenantWith({ outsideWindowTemplate: { contentSid: TEMPLATE_SID, variables: { '1': '{{body}}' } } });
      await say('hello');
      clock = new Date(Date.now() + 25 * HOUR);
      const response = await agentSays('Your order shipped');
      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({ author: 'agent', body: 'Your order shipped', content_sid: TEMPLATE_SID });
      const last = fake.messages.at(-1)!;
      expect(last.params.ContentSid).toBe(TEMPLATE_SID);
      expect(JSON.parse(last.params.ContentVariables)).toEqual({ '1': 'Your order shipped' });
      expect(last.params.Body).toBeUndefined();
    });

    it('sends free-form text inside the window', async () => {
      await say('hello');
      clock = new Date(Date.now() + 23 * HOUR);
      expect((await agentSays('Hi, Ana here')).status).toBe(201);
      expect(fake.messages.at(-1)!.params).toMatchObject({ Body: 'Hi, Ana here' });
    });

    it("shows Twilio's 63016 and 63032 as readable reasons on the message", async () => {
      await say('hello');
      fake.injectFault('messages', { kind: 'status', status: 400, code: 63016, message: 'Outside window' });
      expect((await agentSays('first')).body).toMatchObject({
        status: 'failed',
        error_code: '63016',
        error: expect.stringMatching(/24 hours/),
      });
      fake.injectFault('messages', { kind: 'status', status: 400, code: 63032, message: 'User restricted' });
      expect((await agentSays('second')).body).toMatchObject({ error_code: '63032', error: expect.stringMatching(/does not let/) });
      const thread = (await conversation()).messages.filter((message: { author: string }) => message.author === 'agent');
      expect(thread.map((message: { error_code: string }) => message.error_code)).toEqual(['63016', '63032']);
      expect(thread[0].error).toMatch(/24 hours/);
    });
  });

  describe('who owns the conversation', () => {
    it('an agent who writes takes the conversation over: the bot is silent until the idle time has passed', async () => {
      shop = await tenantWith({ agentIdleMinutes: 30 });
      await say('hello');
      expect((await agentSays('Hi, Ana here, I will help you')).status).toBe(201);
      expect(await conversation()).toMatchObject({ status: 'handoff', handoff: { reason: 'agent_took_over' } });

      await say('thanks, my order is 123');
      expect(replies.calls).toHaveLength(1);
      expect(sent()).toEqual(['echo: hello', 'Hi, Ana here, I will help you']);

      clock = new Date(Date.now() + 31 * 60_000);
      await say('hello? anyone?');
      expect(sent().at(-1)).toBe('echo: hello? anyone?');
      expect(await conversation()).toMatchObject({ status: 'active', handoff: { reason: 'agent_took_over' } });
    });

    it('the bot answers again once the agent hands the conversation back', async () => {
      await say('hello');
      await agentSays('Ana here');
      await say('ok');
      expect(replies.calls).toHaveLength(1);
      await request(context.app)
        .post(`/v1/bot/conversations/${await conversationId()}/handback`)
        .set('Authorization', `Bearer ${agentKey.secret}`)
        .expect(200);
      await say('one more question');
      expect(sent().at(-1)).toBe('echo: one more question');
    });

    it('a bot reply not yet sent when the agent writes is never sent: the customer is not answered by both', async () => {
      await postInbound(context, shop, inboundParams(shop, { Body: 'hello', From: CUSTOMER })).expect(200);
      // The bot's turn is stored but its reply not yet sent (Twilio is down for this one send).
      fake.injectFault('messages', { kind: 'status', status: 503 });
      await context.services.processor.drain();
      expect((await agentSays('Ana here')).status).toBe(201);
      await context.database.dataSource.query(`UPDATE messages SET locked_until = NULL WHERE status = 'pending'`);
      await context.services.processor.drain();
      expect(sent()).toEqual(['Ana here']);
      const bot = (await conversation()).messages.find((message: { author: string }) => message.author === 'bot');
      expect(bot).toMatchObject({ status: 'failed', error_code: 'agent_took_over' });
    });

    it('a send from the business number that Parley did not make (seen in a status callback) takes the conversation over', async () => {
      await say('hello');
      const url = `${TEST_PUBLIC_BASE_URL}/v1/webhooks/twilio/status`;
      const params = { MessageSid: messageSid(), MessageStatus: 'sent', From: shop.address, To: CUSTOMER, AccountSid: accountSid };
      await request(context.app)
        .post('/v1/webhooks/twilio/status')
        .set('X-Twilio-Signature', signTwilio(authToken, url, params))
        .type('form')
        .send(params)
        .expect(204);
      expect(await conversation()).toMatchObject({ status: 'handoff', handoff: { reason: 'agent_took_over' } });
      await say('are you a person?');
      expect(replies.calls).toHaveLength(1);
    });

    it('records why each handoff happened', async () => {
      await say('I want to talk to a human');
      expect(await conversation()).toMatchObject({ status: 'handoff', handoff: { reason: 'customer_asked' } });
    });
  });
});
