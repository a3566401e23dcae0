/**
 * Where the passages an answer was grounded on came from, for showing the sources under each bot answer in the
 * dashboard and the conversations API: a document (its title, heading path and URL or file name), a Q/A entry (its
 * question) or an approved correction (the customer's message it answers). A passage can be gone since (its document
 * re-indexed or deleted, its entry edited): it is then reported as removed, never silently left out.
 */
import type { KnowledgeChunkRepository, PassageKind } from '../db/repositories/knowledge-chunk-repository';
import type { KnowledgeDocumentRepository } from '../db/repositories/knowledge-document-repository';

export type PassageSource =
  | { chunkId: string; kind: PassageKind; title: string; headingPath: string[]; location: string | null }
  | { chunkId: string; kind: 'removed' };

/** The sources of the given passages of one tenant, by passage id (other tenants' ids come back removed). */
export async function describePassages(
  repositories: { chunks: Pick<KnowledgeChunkRepository, 'byIds'>; documents: Pick<KnowledgeDocumentRepository, 'titles'> },
  tenantId: string,
  chunkIds: readonly string[],
): Promise<Map<string, PassageSource>> {
  const unique = [...new Set(chunkIds)];
  const rows = await repositories.chunks.byIds(tenantId, unique);
  const titles = await repositories.documents.titles(tenantId, [...new Set(rows.map((row) => row.document_id))]);
  const byId = new Map(rows.map((row) => [row.id, row]));
  return new Map(
    unique.map((chunkId): [string, PassageSource] => {
      const row = byId.get(chunkId);
      if (!row) return [chunkId, { chunkId, kind: 'removed' }];
      if (row.kind !== 'document') {
        // A Q/A passage keeps its question (or the customer's message a correction answers) as its heading.
        return [chunkId, { chunkId, kind: row.kind, title: row.heading_path[0] ?? '', headingPath: [], location: null }];
      }
      const document = titles.get(row.document_id);
      return [
        chunkId,
        { chunkId, kind: 'document', title: document?.title ?? '', headingPath: row.heading_path, location: document?.source || null },
      ];
    }),
  );
}
