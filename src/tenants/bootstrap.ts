/**
 * Start-up provisioning so nobody needs an admin step to get going:
 * - TWILIO_* set and no tenant yet: a default tenant from them;
 * - embedded mode with no tenant at all: a demo tenant on the simulated transport, with demo knowledge.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import { randomToken } from '../crypto/secrets';
import { KnowledgeEntry } from '../db/entities/knowledge-entry';
import type { QuestionAnswerPassages } from '../knowledge/question-answer-passages';
import { Tenant } from '../db/entities/tenant';
import demoKnowledge from '../demo/demo-knowledge.json';
import type { TenantService } from './tenant-service';

export const DEMO_WHATSAPP_NUMBER = '+14155238886';

export interface ChatProfile {
  baseUrl: string;
  tenantNumber: string;
  authToken: string;
}

/** The embedded mode's key: APP_ENCRYPTION_KEY, else one generated once and kept beside the PGlite data. */
export function resolveEncryptionKey(config: Config, logger: Logger): Buffer {
  if (config.encryptionKey) return config.encryptionKey;
  if (config.database.url) throw new Error('APP_ENCRYPTION_KEY is required with DATABASE_URL');
  const keyFile = path.join(path.dirname(path.resolve(config.database.pgliteDataDir)), 'encryption.key');
  if (fs.existsSync(keyFile)) return Buffer.from(fs.readFileSync(keyFile, 'utf8').trim(), 'hex');
  fs.mkdirSync(path.dirname(keyFile), { recursive: true });
  const key = Buffer.from(randomToken(32), 'base64url').subarray(0, 32);
  fs.writeFileSync(keyFile, key.toString('hex'), { mode: 0o600 });
  logger.warn({ keyFile }, 'APP_ENCRYPTION_KEY not set: generated a local key for the embedded database');
  return key;
}

/** Creates the default or demo tenant when there is none; returns the demo chat profile when one applies. */
export async function provisionTenants(
  config: Config,
  dataSource: DataSource,
  services: { tenants: TenantService; questionAnswerPassages: QuestionAnswerPassages },
  logger: Logger,
  embedded: boolean,
): Promise<void> {
  const { tenants, questionAnswerPassages } = services;
  if ((await tenants.count()) > 0) return;
  const { accountSid, authToken, whatsappNumber } = config.twilio;
  if (accountSid && authToken && whatsappNumber) {
    const tenant = await tenants.create({
      name: 'Default',
      whatsappNumber,
      credentials: {
        twilioAccountSid: accountSid,
        twilioAuthToken: authToken,
        openaiApiKey: config.openai.apiKey,
        geminiApiKey: config.gemini.apiKey,
      },
    });
    logger.info({ tenantId: tenant.id, whatsappNumber: tenant.whatsappNumber }, 'created the default tenant from TWILIO_* settings');
    return;
  }
  if (!embedded || !config.seedDemoTenant) return;
  await dataSource.transaction(async (manager) => {
    const tenant = await tenants.create(
      {
        name: 'Demo Shop',
        whatsappNumber: DEMO_WHATSAPP_NUMBER,
        credentials: { twilioAuthToken: randomToken(24), openaiApiKey: config.openai.apiKey, geminiApiKey: config.gemini.apiKey },
      },
      manager,
    );
    const entries = await manager.save(
      KnowledgeEntry,
      demoKnowledge.map((entry) => manager.create(KnowledgeEntry, { ...entry, tenantId: tenant.id })),
    );
    await questionAnswerPassages.indexEntries(manager, tenant.id, entries);
    logger.info({ tenantId: tenant.id }, 'created the demo tenant with demo knowledge (simulated WhatsApp transport)');
  });
}

/** The chat profile of the demo tenant, for `npm run chat`; null without one. */
export async function demoChatProfile(config: Config, dataSource: DataSource, tenants: TenantService): Promise<ChatProfile | null> {
  const demo = await dataSource.manager.findOneBy(Tenant, { whatsappNumber: DEMO_WHATSAPP_NUMBER });
  if (!demo) return null;
  const resolved = await tenants.findById(demo.id);
  if (!resolved || resolved.credentials.twilioAccountSid) return null;
  return { baseUrl: config.publicBaseUrl, tenantNumber: demo.whatsappNumber, authToken: resolved.credentials.twilioAuthToken };
}

/**
 * Lists, in one clear log line each, every tenant whose stored settings are invalid and what Parley does instead
 * (the start-up check; GET /metrics counts them and the dashboard shows them).
 */
export async function reportInvalidSettings(tenants: TenantService, logger: Logger): Promise<void> {
  for (const { tenantId, name, problems } of await tenants.tenantsWithInvalidSettings()) {
    logger.warn(
      { tenantId, problems: problems.map((problem) => `${problem.setting}: ${problem.message} -> ${problem.fallback}`) },
      `tenant "${name}" has invalid settings; restrictive values are in use until they are fixed (PATCH /v1/bot/settings)`,
    );
  }
}

/** Where the chat profile is written: beside the PGlite data, readable by the owner only. */
export function chatProfilePath(config: Config): string {
  return path.join(path.dirname(path.resolve(config.database.pgliteDataDir)), 'chat-profile.json');
}
