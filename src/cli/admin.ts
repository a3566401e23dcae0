/**
 * `npm run admin -- <command>`: manage tenants, API keys and knowledge.
 *   tenant:create --name NAME --whatsapp-number +E164 [--twilio-account-sid AC.. --twilio-auth-token T]
 *                 [--openai-api-key K] [--gemini-api-key K]
 *   key:create    --tenant ID|+E164 --user NAME [--role agent|supervisor|admin] [--scopes a,b] [--label L]
 *   key:revoke    --key KEY_ID
 *   knowledge:import --tenant ID|+E164 --file PATH(.json|.csv)
 *   knowledge:add --tenant ID|+E164 --file PATH(.md|.txt|.html|.pdf) | --url URL | --site URL | --sitemap URL [--title T]
 *   tenant:configure --tenant ID|+E164 --file SETTINGS.json   (a JSON merge patch, as PATCH /v1/bot/settings takes)
 * Works against DATABASE_URL, or the embedded PGlite (through the running server's socket when it is up).
 * A new key is printed exactly once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ApiKeyService } from '../access/api-key-service';
import { loadConfigOrExit } from '../config';
import { API_SCOPES, type ApiScope } from '../db/entities/api-key';
import { Tenant } from '../db/entities/tenant';
import { USER_ROLES, type UserRole } from '../db/entities/user';
import { openDatabase } from '../db/data-source';
import { AppError } from '../http/errors';
import { KnowledgeChunkRepository } from '../db/repositories/knowledge-chunk-repository';
import { KnowledgeDocumentRepository } from '../db/repositories/knowledge-document-repository';
import { importKnowledge, parseKnowledgeFile } from '../knowledge/knowledge-import';
import { QuestionAnswerPassages } from '../knowledge/question-answer-passages';
import { createLogger } from '../logger';
import { resolveEncryptionKey } from '../tenants/bootstrap';
import { TenantSettingsService } from '../tenants/settings-service';
import { TenantService } from '../tenants/tenant-service';
import { toE164 } from '../tenants/whatsapp-number';
import { randomToken } from '../crypto/secrets';
import { buildServices } from '../services';

const USAGE = `Usage: npm run admin -- <tenant:create|tenant:configure|key:create|key:revoke|knowledge:import|knowledge:add> [options]
  tenant:create    --name NAME --whatsapp-number +E164 [--twilio-account-sid AC... --twilio-auth-token TOKEN]
                   [--openai-api-key KEY] [--gemini-api-key KEY]
  key:create       --tenant ID|+E164 --user NAME [--role agent|supervisor|admin] [--scopes ${API_SCOPES.join(',')}] [--label TEXT]
  key:revoke       --key KEY_ID
  knowledge:import --tenant ID|+E164 --file PATH.json|PATH.csv
  knowledge:add    --tenant ID|+E164 (--file PATH.md|.txt|.html|.pdf | --url URL | --site URL | --sitemap URL) [--title TEXT]
                   (adds a document and indexes it now; prints its status and passages)
  tenant:configure --tenant ID|+E164 --file SETTINGS.json   (a JSON merge patch over the settings; docs/api.md)`;

class UsageError extends Error {}

/** A file's bytes, or a usage error naming it. */
function readFileOrUsage(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    throw new UsageError(`${file} is not readable: ${(error as Error).message}`);
  }
}

