import crypto from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Message } from '../../src/db/entities/message';
import { startFakeTwilio, type FakeTwilioServer } from '../fakes/twilio-server';
import { createTenant, inboundParams, postInbound, signTwilio, type TenantFixture } from '../support/factories';
import { echoReplies } from '../support/scripted-replies';
import { createTestContext, type TestContext } from '../support/test-context';

describe('sending replies through Twilio', () => {
  let fake: FakeTwilioServer;
  let context: TestContext;
  let shop: TenantFixture;
  const accountSid = `AC${crypto.randomBytes(16).toString('hex')}`;
  const authToken = crypto.randomBytes(16).toString('hex');

  beforeAll(async () => {
    fake = await startFakeTwilio();
    fake.accounts.set(accountSid, authToken);
    context = await createTestContext({ replies: echoReplies(), environment: { TWILIO_API_BASE_URL: fake.url } });
  });
  afterAll(async () => {
    await context.close();
    await fake.close();
  });
  beforeEach(async () => {
    await context.database.truncateAll();
    fake.reset();
    shop = await createTenant(context, { credentials: { twilioAccountSid: accountSid, twilioAuthToken: authToken } });
  });

  const outbound = () => context.database.dataSource.manager.find(Message, { where: { direction: 'outbound' }, order: { seq: 'ASC' } });

  it('sends the reply with messages.create: from the tenant number, to the customer, with a status callback', async () => {
    await postInbound(context, shop, inboundParams(shop, { Body: 'hi there' })).expect(200);
    await context.services.processor.drain();
    expect(fake.messages).toHaveLength(1);
    expect(fake.messages[0].params).toMatchObject({
      From: shop.address,
      To: 'whatsapp:+14155550100',
      Body: 'echo: hi there',
    });
    const [reply] = await outbound();
    expect(fake.messages[0].params.StatusCallback).toBe(`https://parley.test/v1/webhooks/twilio/status?message_id=${reply.id}`);
    expect(reply).toMatchObject({ status: 'queued', messageSid: fake.messages[0].sid });
  });

  it('splits a reply over 1,600 characters into parts sent in order', async () => {
    const sentence = 'Our return window is thirty days from delivery, no questions asked. ';
    await postInbound(context, shop, inboundParams(shop, { Body: sentence.repeat(40).trim() })).expect(200);
    await context.services.processor.drain();
    expect(fake.messages.length).toBe(2);
    for (const message of fake.messages) expect(message.params.Body.length).toBeLessThanOrEqual(1600);
    expect(fake.messages.map((message) => message.params.Body).join(' ')).toBe(`echo: ${sentence.repeat(40).trim()}`);
    expect((await outbound()).map((row) => row.chunkIndex)).toEqual([0, 1]);
  });

  it('retries a transient Twilio error and sends once it recovers', async () => {
    fake.injectFault('messages', { kind: 'status', status: 503 });
    await postInbound(context, shop, inboundParams(shop, { Body: 'hello' })).expect(200);
    await context.services.processor.drain();
    let [reply] = await outbound();
    expect(reply).toMatchObject({ status: 'pending', attempts: 1 });
    expect(reply.lockedUntil!.getTime()).toBeGreaterThan(Date.now());
    await context.database.dataSource.query(`UPDATE messages SET locked_until = now() - interval '1 second' WHERE id = $1`, [reply.id]);
    await context.services.processor.drain();
    [reply] = await outbound();
    expect(reply).toMatchObject({ status: 'queued', attempts: 2 });
    expect(fake.messages).toHaveLength(1);
  });

  it('marks a reply failed, with the Twilio error code, when Twilio rejects it for good', async () => {
    fake.injectFault('messages', { kind: 'status', status: 400, code: 63016, message: 'Outside the 24-hour window' });
    await postInbound(context, shop, inboundParams(shop, { Body: 'hello' })).expect(200);
    await context.services.processor.drain();
    const [reply] = await outbound();
    expect(reply).toMatchObject({ status: 'failed', errorCode: '63016' });
  });

  it('does not send twice when a sender died after Twilio accepted the message', async () => {
    await postInbound(context, shop, inboundParams(shop, { Body: 'hello' })).expect(200);
    const [claim] = await context.services.queue.claimInbound(1);
    // Simulate the crash window: the row is claimed for sending and Twilio got the message, but the SID was never stored.
    await context.database.dataSource.query(
      `INSERT INTO messages (tenant_id, conversation_id, direction, author, body, status, reply_to_message_id, locked_until, attempts)
       VALUES ($1, $2, 'outbound', 'bot', 'echo: hello', 'sending', $3, now() - interval '1 second', 1)`,
      [claim.tenantId, claim.conversationId, claim.id],
    );
    await context.database.dataSource.query(`UPDATE messages SET status = 'replied', locked_until = NULL WHERE id = $1`, [claim.id]);
    await context.services.transports
      .transportFor((await context.services.tenants.findById(shop.tenant.id))!)
      .send({ from: shop.address, to: 'whatsapp:+14155550100', body: 'echo: hello' });
    expect(fake.messages).toHaveLength(1);

    await context.services.processor.drain();
    expect(fake.messages).toHaveLength(1);
    const [reply] = await outbound();
    expect(reply).toMatchObject({ messageSid: fake.messages[0].sid, attempts: 2 });
  });

  it('re-sends after a crash mid-send when Twilio never got the message', async () => {
    await postInbound(context, shop, inboundParams(shop, { Body: 'hello' })).expect(200);
    const [claim] = await context.services.queue.claimInbound(1);
    await context.database.dataSource.query(
      `INSERT INTO messages (tenant_id, conversation_id, direction, author, body, status, reply_to_message_id, locked_until, attempts)
       VALUES ($1, $2, 'outbound', 'bot', 'echo: hello', 'sending', $3, now() - interval '1 second', 1)`,
      [claim.tenantId, claim.conversationId, claim.id],
    );
    await context.database.dataSource.query(`UPDATE messages SET status = 'replied', locked_until = NULL WHERE id = $1`, [claim.id]);
    await context.services.processor.drain();
    expect(fake.messages).toHaveLength(1);
    expect((await outbound())[0]).toMatchObject({ status: 'queued', messageSid: fake.messages[0].sid });
  });

  describe('POST /v1/webhooks/twilio/status', () => {
    const postStatus = (params: Record<string, string>, signature?: string) => {
      const path = '/v1/webhooks/twilio/status';
      return request(context.app)
        .post(path)
        .type('form')
        .set('X-Twilio-Signature', signature ?? signTwilio(authToken, `https://parley.test${path}`, params))
        .send(params);
    };

    it('moves a message forward through delivered and read, never back', async () => {
      await postInbound(context, shop, inboundParams(shop, { Body: 'hello' })).expect(200);
      await context.services.processor.drain();
      const sid = fake.messages[0].sid;
      const base = { MessageSid: sid, From: shop.address, To: 'whatsapp:+14155550100', AccountSid: accountSid };
      await postStatus({ ...base, MessageStatus: 'delivered' }).expect(204);
      expect((await outbound())[0].status).toBe('delivered');
      await postStatus({ ...base, MessageStatus: 'read' }).expect(204);
      await postStatus({ ...base, MessageStatus: 'sent' }).expect(204);
      expect((await outbound())[0].status).toBe('read');
    });

    it('matches a callback by message_id when the SID was never stored', async () => {
      await postInbound(context, shop, inboundParams(shop, { Body: 'hello' })).expect(200);
      await context.services.processor.drain();
      const [reply] = await outbound();
      await context.database.dataSource.query(`UPDATE messages SET message_sid = NULL, status = 'sending' WHERE id = $1`, [reply.id]);
      const path = `/v1/webhooks/twilio/status?message_id=${reply.id}`;
      const params = { MessageSid: fake.messages[0].sid, From: shop.address, MessageStatus: 'delivered' };
      await request(context.app)
        .post(path)
        .type('form')
        .set('X-Twilio-Signature', signTwilio(authToken, `https://parley.test${path}`, params))
        .send(params)
        .expect(204);
      expect((await outbound())[0]).toMatchObject({ messageSid: fake.messages[0].sid, status: 'delivered' });
    });

    it('records a failure with its error code', async () => {
      await postInbound(context, shop, inboundParams(shop, { Body: 'hello' })).expect(200);
      await context.services.processor.drain();
      await postStatus({ MessageSid: fake.messages[0].sid, From: shop.address, MessageStatus: 'undelivered', ErrorCode: '63024' }).expect(
        204,
      );
      expect((await outbound())[0]).toMatchObject({ status: 'undelivered', errorCode: '63024' });
    });

    it('rejects an unsigned callback with 403 and an unknown status with 400', async () => {
      const params = { MessageSid: `SM${'1'.repeat(32)}`, From: shop.address, MessageStatus: 'delivered' };
      expect((await postStatus(params, 'forged')).status).toBe(403);
      const invalid = await postStatus({ ...params, MessageStatus: 'exploded' });
      expect(invalid.status).toBe(400);
      expect(invalid.body.error.code).toBe('validation_failed');
    });
  });
});
