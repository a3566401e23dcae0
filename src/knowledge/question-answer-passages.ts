/**
 * Keeps Q/A entries and approved corrections searchable as passages of the one hybrid search (issue 19, must-have 3).
 * The services that change an entry or a correction call this in the same transaction: the passage is written (or
 * removed) with the change, so the keyword leg finds it the moment the change commits, and the tenant's `faq`
 * document is queued so the indexer embeds it for the vector leg (migration 1765300000000 says why one document).
 * A deleted entry or correction takes its passage with it (ON DELETE CASCADE).
 */
import type { EntityManager } from 'typeorm';
import type { KnowledgeChunkRepository, QuestionAnswerPassage } from '../db/repositories/knowledge-chunk-repository';
import type { KnowledgeDocumentRepository } from '../db/repositories/knowledge-document-repository';
import { countTextTokens } from '../llm/token-counter';
import type { TenantService } from '../tenants/tenant-service';
import { knowledgeSettingsOf } from './knowledge-settings';

/** A Q/A entry as its passage needs it. */
export interface EntryForPassage {
  id: string;
  question: string;
  answer: string;
}

/** A correction as its passage needs it: only an approved one is searchable. */
export interface CorrectionForPassage {
  id: string;
  customerMessage: string;
  humanResponse: string;
  approvedForTraining: boolean;
}

export interface QuestionAnswerPassagesDependencies {
  chunks: KnowledgeChunkRepository;
  documents: KnowledgeDocumentRepository;
  tenants: Pick<TenantService, 'findById'>;
  /** Told after a change committed: the search forgets that the tenant had no passage, the indexer wakes. */
  onChanged?: (tenantId: string) => void;
}

/** A passage of an entry or a correction, with its exact token count (as document passages have). */
export function questionAnswerPassage(kind: QuestionAnswerPassage['kind'], sourceId: string, question: string, answer: string) {
  return { kind, sourceId, question, answer, tokenCount: countTextTokens(`${question}\n${answer}`) };
}

/** Writes and removes the passages of Q/A entries and corrections. */
export class QuestionAnswerPassages {
  constructor(private readonly dependencies: QuestionAnswerPassagesDependencies) {}

  /** (Re)writes the passages of entries just created or changed; call inside their transaction. */
  async indexEntries(manager: EntityManager, tenantId: string, entries: readonly EntryForPassage[]): Promise<void> {
    if (entries.length === 0) return;
    await this.write(
      manager,
      tenantId,
      entries.map((entry) => questionAnswerPassage('entry', entry.id, entry.question, entry.answer)),
    );
  }

  /** A correction's passage after it changed: written while it is approved, removed otherwise; call inside its transaction. */
  async indexCorrection(manager: EntityManager, tenantId: string, correction: CorrectionForPassage): Promise<void> {
    if (correction.approvedForTraining) {
      await this.write(manager, tenantId, [
        questionAnswerPassage('correction', correction.id, correction.customerMessage, correction.humanResponse),
      ]);
      return;
    }
    if (await this.dependencies.chunks.removeCorrectionPassage(manager, tenantId, correction.id)) {
      // The document's passage count is refreshed by the indexer.
      await this.dependencies.documents.queueQuestionAnswerDocument(tenantId, manager);
    }
  }

  /** An entry or a correction was deleted (its passage went with it): the document's count is refreshed. */
  async sourceDeleted(manager: EntityManager, tenantId: string): Promise<void> {
    await this.dependencies.documents.queueQuestionAnswerDocument(tenantId, manager);
  }

  /** Call after the transaction committed. */
  changed(tenantId: string): void {
    this.dependencies.onChanged?.(tenantId);
  }

  private async write(manager: EntityManager, tenantId: string, passages: QuestionAnswerPassage[]): Promise<void> {
    // Read through the transaction: a tenant created in it (the demo seed) is not visible outside yet.
    const tenant = await this.dependencies.tenants.findById(tenantId, manager);
    const searchConfig = knowledgeSettingsOf(tenant?.settings ?? {}).searchConfig;
    const document = await this.dependencies.documents.queueQuestionAnswerDocument(tenantId, manager);
    await this.dependencies.chunks.replaceQuestionAnswerPassages(manager, { id: document.id, tenantId }, passages, searchConfig);
  }
}
