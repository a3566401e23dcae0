import { describe, expect, it } from 'vitest';
import { JobRunner } from '../../src/jobs/job-runner';
import { scheduledJobs } from '../../src/jobs/scheduled-jobs';
import { createWebhookSender } from '../../src/net/outbound-webhooks';
import { addDays, utcDay } from '../../src/tracking/utc-days';
import { silentLogger, useTestContext } from '../support/test-context';
import { insertTenant, insertUsage, summariesOf } from './usage-rows';

describe('the nightly aggregation job', () => {
  const context = useTestContext();
  const today = utcDay();
  const settings = { defaultRetentionDays: 90, alertWebhookTimeoutMs: 1000 };
  const webhooks = createWebhookSender({ requireHttps: true, allowedHosts: [] }, Buffer.alloc(32), silentLogger);

  const manager = () => context.database.dataSource.manager;
  const nightly = () =>
    scheduledJobs(new JobRunner(context.database.dataSource, silentLogger), settings, silentLogger, webhooks).find(
      (job) => job.name === 'aggregate-yesterday',
    )!;

  it('aggregates yesterday on a first run', async () => {
    const tenant = await insertTenant(manager());
    await insertUsage(
      manager(),
      tenant.id,
      [-2, -1].map((offset) => ({ at: `${addDays(today, offset)}T12:00:00Z` })),
    );
    expect(await nightly().run()).toMatchObject({
      status: 'succeeded',
      rowsTouched: 1,
      details: { from: addDays(today, -1), to: addDays(today, -1), days: 1 },
    });
    expect((await summariesOf(manager(), tenant.id)).map((row) => row.date)).toEqual([addDays(today, -1)]);
  });

  it('catches up the nights missed since the last successful run', async () => {
    const tenant = await insertTenant(manager());
    await insertUsage(
      manager(),
      tenant.id,
      [-5, -4, -3, -2, -1].map((offset) => ({ at: `${addDays(today, offset)}T12:00:00Z` })),
    );
    await manager().query(
      `INSERT INTO job_runs (job, instance, status, started_at, finished_at, details)
       VALUES ('aggregate-yesterday', 'earlier', 'succeeded', now() - interval '4 days', now() - interval '4 days', $1),
              ('aggregate-yesterday', 'earlier', 'failed', now() - interval '1 day', now() - interval '1 day', $2)`,
      [
        JSON.stringify({ from: addDays(today, -5), to: addDays(today, -5), days: 1 }),
        JSON.stringify({ from: addDays(today, -2), to: addDays(today, -2) }),
      ],
    );
    expect(await nightly().run()).toMatchObject({
      status: 'succeeded',
      details: { from: addDays(today, -4), to: addDays(today, -1), days: 4 },
    });
    expect((await summariesOf(manager(), tenant.id)).map((row) => row.date)).toEqual(
      [-4, -3, -2, -1].map((offset) => addDays(today, offset)),
    );
    // The next night has nothing to catch up.
    expect(await nightly().run()).toMatchObject({ status: 'succeeded', details: { from: addDays(today, -1), to: addDays(today, -1) } });
  });

  it('catches up at most 31 days', async () => {
    await manager().query(
      `INSERT INTO job_runs (job, instance, status, started_at, finished_at, details) VALUES ('aggregate-yesterday', 'earlier', 'succeeded', now(), now(), $1)`,
      [JSON.stringify({ to: addDays(today, -100) })],
    );
    expect(await nightly().run()).toMatchObject({
      status: 'succeeded',
      details: { from: addDays(today, -31), to: addDays(today, -1), days: 31 },
    });
  });
});
