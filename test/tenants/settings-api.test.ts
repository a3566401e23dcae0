/**
 * The settings API: GET and PATCH /v1/bot/settings (JSON merge patch, settings:manage), field-level validation,
 * write-only secrets, the audit log; and what invalid stored settings do: never widen what the tenant may spend or
 * call, the problem shown.
 */
import crypto from 'node:crypto';
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SCOPES_BY_ROLE } from '../../src/access/api-key-service';
import { API_SCOPES } from '../../src/db/entities/api-key';
import { createReplyGenerator } from '../../src/llm/reply-generator';
import { ProviderUsageRecorder } from '../../src/tracking/provider-usage-recorder';
import { startFakeGemini } from '../fakes/gemini-server';
import { startFakeOpenAI } from '../fakes/openai-server';
import { createApiKey, createTenant, type TenantFixture } from '../support/factories';
import { useTestContext } from '../support/test-context';

const context = useTestContext();
let shop: TenantFixture;
let admin: string;
let supervisor: string;

beforeEach(async () => {
  shop = await createTenant(context, { settings: { systemPrompt: 'You are the voice of Acme.' } });
  admin = (await createApiKey(context, shop.tenant, { role: 'admin', name: 'Ada' })).secret;
  supervisor = (await createApiKey(context, shop.tenant, { role: 'supervisor' })).secret;
});

const getSettings = (key = admin) => request(context.app).get('/v1/bot/settings').set('Authorization', `Bearer ${key}`);
const patchSettings = (body: unknown, key = admin) =>
  request(context.app)
    .patch('/v1/bot/settings')
    .set('Authorization', `Bearer ${key}`)
    .send(body as object);

/** Writes settings straight to the database, as an operator's SQL or an older release could. */
async function storeRaw(settings: Record<string, unknown>): Promise<void> {
  await context.database.dataSource.query('UPDATE tenants SET settings = $2 WHERE id = $1', [shop.tenant.id, JSON.stringify(settings)]);
  context.services.tenants.invalidate();
}

describe('GET and PATCH /v1/bot/settings', () => {
  it('is for admins: settings:manage is an admin scope, which supervisors and agents do not hold', async () => {
    expect(DEFAULT_SCOPES_BY_ROLE.admin).toEqual([...API_SCOPES]);
    expect(DEFAULT_SCOPES_BY_ROLE.supervisor).not.toContain('settings:manage');
    expect(DEFAULT_SCOPES_BY_ROLE.agent).toEqual(['conversations:manage']);
    await getSettings(supervisor).expect(403);
    await patchSettings({ systemPrompt: 'x' }, supervisor).expect(403);
    const response = await getSettings().expect(200);
    expect(response.body.settings).toMatchObject({ systemPrompt: 'You are the voice of Acme.' });
  });

  it('merges a patch into the stored settings: members merge, null removes, the rest is kept', async () => {
    await patchSettings({ llm: { quality: 0.8, tiers: { cheap: [{ provider: 'openai', model: 'gpt-4o-mini' }] } } }).expect(200);
    const response = await patchSettings({ handoffMessage: 'Un momento, por favor.', llm: { tiers: null, exploration: 0.1 } }).expect(200);
    expect(response.body.settings).toMatchObject({
      systemPrompt: 'You are the voice of Acme.',
      handoffMessage: 'Un momento, por favor.',
      llm: { quality: 0.8, exploration: 0.1 },
    });
    expect(response.body.settings.llm.tiers).toBeUndefined();
    const patchAsMergePatch = await request(context.app)
      .patch('/v1/bot/settings')
      .set('Authorization', `Bearer ${admin}`)
      .set('Content-Type', 'application/merge-patch+json')
      .send(JSON.stringify({ systemPrompt: null }))
      .expect(200);
    expect(patchAsMergePatch.body.settings.systemPrompt).toBeUndefined();
  });

  it('refuses an invalid document with one message per field, and stores nothing', async () => {
    const response = await patchSettings({
      systemPrompt: 'ok\u0000',
      feedbackButtons: { everyNth: 0 },
      handoffWebhookUrl: 'http://169.254.169.254/latest/meta-data',
      monthlyBudget: 5,
      llm: { quality: 2, tiers: { cheap: 'gpt-4o-mini' } },
    }).expect(400);
    expect(response.body.error.code).toBe('validation_failed');
    const paths = (response.body.error.details as Array<{ path: string }>).map((detail) => detail.path);
    expect(paths).toEqual(
      expect.arrayContaining(['systemPrompt', 'feedbackButtons.everyNth', 'handoffWebhookUrl', 'llm.quality', 'llm.tiers.cheap']),
    );
    expect(JSON.stringify(response.body.error.details)).toContain('monthlyBudget');
    const stored = await getSettings().expect(200);
    expect(stored.body.settings).toEqual({ systemPrompt: 'You are the voice of Acme.', feedbackButtons: 'never', llm: { exploration: 0 } });
  });

  it('stores a budget written as a number as the exact decimal string the router compares', async () => {
    const response = await patchSettings({ llm: { monthlyBudgetUsd: 20 } }).expect(200);
    expect(response.body.settings.llm.monthlyBudgetUsd).toBe('20');
    await patchSettings({ llm: { monthlyBudgetUsd: 'twenty' } }).expect(400);
  });

  it('takes secrets through credentials, stores them encrypted, and never returns them', async () => {
    const key = `sk-${crypto.randomBytes(12).toString('hex')}`;
    const response = await patchSettings({ credentials: { openaiApiKey: key, providerApiKeys: { ollama: 'ollama-secret' } } }).expect(200);
    expect(response.body.credentials).toMatchObject({
      openaiApiKey: { set: true },
      geminiApiKey: { set: false },
      providerApiKeys: { ollama: { set: true } },
    });
    const read = await getSettings().expect(200);
    expect(JSON.stringify(read.body)).not.toContain(key);
    expect(JSON.stringify(response.body)).not.toContain(key);
    const [row] = await context.database.dataSource.query(
      'SELECT encrypted_credentials, settings::text AS settings FROM tenants WHERE id = $1',
      [shop.tenant.id],
    );
    expect(row.encrypted_credentials).not.toContain(key);
    expect(row.settings).not.toContain(key);
    const resolved = await context.services.tenants.findById(shop.tenant.id);
    expect(resolved?.credentials.openaiApiKey).toBe(key);
    // null removes a secret; the others stay.
    const removed = await patchSettings({ credentials: { openaiApiKey: null } }).expect(200);
    expect(removed.body.credentials).toMatchObject({
      openaiApiKey: { set: false },
      twilioAuthToken: { set: true },
      providerApiKeys: { ollama: { set: true } },
    });
    await patchSettings({ credentials: { twilioAuthToken: '' } }).expect(400);
  });

  it('records who changed which fields, never the values', async () => {
    await patchSettings({ systemPrompt: 'New voice', llm: { quality: 0.7 } }).expect(200);
    await patchSettings({ credentials: { geminiApiKey: 'g-secret-value' } }).expect(200);
    const response = await request(context.app).get('/v1/bot/settings/changes').set('Authorization', `Bearer ${admin}`).expect(200);
    expect(response.body.data).toMatchObject([
      { actor: 'api', actor_name: 'Ada', fields: ['credentials.geminiApiKey'] },
      { actor: 'api', actor_name: 'Ada', fields: ['systemPrompt', 'llm.quality'] },
    ]);
    expect(JSON.stringify(response.body)).not.toContain('g-secret-value');
    expect(JSON.stringify(response.body)).not.toContain('New voice');
  });

  it('refuses an empty patch', async () => {
    const response = await patchSettings({}).expect(400);
    expect(response.body.error.code).toBe('empty_patch');
  });
});

