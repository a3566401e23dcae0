import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DocumentIndexer } from '../../src/knowledge/document-indexer';
import { botHandoffNotice } from '../../src/agent/bot-handoff';
import { SafeHttpClient } from '../../src/net/safe-http';
import { type FakeOpenAIServer, startFakeOpenAI } from '../fakes/openai-server';
import { createApiKey, createKnowledge, createTenant, inboundParams, postInbound, type TenantFixture } from '../support/factories';
import { createTestContext, silentLogger, type TestContext } from '../support/test-context';

let context: TestContext;
let openai: FakeOpenAIServer;

const POLICY =
  '# Returns\n\nYou can return unworn shoes within 30 days of delivery.\n\n## Refunds\n\nYour refund reaches the original card within 5 business days.\n';

beforeAll(async () => {
  openai = await startFakeOpenAI();
  context = await createTestContext({ environment: { OPENAI_API_KEY: 'sk-env', OPENAI_BASE_URL: openai.baseUrl } });
});
afterAll(async () => {
  await context.close();
  await openai.close();
});
beforeEach(async () => {
  await context.database.truncateAll();
  openai.book.reset();
});

async function tenantWithPolicy(
  settings: Record<string, unknown>,
  source: { fileName?: string; url?: string } = { fileName: 'policy.md' },
) {
  const fixture = await createTenant(context, { settings });
  const documents = context.services.repositories.knowledgeDocuments;
  if (source.url) {
    // A fetched page, as the source side hands it over.
    await documents.insert({ tenantId: fixture.tenant.id, title: 'Returns', sourceKind: 'url', sourceUrl: source.url });
    const { services } = context;
    const text = 'You can return unworn shoes within 30 days of delivery.';
    await new DocumentIndexer({
      dataSource: services.dataSource,
      documents,
      chunks: services.repositories.knowledgeChunks,
      tenants: services.tenants,
      embeddings: services.embeddings,
      http: new SafeHttpClient({ requireHttps: true, allowedHosts: [] }),
      logger: silentLogger,
      sources: { fetch: async () => ({ title: 'Returns', sections: [{ headingPath: ['Returns'], text }], text }) },
    }).runUntilIdle();
    return fixture;
  }
  await documents.insert({
    tenantId: fixture.tenant.id,
    title: 'Policy',
    sourceKind: 'file',
    fileName: source.fileName,
    contentType: 'text/markdown',
    sourceBytes: Buffer.from(POLICY),
  });
  await context.services.documentIndexer.runUntilIdle();
  return fixture;
}

async function ask(fixture: TenantFixture, body: string) {
  await postInbound(context, fixture, inboundParams(fixture, { Body: body })).expect(200);
  await context.services.processor.drain();
  const [interaction] = await context.database.dataSource.query('SELECT * FROM agent_interactions ORDER BY created_at DESC LIMIT 1');
  const [reply] = await context.database.dataSource.query(
    `SELECT body FROM messages WHERE direction = 'outbound' ORDER BY created_at DESC LIMIT 1`,
  );
  return { interaction, reply: reply.body as string };
}

const chunkIdsOf = async (tenantId: string) =>
  (await context.database.dataSource.query('SELECT id::text FROM knowledge_chunks WHERE tenant_id = $1 ORDER BY ordinal', [tenantId])).map(
    (row: { id: string }) => row.id,
  );

