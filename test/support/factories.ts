/** Factories for test data: tenants, users with keys, knowledge, and signed Twilio webhooks. */
import crypto from 'node:crypto';
import request from 'supertest';
import twilio from 'twilio';
import type { ApiScope } from '../../src/db/entities/api-key';
import { importKnowledge } from '../../src/knowledge/knowledge-import';
import type { Tenant } from '../../src/db/entities/tenant';
import type { UserRole } from '../../src/db/entities/user';
import type { TenantCredentials } from '../../src/tenants/tenant-credentials';
import { randomInteger, seededRandom } from './seeded-random';
import type { TestContext } from './test-context';

let sequence = 0;
const numbers = seededRandom('tenant numbers');
const next = () => {
  sequence += 1;
  return sequence;
};

export interface TenantFixture {
  tenant: Tenant;
  credentials: TenantCredentials;
  /** whatsapp:+E164 of the tenant, as Twilio sends it in To. */
  address: string;
}

/**
 * A tenant with a unique number; simulated transport unless twilioAccountSid is given. Replies carry no 👍/👎
 * buttons unless the test's settings ask for them (feedbackButtons), so other suites see plain answers, and routing
 * never explores unless they set settings.llm.exploration, so the routed tier is always the exploiting one.
 */
export async function createTenant(
  context: TestContext,
  overrides: { name?: string; credentials?: Partial<TenantCredentials>; settings?: Tenant['settings'] } = {},
): Promise<TenantFixture> {
  const number = `+1555${String(1_000_000 + next() + randomInteger(numbers, 0, 7_999_999)).padStart(7, '0')}`;
  const credentials: TenantCredentials = { twilioAuthToken: crypto.randomBytes(16).toString('hex'), ...overrides.credentials };
  const tenant = await context.services.tenants.create({
    name: overrides.name ?? `Tenant ${number}`,
    whatsappNumber: number,
    credentials,
    // No routing exploration unless a test asks for it: an exploring pick would make the routed tier a coin toss.
    settings: {
      feedbackButtons: 'never',
      ...overrides.settings,
      llm: { exploration: 0, ...(overrides.settings?.llm as object | undefined) },
    },
  });
  return { tenant, credentials, address: `whatsapp:${number}` };
}

/** A user of the tenant and a key with the given scopes; returns the secret. */
export async function createApiKey(
  context: TestContext,
  tenant: Tenant,
  options: { scopes?: ApiScope[]; role?: UserRole; name?: string } = {},
): Promise<{ secret: string; userId: string; apiKeyId: string }> {
  const user = await context.services.apiKeys.createUser(tenant.id, options.name ?? 'Test User', options.role ?? 'admin');
  const issued = await context.services.apiKeys.issueKey(user, { scopes: options.scopes });
  return { secret: issued.secret, userId: user.id, apiKeyId: issued.apiKey.id };
}

/** Adds knowledge entries to a tenant, with their passages, as the knowledge API does. */
export async function createKnowledge(context: TestContext, tenant: Tenant, entries: Array<{ question: string; answer: string }>) {
  await importKnowledge(
    { manager: context.database.dataSource.manager, passages: context.services.questionAnswerPassages },
    tenant.id,
    entries.map((entry) => ({ ...entry, tags: [] })),
  );
}

/** A Twilio-shaped message SID. */
export const messageSid = () => `SM${crypto.randomBytes(16).toString('hex')}`;

/** Inbound WhatsApp webhook parameters as Twilio sends them. */
export function inboundParams(fixture: TenantFixture, overrides: Record<string, string> = {}): Record<string, string> {
  const customer = overrides.From ?? 'whatsapp:+14155550100';
  return {
    SmsMessageSid: overrides.MessageSid ?? messageSid(),
    NumMedia: '0',
    ProfileName: 'Ana',
    MessageType: 'text',
    SmsSid: overrides.MessageSid ?? messageSid(),
    WaId: customer.replace(/^whatsapp:\+/, ''),
    SmsStatus: 'received',
    Body: 'hello',
    To: fixture.address,
    NumSegments: '1',
    ReferralNumMedia: '0',
    MessageSid: messageSid(),
    AccountSid: fixture.credentials.twilioAccountSid ?? `AC${'0'.repeat(32)}`,
    From: customer,
    ApiVersion: '2010-04-01',
    ...overrides,
  };
}

/** Computes X-Twilio-Signature the way Twilio does. */
export function signTwilio(authToken: string, url: string, params: Record<string, string>): string {
  return twilio.getExpectedTwilioSignature(authToken, url, params);
}

/** POSTs a signed inbound webhook through the app. */
export function postInbound(context: Pick<TestContext, 'app' | 'config'>, fixture: TenantFixture, params: Record<string, string>) {
  const path = '/v1/webhooks/twilio/whatsapp';
  const signature = signTwilio(fixture.credentials.twilioAuthToken, `${context.config.publicBaseUrl}${path}`, params);
  return request(context.app).post(path).type('form').set('X-Twilio-Signature', signature).send(params);
}
