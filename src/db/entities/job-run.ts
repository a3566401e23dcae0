import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type JobRunStatus = 'running' | 'succeeded' | 'failed';

/** One run of a scheduled or manual job, whichever instance ran it. */
@Entity({ name: 'job_runs' })
@Index('ix_job_runs_job_started', ['job', 'startedAt'])
export class JobRun {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 64 })
  job: string;

  /** hostname:pid of the process that ran it. */
  @Column({ type: 'varchar', length: 128 })
  instance: string;

  @Column({ type: 'varchar', length: 16 })
  status: JobRunStatus;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;

  @Column({ name: 'rows_touched', type: 'bigint', default: 0 })
  rowsTouched: string;

  @Column({ type: 'varchar', length: 1000, nullable: true })
  error: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'::jsonb" })
  details: Record<string, unknown>;
}