function required(values: Record<string, string | undefined>, name: string): string {
  const value = values[name];
  if (!value) throw new UsageError(`--${name} is required`);
  return value;
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: Object.fromEntries(
      [
        'name',
        'whatsapp-number',
        'twilio-account-sid',
        'twilio-auth-token',
        'openai-api-key',
        'gemini-api-key',
        'tenant',
        'user',
        'role',
        'scopes',
        'label',
        'key',
        'file',
        'url',
        'site',
        'sitemap',
        'title',
      ].map((option) => [option, { type: 'string' as const }]),
    ),
    strict: true,
  });
  if (
    !command ||
    !['tenant:create', 'tenant:configure', 'key:create', 'key:revoke', 'knowledge:import', 'knowledge:add'].includes(command)
  ) {
    throw new UsageError(`Unknown command ${command ?? ''}`);
  }

  const config = loadConfigOrExit();
  const logger = createLogger('warn');
  const encryptionKey = resolveEncryptionKey(config, logger);
  const database = await openDatabase({ url: config.database.url, pgliteDataDir: config.database.pgliteDataDir, poolSize: 2 });
  const manager = database.dataSource.manager;
  const tenants = new TenantService(manager, encryptionKey, { urlPolicy: config.outbound });
  const apiKeys = new ApiKeyService(manager);
  const findTenant = async (reference: string): Promise<Tenant> => {
    const number = toE164(reference);
    const tenant = number
      ? await manager.findOneBy(Tenant, { whatsappNumber: number })
      : /^[0-9a-f-]{36}$/i.test(reference)
        ? await manager.findOneBy(Tenant, { id: reference })
        : null;
    if (!tenant) throw new UsageError(`No tenant ${reference}`);
    return tenant;
  };

  try {
    if (command === 'tenant:create') {
      const accountSid = values['twilio-account-sid'];
      const authToken = values['twilio-auth-token'];
      if (Boolean(accountSid) !== Boolean(authToken)) throw new UsageError('--twilio-account-sid and --twilio-auth-token go together');
      const tenant = await tenants.create({
        name: required(values, 'name'),
        whatsappNumber: required(values, 'whatsapp-number'),
        credentials: {
          twilioAccountSid: accountSid,
          // Without Twilio the tenant is simulated; its webhooks are still signed, with a generated token.
          twilioAuthToken: authToken ?? randomToken(24),
          openaiApiKey: values['openai-api-key'],
          geminiApiKey: values['gemini-api-key'],
        },
      });
      process.stdout.write(
        `Created tenant ${tenant.id} (${tenant.name}, ${tenant.whatsappNumber}${accountSid ? '' : ', simulated transport'})\n`,
      );
    } else if (command === 'key:create') {
      const tenant = await findTenant(required(values, 'tenant'));
      const role = (values.role ?? 'supervisor') as UserRole;
      if (!USER_ROLES.includes(role)) throw new UsageError(`--role must be one of ${USER_ROLES.join(', ')}`);
      const scopes = values.scopes?.split(',').map((scope) => scope.trim()) as ApiScope[] | undefined;
      const unknown = scopes?.filter((scope) => !API_SCOPES.includes(scope));
      if (unknown?.length) throw new UsageError(`Unknown scopes: ${unknown.join(', ')}`);
      const user = await apiKeys.createUser(tenant.id, required(values, 'user'), role);
      const issued = await apiKeys.issueKey(user, { scopes, label: values.label });
      process.stdout.write(
        `Created key ${issued.apiKey.id} for ${user.name} (${role}) with scopes ${issued.apiKey.scopes.join(', ')}\n` +
          `API key (shown once, store it now): ${issued.secret}\n`,
      );
    } else if (command === 'tenant:configure') {
      const tenant = await findTenant(required(values, 'tenant'));
      const file = required(values, 'file');
      let patch: unknown;
      try {
        patch = JSON.parse(fs.readFileSync(file, 'utf8'));
      } catch (error) {
        throw new UsageError(`${file} is not readable JSON: ${(error as Error).message}`);
      }
      if (typeof patch !== 'object' || patch === null || Array.isArray(patch))
        throw new UsageError(`${file} must hold a JSON object (a merge patch)`);
      const view = await new TenantSettingsService(manager, tenants, encryptionKey).patch(tenant.id, patch as Record<string, unknown>, {
        kind: 'cli',
      });
      process.stdout.write(`Configured ${tenant.name}:\n${JSON.stringify(view.settings, null, 2)}\n`);
    } else if (command === 'knowledge:add') {
      const tenant = await findTenant(required(values, 'tenant'));
      const sources = (['file', 'url', 'site', 'sitemap'] as const).filter((option) => values[option]);
      if (sources.length !== 1) throw new UsageError('give exactly one of --file, --url, --site, --sitemap');
      // The app's own services: the same embedding provider, breakers and usage rows as the server's indexer.
      const services = buildServices(config, database.dataSource, encryptionKey, logger);
      const title = values.title;
      const added = values.file
        ? await services.knowledgeDocuments.addFile(tenant.id, {
            bytes: readFileOrUsage(values.file),
            fileName: path.basename(values.file),
            title,
          })
        : await services.knowledgeDocuments.addUrl(tenant.id, {
            url: (values.url ?? values.site ?? values.sitemap) as string,
            kind: values.url ? 'url' : 'site',
            title,
          });
      await services.documentIndexer.runUntilIdle();
      const document = await services.knowledgeDocuments.get(tenant.id, added.id);
      process.stdout.write(
        `Document ${document.id} (${document.title}): ${document.status}` +
          (document.failure_reason ? ` (${document.failure_reason})` : '') +
          `, ${document.chunk_count} passages${document.embedding_model ? `, embedded with ${document.embedding_model}` : ', keyword search only'}\n`,
      );
      if (document.status === 'failed') process.exitCode = 1;
    } else if (command === 'key:revoke') {
      await apiKeys.revoke(required(values, 'key'));
      process.stdout.write(`Revoked key ${values.key}\n`);
    } else {
      const tenant = await findTenant(required(values, 'tenant'));
      const file = required(values, 'file');
      const format = path.extname(file).toLowerCase() === '.csv' ? 'csv' : 'json';
      const entries = parseKnowledgeFile(fs.readFileSync(file, 'utf8'), format);
      // Written with their passages, not embedded here: the server's indexer embeds the queued `faq` document.
      const passages = new QuestionAnswerPassages({
        chunks: new KnowledgeChunkRepository(manager),
        documents: new KnowledgeDocumentRepository(manager),
        tenants,
      });
      const count = await importKnowledge({ manager, passages }, tenant.id, entries);
      process.stdout.write(`Imported ${count} knowledge entries into ${tenant.name}\n`);
    }
  } finally {
    await database.close();
  }
}

main(process.argv.slice(2)).catch((error) => {
  if (error instanceof UsageError || (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) {
    process.stderr.write(`${error.message}\n\n${USAGE}\n`);
  } else if (error instanceof AppError) {
    process.stderr.write(`${error.message}${error.details ? `\n${JSON.stringify(error.details, null, 2)}` : ''}\n`);
  } else {
    process.stderr.write(`admin failed: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
});
