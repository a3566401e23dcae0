import crypto from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ResolvedTenant } from '../../src/tenants/tenant-service';
import { inboundParamsSchema } from '../../src/whatsapp/inbound-params';
import { MAX_ACCEPT_BATCH } from '../../src/whatsapp/inbox';
import { createTenant, inboundParams, messageSid, type TenantFixture } from '../support/factories';
import { useTestContext } from '../support/test-context';

/** Webhooks that arrive in the same turn of the event loop are written by one statement. */
describe('Inbox: accepting inbound messages in batches', () => {
  const context = useTestContext();
  let shop: TenantFixture;
  let resolved: ResolvedTenant;

  beforeEach(async () => {
    shop = await createTenant(context);
    resolved = (await context.services.tenants.findByWhatsAppAddress(shop.address))!;
  });

  /** Accepts raw Twilio parameters the way the webhook does, without waiting (so calls share a batch). */
  const accept = (raw: Record<string, string>, tenant: ResolvedTenant = resolved) => context.services.inbox.accept(tenant, inboundParamsSchema.parse(raw), raw);
  const query = <Row>(sql: string, values: unknown[] = []) => context.database.dataSource.query(sql, values) as Promise<Row[]>;

  it('stores messages that arrive together in one statement, in arrival order, creating each new customer and conversation once', async () => {
    const ana = 'whatsapp:+14155550100';
    const bo = 'whatsapp:+14155550101';
    const sent = [ana, bo, ana, ana, bo, ana].map((from, index) => inboundParams(shop, { From: from, Body: `message ${index}` }));
    const results = await Promise.all(sent.map((raw) => accept(raw)));

    const stored = await query<{ id: string; message_sid: string; body: string; conversation_id: string; created_at: Date; whatsapp_address: string }>(
      `SELECT messages.id, message_sid, body, messages.conversation_id, messages.created_at, customers.whatsapp_address
       FROM messages JOIN conversations ON conversations.id = messages.conversation_id JOIN customers ON customers.id = conversations.customer_id
       ORDER BY messages.seq`,
    );
    expect(stored.map((row) => row.body)).toEqual(sent.map((raw) => raw.Body));
    // One statement, one transaction: every row carries the same transaction timestamp.
    expect(new Set(stored.map((row) => row.created_at.getTime())).size).toBe(1);
    expect(await query('SELECT whatsapp_address FROM customers ORDER BY whatsapp_address')).toEqual([{ whatsapp_address: ana }, { whatsapp_address: bo }]);
    expect(await query('SELECT count(*)::int AS count FROM conversations')).toEqual([{ count: 2 }]);
    // Each caller gets its own message back, with the conversation of its sender.
    results.forEach((result, index) => {
      const row = stored.find((candidate) => candidate.message_sid === sent[index].MessageSid)!;
      expect(result).toEqual({ messageId: row.id, conversationId: row.conversation_id, duplicate: false });
      expect(row.whatsapp_address).toBe(sent[index].From);
    });
  });

  it('stores a MessageSid sent twice in one batch once, and only its first request owns it', async () => {
    const raw = inboundParams(shop, { Body: 'twice' });
    const [first, second] = await Promise.all([accept(raw), accept(raw)]);
    expect(first.duplicate).toBe(false);
    expect(second).toEqual({ messageId: first.messageId, conversationId: first.conversationId, duplicate: true });
    expect(await query('SELECT count(*)::int AS count FROM messages')).toEqual([{ count: 1 }]);
  });

  it('reports a MessageSid stored by an earlier batch as a duplicate of that message', async () => {
    const raw = inboundParams(shop, { From: 'whatsapp:+14155550102' });
    const original = await accept(raw);
    expect(await accept(raw)).toEqual({ ...original, duplicate: true });
    expect(await query('SELECT count(*)::int AS count FROM messages')).toEqual([{ count: 1 }]);
    expect(await query('SELECT count(*)::int AS count FROM customers')).toEqual([{ count: 1 }]);
  });

  it('does not reveal a MessageSid stored under another tenant', async () => {
    const other = await createTenant(context);
    const otherResolved = (await context.services.tenants.findByWhatsAppAddress(other.address))!;
    const sid = messageSid();
    await accept(inboundParams(other, { MessageSid: sid }), otherResolved);
    expect(await accept(inboundParams(shop, { MessageSid: sid }))).toEqual({ messageId: '', conversationId: '', duplicate: true });
  });

  it('fails only the message that cannot be stored; the rest of its batch is stored', async () => {
    const ghost: ResolvedTenant = { ...resolved, tenant: { ...resolved.tenant, id: crypto.randomUUID() } };
    const good = [inboundParams(shop, { Body: 'one' }), inboundParams(shop, { Body: 'two' })];
    const outcomes = await Promise.allSettled([accept(good[0]), accept(inboundParams(shop, { Body: 'orphan' }), ghost), accept(good[1])]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((await query<{ body: string }>('SELECT body FROM messages ORDER BY seq')).map((row) => row.body)).toEqual(['one', 'two']);
  });

  it(`splits more than ${MAX_ACCEPT_BATCH} simultaneous messages over several statements and stores them all`, async () => {
    const sent = Array.from({ length: MAX_ACCEPT_BATCH + 20 }, (_, index) => inboundParams(shop, { From: `whatsapp:+1415555${String(index).padStart(4, '0')}` }));
    const results = await Promise.all(sent.map((raw) => accept(raw)));
    expect(results.every((result) => !result.duplicate)).toBe(true);
    const statements = await query<{ created_at: Date; count: number }>('SELECT created_at, count(*)::int AS count FROM messages GROUP BY created_at ORDER BY count DESC');
    expect(statements.reduce((sum, row) => sum + row.count, 0)).toBe(sent.length);
    expect(statements[0].count).toBe(MAX_ACCEPT_BATCH);
  });
});