describe('invalid stored settings', () => {
  it('answer offline instead of dropping the budget cap and the provider list (the llm section fails closed)', async () => {
    // A number where the budget must be a decimal string, written outside the API: before, the whole section was
    // replaced by the defaults, enabling every provider with no cap.
    await storeRaw({ llm: { monthlyBudgetUsd: 'twenty', enabledProviders: ['gemini'] } });
    const resolved = (await context.services.tenants.findById(shop.tenant.id))!;
    expect(resolved.settingsProblems).toEqual([
      expect.objectContaining({ setting: 'llm.monthlyBudgetUsd', fallback: expect.stringContaining('offline') }),
    ]);
    const [openai, gemini] = await Promise.all([startFakeOpenAI(), startFakeGemini()]);
    const generator = createReplyGenerator({
      config: {
        openai: { apiKey: 'sk-platform', baseUrl: openai.baseUrl },
        gemini: { apiKey: 'g-platform', baseUrl: gemini.baseUrl },
        outbound: context.config.outbound,
      },
      manager: context.database.dataSource.manager,
      usage: new ProviderUsageRecorder(context.database.dataSource.manager),
    });
    const outcome = await generator.generate({
      tenantId: shop.tenant.id,
      tenantSettings: resolved.settings,
      credentials: resolved.credentials,
      conversationId: crypto.randomUUID(),
      interactionId: crypto.randomUUID(),
      messages: [{ role: 'user', content: 'Compare your plans in detail and calculate the cheapest over two years.' }],
      knowledge: [],
    });
    await Promise.all([openai.close(), gemini.close()]);
    expect(outcome).toMatchObject({ provider: 'offline', attempts: 1 });
    // The platform's models were reachable and would have answered: not one request reached them.
    expect(openai.book.requests.length + gemini.book.requests.length).toBe(0);
  });

  it('make no call to an invalid webhook URL, and are listed for the dashboard and the settings API', async () => {
    await storeRaw({ handoffWebhookUrl: 'http://10.0.0.7/hook', systemPrompt: 42, llm: { quality: 0.3, thresholds: { simple: 0.2 } } });
    const resolved = (await context.services.tenants.findById(shop.tenant.id))!;
    expect(resolved.settings.handoffWebhookUrl).toBeUndefined();
    expect(resolved.settings.systemPrompt).toBeUndefined();
    // A key an older release knew (thresholds.simple) is ignored, not a reason to answer offline.
    expect(resolved.settings.llm).toMatchObject({ quality: 0.3 });
    const settings = await getSettings().expect(200);
    expect(settings.body.problems.map((problem: { setting: string }) => problem.setting).sort()).toEqual([
      'handoffWebhookUrl',
      'systemPrompt',
    ]);
    const me = await request(context.app).get('/v1/bot/me').set('Authorization', `Bearer ${supervisor}`).expect(200);
    expect(me.body.settings_problems).toHaveLength(2);
    expect(await context.services.tenants.tenantsWithInvalidSettings()).toEqual([expect.objectContaining({ tenantId: shop.tenant.id })]);
    // The API fixes them: a patch must leave the whole document valid.
    await patchSettings({ llm: { quality: 0.4 } }).expect(400);
    await patchSettings({ handoffWebhookUrl: null, systemPrompt: null }).expect(200);
    expect((await getSettings().expect(200)).body.problems).toEqual([]);
  });
});
