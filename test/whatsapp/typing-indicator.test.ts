/**
 * WhatsApp's typing indicator: shown through Twilio's Typing Indicators API when a turn starts, referencing the
 * customer's message; best effort, so a stalled or failing endpoint never delays or fails the reply.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeTwilio, type FakeTwilioServer } from '../fakes/twilio-server';
import { createTenant, inboundParams, messageSid, postInbound, type TenantFixture } from '../support/factories';
import { echoReplies } from '../support/scripted-replies';
import { createTestContext, type TestContext } from '../support/test-context';

describe('the typing indicator', () => {
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
    fake.releaseHeld();
    await context.close();
    await fake.close();
  });
  beforeEach(async () => {
    await context.database.truncateAll();
    fake.reset();
    shop = await createTenant(context, { credentials: { twilioAccountSid: accountSid, twilioAuthToken: authToken } });
  });

  const typingMetric = async (outcome: string) => {
    const { body } = await context.services.metrics.render();
    const line = body.split('\n').find((candidate) => candidate.startsWith(`parley_typing_indicator_total{outcome="${outcome}"}`));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };

  it("is shown for the customer's message when its turn starts", async () => {
    const sid = messageSid();
    const shownBefore = await typingMetric('shown');
    await postInbound(context, shop, inboundParams(shop, { MessageSid: sid, Body: 'hello' })).expect(200);
    await context.services.processor.drain();
    await context.services.typing.settle();
    expect(fake.typingIndicators).toEqual([{ accountSid, messageId: sid, channel: 'whatsapp' }]);
    expect(fake.messages.map((message) => message.params.Body)).toEqual(['echo: hello']);
    expect(await typingMetric('shown')).toBe(shownBefore + 1);
  });

  it('never delays the reply: the reply is sent while the indicator request is still stalled', async () => {
    fake.injectFault('typing', { kind: 'hold' });
    await postInbound(context, shop, inboundParams(shop, { Body: 'are you there?' })).expect(200);
    await context.services.processor.drain();
    // The turn finished and its reply reached Twilio; the indicator's request has not been answered yet.
    expect(fake.messages.map((message) => message.params.Body)).toEqual(['echo: are you there?']);
    expect(fake.requestCounts.typing).toBe(1);
    expect(fake.typingIndicators).toEqual([]);
    fake.releaseHeld();
    await context.services.typing.settle();
  });

  it('never fails the reply: a 500 from the endpoint is counted and the reply goes out', async () => {
    const failedBefore = await typingMetric('failed');
    fake.injectFault('typing', { kind: 'status', status: 500 });
    await postInbound(context, shop, inboundParams(shop, { Body: 'hello' })).expect(200);
    await context.services.processor.drain();
    await context.services.typing.settle();
    expect(fake.messages.map((message) => message.params.Body)).toEqual(['echo: hello']);
    expect(await typingMetric('failed')).toBe(failedBefore + 1);
    const [inbound] = await context.database.dataSource.query(`SELECT status FROM messages WHERE direction = 'inbound'`);
    expect(inbound.status).toBe('replied');
  });

  it('is not requested when the tenant turns it off', async () => {
    const quiet = await createTenant(context, {
      credentials: { twilioAccountSid: accountSid, twilioAuthToken: authToken },
      settings: { whatsapp: { typingIndicator: false } },
    });
    await postInbound(context, quiet, inboundParams(quiet, { Body: 'hello' })).expect(200);
    await context.services.processor.drain();
    await context.services.typing.settle();
    expect(fake.messages).toHaveLength(1);
    expect(fake.requestCounts.typing).toBe(0);
  });
});
