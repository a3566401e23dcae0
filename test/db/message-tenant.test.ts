import { beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../migrations';
import { createTenant, inboundParams, postInbound, type TenantFixture } from '../support/factories';
import { useTestContext } from '../support/test-context';

/** A message's tenant is its conversation's, enforced by one composite foreign key. */
describe('messages belong to their conversation’s tenant', () => {
  const context = useTestContext();
  let shop: TenantFixture;
  let other: TenantFixture;

  beforeEach(async () => {
    shop = await createTenant(context);
    other = await createTenant(context);
    await postInbound(context, shop, inboundParams(shop, { Body: 'hello' })).expect(200);
  });

  const query = <Row>(sql: string, values: unknown[] = []) => context.database.dataSource.query(sql, values) as Promise<Row[]>;
  const conversationId = async () => (await query<{ id: string }>('SELECT id FROM conversations'))[0].id;

  it("refuses a message that names another tenant than its conversation's", async () => {
    const error = await query(
      `INSERT INTO messages (tenant_id, conversation_id, direction, author, body, status) VALUES ($1, $2, 'outbound', 'bot', 'leak', 'pending')`,
      [other.tenant.id, await conversationId()],
    ).catch((caught: { code?: string; constraint?: string }) => caught);
    expect(error).toMatchObject({ code: '23503', constraint: 'fk_messages_conversation_tenant' });
  });

  it('still deletes a tenant’s messages with the tenant, through its conversations', async () => {
    await query('DELETE FROM tenants WHERE id = $1', [shop.tenant.id]);
    expect(await query('SELECT id FROM messages')).toEqual([]);
  });

  it('reverts to the two single foreign keys and back', async () => {
    const constraints = async () =>
      (
        await query<{ conname: string }>(
          `SELECT conname FROM pg_constraint WHERE conrelid = 'messages'::regclass AND contype = 'f' ORDER BY conname`,
        )
      ).map((row) => row.conname);
    const migration = MIGRATIONS.find((candidate) => candidate.name === 'MessageTenantThroughConversation1764000500000')!;
    const runner = context.database.dataSource.createQueryRunner();
    try {
      expect(await constraints()).toContain('fk_messages_conversation_tenant');
      await new migration().down(runner);
      expect(await constraints()).toEqual(expect.arrayContaining(['messages_conversation_id_fkey', 'messages_tenant_id_fkey']));
      expect(await constraints()).not.toContain('fk_messages_conversation_tenant');
      await new migration().up(runner);
      expect(await constraints()).toContain('fk_messages_conversation_tenant');
      expect(await constraints()).not.toContain('messages_tenant_id_fkey');
    } finally {
      await runner.release();
    }
  });
});
