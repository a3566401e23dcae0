import { describe, expect, it } from 'vitest';
import { KnowledgeDocuments1764001500000 } from '../../migrations/1764001500000-KnowledgeDocuments';
import {
  bytesToEmbedding,
  embeddingToBytes,
  KnowledgeChunkRepository,
  type NewKnowledgeChunk,
} from '../../src/db/repositories/knowledge-chunk-repository';
import { KnowledgeDocumentRepository } from '../../src/db/repositories/knowledge-document-repository';
import { VectorIndex } from '../../src/knowledge/vector-index';
import { createTenant } from '../support/factories';
import { useTestContext } from '../support/test-context';

const chunk = (ordinal: number, text: string, headingPath: string[] = []): NewKnowledgeChunk => ({
  ordinal,
  headingPath,
  text,
  tokenCount: text.split(' ').length,
  source: 'policy.md',
  embedding: null,
});

describe('knowledge documents and chunks', () => {
  const context = useTestContext();
  const documents = () => new KnowledgeDocumentRepository(context.database.dataSource.manager);
  const chunks = () => new KnowledgeChunkRepository(context.database.dataSource.manager);

  async function indexedDocument(tenantId: string, texts: string[], config = 'parley_spanish') {
    const document = await documents().insert({ tenantId, title: 'Política', sourceKind: 'file', fileName: 'policy.md' });
    await chunks().replaceForDocument(
      context.database.dataSource.manager,
      { id: document.id, tenantId },
      texts.map((text, index) => chunk(index, text, ['Devoluciones'])),
      config,
      null,
    );
    return document;
  }

  it('finds a passage by a stemmed word without its accents, in the tenant language configuration', async () => {
    const { tenant } = await createTenant(context);
    await indexedDocument(tenant.id, ['Aceptamos devoluciones durante 30 días.', 'El envío es gratis en pedidos grandes.']);
    const hits = await chunks().keywordSearch(tenant.id, 'parley_spanish', '¿Cuántos dias tengo para una devolución?', 10);
    const texts = (
      await chunks().byIds(
        tenant.id,
        hits.map((hit) => hit.id),
      )
    ).map((row) => row.text);
    expect(texts).toEqual(['Aceptamos devoluciones durante 30 días.']);
    expect(hits[0].rank).toBeGreaterThan(0);
  });

  it('searches the heading path as well as the text', async () => {
    const { tenant } = await createTenant(context);
    await indexedDocument(tenant.id, ['Treinta días desde la entrega.']);
    const hits = await chunks().keywordSearch(tenant.id, 'parley_spanish', 'devoluciones', 10);
    expect(hits).toHaveLength(1);
  });

  it("never returns another tenant's passages", async () => {
    const first = await createTenant(context);
    const second = await createTenant(context);
    await indexedDocument(first.tenant.id, ['Aceptamos devoluciones durante 30 días.']);
    expect(await chunks().keywordSearch(second.tenant.id, 'parley_spanish', 'devoluciones', 10)).toEqual([]);
  });

  it('rebuilds the search vectors when the tenant changes language', async () => {
    const { tenant } = await createTenant(context);
    await indexedDocument(tenant.id, ['We accept returns of running shoes.'], 'parley_simple');
    // The simple configuration does not stem: "shoe" does not match "shoes" until the English one is used.
    expect(await chunks().keywordSearch(tenant.id, 'parley_english', 'shoe', 10)).toEqual([]);
    expect(await chunks().rebuildSearchVectors(tenant.id, 'parley_english')).toBe(1);
    expect(await chunks().keywordSearch(tenant.id, 'parley_english', 'shoe', 10)).toHaveLength(1);
  });

  it('stores an embedding as float32 bytes and reads it back', async () => {
    const vector = new Float32Array([0.6, -0.8, 0]);
    expect(Array.from(bytesToEmbedding(embeddingToBytes(vector)))).toEqual(Array.from(vector));
    const { tenant } = await createTenant(context);
    const document = await documents().insert({ tenantId: tenant.id, title: 'Doc', sourceKind: 'file', fileName: 'a.md' });
    await chunks().replaceForDocument(
      context.database.dataSource.manager,
      { id: document.id, tenantId: tenant.id },
      [{ ...chunk(0, 'hello'), embedding: vector }],
      'parley_english',
      'openai/text-embedding-3-small@3',
    );
    const stored = await chunks().embeddings(tenant.id, 'openai/text-embedding-3-small@3', '0', 10);
    expect(Array.from(bytesToEmbedding(stored[0].embedding))).toEqual(Array.from(vector));
    expect((await chunks().summary(tenant.id, 'openai/text-embedding-3-small@3')).embeddingVersion).toBe(
      `1:${stored[0].id}:${stored[0].id}`,
    );
  });

  it('loads every embedding of the tenant in pages, and appends the ones indexed later', async () => {
    const { tenant } = await createTenant(context);
    const index = new VectorIndex(chunks(), { pageSize: 4 });
    const unit = (position: number) => {
      const vector = new Float32Array(16);
      vector[position] = 1;
      return vector;
    };
    const addDocument = async (positions: number[]) => {
      const document = await documents().insert({ tenantId: tenant.id, title: 'd', sourceKind: 'file', fileName: 'd.md' });
      await chunks().replaceForDocument(
        context.database.dataSource.manager,
        { id: document.id, tenantId: tenant.id },
        positions.map((position, ordinal) => ({ ...chunk(ordinal, `p${position}`), embedding: unit(position) })),
        'parley_simple',
        'm@16',
      );
    };
    const search = async (position: number) => {
      const { embeddingVersion } = await chunks().summary(tenant.id, 'm@16');
      return index.search(tenant.id, 'm@16', embeddingVersion, unit(position), 1);
    };
    // 11 passages: ids 1..11 sort as text as 1, 10, 11, 2, ...: the pages must follow the numbers.
    await addDocument([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect((await search(10))[0].similarity).toBeCloseTo(1, 6);
    expect(index.heldBytes()).toBe(11 * 16 * 4);
    await addDocument([11, 12, 13, 14, 15]);
    expect((await search(15))[0].similarity).toBeCloseTo(1, 6);
    expect(index.heldBytes()).toBe(16 * 16 * 4);
  });

  it('claims a queued document once, and a document a crashed worker left indexing after the lease', async () => {
    const { tenant } = await createTenant(context);
    const document = await documents().insert({ tenantId: tenant.id, title: 'Doc', sourceKind: 'url', sourceUrl: 'https://a.example/' });
    expect((await documents().claimNext(60))?.id).toBe(document.id);
    expect(await documents().claimNext(60)).toBeNull();
    await context.database.dataSource.query(`UPDATE knowledge_documents SET claimed_at = now() - interval '2 minutes'`);
    expect((await documents().claimNext(60))?.status).toBe('indexing');
  });

  it('deletes the chunks with their document', async () => {
    const { tenant } = await createTenant(context);
    const document = await indexedDocument(tenant.id, ['One.', 'Two.']);
    expect(await documents().delete(tenant.id, document.id)).toBe(true);
    expect(await chunks().countForTenant(tenant.id)).toBe(0);
  });

  it('has a migration that reverts and reapplies', async () => {
    const runner = context.database.dataSource.createQueryRunner();
    try {
      await new KnowledgeDocuments1764001500000().down(runner);
      expect(await runner.query(`SELECT 1 FROM pg_tables WHERE tablename IN ('knowledge_documents', 'knowledge_chunks')`)).toEqual([]);
      await new KnowledgeDocuments1764001500000().up(runner);
      const tables = await runner.query(
        `SELECT tablename FROM pg_tables WHERE tablename IN ('knowledge_documents', 'knowledge_chunks') ORDER BY 1`,
      );
      expect(tables.map((row: { tablename: string }) => row.tablename)).toEqual(['knowledge_chunks', 'knowledge_documents']);
    } finally {
      await runner.release();
    }
  });
});
