/**
 * Runs a job at most once at a time across every instance: a PostgreSQL session advisory lock, taken with
 * pg_try_advisory_lock on a dedicated connection, is held for the whole run. Every run is recorded in job_runs
 * (started, finished, rows touched, error) and logged. A run that finds the lock taken is skipped, not queued.
 */
import os from 'node:os';
import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from 'pino';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { JobRun } from '../db/entities/job-run';

/** What a job reports when it finishes. */
export interface JobResult {
  rowsTouched: number;
  details?: Record<string, unknown>;
}

export interface JobContext {
  /** The manager of the connection holding the job's lock; the job's statements run on it. */
  manager: EntityManager;
  logger: Logger;
}

export type JobOutcome =
  | { status: 'succeeded'; runId: string; rowsTouched: number; details: Record<string, unknown>; durationMs: number }
  | { status: 'failed'; runId: string; error: Error; durationMs: number }
  | { status: 'skipped'; reason: 'locked_elsewhere' | 'already_running_here' };

// First key of the two-int advisory lock: keeps job locks apart from any other advisory lock user.
const LOCK_NAMESPACE = 0x5041524c; // 'PARL'

/** hostname:pid, recorded on each run so an operator sees which worker ran it. */
export function instanceName(): string {
  return `${os.hostname()}:${process.pid}`.slice(0, 128);
}

/** Holds the lock and the record of every job run by this process. */
export class JobRunner {
  private readonly running = new Set<string>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly logger: Logger,
    readonly instance: string = instanceName(),
  ) {}

  /** Runs `work` under the job's lock, or skips when another run holds it. Failures are recorded, never thrown. */
  async run(job: string, work: (context: JobContext) => Promise<JobResult>): Promise<JobOutcome> {
    // The advisory lock is per session and re-entrant; this set stops two runs of one job inside one process.
    if (this.running.has(job)) return this.skip(job, 'already_running_here');
    this.running.add(job);
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.connect();
      const [{ locked }] = await runner.query('SELECT pg_try_advisory_lock($1::int, hashtext($2)) AS locked', [LOCK_NAMESPACE, job]);
      if (!locked) return this.skip(job, 'locked_elsewhere');
      try {
        return await this.record(job, () => work({ manager: runner.manager, logger: this.logger.child({ job }) }));
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1::int, hashtext($2))', [LOCK_NAMESPACE, job]).catch((error: unknown) => {
          // A broken connection drops its session, and the lock with it.
          this.logger.warn({ err: error, job }, 'could not release job lock');
        });
      }
    } finally {
      await runner.release();
      this.running.delete(job);
    }
  }

  private skip(job: string, reason: 'locked_elsewhere' | 'already_running_here'): JobOutcome {
    this.logger.info({ job, reason }, 'job skipped: another run holds it');
    return { status: 'skipped', reason };
  }

  private async record(job: string, work: () => Promise<JobResult>): Promise<JobOutcome> {
    const manager = this.dataSource.manager;
    const startedAt = new Date();
    const { identifiers } = await manager.insert(JobRun, { job, instance: this.instance, status: 'running', startedAt });
    const runId = identifiers[0].id as string;
    this.logger.info({ job, runId }, 'job started');
    try {
      const result = await work();
      const finishedAt = new Date();
      const details = result.details ?? {};
      await manager.update(
        JobRun,
        { id: runId },
        {
          status: 'succeeded',
          finishedAt,
          rowsTouched: String(result.rowsTouched),
          details: details as QueryDeepPartialEntity<Record<string, unknown>>,
        },
      );
      const durationMs = finishedAt.getTime() - startedAt.getTime();
      this.logger.info({ job, runId, rowsTouched: result.rowsTouched, durationMs, ...details }, 'job succeeded');
      return { status: 'succeeded', runId, rowsTouched: result.rowsTouched, details, durationMs };
    } catch (thrown) {
      const error = thrown instanceof Error ? thrown : new Error(String(thrown));
      const finishedAt = new Date();
      await manager
        .update(JobRun, { id: runId }, { status: 'failed', finishedAt, error: error.message.slice(0, 1000) })
        .catch((recordError: unknown) => this.logger.error({ err: recordError, job, runId }, 'could not record job failure'));
      this.logger.error({ err: error, job, runId }, 'job failed');
      return { status: 'failed', runId, error, durationMs: finishedAt.getTime() - startedAt.getTime() };
    }
  }
}
