import crypto from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buttonPayload } from '../../src/feedback/feedback-buttons';
import { feedbackTokenKey } from '../../src/feedback/feedback-token';
import { Message } from '../../src/db/entities/message';
import { startFakeTwilio, type FakeTwilioServer } from '../fakes/twilio-server';
import { createTenant, inboundParams, postInbound, type TenantFixture } from '../support/factories';
import { echoReplies } from '../support/scripted-replies';
import { createTestContext, type TestContext } from '../support/test-context';

const CUSTOMER = 'whatsapp:+14155550100';

describe('feedback buttons on WhatsApp', () => {
  let fake: FakeTwilioServer;
  let context: TestContext;
  let replies: ReturnType<typeof echoReplies>;
  const accountSid = `AC${crypto.randomBytes(16).toString('hex')}`;
  const authToken = crypto.randomBytes(16).toString('hex');

  beforeAll(async () => {
    fake = await startFakeTwilio();
    fake.accounts.set(accountSid, authToken);
    replies = echoReplies();
    context = await createTestContext({ replies, environment: { TWILIO_API_BASE_URL: fake.url } });
  });
  afterAll(async () => {
    await context.close();
    await fake.close();
  });
  beforeEach(async () => {
    await context.database.truncateAll();
    fake.reset();
    replies.calls.length = 0;
  });

  const twilioTenant = (settings: Record<string, unknown> = {}) =>
    createTenant(context, {
      credentials: { twilioAccountSid: accountSid, twilioAuthToken: authToken },
      settings: { feedbackButtons: 'always', ...settings },
    });
  const simulatedTenant = (settings: Record<string, unknown> = {}) =>
    createTenant(context, { settings: { feedbackButtons: 'always', ...settings } });

  const say = async (tenant: TenantFixture, body: string, extra: Record<string, string> = {}) => {
    await postInbound(context, tenant, inboundParams(tenant, { Body: body, ...extra })).expect(200);
    await context.services.processor.drain();
  };
  /** What WhatsApp posts when the customer taps a quick-reply button. */
  const tap = (tenant: TenantFixture, payload: string, title: string, from = CUSTOMER) =>
    say(tenant, title, { ButtonPayload: payload, ButtonText: title, MessageType: 'button', From: from });
  const feedbackRows = () => context.database.dataSource.query('SELECT * FROM interaction_feedback ORDER BY created_at');
  const interactions = () => context.database.dataSource.query('SELECT * FROM agent_interactions ORDER BY created_at');
  const outbound = () => context.database.dataSource.manager.find(Message, { where: { direction: 'outbound' }, order: { seq: 'ASC' } });
  const variablesOf = (index: number) => JSON.parse(fake.messages[index].params.ContentVariables) as Record<string, string>;

  describe('with real buttons (Twilio Content API)', () => {
    it('sends the answer as a quick reply with ContentSid, creating the content resource once and reusing it', async () => {
      const shop = await twilioTenant();
      await say(shop, 'opening hours?');
      await say(shop, 'and on Sunday?');
      expect(fake.contents).toHaveLength(1);
      expect(fake.contents[0].body.types).toEqual({
        'twilio/quick-reply': {
          body: '{{1}}',
          actions: [
            { title: '👍 Helpful', id: '{{2}}' },
            { title: '👎 Not helpful', id: '{{3}}' },
          ],
        },
        'twilio/text': { body: '{{1}}\n\n1. 👍 Helpful\n2. 👎 Not helpful\n\nReply with a number.' },
      });
      expect(fake.messages).toHaveLength(2);
      for (const message of fake.messages) {
        expect(message.params.ContentSid).toBe(fake.contents[0].sid);
        expect(message.params.Body).toBeUndefined();
      }
      expect(variablesOf(1)['1']).toBe('echo: and on Sunday?');
      expect(variablesOf(1)['2']).toMatch(/^parley:helpful:/);
      const cached = await context.database.dataSource.query('SELECT * FROM content_templates');
      expect(cached).toMatchObject([{ tenant_id: shop.tenant.id, account_sid: accountSid, content_sid: fake.contents[0].sid }]);
      // A restarted instance (empty memory) reads the cached SID from the database.
      const restarted = context.newInstance({ replies });
      await postInbound(restarted, shop, inboundParams(shop, { Body: 'third question' })).expect(200);
      await restarted.services.processor.drain();
      expect(fake.contents).toHaveLength(1);
      expect(fake.messages[2].params.ContentSid).toBe(fake.contents[0].sid);
    });

    it('records a tap as feedback with a confirmation and no model call; a second tap changes the rating', async () => {
      const shop = await twilioTenant();
      await say(shop, 'opening hours?');
      const [interaction] = await interactions();
      expect(replies.calls).toHaveLength(1);

      await tap(shop, variablesOf(0)['2'], '👍 Helpful');
      expect(replies.calls).toHaveLength(1);
      expect(await feedbackRows()).toMatchObject([
        { agent_interaction_id: interaction.id, rating: 'helpful', source: 'whatsapp_button', tenant_id: shop.tenant.id },
      ]);
      expect(fake.messages[1].params.Body).toBe('Thanks for your feedback! 🙏');

      await tap(shop, variablesOf(0)['3'], '👎 Not helpful');
      expect(replies.calls).toHaveLength(1);
      const rows = await feedbackRows();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ rating: 'not_helpful', source: 'whatsapp_button' });
      // The apology offers a person, as a second content resource with one button.
      expect(fake.contents).toHaveLength(2);
      expect(fake.contents[1].body.types).toMatchObject({
        'twilio/quick-reply': { actions: [{ title: '🙋 Talk to a person', id: '{{2}}' }] },
      });
      expect(fake.messages[2].params.ContentSid).toBe(fake.contents[1].sid);
      expect(variablesOf(2)['1']).toBe("Sorry that didn't help. Would you like to talk to a person?");
      const inbound = await context.database.dataSource.manager.find(Message, { where: { direction: 'inbound' }, order: { seq: 'ASC' } });
      expect(inbound.map((message) => message.status)).toEqual(['replied', 'replied', 'replied']);
    });

    it('hands the conversation to a person when "Talk to a person" is tapped', async () => {
      const shop = await twilioTenant();
      await say(shop, 'opening hours?');
      await tap(shop, variablesOf(0)['3'], '👎 Not helpful');
      await tap(shop, variablesOf(1)['2'], '🙋 Talk to a person');
      const [conversation] = await context.database.dataSource.query('SELECT status FROM conversations');
      expect(conversation.status).toBe('handoff');
      expect(await feedbackRows()).toMatchObject([{ rating: 'not_helpful', requested_human: true }]);
      expect(fake.messages[2].params.Body).toMatch(/A person from our team will reply/);
      expect(fake.messages[2].params.ContentSid).toBeUndefined();
      expect(replies.calls).toHaveLength(1);
    });

    it('does not send a button answer twice when a sender died after Twilio accepted it', async () => {
      const shop = await twilioTenant();
      await say(shop, 'first question');
      await postInbound(context, shop, inboundParams(shop, { Body: 'second question' })).expect(200);
      const [claim] = await context.services.queue.claimInbound(1);
      const variables = { '1': 'echo: second question', '2': 'parley:helpful:x', '3': 'parley:not_helpful:y' };
      // The crash window: the row is claimed for sending and Twilio got the message, but the SID was never stored.
      await context.database.dataSource.query(
        `INSERT INTO messages (tenant_id, conversation_id, direction, author, body, content_sid, content_variables, status,
                               reply_to_message_id, locked_until, attempts)
         VALUES ($1, $2, 'outbound', 'bot', 'echo: second question', $3, $4::jsonb, 'sending', $5, now() - interval '1 second', 1)`,
        [claim.tenantId, claim.conversationId, fake.contents[0].sid, JSON.stringify(variables), claim.id],
      );
      await context.database.dataSource.query(`UPDATE messages SET status = 'replied', locked_until = NULL WHERE id = $1`, [claim.id]);
      await context.services.transports
        .transportFor((await context.services.tenants.findById(shop.tenant.id))!)
        .send({ from: shop.address, to: CUSTOMER, contentSid: fake.contents[0].sid, contentVariables: variables });
      expect(fake.messages).toHaveLength(2);

      await context.services.processor.drain();
      expect(fake.messages).toHaveLength(2);
      const rows = await outbound();
      expect(rows[1]).toMatchObject({ messageSid: fake.messages[1].sid, attempts: 2 });
    });

    it("uses the tenant's own content SID when it configured one", async () => {
      const ownSid = `HX${crypto.randomBytes(16).toString('hex')}`;
      const shop = await twilioTenant({ contentSids: { feedback: ownSid } });
      await say(shop, 'hello');
      expect(fake.contents).toHaveLength(0);
      expect(fake.messages[0].params.ContentSid).toBe(ownSid);
    });

    it('falls back to numbered text when the Content API fails', async () => {
      fake.injectFault('content', { kind: 'status', status: 500 });
      const shop = await twilioTenant();
      await say(shop, 'hello');
      expect(fake.messages[0].params.ContentSid).toBeUndefined();
      expect(fake.messages[0].params.Body).toBe('echo: hello\n\n1. 👍 Helpful\n2. 👎 Not helpful\n\nReply with a number.');
    });

    it('sends the text fallback when Twilio refuses the content SID, and forgets a refused cached resource', async () => {
      const shop = await twilioTenant();
      await say(shop, 'first question');
      expect(fake.contents).toHaveLength(1);
      // The resource was deleted in the Twilio console: the next send with it is refused (21655).
      fake.injectFault('messages', { kind: 'status', status: 400, code: 21655, message: 'The ContentSid is Invalid' });
      await say(shop, 'second question');
      expect(fake.requestCounts.messages).toBe(3);
      expect(fake.messages[1].params.ContentSid).toBeUndefined();
      expect(fake.messages[1].params.Body).toBe('echo: second question\n\n1. 👍 Helpful\n2. 👎 Not helpful\n\nReply with a number.');
      const [, answer] = await outbound();
      expect(answer).toMatchObject({ status: 'queued', contentSid: null, messageSid: fake.messages[1].sid });
      expect(await context.database.dataSource.query('SELECT * FROM content_templates')).toEqual([]);
      await say(shop, 'third question');
      expect(fake.contents).toHaveLength(2);
      expect(fake.messages[2].params.ContentSid).toBe(fake.contents[1].sid);
    });

    it("does not lose answers when the tenant's own content SID is wrong", async () => {
      const shop = await twilioTenant({ contentSids: { feedback: `HX${'0'.repeat(32)}` } });
      fake.injectFault('messages', { kind: 'status', status: 400, code: 21655, message: 'The ContentSid is Invalid' });
      await say(shop, 'hello');
      expect(fake.messages).toHaveLength(1);
      expect(fake.messages[0].params.Body).toMatch(/^echo: hello\n\n1\. 👍 Helpful/);
    });

    it('adds no buttons when the tenant says never, and to every Nth answer when it says so', async () => {
      const never = await twilioTenant({ feedbackButtons: 'never' });
      await say(never, 'hello');
      expect(fake.messages[0].params).toMatchObject({ Body: 'echo: hello' });
      fake.reset();
      const everySecond = await twilioTenant({ feedbackButtons: { everyNth: 2 } });
      for (const text of ['one', 'two', 'three', 'four']) await say(everySecond, text);
      expect(fake.messages.map((message) => Boolean(message.params.ContentSid))).toEqual([false, true, false, true]);
    });
  });

  describe('with the text fallback (simulated transport)', () => {
    it('lists numbered options and takes "1" and "2" (and the emoji) as ratings without asking the model', async () => {
      const shop = await simulatedTenant();
      await say(shop, 'opening hours?');
      const [answer] = await outbound();
      expect(answer.body).toBe('echo: opening hours?\n\n1. 👍 Helpful\n2. 👎 Not helpful\n\nReply with a number.');
      expect(answer.choices?.map((choice) => choice.title)).toEqual(['👍 Helpful', '👎 Not helpful']);

      await say(shop, '1');
      expect(await feedbackRows()).toMatchObject([{ rating: 'helpful', source: 'whatsapp_button' }]);
      expect(replies.calls).toHaveLength(1);
      expect((await outbound())[1].body).toBe('Thanks for your feedback! 🙏');

      // The confirmation offered nothing, so a later "2" is an ordinary message.
      await say(shop, '2');
      expect(replies.calls).toHaveLength(2);
      expect((await feedbackRows())[0].rating).toBe('helpful');
      await say(shop, '👎');
      expect(replies.calls).toHaveLength(2);
      const rows = await feedbackRows();
      expect(rows).toHaveLength(2);
      expect(rows[1]).toMatchObject({ rating: 'not_helpful' });
    });

    it('answers a "Talk to a person" typed as its number', async () => {
      const shop = await simulatedTenant();
      await say(shop, 'opening hours?');
      await say(shop, '2');
      expect((await outbound())[1].body).toBe(
        "Sorry that didn't help. Would you like to talk to a person?\n\n1. 🙋 Talk to a person\n\nReply with a number.",
      );
      await say(shop, '1');
      const [conversation] = await context.database.dataSource.query('SELECT status FROM conversations');
      expect(conversation.status).toBe('handoff');
    });
  });

  describe('forged payloads', () => {
    it("ignores a payload carrying another tenant's token: no feedback row, no reply, no model call, message kept", async () => {
      const victim = await simulatedTenant();
      const attacker = await simulatedTenant();
      await say(victim, 'hello', { From: 'whatsapp:+14155550111' });
      const [interaction] = await interactions();
      const key = feedbackTokenKey(context.encryptionKey);
      // A token the attacker's own tenant would issue, naming the victim's interaction.
      const forged = buttonPayload(key, attacker.tenant.id, interaction.id, 'not_helpful');
      await tap(victim, forged, '👎 Not helpful', 'whatsapp:+14155550111');
      await tap(attacker, buttonPayload(key, victim.tenant.id, interaction.id, 'not_helpful'), '👎 Not helpful');
      await tap(victim, 'parley:not_helpful:AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAA', '👎 Not helpful', 'whatsapp:+14155550111');
      expect(await feedbackRows()).toHaveLength(0);
      expect(replies.calls).toHaveLength(1);
      expect(await outbound()).toHaveLength(1);
      const clicks = await context.database.dataSource.query(`SELECT status, error_message FROM messages WHERE message_type = 'button'`);
      expect(clicks).toEqual(Array(3).fill({ status: 'skipped', error_message: 'invalid button payload' }));
    });

    it("ignores a valid token of the same tenant used from another customer's conversation", async () => {
      const shop = await simulatedTenant();
      await say(shop, 'hello', { From: 'whatsapp:+14155550111' });
      const [interaction] = await interactions();
      const payload = buttonPayload(feedbackTokenKey(context.encryptionKey), shop.tenant.id, interaction.id, 'helpful');
      await tap(shop, payload, '👍 Helpful', 'whatsapp:+14155550222');
      expect(await feedbackRows()).toHaveLength(0);
    });

    it("answers a button payload that is not Parley's (the tenant's own template) as an ordinary message", async () => {
      const shop = await simulatedTenant();
      await tap(shop, 'ORDER_STATUS', 'Where is my order?');
      expect(replies.calls).toHaveLength(1);
      expect((await outbound())[0].body).toMatch(/^echo: Where is my order\?/);
    });
  });
});
