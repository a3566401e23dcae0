import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { reciprocalRankFusion } from '../../src/knowledge/hybrid-search';
import { topK } from '../../src/knowledge/vector-index';
import { embeddingSynonyms } from '../fakes/fake-embedding';
import type { FakeGeminiServer } from '../fakes/gemini-server';
import type { FakeOpenAIServer } from '../fakes/openai-server';
import { createKnowledge, createTenant, type TenantFixture } from '../support/factories';
import { useFakeProvidersContext } from '../support/fake-openai-context';
import type { TestContext } from '../support/test-context';

let context: TestContext;
let openai: FakeOpenAIServer;
let gemini: FakeGeminiServer;

const DOCUMENT = [
  '# Returns',
  '',
  'You can return unworn shoes within 30 days of delivery.',
  '',
  '## Refunds',
  '',
  'Your refund reaches the original card within 5 business days.',
  '',
  '# Shipping',
  '',
  'Orders ship from Lisbon within 2 days; delivery takes 3 to 5 days.',
  '',
].join('\n');

// Keys and base URLs from the environment (the fakes'); the tenants have none of their own.
const suite = useFakeProvidersContext();
beforeAll(() => {
  ({ context, openai, gemini } = suite);
});
afterAll(() => {
  embeddingSynonyms.clear();
});
beforeEach(async () => {
  embeddingSynonyms.clear();
});

async function tenantWithDocument(settings: Record<string, unknown> = {}): Promise<TenantFixture> {
  const fixture = await createTenant(context, { settings });
  await context.services.repositories.knowledgeDocuments.insert({
    tenantId: fixture.tenant.id,
    title: 'Policies',
    sourceKind: 'file',
    fileName: 'policies.md',
    contentType: 'text/markdown',
    sourceBytes: Buffer.from(DOCUMENT),
  });
  await context.services.documentIndexer.runUntilIdle();
  return fixture;
}

async function search(fixture: TenantFixture, text: string) {
  const resolved = await context.services.tenants.findById(fixture.tenant.id);
  return context.services.knowledgeSearch.search(resolved!, text);
}

describe('reciprocal rank fusion', () => {
  it('adds 1 / (60 + rank) over the lists that hold an id', () => {
    const fused = reciprocalRankFusion([
      ['a', 'b'],
      ['b', 'c'],
    ]);
    expect(fused.get('a')).toBeCloseTo(1 / 61, 12);
    expect(fused.get('b')).toBeCloseTo(1 / 62 + 1 / 61, 12);
    expect(fused.get('c')).toBeCloseTo(1 / 62, 12);
  });

  it('ranks an id both lists found above one only a single list ranked first', () => {
    const fused = reciprocalRankFusion([
      ['only-keyword', 'both'],
      ['only-vector', 'both'],
    ]);
    const order = [...fused.entries()].sort((left, right) => right[1] - left[1]).map(([id]) => id);
    expect(order[0]).toBe('both');
  });
});

describe('the vector index scan', () => {
  it('returns the highest dot products, best first', () => {
    const matrix = { ids: ['x', 'y', 'z'], dimensions: 2, vectors: new Float32Array([1, 0, 0, 1, 0.6, 0.8]) };
    expect(topK(matrix, new Float32Array([0, 1]), 2)).toEqual([
      { id: 'y', similarity: 1 },
      { id: 'z', similarity: expect.closeTo(0.8, 6) },
    ]);
  });
});

