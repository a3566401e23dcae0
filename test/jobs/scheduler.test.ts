import { afterEach, describe, expect, it } from 'vitest';
import type { JobOutcome, JobRunner } from '../../src/jobs/job-runner';
import { scheduledJobs, type ScheduledJob } from '../../src/jobs/scheduled-jobs';
import { Scheduler } from '../../src/jobs/scheduler';
import type { WebhookSender } from '../../src/net/outbound-webhooks';
import { silentLogger } from '../support/test-context';

const settings = { defaultRetentionDays: 90, alertWebhookTimeoutMs: 5000 };
// scheduledJobs only stores the runner in closures; registration never calls it.
const unusedRunner = {} as JobRunner;
const unusedWebhooks = {} as WebhookSender;

describe('scheduler', () => {
  let scheduler: Scheduler | undefined;
  afterEach(async () => {
    await scheduler?.stop();
    scheduler = undefined;
  });

  it('registers each job at its UTC cron expression', () => {
    scheduler = new Scheduler(scheduledJobs(unusedRunner, settings, silentLogger, unusedWebhooks), silentLogger);
    expect(scheduler.registrations()).toEqual([]);
    scheduler.start();
    const registrations = scheduler.registrations();
    expect(registrations.map(({ name, cron }) => [name, cron])).toEqual([
      ['aggregate-yesterday', '0 1 * * *'],
      ['aggregate-today', '5 * * * *'],
      ['cleanup-retention', '0 2 * * 0'],
      ['provider-health', '15 * * * *'],
    ]);
    const next = Object.fromEntries(registrations.map(({ name, nextRun }) => [name, nextRun!]));
    expect([next['aggregate-yesterday'].getUTCHours(), next['aggregate-yesterday'].getUTCMinutes()]).toEqual([1, 0]);
    expect([next['aggregate-today'].getUTCMinutes(), next['provider-health'].getUTCMinutes()]).toEqual([5, 15]);
    expect([
      next['cleanup-retention'].getUTCDay(),
      next['cleanup-retention'].getUTCHours(),
      next['cleanup-retention'].getUTCMinutes(),
    ]).toEqual([0, 2, 0]);
  });

  it('stop() waits for the running job and then takes no new runs', async () => {
    let release!: () => void;
    let runs = 0;
    const job: ScheduledJob = {
      name: 'held',
      cron: '0 0 1 1 *',
      run: () => {
        runs += 1;
        return new Promise<JobOutcome>(
          (resolve) => (release = () => resolve({ status: 'succeeded', runId: 'r', rowsTouched: 0, details: {}, durationMs: 0 })),
        );
      },
    };
    scheduler = new Scheduler([job], silentLogger);
    scheduler.start();
    const running = scheduler.trigger(job);
    let stopped = false;
    const stopping = scheduler.stop().then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(await running).toMatchObject({ status: 'succeeded' });
    expect(await scheduler.trigger(job)).toBeUndefined();
    expect(runs).toBe(1);
    expect(scheduler.registrations()).toEqual([]);
  });

  it('rejects an invalid cron expression at start', () => {
    scheduler = new Scheduler(
      [{ name: 'bad', cron: '61 * * * *', run: async () => ({ status: 'skipped', reason: 'locked_elsewhere' }) }],
      silentLogger,
    );
    expect(() => scheduler!.start()).toThrow(/Invalid cron expression for bad/);
  });
});
