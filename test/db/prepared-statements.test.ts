/**
 * Prepared statements keep one generic plan for all parameters (db/direct-query.ts). Each one the application
 * declares is planned generically here on a database the size of a busy tenant, analysed, and must not read a
 * growing table or index from end to end: a generic plan that does would make every turn slower as the tenant grows.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { declaredStatements } from '../../src/db/direct-query';
// The composition root: loading it declares every prepared statement the server uses.
import '../../src/services';
import { createTenant } from '../support/factories';
import { useTestContext } from '../support/test-context';

/** Tables that grow with traffic; a sequential scan of one in a generic plan is what this test forbids. */
const GROWING_TABLES = ['messages', 'conversations', 'customers', 'agent_interactions', 'interaction_feedback', 'provider_usage'];
const CONVERSATIONS = 2_000;
const MESSAGES_PER_CONVERSATION = 20;

/**
 * What in a plan reads a whole growing table or index: a sequential scan of one, or an index scan without an index
 * condition (it walks the entire index, in order, filtering every entry).
 */
function fullReads(plan: string): string[] {
  const nodes = plan.split(/\n(?=\s*->)/);
  const found: string[] = [];
  for (const node of nodes) {
    const [head] = node.split('\n');
    const sequential = /Seq Scan on (\w+)/.exec(head);
    if (sequential && GROWING_TABLES.includes(sequential[1])) found.push(head.trim());
    if (/Index (Only )?Scan|Bitmap Index Scan/.test(head) && !/Index Cond:/.test(node)) found.push(head.trim());
  }
  return found;
}

/** The highest $n a statement uses: how many parameters EXECUTE must pass. */
const parameterCount = (text: string) => Math.max(0, ...[...text.matchAll(/\$(\d+)/g)].map((match) => Number(match[1])));

describe('prepared statements: their generic plans use indexes', () => {
  const context = useTestContext({ truncate: false });

  beforeAll(async () => {
    const { tenant } = await createTenant(context);
    const query = (sql: string) => context.database.dataSource.query(sql, [tenant.id]);
    // A busy tenant: conversations of 20 messages each (questions answered, the last one waiting), answers with
    // their interaction rows, feedback and usage.
    await query(
      `INSERT INTO customers (tenant_id, whatsapp_address) SELECT $1, 'whatsapp:+1555' || lpad(n::text, 7, '0') FROM generate_series(1, ${CONVERSATIONS}) n`,
    );
    await query(
      `INSERT INTO conversations (tenant_id, customer_id, last_message_at) SELECT $1, id, now() - random() * interval '1 day' FROM customers WHERE tenant_id = $1`,
    );
    await query(
      `INSERT INTO messages (tenant_id, conversation_id, direction, author, body, status, message_sid)
       SELECT $1, conversations.id, CASE WHEN n % 2 = 1 THEN 'inbound' ELSE 'outbound' END,
              CASE WHEN n % 2 = 1 THEN 'customer' ELSE 'bot' END, 'message ' || n,
              CASE WHEN n = ${MESSAGES_PER_CONVERSATION - 1} THEN 'received' WHEN n % 2 = 1 THEN 'replied' ELSE 'delivered' END,
              'SM' || md5(conversations.id::text || n)
         FROM conversations, generate_series(1, ${MESSAGES_PER_CONVERSATION - 1}) n WHERE conversations.tenant_id = $1
        ORDER BY conversations.id, n`,
    );
    await query(
      `UPDATE messages reply SET reply_to_message_id = question.id
         FROM messages question
        WHERE reply.tenant_id = $1 AND reply.direction = 'outbound' AND question.conversation_id = reply.conversation_id
          AND question.seq = reply.seq - 1`,
    );
    await query(
      `INSERT INTO agent_interactions (tenant_id, conversation_id, inbound_message_id, reply_message_id, provider, model, latency_ms, finish_reason)
       SELECT $1, reply.conversation_id, reply.reply_to_message_id, reply.id, 'offline', 'offline', 1, 'stop'
         FROM messages reply WHERE reply.tenant_id = $1 AND reply.reply_to_message_id IS NOT NULL`,
    );
    await query(
      `INSERT INTO interaction_feedback (tenant_id, agent_interaction_id, conversation_id, customer_id, user_continued, source)
       SELECT $1, interaction.id, interaction.conversation_id, conversations.customer_id, true, 'implicit'
         FROM agent_interactions interaction JOIN conversations ON conversations.id = interaction.conversation_id
        WHERE interaction.tenant_id = $1 AND random() < 0.5`,
    );
    await query(
      `INSERT INTO provider_usage (tenant_id, conversation_id, agent_interaction_id, provider, model, latency_ms, success, attempt_number)
       SELECT $1, conversation_id, id, 'offline', 'offline', 1, true, 1 FROM agent_interactions WHERE tenant_id = $1`,
    );
    await context.database.dataSource.query('ANALYZE');
  }, 120_000);

  it('declares the statements of a turn and of the acknowledgement path', () => {
    expect(declaredStatements().map((statement) => statement.name)).toEqual(
      expect.arrayContaining([
        'parley_accept_known',
        'parley_claim_conversations',
        'parley_claim_outbound_of_conversation',
        'parley_finish_turn',
        'parley_load_turn',
        'parley_recent_history',
        'parley_mark_sent',
        'parley_insert_provider_usage',
      ]),
    );
  });

  it('name their result columns, so a migration adding a column does not break them on every open connection', () => {
    // PostgreSQL refuses a prepared statement whose result type changed: "cached plan must not change result type".
    const withStar = declaredStatements().filter((statement) => /(SELECT|RETURNING)\s+(\w+\.)?\*/i.test(statement.text));
    expect(withStar.map((statement) => statement.name)).toEqual([]);
  });

  it.each(declaredStatements().map((statement) => [statement.name, statement] as const))('%s', async (_name, statement) => {
    const plan = await context.database.dataSource.manager.transaction(async (manager) => {
      // The plan PostgreSQL keeps after five executions when it finds the generic one no worse: forced here.
      await manager.query(`SET LOCAL plan_cache_mode = force_generic_plan`);
      await manager.query(`PREPARE parley_plan_check AS ${statement.text}`);
      try {
        const parameters = Array.from({ length: parameterCount(statement.text) }, () => 'NULL').join(', ');
        const rows: Array<{ 'QUERY PLAN': string }> = await manager.query(
          `EXPLAIN EXECUTE parley_plan_check${parameters ? `(${parameters})` : ''}`,
        );
        return rows.map((row) => row['QUERY PLAN']).join('\n');
      } finally {
        await manager.query('DEALLOCATE parley_plan_check');
      }
    });
    expect(fullReads(plan), plan).toEqual([]);
  });
});
