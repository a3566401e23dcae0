/**
 * Bursts: a customer's messages within the tenant's quiet window are answered together, in one turn with one reply,
 * once the conversation has been quiet for the window (or the first message is the maximum old). The queue's clock
 * is the test's: nothing sleeps.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createTenant, inboundParams, postInbound, type TenantFixture } from '../support/factories';
import { echoReplies } from '../support/scripted-replies';
import { useTestContext } from '../support/test-context';

const replies = echoReplies();
let clock = new Date();
const context = useTestContext({ replies, now: () => clock });
let shop: TenantFixture;
const customer = 'whatsapp:+5491155550177';

beforeEach(async () => {
  replies.calls.length = 0;
  clock = new Date();
  shop = await createTenant(context, { settings: { whatsapp: { burst: { quietMs: 2000, maxMs: 8000 } } } });
});

async function send(...bodies: string[]): Promise<void> {
  for (const body of bodies) await postInbound(context, shop, inboundParams(shop, { From: customer, Body: body })).expect(200);
}

/** When the newest stored message arrived, plus `ms`. */
async function afterNewest(ms: number): Promise<Date> {
  const [row] = await context.database.dataSource.query(`SELECT max(created_at) AS at FROM messages WHERE direction = 'inbound'`);
  return new Date(new Date(row.at).getTime() + ms);
}

async function inbound(): Promise<Array<{ id: string; body: string; status: string; burst_head_id: string | null }>> {
  return context.database.dataSource.query(`SELECT id, body, status, burst_head_id FROM messages WHERE direction = 'inbound' ORDER BY seq`);
}

async function replies_(): Promise<Array<{ body: string; reply_to_message_id: string }>> {
  return context.database.dataSource.query(`SELECT body, reply_to_message_id FROM messages WHERE direction = 'outbound' ORDER BY seq`);
}

describe('a burst of messages', () => {
  it('is not answered while the customer may still be typing', async () => {
    await send('hi', 'my order', 'has not arrived');
    clock = await afterNewest(1_999);
    expect(await context.services.queue.claimInbound(5)).toEqual([]);
    await context.services.processor.drain();
    expect(await replies_()).toEqual([]);
    expect((await inbound()).map((message) => message.status)).toEqual(['received', 'received', 'received']);
  });

  it('gets one reply to all its messages once the conversation is quiet, each marked answered by it', async () => {
    await send('hi', 'my order', 'has not arrived');
    clock = await afterNewest(2_001);
    await context.services.processor.drain();

    expect(replies.calls).toHaveLength(1);
    const sent = await replies_();
    expect(sent).toHaveLength(1);
    expect(sent[0].body).toBe('echo: hi\nmy order\nhas not arrived');
    const [head, ...rest] = await inbound();
    expect(sent[0].reply_to_message_id).toBe(head.id);
    expect(head).toMatchObject({ status: 'replied', burst_head_id: null });
    for (const message of rest) expect(message).toMatchObject({ status: 'replied', burst_head_id: head.id });
  });

  it('is answered when its first message is the maximum old, even if the customer keeps typing', async () => {
    await send('one', 'two');
    // The first message arrived 9 s before the second; the second is only a second old.
    await context.database.dataSource.query(
      `UPDATE messages SET created_at = created_at - interval '9 seconds' WHERE seq = (SELECT min(seq) FROM messages)`,
    );
    clock = await afterNewest(1_000);
    await context.services.processor.drain();
    expect((await replies_()).map((reply) => reply.body)).toEqual(['echo: one\ntwo']);
  });

  it('leaves messages that arrive during the turn to the next turn, and keeps the history in order', async () => {
    await send('first', 'second');
    clock = await afterNewest(2_001);
    await context.services.processor.drain();
    await send('third');
    clock = await afterNewest(2_001);
    await context.services.processor.drain();

    expect((await replies_()).map((reply) => reply.body)).toEqual(['echo: first\nsecond', 'echo: third']);
    // The second turn's model saw the first burst, then its reply, then the new message.
    expect(replies.calls[1].messages.slice(1).map((message) => [message.role, message.content])).toEqual([
      ['user', 'first'],
      ['user', 'second'],
      ['assistant', 'echo: first\nsecond'],
      ['user', 'third'],
    ]);
  });

  it('is woken by the processor when the window closes, without waiting for a poll', async () => {
    const processor = context.services.processor;
    processor.start();
    try {
      await send('are you', 'open today?');
      await expect.poll(() => processor.waitingBurstCount(), { interval: 5 }).toBe(1);
      expect(await replies_()).toEqual([]);
      clock = await afterNewest(2_001);
      processor.wakeReadyBursts();
      await expect.poll(async () => (await replies_()).map((reply) => reply.body), { interval: 5 }).toEqual(['echo: are you\nopen today?']);
    } finally {
      await processor.stop();
    }
  });

  it('is off when the tenant sets a quiet window of 0: each message gets its own reply at once', async () => {
    shop = await createTenant(context, { settings: { whatsapp: { burst: { quietMs: 0, maxMs: 0 } } } });
    await send('a', 'b');
    await context.services.processor.drain();
    expect((await replies_()).map((reply) => reply.body)).toEqual(['echo: a', 'echo: b']);
  });
});

describe('the burst setting', () => {
  it('refuses a maximum shorter than the quiet window', async () => {
    const refused = await context.services.settings
      .patch(shop.tenant.id, { whatsapp: { burst: { quietMs: 3000, maxMs: 1000 } } }, { kind: 'cli' })
      .catch((error: unknown) => error);
    expect(JSON.stringify(refused)).toContain('maxMs must be at least quietMs');
  });
});
