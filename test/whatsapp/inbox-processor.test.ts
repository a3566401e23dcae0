import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Conversation } from '../../src/db/entities/conversation';
import { Message } from '../../src/db/entities/message';
import { LEFTOVER_AGE_SECONDS } from '../../src/whatsapp/outbound-sender';
import { createTenant, inboundParams, postInbound, type TenantFixture } from '../support/factories';
import { echoReplies, stuckReplies } from '../support/scripted-replies';
import { randomInteger, seededRandom } from '../support/seeded-random';
import { createTestContext, type TestContext } from '../support/test-context';

describe('inbox processing', () => {
  let context: TestContext;
  let shop: TenantFixture;

  beforeAll(async () => {
    context = await createTestContext({ replies: echoReplies() });
  });
  afterAll(async () => {
    await context.close();
  });
  beforeEach(async () => {
    await context.database.truncateAll();
    shop = await createTenant(context);
  });

  const rows = () => context.database.dataSource.manager.find(Message, { order: { seq: 'ASC' } });
  /** Every claim's lease runs out: to the database, INBOX_LEASE_SECONDS have passed since it was taken. */
  const leasesExpire = () =>
    context.database.dataSource.query(`UPDATE messages SET locked_until = now() - interval '1 second' WHERE locked_until > now()`);

  it('answers a burst of 50 messages of one conversation in order, with two instances sharing the work', async () => {
    // Random model latency would reorder replies if ordering depended on timing.
    const latencies = seededRandom('inbox model latency');
    const replies = echoReplies(() => randomInteger(latencies, 0, 14));
    const first = context.newInstance({ replies });
    const second = context.newInstance({ replies });
    const bodies = Array.from({ length: 50 }, (_, index) => `message ${index}`);
    for (const body of bodies) await postInbound(first, shop, inboundParams(shop, { Body: body })).expect(200);
    await Promise.all([first.services.processor.drain(), second.services.processor.drain()]);
    await first.services.processor.drain();

    const stored = await rows();
    const inbound = stored.filter((row) => row.direction === 'inbound');
    const outbound = stored.filter((row) => row.direction === 'outbound');
    expect(inbound.every((row) => row.status === 'replied')).toBe(true);
    expect(outbound.map((row) => row.body)).toEqual(bodies.map((body) => `echo: ${body}`));
    // Each reply was generated after the previous one was stored: the model saw the whole history in order.
    const lastCall = replies.calls.find((call) => call.messages.at(-1)?.content === 'message 49');
    expect(lastCall?.messages.filter((message) => message.role === 'assistant').at(-1)?.content).toBe('echo: message 48');
  });

  it('picks up a message whose worker died mid-turn once its lease expires, and answers it once', async () => {
    const stuck = stuckReplies();
    const crashed = context.newInstance({ replies: stuck });
    await postInbound(crashed, shop, inboundParams(shop, { Body: 'are you there?' })).expect(200);
    const claims = await crashed.services.queue.claimInbound(5);
    expect(claims).toHaveLength(1);
    // The "crashed" worker never finishes; a restarted instance finds the message after the lease.
    const restarted = context.newInstance();
    await restarted.services.processor.drain();
    expect((await rows()).filter((row) => row.direction === 'outbound')).toHaveLength(0);
    await leasesExpire();
    await restarted.services.processor.drain();
    const stored = await rows();
    expect(stored.filter((row) => row.direction === 'outbound').map((row) => row.body)).toEqual(['echo: are you there?']);
    expect(stored[0]).toMatchObject({ status: 'replied', attempts: 2 });
    stuck.release();
  });

  it('sends a reply that was stored but not sent before a crash, exactly once', async () => {
    await postInbound(context, shop, inboundParams(shop, { Body: 'hello' })).expect(200);
    // Claim and commit like a worker would, but "crash" before sending: the outbound row stays pending.
    const [claim] = await context.services.queue.claimInbound(1);
    await context.database.dataSource.query(
      `INSERT INTO messages (tenant_id, conversation_id, direction, author, body, status, reply_to_message_id)
       VALUES ($1, $2, 'outbound', 'bot', 'stored reply', 'pending', $3)`,
      [claim.tenantId, claim.conversationId, claim.id],
    );
    await context.database.dataSource.query(`UPDATE messages SET status = 'replied', locked_until = NULL WHERE id = $1`, [claim.id]);
    const restarted = context.newInstance();
    await restarted.services.processor.drain();
    await restarted.services.processor.drain();
    const outbound = (await rows()).filter((row) => row.direction === 'outbound');
    expect(outbound).toHaveLength(1);
    expect(outbound[0]).toMatchObject({ body: 'stored reply', status: 'simulated' });
    expect(outbound[0].messageSid).toMatch(/^SM[0-9a-f]{32}$/);
  });

  it('leaves a fresh send to the turn that stored it, and sweeps up one left behind for LEFTOVER_AGE_SECONDS', async () => {
    await postInbound(context, shop, inboundParams(shop, { Body: 'hello' })).expect(200);
    const [claim] = await context.services.queue.claimInbound(1);
    const [{ id }] = await context.database.dataSource.query(
      `INSERT INTO messages (tenant_id, conversation_id, direction, author, body, status, reply_to_message_id)
       VALUES ($1, $2, 'outbound', 'bot', 'stored reply', 'pending', $3) RETURNING id`,
      [claim.tenantId, claim.conversationId, claim.id],
    );
    await context.database.dataSource.query(`UPDATE messages SET status = 'replied', locked_until = NULL WHERE id = $1`, [claim.id]);
    const statusOfReply = async () => (await rows()).find((row) => row.id === id)?.status;
    // A claim round's sweep: the send was stored just now, so its turn is sending it; the sweep leaves it.
    await context.newInstance().services.processor.tick();
    expect(await statusOfReply()).toBe('pending');
    // Its turn's process died: once the send is LEFTOVER_AGE_SECONDS old, the next sweep sends it.
    await context.database.dataSource.query(`UPDATE messages SET created_at = now() - make_interval(secs => $2) WHERE id = $1`, [
      id,
      LEFTOVER_AGE_SECONDS,
    ]);
    await context.newInstance().services.processor.tick();
    expect(await statusOfReply()).toBe('simulated');
  });

  it('retries a fresh send that failed once at the next sweep, without waiting for LEFTOVER_AGE_SECONDS', async () => {
    await postInbound(context, shop, inboundParams(shop, { Body: 'hello' })).expect(200);
    const [claim] = await context.services.queue.claimInbound(1);
    // Tried once a moment ago and put back for a retry (its delay already over).
    const [{ id }] = await context.database.dataSource.query(
      `INSERT INTO messages (tenant_id, conversation_id, direction, author, body, status, reply_to_message_id, attempts)
       VALUES ($1, $2, 'outbound', 'bot', 'stored reply', 'pending', $3, 1) RETURNING id`,
      [claim.tenantId, claim.conversationId, claim.id],
    );
    await context.database.dataSource.query(`UPDATE messages SET status = 'replied', locked_until = NULL WHERE id = $1`, [claim.id]);
    await context.newInstance().services.processor.tick();
    expect((await rows()).find((row) => row.id === id)?.status).toBe('simulated');
  });

  it('cannot store a second bot reply for the same inbound message', async () => {
    await postInbound(context, shop, inboundParams(shop, { Body: 'hello' })).expect(200);
    await context.services.processor.drain();
    const [inbound] = await rows();
    await expect(
      context.database.dataSource.query(
        `INSERT INTO messages (tenant_id, conversation_id, direction, author, body, status, reply_to_message_id)
         VALUES ($1, $2, 'outbound', 'bot', 'duplicate', 'pending', $3)`,
        [inbound.tenantId, inbound.conversationId, inbound.id],
      ),
    ).rejects.toThrow(/uq_messages_reply_chunk/);
  });

  it('keeps conversations independent: a stuck conversation does not hold up another', async () => {
    await postInbound(context, shop, inboundParams(shop, { Body: 'first customer', From: 'whatsapp:+14155550101' })).expect(200);
    await postInbound(context, shop, inboundParams(shop, { Body: 'second customer', From: 'whatsapp:+14155550102' })).expect(200);
    const [held] = await context.services.queue.claimInbound(1);
    await context.services.processor.drain();
    const answered = (await rows()).filter((row) => row.direction === 'outbound');
    expect(answered).toHaveLength(1);
    expect(answered[0].conversationId).not.toBe(held.conversationId);
  });

  it('serves conversations round-robin: each conversation with work gets a turn before any gets a second', async () => {
    const customers = ['whatsapp:+14155550111', 'whatsapp:+14155550112', 'whatsapp:+14155550113'];
    // The first customer writes three times before the others write once: oldest-first would serve it twice in a row.
    for (const from of [customers[0], customers[0], customers[0], customers[1], customers[2], customers[1], customers[2]]) {
      await postInbound(context, shop, inboundParams(shop, { From: from })).expect(200);
    }
    const queue = context.services.queue;
    const served: string[] = [];
    for (let turn = 0; turn < 7; turn += 1) {
      const [claim] = await queue.claimInbound(1);
      served.push(claim.conversationId);
      await queue.fail(claim, 'settled by the test');
    }
    expect(await queue.claimInbound(1)).toEqual([]);
    const [{ id: chatty }] = await context.database.dataSource.query(
      'SELECT conversations.id FROM conversations JOIN customers ON customers.id = conversations.customer_id WHERE whatsapp_address = $1',
      [customers[0]],
    );
    // Two full rounds in the same rotation, then the chatty customer's third message.
    expect(new Set(served.slice(0, 3)).size).toBe(3);
    expect(served.slice(3, 6)).toEqual(served.slice(0, 3));
    expect(served[6]).toBe(chatty);
  });

  it('starts a handoff only with the notice that announces it: a worker that dies after its turn leaves none behind', async () => {
    const crashed = context.newInstance();
    await postInbound(crashed, shop, inboundParams(shop, { Body: 'I want to talk to a human' })).expect(200);
    const [claim] = await crashed.services.queue.claimInbound(1);
    const [inbound] = await rows();
    const conversation = await context.database.dataSource.manager.findOneByOrFail(Conversation, { id: claim.conversationId });
    const tenant = (await crashed.services.tenants.findById(claim.tenantId))!;
    // The turn decides on a handoff but stores nothing; this worker then "dies" before its commit.
    const outcome = await crashed.services.turns.handle({ tenant, conversation, inbound });
    expect(outcome).toMatchObject({ kind: 'reply', handoff: { conversationId: claim.conversationId, reason: 'customer_asked' } });
    const statusOf = async () =>
      (await context.database.dataSource.query('SELECT status FROM conversations WHERE id = $1', [claim.conversationId]))[0].status;
    expect(await statusOf()).toBe('active');

    await leasesExpire();
    await context.newInstance().services.processor.drain();
    expect(await statusOf()).toBe('handoff');
    const notices = (await rows()).filter((row) => row.direction === 'outbound');
    expect(notices).toHaveLength(1);
    expect(notices[0].body).toMatch(/person/i);
  });
});
