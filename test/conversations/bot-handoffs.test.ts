/**
 * Handoffs the bot starts itself (issue 20, must-have 6): nothing relevant found in the business's documents
 * (low_retrieval_confidence), and every model failing for a turn (provider_failure). Against the fake OpenAI server.
 */
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { botHandoffNotice } from '../../src/agent/bot-handoff';
import { createApiKey, createTenant, inboundParams, postInbound, type TenantFixture } from '../support/factories';
import { useFakeOpenAIContext } from '../support/fake-openai-context';

const CUSTOMER = 'whatsapp:+14155550100';
const POLICY = '# Returns\n\nYou can return unworn shoes within 30 days of delivery.\n';

const suite = useFakeOpenAIContext();

/** A tenant whose documents hold the returns policy; 👍/👎 on every answer, so their absence is telling. */
async function shopWithPolicy(settings: Record<string, unknown> = {}): Promise<TenantFixture> {
  const fixture = await createTenant(suite.context, {
    settings: { knowledge: { language: 'english' }, feedbackButtons: 'always', ...settings },
  });
  // Uploaded as through the documents API, then indexed.
  await suite.context.services.knowledgeDocuments.addFile(fixture.tenant.id, { fileName: 'policy.md', bytes: Buffer.from(POLICY) });
  await suite.context.services.documentIndexer.runUntilIdle();
  return fixture;
}

async function say(fixture: TenantFixture, body: string) {
  await postInbound(suite.context, fixture, inboundParams(fixture, { From: CUSTOMER, Body: body })).expect(200);
  await suite.context.services.processor.drain();
}

const repliesTo = async (tenantId: string): Promise<Array<{ body: string; choices: unknown }>> =>
  suite.context.database.dataSource.query(
    `SELECT body, choices FROM messages WHERE tenant_id = $1 AND direction = 'outbound' ORDER BY seq`,
    [tenantId],
  );

/** The conversation as an agent reads it through the API (the dashboard's Handoffs view reads the same). */
async function conversationThroughApi(fixture: TenantFixture) {
  const { secret } = await createApiKey(suite.context, fixture.tenant, { scopes: ['conversations:manage'] });
  const list = await request(suite.context.app)
    .get('/v1/bot/conversations?status=handoff')
    .set('Authorization', `Bearer ${secret}`)
    .expect(200);
  return list.body.data as Array<{ id: string; status: string; handoff: { reason: string; at: string } | null }>;
}

const requestedHuman = async (tenantId: string): Promise<number> => {
  const [{ count }] = await suite.context.database.dataSource.query(
    'SELECT count(*)::int AS count FROM interaction_feedback WHERE tenant_id = $1 AND requested_human',
    [tenantId],
  );
  return count;
};

describe('a question the documents cannot answer (low_retrieval_confidence)', () => {
  it('tells the customer a colleague will answer and hands the conversation over, without asking a model', async () => {
    const shop = await shopWithPolicy();
    await say(shop, 'Do you sell gift cards for birthdays?');
    const replies = await repliesTo(shop.tenant.id);
    expect(replies).toEqual([{ body: botHandoffNotice('low_retrieval_confidence', '', 'en'), choices: null }]);
    expect(suite.openai.book.requests.filter((recorded) => recorded.path.startsWith('/v1/chat/completions'))).toEqual([]);
    const conversations = await conversationThroughApi(shop);
    expect(conversations).toHaveLength(1);
    expect(conversations[0]).toMatchObject({ status: 'handoff', handoff: { reason: 'low_retrieval_confidence' } });
  });

  it('leaves the next message to the person: the bot stays silent', async () => {
    const shop = await shopWithPolicy();
    await say(shop, 'Do you sell gift cards for birthdays?');
    await say(shop, 'Or vouchers?');
    expect(await repliesTo(shop.tenant.id)).toHaveLength(1);
  });

  it('tells a Spanish-speaking customer in Spanish', async () => {
    const shop = await shopWithPolicy({ language: 'es', knowledge: { language: 'spanish' } });
    await say(shop, '¿Venden tarjetas de regalo para cumpleaños?');
    expect((await repliesTo(shop.tenant.id))[0].body).toBe(botHandoffNotice('low_retrieval_confidence', '', 'es'));
  });

  it('is not counted as the customer asking for a person', async () => {
    const shop = await shopWithPolicy();
    await say(shop, 'Do you sell gift cards for birthdays?');
    expect(await requestedHuman(shop.tenant.id)).toBe(0);
  });

  it('keeps the conversation with the bot when the tenant turned the fallback off', async () => {
    const shop = await shopWithPolicy({ knowledge: { language: 'english', fallbackToHuman: false } });
    await say(shop, 'Do you sell gift cards for birthdays?');
    expect(await conversationThroughApi(shop)).toEqual([]);
  });
});

describe('every model failing for a turn (provider_failure)', () => {
  it('gives the friendly fallback and hands the conversation over, the failed attempts recorded', async () => {
    suite.openai.book.fail('server_error', { times: Number.POSITIVE_INFINITY });
    const shop = await createTenant(suite.context, { settings: { feedbackButtons: 'always', llm: { enabledProviders: ['openai'] } } });
    await say(shop, 'Where is my order #1234?');
    expect(await repliesTo(shop.tenant.id)).toEqual([{ body: botHandoffNotice('provider_failure', '', 'en'), choices: null }]);
    const [interaction] = await suite.context.database.dataSource.query('SELECT provider FROM agent_interactions WHERE tenant_id = $1', [
      shop.tenant.id,
    ]);
    expect(interaction.provider).toBe('offline');
    const [{ failed }] = await suite.context.database.dataSource.query(
      `SELECT count(*)::int AS failed FROM provider_usage WHERE tenant_id = $1 AND provider = 'openai' AND NOT success`,
      [shop.tenant.id],
    );
    expect(failed).toBeGreaterThan(0);
    const conversations = await conversationThroughApi(shop);
    expect(conversations[0]).toMatchObject({ status: 'handoff', handoff: { reason: 'provider_failure' } });
    expect(await requestedHuman(shop.tenant.id)).toBe(0);
  });

  it('does not hand over a tenant that answers offline by choice', async () => {
    const shop = await createTenant(suite.context, { settings: { llm: { enabledProviders: [] } } });
    await say(shop, 'Where is my order #1234?');
    expect(await repliesTo(shop.tenant.id)).toHaveLength(1);
    expect(await conversationThroughApi(shop)).toEqual([]);
  });

  it('keeps answering when a model recovers within the turn (failover to another model is no failure)', async () => {
    suite.openai.book.fail('server_error', { times: 1 });
    const shop = await createTenant(suite.context, { settings: { llm: { enabledProviders: ['openai'] } } });
    await say(shop, 'Where is my order #1234?');
    expect((await repliesTo(shop.tenant.id))[0].body).toBe('echo: Where is my order #1234?');
    expect(await conversationThroughApi(shop)).toEqual([]);
  });
});
