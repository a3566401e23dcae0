import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Message } from '../../src/db/entities/message';
import { createTenant, inboundParams, postInbound, type TenantFixture } from '../support/factories';
import { echoReplies } from '../support/scripted-replies';
import { createTestContext, type TestContext } from '../support/test-context';

describe('two instances on one database', () => {
  let context: TestContext;
  let shop: TenantFixture;

  beforeAll(async () => {
    context = await createTestContext({ replies: echoReplies() });
    shop = await createTenant(context);
  });
  afterAll(async () => {
    await context.close();
  });

  it('answers a Twilio retry delivered to the other instance only once, even when both retries race', async () => {
    const first = context.newInstance({ replies: echoReplies(() => 5) });
    const second = context.newInstance({ replies: echoReplies(() => 5) });
    const retried = Array.from({ length: 20 }, (_, index) =>
      inboundParams(shop, { Body: `retry ${index}`, From: `whatsapp:+1415555${String(1000 + index)}` }),
    );
    // Each message arrives at both instances at the same moment, as a Twilio retry after a slow acknowledgement would.
    await Promise.all(
      retried.flatMap((params) => [postInbound(first, shop, params).expect(200), postInbound(second, shop, params).expect(200)]),
    );
    await Promise.all([first.services.processor.drain(), second.services.processor.drain()]);
    const messages = await context.database.dataSource.manager.find(Message);
    expect(messages.filter((message) => message.direction === 'inbound')).toHaveLength(20);
    const replies = messages.filter((message) => message.direction === 'outbound');
    expect(replies).toHaveLength(20);
    expect(new Set(replies.map((reply) => reply.replyToMessageId)).size).toBe(20);
  });
});
