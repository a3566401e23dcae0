/**
 * A turn's settling statement also claims its reply's first part for sending when that part could go at once
 * (WorkQueue.finishTurn, FINISH_TURN): the turn sends it without a claim statement of its own. When something must
 * hold the part back (an earlier unfinished message, a customer who opted out, a person who wrote since), the part
 * stays pending and the sender's usual claim settles it.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { TurnRecord } from '../../src/db/repositories/message-repository';
import { createTenant, inboundParams, postInbound, type TenantFixture } from '../support/factories';
import { useTestContext } from '../support/test-context';

const context = useTestContext();
let shop: TenantFixture;
const customer = 'whatsapp:+5491155550199';

beforeEach(async () => {
  shop = await createTenant(context, { settings: { whatsapp: { burst: { quietMs: 0, maxMs: 0 } } } });
});

const reply = (...bodies: string[]): TurnRecord => ({ kind: 'reply', parts: bodies.map((body) => ({ body })) });

/** A customer message stored by the webhook and claimed as a turn. */
async function claimedTurn(body = 'Where is my order?') {
  await postInbound(context, shop, inboundParams(shop, { From: customer, Body: body })).expect(200);
  const [claim] = await context.services.queue.claimInbound(1);
  expect(claim).toBeDefined();
  return claim;
}

async function outbound(): Promise<Array<{ body: string; status: string; attempts: number; locked: boolean }>> {
  return context.database.dataSource.query(
    `SELECT body, status, attempts, locked_until IS NOT NULL AS locked FROM messages WHERE direction = 'outbound' ORDER BY seq`,
  );
}

describe("settling a turn claims its reply's first part for sending", () => {
  it('when nothing holds it back: the part is held with a lease, as the sender claim would hold it', async () => {
    const claim = await claimedTurn();
    const finished = await context.services.queue.finishTurn(claim, reply('It ships tomorrow.'), []);

    expect(finished?.sending).toMatchObject({
      conversationId: claim.conversationId,
      tenantId: claim.tenantId,
      attempts: 1,
      body: 'It ships tomorrow.',
      chunkIndex: 0,
      previousStatus: 'pending',
      customerAddress: customer,
      blockedReason: null,
      hasNext: false,
    });
    expect(await outbound()).toEqual([{ body: 'It ships tomorrow.', status: 'sending', attempts: 1, locked: true }]);
    // The sender's own claim finds nothing more: the part is the turn's.
    expect(await context.services.queue.claimOutbound(10, { conversationId: claim.conversationId })).toEqual([]);
  });

  it('only the first of several parts, saying more wait behind it', async () => {
    const claim = await claimedTurn();
    const finished = await context.services.queue.finishTurn(claim, reply('Part one.', 'Part two.'), []);

    expect(finished?.sending).toMatchObject({ body: 'Part one.', hasNext: true });
    expect((await outbound()).map((part) => part.status)).toEqual(['sending', 'pending']);
  });

  it("for a burst too: the burst's other messages are the turn's own, settled with it", async () => {
    const claim = await claimedTurn('Hello');
    await postInbound(context, shop, inboundParams(shop, { From: customer, Body: 'my order is late' })).expect(200);
    const [member] = await context.database.dataSource.query(`SELECT id FROM messages WHERE body = 'my order is late'`);
    const finished = await context.services.queue.finishTurn(claim, reply('Sorry to hear that.'), [member.id]);

    expect(finished?.sending).toMatchObject({ body: 'Sorry to hear that.' });
  });

  it('not when an earlier message of the conversation is unfinished (it goes first)', async () => {
    const claim = await claimedTurn();
    // A person's message queued before the reply, not sent yet.
    await context.database.dataSource.query(
      `INSERT INTO messages (tenant_id, conversation_id, direction, author, body, status)
       VALUES ($1, $2, 'outbound', 'agent', 'An agent writes first', 'pending')`,
      [claim.tenantId, claim.conversationId],
    );
    const finished = await context.services.queue.finishTurn(claim, reply('The bot answers.'), []);

    expect(finished).toEqual({ sending: null });
    expect((await outbound()).map((part) => [part.body, part.status])).toEqual([
      ['An agent writes first', 'pending'],
      ['The bot answers.', 'pending'],
    ]);
  });

  it('not when the customer has opted out (the sender holds the part back and records why)', async () => {
    const claim = await claimedTurn();
    await context.services.repositories.conversations.setConsent(claim.conversationId, 'opted_out', 'test');
    const finished = await context.services.queue.finishTurn(claim, reply('A bot reply.'), []);

    expect(finished).toEqual({ sending: null });
    await context.services.sender.sendPending(claim.conversationId);
    expect(await context.database.dataSource.query(`SELECT status, error_code FROM messages WHERE body = 'A bot reply.'`)).toEqual([
      { status: 'failed', error_code: 'opted_out' },
    ]);
  });

  it('holds back a reply stored at the very instant of an opt-out: only the opt-out confirmation goes', async () => {
    // The embedded PGlite's clock has millisecond resolution: a reply stored by another transaction in the opt-out's
    // millisecond has the opt-out's timestamp, which once was how the sender told the confirmation.
    const claim = await claimedTurn();
    // Settled without a send lease: the part waits for the sender's claim, which judges it.
    await context.services.repositories.messages.finishTurn(claim, reply('A bot reply.'));
    await context.database.dataSource.query(
      `UPDATE customers SET opted_out_at = (SELECT created_at FROM messages WHERE body = 'A bot reply.')
        WHERE id = (SELECT customer_id FROM conversations WHERE id = $1)`,
      [claim.conversationId],
    );
    await context.services.sender.sendPending(claim.conversationId);
    expect(await context.database.dataSource.query(`SELECT status, error_code FROM messages WHERE body = 'A bot reply.'`)).toEqual([
      { status: 'failed', error_code: 'opted_out' },
    ]);
  });

  it('not when a person wrote in the conversation since the reply was written', async () => {
    const claim = await claimedTurn();
    await context.database.dataSource.query(`UPDATE conversations SET agent_replied_at = now() + interval '1 minute' WHERE id = $1`, [
      claim.conversationId,
    ]);
    const finished = await context.services.queue.finishTurn(claim, reply('A bot reply.'), []);

    expect(finished).toEqual({ sending: null });
  });

  it('stores nothing and claims nothing when the turn claim was lost', async () => {
    const claim = await claimedTurn();
    const finished = await context.services.queue.finishTurn({ ...claim, attempts: claim.attempts + 1 }, reply('Too late.'), []);

    expect(finished).toBeNull();
    expect(await outbound()).toEqual([]);
  });
});
