/**
 * The indexer's pass over a tenant's `faq` document (its Q/A entries and approved corrections): the services write
 * each passage with its change, so this pass only repairs (writes the passages the migration or a bulk writer left
 * out, removes those of corrections no longer approved) and embeds the passages without an embedding of the
 * tenant's model. The services queue the document after every change.
 */
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { KnowledgeChunkRepository } from '../db/repositories/knowledge-chunk-repository';
import type { KnowledgeDocumentRepository, KnowledgeDocumentRow } from '../db/repositories/knowledge-document-repository';
import { EmbeddingUnavailableError, type TenantEmbedder } from '../llm/embeddings';
import type { ResolvedTenant } from '../tenants/tenant-service';
import { embeddingInput, fingerprintOf, type IndexOutcome } from './document-indexer';
import { knowledgeSettingsOf } from './knowledge-settings';
import { questionAnswerPassage } from './question-answer-passages';

/** Passages embedded per provider call. */
const EMBEDDING_PAGE = 256;
/** Bounded: each round embeds a page or finds it replaced; a writer that keeps adding is picked up by the next pass. */
const MAX_ROUNDS = 1_000;

export interface QuestionAnswerIndexingDependencies {
  dataSource: DataSource;
  documents: KnowledgeDocumentRepository;
  chunks: KnowledgeChunkRepository;
  logger: Logger;
  /** The tenant's embedder; null for a keyword-only tenant. */
  embedder: TenantEmbedder | null;
  onIndexed?: (tenantId: string) => void;
}

/** Repairs and embeds a claimed `faq` document, then marks it ready (unless a writer queued it again meanwhile). */
export async function indexQuestionAnswerDocument(
  dependencies: QuestionAnswerIndexingDependencies,
  tenant: ResolvedTenant,
  document: KnowledgeDocumentRow,
): Promise<IndexOutcome> {
  const { documents, chunks, dataSource, logger, embedder } = dependencies;
  const tenantId = tenant.tenant.id;
  const searchConfig = knowledgeSettingsOf(tenant.settings).searchConfig;
  await dataSource.transaction(async (manager) => {
    // The same lock as a document's ingest: the tenant's passages change one writer at a time.
    await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`knowledge:${tenantId}`]);
    // The writers hold this row while they write a passage: the next ordinals are never taken twice.
    await documents.lock(document.id, manager);
    const missing = await chunks.repairQuestionAnswerSources(manager, tenantId);
    const passages = missing.map((source) => questionAnswerPassage(source.kind, source.sourceId, source.question, source.answer));
    await chunks.replaceQuestionAnswerPassages(manager, { id: document.id, tenantId }, passages, searchConfig);
  });
  let embeddingModel = embedder?.key ?? null;
  for (let round = 0; embedder && round < MAX_ROUNDS; round += 1) {
    const pending = await chunks.withoutEmbedding(document.id, embedder.key, EMBEDDING_PAGE);
    if (pending.length === 0) break;
    let vectors: Float32Array[];
    try {
      vectors = await embedder.embed(
        pending.map((row) => embeddingInput({ headingPath: row.heading_path, text: row.text })),
        { purpose: 'document' },
      );
    } catch (error) {
      // Found by keyword meanwhile; the next change or re-sync embeds them once the model answers again.
      if (!(error instanceof EmbeddingUnavailableError)) throw error;
      logger.warn({ documentId: document.id, tenantId, err: error }, 'Q/A passages left without embeddings');
      embeddingModel = null;
      break;
    }
    await chunks.setEmbeddings(
      pending.map((row, index) => ({ id: row.id, embedding: vectors[index] })),
      embedder.key,
    );
  }
  const chunkCount = await chunks.countForDocument(document.id);
  await documents.markQuestionAnswersReady(document.id, {
    chunkCount,
    // Nothing is fetched: the fingerprint only records what was indexed.
    fingerprint: fingerprintOf(`${tenantId}:${chunkCount}:${embeddingModel ?? ''}`),
    embeddingModel,
  });
  dependencies.onIndexed?.(tenantId);
  return 'indexed';
}
