/**
 * Migration OptOutConfirmation1765500000000: the opt-out's confirmation is marked, not told by its timestamp. Sends
 * already waiting when it runs keep the verdict of the rule it replaces (equal to the customer's opted_out_at: the
 * confirmation); down() drops the mark.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../migrations';
import { createTenant, inboundParams, postInbound, type TenantFixture } from '../support/factories';
import { useTestContext } from '../support/test-context';

describe('marking the opt-out confirmation (migration)', () => {
  const context = useTestContext();
  let shop: TenantFixture;

  beforeEach(async () => {
    shop = await createTenant(context);
    await postInbound(context, shop, inboundParams(shop, { Body: 'STOP' })).expect(200);
  });

  const query = <Row>(sql: string, values: unknown[] = []) => context.database.dataSource.query(sql, values) as Promise<Row[]>;

  /** Whether messages has the column the migration adds. */
  const hasMark = async () =>
    (await query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'messages' AND column_name = 'confirms_opt_out'`)).length > 0;

  /** Stores an unsent bot message in the conversation, created at `createdAt`. */
  const storeOutbound = async (body: string, createdAt: string, status = 'pending') => {
    const [conversation] = await query<{ id: string }>('SELECT id FROM conversations');
    await query(
      `INSERT INTO messages (tenant_id, conversation_id, direction, author, body, status, created_at)
       VALUES ($1, $2, 'outbound', 'bot', $3, $4, $5)`,
      [shop.tenant.id, conversation.id, body, status, createdAt],
    );
  };

  it("marks a waiting send stored at the opt-out's instant, and no other, and reverts", async () => {
    const migration = MIGRATIONS.find((candidate) => candidate.name === 'OptOutConfirmation1765500000000')!;
    const runner = context.database.dataSource.createQueryRunner();
    try {
      await new migration().down(runner);
      const optedOutAt = '2026-12-03T06:00:00.123Z';
      await query('UPDATE customers SET opted_out_at = $1', [optedOutAt]);
      await storeOutbound('confirmation', optedOutAt);
      await storeOutbound('earlier reply', '2026-12-03T05:59:59.000Z');
      await storeOutbound('sent at the instant', optedOutAt, 'sent');
      await new migration().up(runner);
      expect(await query(`SELECT body, confirms_opt_out FROM messages WHERE direction = 'outbound' ORDER BY body`)).toEqual([
        { body: 'confirmation', confirms_opt_out: true },
        { body: 'earlier reply', confirms_opt_out: false },
        { body: 'sent at the instant', confirms_opt_out: false },
      ]);
      await new migration().down(runner);
      expect(await hasMark()).toBe(false);
    } finally {
      // Leaves the schema as the other tests expect it.
      if (!(await hasMark())) await new migration().up(runner);
      await runner.release();
    }
  });
});