describe('answers grounded on document passages', () => {
  it('answers offline from the best passage and records the passage it used', async () => {
    const shop = await tenantWithPolicy({ llm: { enabledProviders: [] }, knowledge: { language: 'english' } });
    const { interaction, reply } = await ask(shop, 'When does my refund reach my card?');
    expect(reply).toBe('Your refund reaches the original card within 5 business days.');
    const [, refundChunk] = await chunkIdsOf(shop.tenant.id);
    expect(interaction.chunk_ids).toContain(refundChunk);
  });

  it('gives the model the relevant passages in its system prompt', async () => {
    const shop = await tenantWithPolicy({ knowledge: { language: 'english' } });
    openai.book.requests.length = 0;
    await ask(shop, 'Can I return shoes after two weeks?');
    const chat = openai.book.requests.find((request) => request.path.startsWith('/v1/chat/completions'))!;
    const system = (chat.body.messages as Array<{ role: string; content: string }>)[0].content;
    // The document's title as given (not replaced by its first heading) and the passage's headings.
    expect(system).toContain('[Policy > Returns]');
    expect(system).toContain('You can return unworn shoes within 30 days of delivery.');
  });

  it('says it does not know and hands over to a person when nothing relevant is found, without asking a model', async () => {
    const shop = await tenantWithPolicy({ knowledge: { language: 'english' } });
    openai.book.requests.length = 0;
    const { interaction, reply } = await ask(shop, 'Do you sell gift cards for birthdays?');
    expect(reply).toBe(botHandoffNotice('low_retrieval_confidence', '', 'en'));
    expect(interaction).toMatchObject({ provider: 'offline', model: 'knowledge-fallback', chunk_ids: [] });
    expect(openai.book.requests.filter((request) => request.path.startsWith('/v1/chat/completions'))).toEqual([]);
  });

  it('says so in the tenant language', async () => {
    const shop = await tenantWithPolicy({ language: 'es', llm: { enabledProviders: [] } });
    const { reply } = await ask(shop, '¿Venden tarjetas de regalo?');
    expect(reply).toBe(botHandoffNotice('low_retrieval_confidence', '', 'es'));
  });

  it('lets the model answer when the tenant turned the fallback off', async () => {
    const shop = await tenantWithPolicy({ knowledge: { language: 'english', fallbackToHuman: false } });
    const { interaction, reply } = await ask(shop, 'Do you sell gift cards for birthdays?');
    expect(reply).toBe('echo: Do you sell gift cards for birthdays?');
    expect(interaction.provider).toBe('openai');
  });

  it('still greets back: small talk is not a question the documents must answer', async () => {
    const shop = await tenantWithPolicy({ llm: { enabledProviders: [] } });
    const { reply } = await ask(shop, 'Hello!');
    expect(reply).toBe('Hello! How can I help you today?');
  });

  it('appends a short source link to the reply when the tenant asks for it', async () => {
    const shop = await tenantWithPolicy(
      { knowledge: { language: 'english', sourceLinks: true } },
      { url: 'https://shop.example/help/returns?utm_source=x#top' },
    );
    openai.book.answer = () => ({ text: 'You have 30 days to return them.' });
    const { reply } = await ask(shop, 'How many days do I have to return shoes?');
    expect(reply).toBe('You have 30 days to return them.\n\nSource: https://shop.example/help/returns');
  });

  it('adds no link to an answer grounded on an uploaded file', async () => {
    const shop = await tenantWithPolicy({ knowledge: { language: 'english', sourceLinks: true } });
    openai.book.answer = () => ({ text: 'You have 30 days.' });
    const { reply } = await ask(shop, 'How many days do I have to return shoes?');
    expect(reply).toBe('You have 30 days.');
  });
});

describe('the sources under each answer', () => {
  /** The conversation as a supervisor reads it (the dashboard's thread view reads the same). */
  async function threadOf(fixture: TenantFixture, conversationId: string) {
    const { secret } = await createApiKey(context, fixture.tenant, { scopes: ['conversations:manage'] });
    const response = await request(context.app)
      .get(`/v1/bot/conversations/${conversationId}`)
      .set('Authorization', `Bearer ${secret}`)
      .expect(200);
    return response.body.messages as Array<{ author: string; body: string; sources?: unknown[] }>;
  }

  it('lists the passages a bot answer was given, with their document, headings and location', async () => {
    const shop = await tenantWithPolicy({ llm: { enabledProviders: [] }, knowledge: { language: 'english' } });
    const { interaction } = await ask(shop, 'When does my refund reach my card?');
    const [, refundChunk] = await chunkIdsOf(shop.tenant.id);
    const messages = await threadOf(shop, interaction.conversation_id);
    const answer = messages.find((message) => message.author === 'bot')!;
    expect(answer.sources).toContainEqual({
      chunk_id: refundChunk,
      kind: 'document',
      title: 'Policy',
      heading_path: ['Returns', 'Refunds'],
      location: 'policy.md',
    });
    // The customer's own message has no sources.
    expect(messages.find((message) => message.author === 'customer')!.sources).toBeUndefined();
  });

  it('names a Q/A entry by its question', async () => {
    const shop = await tenantWithPolicy({ llm: { enabledProviders: [] }, knowledge: { language: 'english' } });
    await createKnowledge(context, shop.tenant, [{ question: 'Do you ship to Lisbon?', answer: 'Yes, in 3 days.' }]);
    const { interaction } = await ask(shop, 'Do you ship to Lisbon?');
    const answer = (await threadOf(shop, interaction.conversation_id)).find((message) => message.author === 'bot')!;
    expect(answer.sources).toContainEqual(expect.objectContaining({ kind: 'entry', title: 'Do you ship to Lisbon?', location: null }));
  });

  it('still shows that an answer had a source after the document was deleted', async () => {
    const shop = await tenantWithPolicy({ llm: { enabledProviders: [] }, knowledge: { language: 'english' } });
    const { interaction } = await ask(shop, 'When does my refund reach my card?');
    await context.database.dataSource.query('DELETE FROM knowledge_documents WHERE tenant_id = $1', [shop.tenant.id]);
    const answer = (await threadOf(shop, interaction.conversation_id)).find((message) => message.author === 'bot')!;
    expect(answer.sources).toEqual(interaction.chunk_ids.map((chunkId: string) => ({ chunk_id: chunkId, kind: 'removed' })));
  });
});
