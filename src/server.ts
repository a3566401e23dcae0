/** The web process: HTTP API and webhooks; in embedded mode (or with INBOX_IN_WEB) it also answers messages. */
import fs from 'node:fs';
import type { Server } from 'node:http';
import { createApp } from './app';
import { createHttpServer } from './http/http-server';
import { loadConfigOrExit } from './config';
import { databaseWarnings, openDatabase } from './db/data-source';
import { createLogger } from './logger';
import { buildServices } from './services';
import { chatProfilePath, demoChatProfile, provisionTenants, reportInvalidSettings, resolveEncryptionKey } from './tenants/bootstrap';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config.logLevel);
  const encryptionKey = resolveEncryptionKey(config, logger);
  const database = await openDatabase({
    url: config.database.url,
    pgliteDataDir: config.database.pgliteDataDir,
    poolSize: config.database.poolSize,
    publishEmbeddedSocket: true,
  });
  logger.info(
    { mode: database.mode },
    database.mode === 'embedded' ? `embedded PGlite at ${config.database.pgliteDataDir}` : 'connected to PostgreSQL',
  );
  for (const warning of await databaseWarnings(database)) logger.warn(warning);
  const services = buildServices(config, database.dataSource, encryptionKey, logger);
  await provisionTenants(config, database.dataSource, services, logger, database.mode === 'embedded');
  await reportInvalidSettings(services.tenants, logger);

  const app = createApp(services);
  const server: Server = createHttpServer(app);
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  // Embedded PGlite lives in this process, so a separate worker could not reach it: answer messages here.
  if (config.inbox.runInWeb || database.mode === 'embedded') {
    services.processor.start();
    // Documents are indexed where messages are answered: the worker, or this process when it is the only one.
    services.knowledgeWorker.start();
  }
  if (config.jobs.runInWeb || database.mode === 'embedded') services.scheduler.start();

  const profile = await demoChatProfile(config, database.dataSource, services.tenants);
  if (profile && database.mode === 'embedded') {
    fs.writeFileSync(chatProfilePath(config), JSON.stringify(profile, null, 2), { mode: 0o600 });
  }
  const lines = [
    '',
    `Parley is listening on ${config.publicBaseUrl} (port ${config.port}).`,
    `Twilio webhook URL:      ${config.publicBaseUrl}/v1/webhooks/twilio/whatsapp`,
    `Status callback URL:     ${config.publicBaseUrl}/v1/webhooks/twilio/status`,
    profile
      ? 'Chat with the demo bot:  run `npm run chat` in another terminal (simulated WhatsApp, no Twilio needed).'
      : 'Point your Twilio WhatsApp sender at the webhook URL above.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    server.close();
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
  process.stderr.write(`Parley failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
