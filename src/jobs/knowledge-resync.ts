/**
 * The knowledge re-sync job (daily): queues every web page and site not synced for most of a day, so the indexing
 * worker fetches it again. The worker re-indexes only text whose fingerprint changed, and a site's crawl removes
 * the pages the site no longer has. Passages indexed in another search language than the tenant's current one
 * (the tenant changed knowledge.language) get their search vectors rebuilt here too.
 */
import type { EntityManager } from 'typeorm';
import { KnowledgeChunkRepository } from '../db/repositories/knowledge-chunk-repository';
import { KnowledgeDocumentRepository } from '../db/repositories/knowledge-document-repository';
import { knowledgeSettingsOf } from '../knowledge/knowledge-settings';
import type { StoredTenantSettings } from '../tenants/tenant-settings';
import type { JobResult } from './job-runner';

/** A document synced more recently than this is left alone (a daily job, with slack for the time a crawl takes). */
export const RESYNC_AFTER_MS = 20 * 60 * 60_000;

export interface KnowledgeResyncDependencies {
  tenants: { findById(id: string): Promise<{ settings: StoredTenantSettings } | null> };
  /** Told when documents were queued (the worker in this process starts at once). */
  onQueued?: () => void;
  now?: () => Date;
  /** Sources synced more recently than this are left alone (default RESYNC_AFTER_MS; 0: every one, `npm run jobs -- knowledge --all`). */
  staleAfterMs?: number;
}

/** Queues stale URL sources and rebuilds search vectors of changed languages; returns what it touched. */
export async function resyncKnowledge(manager: EntityManager, dependencies: KnowledgeResyncDependencies): Promise<JobResult> {
  const now = dependencies.now?.() ?? new Date();
  const queued = await new KnowledgeDocumentRepository(manager).requeueStale(
    new Date(now.getTime() - (dependencies.staleAfterMs ?? RESYNC_AFTER_MS)),
  );
  if (queued > 0) dependencies.onQueued?.();
  const chunks = new KnowledgeChunkRepository(manager);
  const indexed: Array<{ tenant_id: string; search_config: string }> = await manager.query(
    'SELECT DISTINCT tenant_id, search_config FROM knowledge_chunks',
  );
  let rebuilt = 0;
  for (const row of indexed) {
    const tenant = await dependencies.tenants.findById(row.tenant_id);
    if (!tenant) continue;
    const wanted = knowledgeSettingsOf(tenant.settings).searchConfig;
    if (wanted !== row.search_config) rebuilt += await chunks.rebuildSearchVectors(row.tenant_id, wanted);
  }
  return { rowsTouched: queued + rebuilt, details: { queued, rebuiltPassages: rebuilt } };
}
