import type { MigrationInterface } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../migrations';
import { WorkQueue } from '../../src/whatsapp/work-queue';
import { createTenant, inboundParams, postInbound } from '../support/factories';
import { useTestContext } from '../support/test-context';

/** The send queue's own partial index: only outbound messages waiting to be sent are in it. */
describe('the outbound pending index', () => {
  const context = useTestContext();
  const query = <Row>(sql: string, values: unknown[] = []) => context.database.dataSource.query(sql, values) as Promise<Row[]>;
  const queueIndexes = async () =>
    (await query<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE tablename = 'messages' AND indexname IN ('ix_messages_outbound_pending', 'ix_messages_pending_work') ORDER BY indexname`))
      .map((row) => row.indexname);

  it('replaces the index of every unfinished message, keeping outbound sends only, and still serves the send queue', async () => {
    const shop = await createTenant(context);
    for (const body of ['one', 'two', 'three']) await postInbound(context, shop, inboundParams(shop, { Body: body })).expect(200);
    const [{ conversation_id: conversationId }] = await query<{ conversation_id: string }>('SELECT conversation_id FROM messages LIMIT 1');
    await query(`INSERT INTO messages (tenant_id, conversation_id, direction, author, body, status) VALUES ($1, $2, 'outbound', 'agent', 'hello', 'pending')`, [shop.tenant.id, conversationId]);

    expect(await queueIndexes()).toEqual(['ix_messages_outbound_pending']);
    const [{ indexdef }] = await query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_messages_outbound_pending'`);
    expect(indexdef).toMatch(/ON public\.messages USING btree \(seq\) WHERE \(\(\(direction\)::text = 'outbound'::text\) AND/);

    // The send queue still finds the outbound message behind the three unanswered inbound ones only when they are done.
    const queue = new WorkQueue(context.database.dataSource.manager, 30);
    expect(await queue.claimOutbound(10)).toEqual([]);
    await query(`UPDATE messages SET status = 'replied' WHERE direction = 'inbound'`);
    expect((await queue.claimOutbound(10)).map((claim) => claim.body)).toEqual(['hello']);
  });

  it('reverts to the index of every unfinished message and back, outside a transaction', async () => {
    const migration = MIGRATIONS.find((candidate) => candidate.name === 'OutboundPendingIndex1764000600000')!;
    // CREATE INDEX CONCURRENTLY cannot run in a transaction: the migration says so to the runner.
    expect((new migration() as MigrationInterface).transaction).toBe(false);
    const runner = context.database.dataSource.createQueryRunner();
    try {
      await new migration().down(runner);
      expect(await queueIndexes()).toEqual(['ix_messages_pending_work']);
      await new migration().up(runner);
      expect(await queueIndexes()).toEqual(['ix_messages_outbound_pending']);
    } finally {
      await runner.release();
    }
  });
});
