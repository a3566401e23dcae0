/**
 * The worker process: answers stored inbound messages and runs the scheduled jobs (see src/jobs/scheduled-jobs.ts).
 * It needs a shared PostgreSQL (DATABASE_URL): an embedded PGlite lives inside the web process only.
 */
import { loadConfigOrExit } from './config';
import { databaseWarnings, openDatabase } from './db/data-source';
import { createLogger } from './logger';
import { buildServices } from './services';
import { reportInvalidSettings, resolveEncryptionKey } from './tenants/bootstrap';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config.logLevel).child({ role: 'worker' });
  if (!config.database.url) {
    process.stderr.write('The worker needs DATABASE_URL (PostgreSQL). In embedded mode `npm start` answers messages itself.\n');
    process.exit(1);
  }
  const encryptionKey = resolveEncryptionKey(config, logger);
  const database = await openDatabase({ url: config.database.url, poolSize: config.database.poolSize });
  for (const warning of await databaseWarnings(database)) logger.warn(warning);
  const services = buildServices(config, database.dataSource, encryptionKey, logger);
  await reportInvalidSettings(services.tenants, logger);
  services.processor.start();
  services.knowledgeWorker.start();
  services.scheduler.start();
  logger.info('worker started');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    // Finish the work in hand, take no more; unfinished claims return to the queue when their lease expires.
    logger.info({ signal }, 'worker stopping');
    // A running job finishes and is recorded; the schedule takes no new run.
    await Promise.all([services.processor.stop(), services.scheduler.stop(), services.knowledgeWorker.stop()]);
    // Webhooks announced by the last turns and jobs get their attempt in flight; no retry waits past this point.
    await services.webhooks.stop();
    await database.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error) => {
  process.stderr.write(`worker failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
