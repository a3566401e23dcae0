/**
 * The daily aggregation job: recomputes the summaries (tracking/daily-usage-summaries.ts) of a range of UTC days,
 * catching up nights no worker ran. Running it again recomputes the same rows.
 */
import type { EntityManager } from 'typeorm';
import { aggregateDay, type DaySummaryOptions } from '../tracking/daily-usage-summaries';
import { addDays, daysBetween } from '../tracking/utc-days';
import type { JobResult } from './job-runner';

export interface AggregateOptions extends DaySummaryOptions {
  /** Called after each day, for progress output on long ranges. */
  onDay?: (progress: { day: string; index: number; total: number; summaries: number }) => void;
}

/** Recomputes every day from `from` to `to` (inclusive), one statement per day. */
export async function aggregateRange(manager: EntityManager, from: string, to: string, options: AggregateOptions = {}): Promise<JobResult> {
  const days = daysBetween(from, to);
  let rowsTouched = 0;
  for (const [index, day] of days.entries()) {
    const summaries = await aggregateDay(manager, day, options);
    rowsTouched += summaries;
    options.onDay?.({ day, index, total: days.length, summaries });
  }
  return { rowsTouched, details: { from, to, days: days.length } };
}

/** The day the nightly run aggregates: yesterday, UTC. */
export function yesterdayOf(today: string): string {
  return addDays(today, -1);
}

/** Catch-up is bounded: a worker down for longer than this needs `npm run jobs -- aggregate --from`. */
export const MAX_CATCH_UP_DAYS = 31;

/**
 * The first day the nightly run must aggregate: the day after the last one a successful run of `job` covered, so
 * nights missed while no worker ran are caught up; yesterday when there is no earlier run.
 */
export async function firstDayToAggregate(manager: EntityManager, job: string, yesterday: string): Promise<string> {
  const [{ covered }] = await manager.query(
    `SELECT max(details->>'to') AS covered FROM job_runs WHERE job = $1 AND status = 'succeeded' AND details->>'to' ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'`,
    [job],
  );
  if (!covered || covered >= yesterday) return yesterday;
  const next = addDays(covered, 1);
  const earliest = addDays(yesterday, -(MAX_CATCH_UP_DAYS - 1));
  // biome-ignore lint/complexity/useMathMinMax: ISO day strings compare as text; Math.max would coerce them to NaN
  return next < earliest ? earliest : next;
}
