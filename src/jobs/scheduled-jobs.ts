/** The jobs Parley runs on a schedule, with their UTC cron expressions; the CLI runs the same work by hand. */
import type { Logger } from 'pino';
import type { WebhookSender } from '../net/outbound-webhooks';
import { aggregateDay } from '../tracking/daily-usage-summaries';
import { aggregateRange, firstDayToAggregate, yesterdayOf } from './aggregate-daily-usage';
import { cleanupRetention } from './cleanup-retention';
import { type KnowledgeResyncDependencies, resyncKnowledge } from './knowledge-resync';
import type { JobOutcome, JobRunner } from './job-runner';
import { checkProviderHealth } from './provider-health-alerts';
import { utcDay } from '../tracking/utc-days';

export interface JobSettings {
  defaultRetentionDays: number;
  alertWebhookTimeoutMs: number;
}

export interface ScheduledJob {
  name: string;
  /** node-cron expression (minute hour day-of-month month day-of-week), evaluated in UTC. */
  cron: string;
  run(): Promise<JobOutcome>;
}

/**
 * The schedule: yesterday's summaries at 01:00 (and any night missed), today's hourly, cleanup Sunday 02:00, health
 * hourly, and (given its dependencies) the knowledge re-sync daily at 03:30.
 */
export function scheduledJobs(
  runner: JobRunner,
  settings: JobSettings,
  logger: Logger,
  webhooks: WebhookSender,
  knowledge?: KnowledgeResyncDependencies,
): ScheduledJob[] {
  const retention = { defaultRetentionDays: settings.defaultRetentionDays };
  const knowledgeJobs: ScheduledJob[] = knowledge
    ? [
        {
          name: 'knowledge-resync',
          cron: '30 3 * * *',
          run: () => runner.run('knowledge-resync', ({ manager }) => resyncKnowledge(manager, knowledge)),
        },
      ]
    : [];
  return [
    {
      name: 'aggregate-yesterday',
      cron: '0 1 * * *',
      run: () =>
        runner.run('aggregate-yesterday', async ({ manager }) => {
          const yesterday = yesterdayOf(utcDay());
          return aggregateRange(manager, await firstDayToAggregate(manager, 'aggregate-yesterday', yesterday), yesterday, retention);
        }),
    },
    {
      name: 'aggregate-today',
      cron: '5 * * * *',
      run: () =>
        runner.run('aggregate-today', async ({ manager }) => {
          const today = utcDay();
          return { rowsTouched: await aggregateDay(manager, today, retention), details: { day: today } };
        }),
    },
    {
      name: 'cleanup-retention',
      cron: '0 2 * * 0',
      run: () => runner.run('cleanup-retention', ({ manager }) => cleanupRetention(manager, retention)),
    },
    {
      name: 'provider-health',
      cron: '15 * * * *',
      run: () =>
        runner.run('provider-health', async ({ manager }) => {
          const { rowsTouched, details } = await checkProviderHealth(manager, {
            logger,
            webhooks,
            webhookTimeoutMs: settings.alertWebhookTimeoutMs,
          });
          return { rowsTouched, details };
        }),
    },
    ...knowledgeJobs,
  ];
}
