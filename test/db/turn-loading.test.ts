/**
 * A claimed turn is loaded in one statement (MessageRepository.loadTurn): the message, its conversation, the burst
 * answered with it and the history the agent sees. The history is the one recentHistory reads for callers without a
 * loaded turn; the burst is in arrival order, however many digits the messages' seq values have.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { createTenant, inboundParams, postInbound, type TenantFixture } from '../support/factories';
import { echoReplies } from '../support/scripted-replies';
import { useTestContext } from '../support/test-context';

const replies = echoReplies();
let clock = new Date();
const context = useTestContext({ replies, now: () => clock });
let shop: TenantFixture;
const customer = 'whatsapp:+5491155550188';

beforeEach(async () => {
  clock = new Date();
  shop = await createTenant(context, { settings: { whatsapp: { burst: { quietMs: 2000, maxMs: 8000 } } } });
});

async function send(...bodies: string[]): Promise<void> {
  for (const body of bodies) await postInbound(context, shop, inboundParams(shop, { From: customer, Body: body })).expect(200);
}

/** Moves the queue's clock past the burst window of the newest message. */
async function afterQuietWindow(): Promise<void> {
  const [row] = await context.database.dataSource.query(`SELECT max(created_at) AS at FROM messages WHERE direction = 'inbound'`);
  clock = new Date(new Date(row.at).getTime() + 2_001);
}

/** Claims the conversation's next turn. */
async function claimTurn() {
  await afterQuietWindow();
  const [claim] = await context.services.queue.claimInbound(1);
  expect(claim).toBeDefined();
  return claim;
}

describe('loading a claimed turn', () => {
  it('brings the burst in arrival order and the history recentHistory reads, newest first', async () => {
    await send('a', 'b');
    await afterQuietWindow();
    await context.services.processor.drain();
    // Twelve messages: their seq values cross a power of ten, where an ordering by text would go wrong.
    const later = Array.from({ length: 12 }, (_, index) => `later ${index + 1}`);
    await send(...later);
    const claim = await claimTurn();
    const messages = context.services.repositories.messages;

    const loaded = await messages.loadTurn(claim, { burstLimit: 19, historyLimit: 20 });

    expect(loaded?.inbound.body).toBe('later 1');
    expect(loaded?.burstMembers.map((member) => member.body)).toEqual(later.slice(1));
    expect(loaded?.burstMembers.every((member) => member.createdAt instanceof Date && !Number.isNaN(member.createdAt.getTime()))).toBe(
      true,
    );
    expect(loaded?.history.map((message) => [message.direction, message.body])).toEqual([
      ['outbound', 'echo: a\nb'],
      ['inbound', 'b'],
      ['inbound', 'a'],
    ]);
    expect(loaded?.history).toEqual(await messages.recentHistory(loaded!.inbound, 20));
  });

  it('loads at most the limits it is given, and no burst when the limit is 0', async () => {
    await send('a', 'b');
    await afterQuietWindow();
    await context.services.processor.drain();
    await send('c', 'd', 'e');
    const claim = await claimTurn();

    const loaded = await context.services.repositories.messages.loadTurn(claim, { burstLimit: 0, historyLimit: 2 });

    expect(loaded?.burstMembers).toEqual([]);
    expect(loaded?.history.map((message) => message.body)).toEqual(['echo: a\nb', 'b']);
  });

  it('answers a button click alone: a click has no burst members', async () => {
    await send('hello');
    await postInbound(context, shop, inboundParams(shop, { From: customer, Body: 'Yes', ButtonPayload: 'parley:x' })).expect(200);
    await send('and another thing');
    await context.database.dataSource.query(`UPDATE messages SET status = 'replied' WHERE body = 'hello'`);
    const claim = await claimTurn();

    const loaded = await context.services.repositories.messages.loadTurn(claim, { burstLimit: 19, historyLimit: 20 });

    expect(loaded?.inbound.buttonPayload).toBe('parley:x');
    expect(loaded?.burstMembers).toEqual([]);
  });
});
