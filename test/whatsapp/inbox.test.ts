import crypto from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { poolOf } from '../../src/db/data-source';
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
  const accept = (raw: Record<string, string>, tenant: ResolvedTenant = resolved) =>
    context.services.inbox.accept(tenant, inboundParamsSchema.parse(raw), raw);
  const query = <Row>(sql: string, values: unknown[] = []) => context.database.dataSource.query(sql, values) as Promise<Row[]>;

  it('stores messages that arrive together in one statement, in arrival order, creating each new customer and conversation once', async () => {
    const ana = 'whatsapp:+14155550100';
    const bo = 'whatsapp:+14155550101';
    const sent = [ana, bo, ana, ana, bo, ana].map((from, index) => inboundParams(shop, { From: from, Body: `message ${index}` }));
    const results = await Promise.all(sent.map((raw) => accept(raw)));

    const stored = await query<{
      id: string;
      message_sid: string;
      body: string;
      conversation_id: string;
      created_at: Date;
      whatsapp_address: string;
    }>(
      `SELECT messages.id, message_sid, body, messages.conversation_id, messages.created_at, customers.whatsapp_address
       FROM messages JOIN conversations ON conversations.id = messages.conversation_id JOIN customers ON customers.id = conversations.customer_id
       ORDER BY messages.seq`,
    );
    expect(stored.map((row) => row.body)).toEqual(sent.map((raw) => raw.Body));
    // One statement, one transaction: every row carries the same transaction timestamp.
    expect(new Set(stored.map((row) => row.created_at.getTime())).size).toBe(1);
    expect(await query('SELECT whatsapp_address FROM customers ORDER BY whatsapp_address')).toEqual([
      { whatsapp_address: ana },
      { whatsapp_address: bo },
    ]);
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
    const sent = Array.from({ length: MAX_ACCEPT_BATCH + 20 }, (_, index) =>
      inboundParams(shop, { From: `whatsapp:+1415555${String(index).padStart(4, '0')}` }),
    );
    const results = await Promise.all(sent.map((raw) => accept(raw)));
    expect(results.every((result) => !result.duplicate)).toBe(true);
    const statements = await query<{ created_at: Date; count: number }>(
      'SELECT created_at, count(*)::int AS count FROM messages GROUP BY created_at ORDER BY count DESC',
    );
    expect(statements.reduce((sum, row) => sum + row.count, 0)).toBe(sent.length);
    expect(statements[0].count).toBe(MAX_ACCEPT_BATCH);
  });

  describe('senders whose conversation the process already knows', () => {
    /** Records the statements the inbox sends to PostgreSQL while `run` runs. */
    async function statementsDuring(run: () => Promise<unknown>): Promise<string[]> {
      const pool = poolOf(context.database.dataSource) as unknown as { query: (...args: unknown[]) => unknown };
      const original = pool.query;
      const seen: string[] = [];
      pool.query = function (this: unknown, ...args: unknown[]) {
        // A statement is a text, or a config object ({ name, text, values }) when it is prepared by name.
        seen.push(typeof args[0] === 'string' ? args[0] : (args[0] as { text: string }).text);
        return original.apply(this, args);
      };
      try {
        await run();
      } finally {
        pool.query = original;
      }
      return seen;
    }

    it('stores their messages with the message insert alone, in arrival order', async () => {
      const ana = 'whatsapp:+14155550120';
      const first = await accept(inboundParams(shop, { From: ana, Body: 'first' }));
      const later = ['second', 'third', 'fourth'].map((body) => inboundParams(shop, { From: ana, Body: body }));
      let results: Awaited<ReturnType<typeof accept>>[] = [];
      const statements = await statementsDuring(async () => (results = await Promise.all(later.map((raw) => accept(raw)))));

      expect(statements).toHaveLength(1);
      expect(statements[0]).not.toMatch(/INSERT INTO customers|INSERT INTO conversations/);
      expect(results.map((result) => result.conversationId)).toEqual([first.conversationId, first.conversationId, first.conversationId]);
      expect((await query<{ body: string }>('SELECT body FROM messages ORDER BY seq')).map((row) => row.body)).toEqual([
        'first',
        'second',
        'third',
        'fourth',
      ]);
      // A retry of one of them is still a duplicate, not a second message.
      expect(await accept(later[1])).toEqual({ ...results[1], duplicate: true });
      expect(await query('SELECT count(*)::int AS count FROM messages')).toEqual([{ count: 4 }]);
    });

    it('finds or creates the conversation again when the one it knew is gone', async () => {
      const bo = 'whatsapp:+14155550121';
      const first = await accept(inboundParams(shop, { From: bo, Body: 'before' }));
      await query('DELETE FROM conversations WHERE id = $1', [first.conversationId]);

      const again = await accept(inboundParams(shop, { From: bo, Body: 'after' }));
      expect(again.duplicate).toBe(false);
      expect(again.conversationId).not.toBe(first.conversationId);
      expect(await query('SELECT body, conversation_id FROM messages')).toEqual([{ body: 'after', conversation_id: again.conversationId }]);
    });

    it("keeps one sender's conversations of two tenants apart", async () => {
      const other = await createTenant(context);
      const otherResolved = (await context.services.tenants.findByWhatsAppAddress(other.address))!;
      const cy = 'whatsapp:+14155550122';
      await accept(inboundParams(shop, { From: cy }));
      await accept(inboundParams(other, { From: cy }), otherResolved);
      const [atShop, atOther] = [
        await accept(inboundParams(shop, { From: cy })),
        await accept(inboundParams(other, { From: cy }), otherResolved),
      ];

      expect(atShop.conversationId).not.toBe(atOther.conversationId);
      const owners = await query<{ id: string; tenant_id: string }>('SELECT id, tenant_id FROM conversations WHERE id = ANY($1)', [
        [atShop.conversationId, atOther.conversationId],
      ]);
      expect(Object.fromEntries(owners.map((row) => [row.id, row.tenant_id]))).toEqual({
        [atShop.conversationId]: shop.tenant.id,
        [atOther.conversationId]: other.tenant.id,
      });
    });
  });
});