describe('hybrid search over document passages', () => {
  it('reports both legs for a passage both found, fused first', async () => {
    const shop = await tenantWithDocument({ knowledge: { language: 'english' } });
    const outcome = await search(shop, 'How many days do I have to return shoes?');
    expect(outcome.vectorLeg).toBe('used');
    expect(outcome.embeddingModel).toBe('openai/text-embedding-3-small@256');
    const [best] = outcome.passages;
    expect(best.text).toBe('You can return unworn shoes within 30 days of delivery.');
    expect(best.headingPath).toEqual(['Returns']);
    expect(best.source).toBe('policies.md');
    expect(best.keyword).toMatchObject({ rank: 1 });
    expect(best.keyword!.score).toBeGreaterThan(0);
    expect(best.vector).toMatchObject({ rank: 1 });
    expect(best.fusedScore).toBeCloseTo(2 / 61, 12);
  });

  it('finds by meaning what no keyword matches (the vector leg)', async () => {
    // The fake model treats "reimbursement" as "refund", as a real one would place them close.
    embeddingSynonyms.set('reimbursement', 'refund');
    const shop = await tenantWithDocument({ knowledge: { language: 'english' } });
    const outcome = await search(shop, 'reimbursement');
    const [best] = outcome.passages;
    expect(best.text).toBe('Your refund reaches the original card within 5 business days.');
    expect(best.keyword).toBeNull();
    expect(best.vector).toMatchObject({ rank: 1 });
  });

  it('finds a passage indexed after the tenant vectors were loaded (the new rows are appended)', async () => {
    embeddingSynonyms.set('reimbursement', 'refund');
    const shop = await tenantWithDocument({ knowledge: { language: 'english' } });
    await search(shop, 'reimbursement');
    await context.services.repositories.knowledgeDocuments.insert({
      tenantId: shop.tenant.id,
      title: 'Gift cards',
      sourceKind: 'file',
      fileName: 'gift.md',
      contentType: 'text/markdown',
      sourceBytes: Buffer.from('# Gift cards\n\nGift card balances never expire.\n'),
    });
    await context.services.documentIndexer.runUntilIdle();
    const outcome = await search(shop, 'gift card balances');
    expect(outcome.passages[0]).toMatchObject({ text: 'Gift card balances never expire.', vector: { rank: 1 } });
  });

  it('embeds the query once, with the query task type, and records its usage', async () => {
    const shop = await tenantWithDocument({ llm: { enabledProviders: ['gemini'] }, knowledge: { language: 'english' } });
    gemini.book.requests.length = 0;
    await search(shop, 'refund card');
    expect(gemini.book.requests).toHaveLength(1);
    expect((gemini.book.requests[0].body as { requests: unknown[] }).requests).toEqual([
      expect.objectContaining({ taskType: 'RETRIEVAL_QUERY', outputDimensionality: 256 }),
    ]);
    const usage = await context.database.dataSource.query(`SELECT metadata FROM provider_usage WHERE metadata->>'purpose' = 'query'`);
    expect(usage).toHaveLength(1);
  });

  it('answers from the keyword leg alone when the tenant has no provider (offline)', async () => {
    const offline = await tenantWithDocument({ llm: { enabledProviders: [] }, knowledge: { language: 'english' } });
    const outcome = await search(offline, 'when does my refund arrive?');
    expect(outcome.vectorLeg).toBe('no_provider');
    expect(outcome.passages[0]).toMatchObject({ text: 'Your refund reaches the original card within 5 business days.', vector: null });
    expect(openai.book.requests).toEqual([]);
  });

  it('falls back to the keyword leg when the embedding model fails for the query', async () => {
    const shop = await tenantWithDocument({ knowledge: { language: 'english' } });
    openai.book.fail('unavailable', { model: 'text-embedding-3-small', times: Infinity });
    const outcome = await search(shop, 'when does my refund arrive?');
    expect(outcome.vectorLeg).toBe('unavailable');
    expect(outcome.passages[0].text).toBe('Your refund reaches the original card within 5 business days.');
  });

  it("never returns another tenant's passages", async () => {
    await tenantWithDocument();
    const other = await createTenant(context);
    openai.book.requests.length = 0;
    const outcome = await search(other, 'refund card shoes');
    expect(outcome).toMatchObject({ passages: [], tenantHasDocuments: false });
    expect(openai.book.requests).toEqual([]);
  });

  it('folds accents in the tenant language (Spanish)', async () => {
    const fixture = await createTenant(context, { settings: { llm: { enabledProviders: [] }, knowledge: { language: 'spanish' } } });
    await context.services.repositories.knowledgeDocuments.insert({
      tenantId: fixture.tenant.id,
      title: 'Política',
      sourceKind: 'file',
      fileName: 'politica.md',
      contentType: 'text/markdown',
      sourceBytes: Buffer.from('# Devoluciones\n\nLa devolución es gratuita durante 30 días.\n'),
    });
    await context.services.documentIndexer.runUntilIdle();
    const outcome = await search(fixture, 'devolucion dias');
    expect(outcome.passages).toHaveLength(1);
    expect(outcome.passages[0].keyword!.coverage).toBe(1);
  });
});

describe('hybrid search over Q/A entries and approved corrections', () => {
  const REFUND = { question: 'How fast is a refund?', answer: 'Refunds take 5 business days.' };

  it("embeds an entry's passage in the indexer, after which the vector leg finds it by meaning", async () => {
    embeddingSynonyms.set('reimbursement', 'refund');
    const shop = await createTenant(context, { settings: { knowledge: { language: 'english' } } });
    await createKnowledge(context, shop.tenant, [REFUND]);
    // Written with the entry, embedded by the indexer: until then the keyword leg alone finds it.
    expect(await search(shop, 'reimbursement')).toMatchObject({ vectorLeg: 'not_embedded', passages: [] });
    await context.services.documentIndexer.runUntilIdle();
    const outcome = await search(shop, 'reimbursement');
    expect(outcome.vectorLeg).toBe('used');
    expect(outcome.passages[0]).toMatchObject({ kind: 'entry', text: REFUND.answer, keyword: null, vector: { rank: 1 } });
  });

  it('finds the new text of an entry changed after its vectors were loaded (embedded again in place)', async () => {
    embeddingSynonyms.set('reimbursement', 'refund');
    const shop = await createTenant(context, { settings: { knowledge: { language: 'english' } } });
    await createKnowledge(context, shop.tenant, [REFUND, { question: 'Do you sell gift cards?', answer: 'Gift cards from 10 euros.' }]);
    await context.services.documentIndexer.runUntilIdle();
    await search(shop, 'reimbursement');
    const [entry] = await context.database.dataSource.query('SELECT id FROM knowledge_entries WHERE question = $1', [REFUND.question]);
    await context.database.dataSource.transaction((manager) =>
      context.services.questionAnswerPassages.indexEntries(manager, shop.tenant.id, [
        { id: entry.id, question: REFUND.question, answer: 'A refund reaches your card in 3 days.' },
      ]),
    );
    await context.services.documentIndexer.runUntilIdle();
    const outcome = await search(shop, 'reimbursement');
    expect(outcome.passages[0]).toMatchObject({ entryId: entry.id, text: 'A refund reaches your card in 3 days.', vector: { rank: 1 } });
  });
});
