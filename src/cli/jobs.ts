/**
 * `npm run jobs -- <command>`: runs a scheduled job by hand, under the same lock and record as the scheduler.
 *   aggregate [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--tenant ID]   default: yesterday; progress per day
 *   cleanup [--dry-run]                                                retention cleanup (dry run: count only)
 *   health                                                             provider health check and alerts
 *   knowledge [--all]                                                  re-sync web pages and sites, then index what was queued
 * Exit codes: 0 done, 1 failed, 2 usage error, 3 skipped because another run holds the job.
 */
import { parseArgs } from 'node:util';
import type { DataSource } from 'typeorm';
import pino, { type Logger } from 'pino';
import { type Config, loadConfigOrExit } from '../config';
import { openDatabase } from '../db/data-source';
import { aggregateRange } from '../jobs/aggregate-daily-usage';
import { cleanupRetention } from '../jobs/cleanup-retention';
import { type JobOutcome, JobRunner } from '../jobs/job-runner';
import { resyncKnowledge } from '../jobs/knowledge-resync';
import { checkProviderHealth } from '../jobs/provider-health-alerts';
import { buildServices } from '../services';
import { createWebhookSender } from '../net/outbound-webhooks';
import { resolveEncryptionKey } from '../tenants/bootstrap';
import { addDays, dayCount, isCalendarDay, MAX_DAY_RANGE, utcDay } from '../tracking/utc-days';
import { createLogger } from '../logger';

const USAGE = `Usage: npm run jobs -- <aggregate|cleanup|health|knowledge> [options]
  aggregate [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--tenant ID]   recompute daily summaries (default: yesterday)
  cleanup [--dry-run]                                               delete aggregated usage past retention
  health                                                            check provider health, alert on changes
  knowledge [--all]                                                 re-sync web pages and sites not synced for 20 h
                                                                    (--all: every one), then index what is queued`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

class UsageError extends Error {}

const print = (line: string) => process.stdout.write(`${line}\n`);

function parseCommand(argv: string[]) {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      tenant: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      all: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (command === 'aggregate') {
    const yesterday = addDays(utcDay(), -1);
    const from = values.from ?? values.to ?? yesterday;
    const to = values.to ?? (values.from ? utcDay() : yesterday);
    for (const [name, value] of [
      ['from', from],
      ['to', to],
    ]) {
      if (!isCalendarDay(value)) throw new UsageError(`--${name} must be a day of the years 1970 to 9999, YYYY-MM-DD`);
    }
    if (from > to) throw new UsageError('--from must not be after --to');
    if (dayCount(from, to) > MAX_DAY_RANGE) throw new UsageError(`--from to --to must span at most ${MAX_DAY_RANGE} days`);
    if (values.tenant !== undefined && !UUID.test(values.tenant)) throw new UsageError('--tenant must be a tenant id (uuid)');
    return { command, from, to, tenantId: values.tenant } as const;
  }
  if (command === 'cleanup') return { command, dryRun: values['dry-run'] } as const;
  if (command === 'health') return { command } as const;
  if (command === 'knowledge') return { command, all: values.all } as const;
  throw new UsageError(`Unknown command ${command ?? ''}`);
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv);
  const config = loadConfigOrExit();
  // Progress goes to stdout; the job's own log lines go to stderr.
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, pino.destination(2));
  const database = await openDatabase({ url: config.database.url, pgliteDataDir: config.database.pgliteDataDir, poolSize: 2 });
  try {
    const runner = new JobRunner(database.dataSource, logger);
    const retention = { defaultRetentionDays: config.jobs.defaultRetentionDays };
    let outcome: JobOutcome;
    if (parsed.command === 'aggregate') {
      print(`Aggregating ${parsed.from} to ${parsed.to}${parsed.tenantId ? ` for tenant ${parsed.tenantId}` : ''}`);
      outcome = await runner.run('aggregate-backfill', ({ manager }) =>
        aggregateRange(manager, parsed.from, parsed.to, {
          ...retention,
          tenantId: parsed.tenantId,
          onDay: ({ day, index, total, summaries }) => print(`  ${day} (${index + 1}/${total}): ${summaries} summaries`),
        }),
      );
    } else if (parsed.command === 'cleanup') {
      outcome = await runner.run('cleanup-retention', ({ manager }) =>
        cleanupRetention(manager, {
          ...retention,
          dryRun: parsed.dryRun,
          onBatch: ({ totalDeleted }) => print(`  deleted ${totalDeleted} rows so far`),
        }),
      );
    } else if (parsed.command === 'knowledge') {
      outcome = await resyncAndIndex(runner, database.dataSource, config, logger, parsed.all);
    } else {
      const webhooks = createWebhookSender(config.outbound, resolveEncryptionKey(config, logger), logger);
      outcome = await runner.run('provider-health', ({ manager }) =>
        checkProviderHealth(manager, { logger, webhooks, webhookTimeoutMs: config.jobs.alertWebhookTimeoutMs }),
      );
      // The alerts go out in the background: wait for them (retries included) before the process exits.
      await webhooks.settle();
    }
    return report(outcome);
  } finally {
    await database.close();
  }
}

/**
 * The knowledge re-sync job under its scheduler name and lock, then the indexing the server's worker would do next:
 * run by hand, the documents are fetched and indexed before the command returns, each reported as it finishes.
 */
async function resyncAndIndex(
  runner: JobRunner,
  dataSource: DataSource,
  config: Config,
  logger: Logger,
  all: boolean,
): Promise<JobOutcome> {
  // The app's own services: the same fetch policy, embedding provider, breakers and usage rows as the server's indexer.
  const services = buildServices(config, dataSource, resolveEncryptionKey(config, logger), logger);
  print(all ? 'Re-syncing every web page and site' : 'Re-syncing web pages and sites not synced for 20 hours');
  const outcome = await runner.run('knowledge-resync', ({ manager }) =>
    resyncKnowledge(manager, { tenants: services.tenants, staleAfterMs: all ? 0 : undefined }),
  );
  if (outcome.status !== 'succeeded') return outcome;
  for (let next = await services.documentIndexer.indexNext(); next; next = await services.documentIndexer.indexNext()) {
    print(`  ${next.documentId}: ${next.outcome}`);
  }
  return outcome;
}

function report(outcome: JobOutcome): number {
  if (outcome.status === 'skipped') {
    process.stderr.write('Skipped: another run of this job is in progress.\n');
    return 3;
  }
  if (outcome.status === 'failed') {
    process.stderr.write(`Failed (run ${outcome.runId}): ${outcome.error.message}\n`);
    return 1;
  }
  const details = Object.entries(outcome.details).map(
    ([key, value]) => `${key}=${typeof value === 'object' ? JSON.stringify(value) : String(value)}`,
  );
  print(
    `Done in ${(outcome.durationMs / 1000).toFixed(1)} s: ${outcome.rowsTouched} rows touched${details.length ? ` (${details.join(', ')})` : ''}. Run ${outcome.runId}.`,
  );
  return 0;
}

main(process.argv.slice(2))
  .then((code) => process.exit(code))
  .catch((error) => {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`jobs failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
