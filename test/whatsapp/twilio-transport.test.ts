import crypto from 'node:crypto';
import pino, { type Logger } from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Message } from '../../src/db/entities/message';
import type { TenantService } from '../../src/tenants/tenant-service';
import { OutboundSender } from '../../src/whatsapp/outbound-sender';
import type { TransportRegistry, WhatsAppTransport } from '../../src/whatsapp/transport';
import { WorkQueue } from '../../src/whatsapp/work-queue';
import { startFakeTwilio, type FakeTwilioServer } from '../fakes/twilio-server';
import { createTenant, inboundParams, postInbound, signTwilio, type TenantFixture } from '../support/factories';
import { echoReplies } from '../support/scripted-replies';
import { createTestContext, silentLogger, type TestContext } from '../support/test-context';

const CUSTOMER = 'whatsapp:+14155550100';

/** A promise with its resolver, for pausing a worker at a chosen point. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

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

  /**
   * A reply must reach the customer once, even when the lease of the worker sending it runs out (a slow lookup, a
   * stalled event loop under load) and another worker takes the message. Time passing is simulated, never slept:
   * the database lease is moved into the past (locked_until) and the sender's monotonic clock is moved forward.
   */
  describe('a reply whose lease expired', () => {
    /** The monotonic clock of the worker under test (ms). */
    let clock: number;
    beforeEach(() => {
      clock = 0;
    });

    const leaseMs = () => context.config.inbox.leaseSeconds * 1000;

    /** A bot reply stored and waiting to be sent, as a turn leaves it (`overrides`: an earlier attempt's traces). */
    async function pendingReply(overrides: { attempts?: number; createdSecondsAgo?: number } = {}): Promise<string> {
      await postInbound(context, shop, inboundParams(shop, { From: CUSTOMER, Body: 'hello' })).expect(200);
      const [claim] = await context.services.queue.claimInbound(1);
      const [{ id }] = await context.database.dataSource.query(
        `INSERT INTO messages (tenant_id, conversation_id, direction, author, body, status, reply_to_message_id, attempts, created_at)
         VALUES ($1, $2, 'outbound', 'bot', 'echo: hello', 'pending', $3, $4, now() - make_interval(secs => $5)) RETURNING id`,
        [claim.tenantId, claim.conversationId, claim.id, overrides.attempts ?? 0, overrides.createdSecondsAgo ?? 0],
      );
      await context.database.dataSource.query(`UPDATE messages SET status = 'replied', locked_until = NULL WHERE id = $1`, [claim.id]);
      return id;
    }

    /** The lease runs out, as the database and the worker under test each see it. */
    async function expireLease(messageId: string): Promise<void> {
      await context.database.dataSource.query(`UPDATE messages SET locked_until = now() - interval '1 second' WHERE id = $1`, [messageId]);
      clock += leaseMs() + 1_000;
    }

    /**
     * A worker of its own (as another instance has), on the test's clock; `tenants` may pause it, `transports` stand in
     * for Twilio's.
     */
    function worker(
      options: {
        tenants?: Pick<TenantService, 'findById'>;
        transports?: Pick<TransportRegistry, 'transportFor' | 'requestTimeoutMs'>;
        logger?: Logger;
      } = {},
    ): { sender: OutboundSender; queue: WorkQueue } {
      const { services } = context;
      const queue = new WorkQueue(services.repositories.messages, context.config.inbox.leaseSeconds, undefined, undefined, () => clock);
      const sender = new OutboundSender(
        { messages: services.repositories.messages, contentTemplates: services.contentTemplates },
        queue,
        (options.tenants ?? services.tenants) as TenantService,
        (options.transports ?? services.transports) as TransportRegistry,
        'https://parley.test/v1/webhooks/twilio/status',
        options.logger ?? silentLogger,
      );
      return { sender, queue };
    }

    /**
     * A provider whose first request stays on the wire until released: it reaches the provider (and shows in its list
     * of sent messages) only then, as a request a slow network or a stalled process has not delivered yet.
     */
    function providerWithSlowFirstRequest() {
      const delivered: Array<{ sid: string; body: string | undefined; at: Date }> = [];
      const onTheWire: Array<() => void> = [];
      let requests = 0;
      const transport: WhatsAppTransport = {
        kind: 'twilio',
        async send(request) {
          requests += 1;
          if (requests === 1) await new Promise<void>((resolve) => onTheWire.push(resolve));
          const sid = `SM${crypto.randomBytes(16).toString('hex')}`;
          delivered.push({ sid, body: request.body, at: new Date() });
          return { sid, status: 'queued' };
        },
        async findRecentlySent(request, since) {
          return delivered
            .filter((message) => message.body === request.body && message.at >= since)
            .map(({ sid }) => ({ sid, status: 'queued' }));
        },
      };
      return {
        delivered,
        requests: () => requests,
        deliver: () => {
          for (const release of onTheWire.splice(0)) release();
        },
        transports: { requestTimeoutMs: 1_000, transportFor: () => transport },
      };
    }

    it('does not send when its lease ran out before the request went and another worker took the message', async () => {
      const messageId = await pendingReply();
      const reached = deferred();
      const resume = deferred();
      // The worker claims the reply, then stalls before sending (its tenant lookup is held).
      const slow = worker({
        tenants: {
          findById: async (id) => {
            reached.resolve();
            await resume.promise;
            return context.services.tenants.findById(id);
          },
        },
      });
      const slowSend = slow.sender.sendPending();
      await reached.promise;
      await expireLease(messageId);
      // Another instance takes the message and sends it.
      await worker().sender.sendPending();
      expect(fake.messages).toHaveLength(1);

      resume.resolve();
      await slowSend;
      expect(fake.messages).toHaveLength(1);
      expect((await outbound())[0]).toMatchObject({ status: 'queued', messageSid: fake.messages[0].sid, attempts: 2 });
    });

    it('sends without checking its claim again while the lease has time to spare (no extra statement)', async () => {
      await pendingReply();
      const { sender, queue } = worker();
      const renewLease = vi.spyOn(queue, 'renewLease');
      await sender.sendPending();
      expect(fake.messages).toHaveLength(1);
      expect(renewLease).not.toHaveBeenCalled();
      expect((await outbound())[0]).toMatchObject({ status: 'queued', attempts: 1 });
    });

    it('checks its claim and extends the lease first when time went by since the claim', async () => {
      const messageId = await pendingReply();
      const reached = deferred();
      const resume = deferred();
      const { sender, queue } = worker({
        tenants: {
          findById: async (id) => {
            reached.resolve();
            await resume.promise;
            return context.services.tenants.findById(id);
          },
        },
      });
      const renewLease = vi.spyOn(queue, 'renewLease');
      const sending = sender.sendPending();
      await reached.promise;
      // Most of the lease went by, but nobody else took the message: it is still ours, so it goes.
      clock += leaseMs() * 0.9;
      resume.resolve();
      await sending;
      expect(renewLease).toHaveBeenCalledTimes(1);
      expect(fake.messages).toHaveLength(1);
      expect((await outbound())[0]).toMatchObject({ id: messageId, status: 'queued', attempts: 1 });
    });

    it('waits for its own send still in flight instead of sending the message a second time', async () => {
      const messageId = await pendingReply();
      const provider = providerWithSlowFirstRequest();
      const logged: string[] = [];
      const logger = pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line).msg) });
      const { sender } = worker({ transports: provider.transports, logger });
      // The first request is on the wire when the lease runs out and this process's sweep claims the message again.
      const first = sender.sendPending();
      while (provider.requests() < 1) await new Promise((resolve) => setImmediate(resolve));
      await expireLease(messageId);
      const sweep = sender.sendPending();
      // The sweep's claim waits for the first send (a sender without that wait would send now: a second delivery).
      await vi.waitFor(() => expect(logged).toContain("waiting for this process's earlier send of the message"));
      provider.deliver();
      await Promise.all([first, sweep]);

      expect(provider.delivered).toHaveLength(1);
      expect((await outbound())[0]).toMatchObject({ messageSid: provider.delivered[0].sid, attempts: 2 });
    });

    it('finds a send of any earlier attempt, not only of the last one, before sending again', async () => {
      // Attempt 1 reached Twilio but timed out (send_uncertain); attempt 2 got a plain 503, which left no error code;
      // the message was stored a while before. Attempt 3 must still find attempt 1's send.
      const messageId = await pendingReply({ attempts: 2, createdSecondsAgo: 30 });
      const resolved = (await context.services.tenants.findById(shop.tenant.id))!;
      await context.services.transports.transportFor(resolved).send({ from: shop.address, to: CUSTOMER, body: 'echo: hello' });
      await context.database.dataSource.query(`UPDATE messages SET updated_at = now() - interval '20 seconds' WHERE id = $1`, [messageId]);

      await worker().sender.sendPending();
      expect(fake.messages).toHaveLength(1);
      expect((await outbound())[0]).toMatchObject({ messageSid: fake.messages[0].sid, attempts: 3 });
    });
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
