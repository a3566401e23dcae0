import { describe, expect, it } from 'vitest';
import { isEmbeddedDatabase } from '../../src/db/data-source';
import { aggregateDay } from '../../src/tracking/daily-usage-summaries';
import { JobRunner } from '../../src/jobs/job-runner';
import { addDays, utcDay } from '../../src/tracking/utc-days';
import { silentLogger, useTestContext } from '../support/test-context';
import { insertTenant, insertUsage, summariesOf } from './usage-rows';

/** A promise and its resolver, to hold a job open while another run tries to start. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

describe('job runner', () => {
  const context = useTestContext();

  const runs = () =>
    context.database.dataSource.query(
      `SELECT job, instance, status, rows_touched::int AS rows, error, details, finished_at IS NOT NULL AS finished FROM job_runs ORDER BY started_at`,
    );

  it('records a successful run with its rows touched and details, and a failed run with its error', async () => {
    const runner = new JobRunner(context.database.dataSource, silentLogger, 'test-host:1');
    const succeeded = await runner.run('demo', async () => ({ rowsTouched: 7, details: { day: '2026-11-23' } }));
    expect(succeeded).toMatchObject({ status: 'succeeded', rowsTouched: 7 });
    const failed = await runner.run('demo', async () => {
      throw new Error('boom');
    });
    expect(failed).toMatchObject({ status: 'failed' });
    expect(await runs()).toEqual([
      { job: 'demo', instance: 'test-host:1', status: 'succeeded', rows: 7, error: null, details: { day: '2026-11-23' }, finished: true },
      { job: 'demo', instance: 'test-host:1', status: 'failed', rows: 0, error: 'boom', details: {}, finished: true },
    ]);
  });

  it('skips a second run of a job while this process runs it, and runs another job meanwhile', async () => {
    const runner = new JobRunner(context.database.dataSource, silentLogger);
    const hold = deferred();
    const first = runner.run('held', async () => {
      await hold.promise;
      return { rowsTouched: 1 };
    });
    // Wait until the held run is recorded (its row's insert is still in flight when run() returns its promise).
    while ((await runs()).length === 0) await new Promise((resolve) => setImmediate(resolve));
    expect(await runner.run('held', async () => ({ rowsTouched: 2 }))).toEqual({ status: 'skipped', reason: 'already_running_here' });
    expect(await runner.run('other', async () => ({ rowsTouched: 3 }))).toMatchObject({ status: 'succeeded' });
    hold.resolve();
    expect(await first).toMatchObject({ status: 'succeeded', rowsTouched: 1 });
    expect((await runs()).map((run: { job: string }) => run.job)).toEqual(['held', 'other']);
  });

  it('takes a PostgreSQL advisory lock: another instance skips the job while it runs (PGlite: one session, re-entrant)', async () => {
    const first = new JobRunner(context.database.dataSource, silentLogger, 'instance-a');
    const second = new JobRunner(context.database.dataSource, silentLogger, 'instance-b');
    const hold = deferred();
    const running = first.run('locked', async () => {
      await hold.promise;
      return { rowsTouched: 1 };
    });
    // Wait until the first run is recorded, i.e. it holds the lock.
    while ((await runs()).length === 0) await new Promise((resolve) => setImmediate(resolve));
    const contender = await second.run('locked', async () => ({ rowsTouched: 2 }));
    if (isEmbeddedDatabase(context.database.dataSource)) {
      // PGlite serves every pooled connection from one backend session, where advisory locks are re-entrant.
      expect(contender).toMatchObject({ status: 'succeeded' });
    } else {
      expect(contender).toEqual({ status: 'skipped', reason: 'locked_elsewhere' });
    }
    hold.resolve();
    expect(await running).toMatchObject({ status: 'succeeded' });
    // Released: the next run of either instance takes it.
    expect(await second.run('locked', async () => ({ rowsTouched: 3 }))).toMatchObject({ status: 'succeeded' });
    const [{ held }] = await context.database.dataSource.query(`SELECT count(*)::int AS held FROM pg_locks WHERE locktype = 'advisory'`);
    expect(held).toBe(0);
  });

  it('never doubles summaries when two instances aggregate the same day at once', async () => {
    const manager = context.database.dataSource.manager;
    const tenant = await insertTenant(manager);
    const day = addDays(utcDay(), -1);
    await insertUsage(
      manager,
      tenant.id,
      [100, 200, 300].map((latencyMs, index) => ({ at: `${day}T0${index}:00:00Z`, latencyMs, costUsd: '0.5' })),
    );
    const instances = [
      new JobRunner(context.database.dataSource, silentLogger, 'a'),
      new JobRunner(context.database.dataSource, silentLogger, 'b'),
    ];
    const outcomes = await Promise.all(
      instances.map((runner) =>
        runner.run('aggregate-yesterday', async ({ manager: locked }) => ({ rowsTouched: await aggregateDay(locked, day) })),
      ),
    );
    expect(outcomes.filter((outcome) => outcome.status === 'succeeded').length).toBeGreaterThanOrEqual(1);
    expect(outcomes.every((outcome) => outcome.status !== 'failed')).toBe(true);
    expect(await summariesOf(manager, tenant.id)).toEqual([
      expect.objectContaining({ date: day, total_calls: 3, total_cost_usd: '1.500000000000', p50_latency_ms: '200.000' }),
    ]);
  });
});
