/**
 * Where the passages an answer was grounded on came from, for showing the sources under each bot answer in the
 * dashboard and the conversations API: a document (its title, heading path and URL or file name), a Q/A entry (its
 * question) or an approved correction (the customer's message it answers). A passage can be gone since (its document
 * re-indexed or deleted, its entry edited): it is then reported as removed, never silently left out.
 */
import type { KnowledgeChunkRepository, PassageKind } from '../db/repositories/knowledge-chunk-repository';

export type PassageSource =
  | { chunkId: string; kind: PassageKind; title: string; headingPath: string[]; location: string | null }
  | { chunkId: string; kind: 'removed' };

/** The sources of the given passages of one tenant, by passage id (other tenants' ids come back removed). */
export async function describePassages(
  chunks: Pick<KnowledgeChunkRepository, 'byIdsWithTitles'>,
  tenantId: string,
  chunkIds: readonly string[],
): Promise<Map<string, PassageSource>> {
  const unique = [...new Set(chunkIds)];
  const rows = await chunks.byIdsWithTitles(tenantId, unique);
  const byId = new Map(rows.map((row) => [row.id, row]));
  return new Map(
    unique.map((chunkId): [string, PassageSource] => {
      const row = byId.get(chunkId);
      if (!row) return [chunkId, { chunkId, kind: 'removed' }];
      if (row.kind !== 'document') {
        // A Q/A passage keeps its question (or the customer's message a correction answers) as its heading.
        return [chunkId, { chunkId, kind: row.kind, title: row.heading_path[0] ?? '', headingPath: [], location: null }];
      }
      // A passage's source is its page's URL or its file's name.
      return [
        chunkId,
        { chunkId, kind: 'document', title: row.document_title, headingPath: row.heading_path, location: row.source || null },
      ];
    }),
  );
}
