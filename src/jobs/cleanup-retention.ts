/**
 * Retention cleanup: hard-deletes provider_usage rows older than each tenant's retention (settings.retentionDays,
 * default 90), at most 10,000 rows per statement so no single statement holds locks for long. A row is deleted only
 * when its day has been aggregated: the summary of its tenant, day, provider and model exists and was computed
 * after that day ended. Daily summaries are kept.
 */
import type { EntityManager } from 'typeorm';
import type { JobResult } from './job-runner';
import { DEFAULT_RETENTION_DAYS } from '../tracking/daily-usage-summaries';
import { retentionDaysSql } from '../tracking/usage-retention-sql';

export const CLEANUP_BATCH_SIZE = 10_000;

// The cutoff is the start of a UTC day, so cleanup always removes whole days.
const CUTOFF_SQL = `(((now() AT TIME ZONE 'UTC')::date - ${retentionDaysSql('t', '$1')})::timestamp AT TIME ZONE 'UTC')`;

const EXPIRED_ROWS_SQL = `
  FROM provider_usage u
  JOIN tenants t ON t.id = u.tenant_id
  WHERE u.created_at < ${CUTOFF_SQL}`;

const AGGREGATED_SQL = `
  EXISTS (
    SELECT 1 FROM provider_daily_summaries s
    WHERE s.tenant_id = u.tenant_id AND s.provider = u.provider AND s.model = u.model
      AND s.date = (u.created_at AT TIME ZONE 'UTC')::date
      AND s.computed_at >= (s.date + 1)::timestamp AT TIME ZONE 'UTC')`;

const DELETE_BATCH_SQL = `
DELETE FROM provider_usage WHERE id IN (
  SELECT u.id ${EXPIRED_ROWS_SQL} AND ${AGGREGATED_SQL}
  LIMIT $2)`;

const COUNT_SQL = `
SELECT (count(*) FILTER (WHERE ${AGGREGATED_SQL}))::bigint AS deletable,
       (count(*) FILTER (WHERE NOT ${AGGREGATED_SQL}))::bigint AS unaggregated
${EXPIRED_ROWS_SQL}`;

export interface CleanupOptions {
  defaultRetentionDays?: number;
  dryRun?: boolean;
  batchSize?: number;
  /** Called after each deleted batch, for progress output. */
  onBatch?: (progress: { deleted: number; totalDeleted: number }) => void;
}

/** Deletes (or, dry run, counts) expired and aggregated usage rows; reports expired rows kept for lack of a summary. */
export async function cleanupRetention(manager: EntityManager, options: CleanupOptions = {}): Promise<JobResult> {
  const retention = options.defaultRetentionDays ?? DEFAULT_RETENTION_DAYS;
  const batchSize = Math.min(options.batchSize ?? CLEANUP_BATCH_SIZE, CLEANUP_BATCH_SIZE);
  const [counts] = await manager.query(COUNT_SQL, [retention]);
  const unaggregated = Number(counts.unaggregated);
  if (options.dryRun) {
    const deletable = Number(counts.deletable);
    return { rowsTouched: 0, details: { dryRun: true, wouldDelete: deletable, keptUnaggregated: unaggregated } };
  }
  let totalDeleted = 0;
  for (;;) {
    const [, affected] = await manager.query(DELETE_BATCH_SQL, [retention, batchSize]);
    const deleted = Number(affected ?? 0);
    totalDeleted += deleted;
    if (deleted > 0) options.onBatch?.({ deleted, totalDeleted });
    if (deleted < batchSize) break;
  }
  return { rowsTouched: totalDeleted, details: { dryRun: false, deleted: totalDeleted, keptUnaggregated: unaggregated } };
}
