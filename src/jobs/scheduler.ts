/**
 * Runs scheduled jobs with node-cron in UTC. stop() takes no new runs and waits for the running ones to finish,
 * so a worker that is shut down never leaves a half-recorded run behind.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { JobOutcome } from './job-runner';
import type { ScheduledJob } from './scheduled-jobs';

export interface JobRegistration {
  name: string;
  cron: string;
  nextRun: Date | null;
}

/** Owns one node-cron task per job. */
export class Scheduler {
  private tasks: Array<{ job: ScheduledJob; task: ScheduledTask }> = [];
  private readonly inFlight = new Set<Promise<JobOutcome>>();
  private stopping = false;

  constructor(
    private readonly jobs: ScheduledJob[],
    private readonly logger: Logger,
  ) {}

  /** Registers every job with node-cron and starts the clock. */
  start(): void {
    if (this.tasks.length > 0) return;
    this.stopping = false;
    for (const job of this.jobs) {
      if (!cron.validate(job.cron)) throw new Error(`Invalid cron expression for ${job.name}: ${job.cron}`);
      // noOverlap: an hourly job that runs long is skipped for that hour instead of stacking up.
      const task = cron.schedule(job.cron, () => this.trigger(job), { name: job.name, timezone: 'Etc/UTC', noOverlap: true });
      this.tasks.push({ job, task });
    }
    this.logger.info({ jobs: this.registrations().map(({ name, cron: expression }) => `${name}@${expression}`) }, 'scheduler started');
  }

  /** The registered jobs, their cron expressions and next run times (empty before start()). */
  registrations(): JobRegistration[] {
    return this.tasks.map(({ job, task }) => ({ name: job.name, cron: task.getPattern(), nextRun: task.getNextRun() }));
  }

  /** Runs a job now, as its schedule would; resolves when it has finished. */
  trigger(job: ScheduledJob): Promise<JobOutcome | undefined> {
    if (this.stopping) return Promise.resolve(undefined);
    const run = job.run();
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
    return run;
  }

  /** Takes no new runs and waits for the running ones. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const { task } of this.tasks) await task.destroy();
    this.tasks = [];
    await Promise.allSettled([...this.inFlight]);
  }
}
