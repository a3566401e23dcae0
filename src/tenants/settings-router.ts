/**
 * /v1/bot/settings (settings:manage, admins): the tenant's settings, changed by JSON merge patch, with write-only
 * secrets, an audit log, and the secret its outbound webhooks are signed with.
 */
import express, { Router } from 'express';
import { z } from 'zod';
import { authOf, requireScope } from '../http/auth';
import { registerRoute } from '../http/openapi/route-registry';
import { parseRequest } from '../http/validate';
import { credentialsPatchSchema, type SettingsView, type TenantSettingsService } from './settings-service';
import { KNOWLEDGE_LANGUAGES, SETTINGS_LANGUAGES } from './tenant-settings';

const SCOPE = 'settings:manage';
const tags = ['settings'];

/** The document's shape for the OpenAPI page; the service validates with the full schema (tenant-settings.ts). */
const settingsDocumentSchema = z
  .object({
    systemPrompt: z.string().max(8000).optional(),
    language: z.enum(SETTINGS_LANGUAGES).optional(),
    retentionDays: z.number().int().min(1).max(3650).optional(),
    alertWebhookUrl: z.string().optional().describe('https in production; never a private, loopback or metadata address'),
    feedbackButtons: z.union([z.enum(['always', 'never']), z.object({ everyNth: z.number().int().min(1).max(100) })]).optional(),
    contentSids: z.record(z.string(), z.string()).optional(),
    handoffMessage: z.string().max(1000).optional(),
    handoffWebhookUrl: z.string().optional(),
    forbidSelfApproval: z.boolean().optional(),
    llm: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('Routing: quality (0..1), exploration, tiers, fallbackOrder, enabledProviders, monthlyBudgetUsd, ... (docs/llm.md)'),
    knowledge: z
      .object({
        language: z.enum(KNOWLEDGE_LANGUAGES).optional(),
        fallbackToHuman: z.boolean().optional(),
        sourceLinks: z.boolean().optional(),
      })
      .optional()
      .describe('Knowledge search language, the "I do not know" fallback (default on) and source links (default off); docs/knowledge.md'),
  })
  .describe('The settings document (camelCase keys, as stored)');

/** A merge patch: any part of the document (null removes a member), plus the write-only credentials. */
const patchBodySchema = z
  .record(z.string(), z.unknown())
  .refine((body) => !Array.isArray(body), 'must be a JSON object')
  .describe('JSON merge patch (RFC 7396) over the settings document; `credentials` sets secrets, which are never returned');

const viewSchema = z.object({
  settings: settingsDocumentSchema,
  problems: z.array(z.object({ setting: z.string(), message: z.string(), fallback: z.string() })),
  credentials: z.object({
    twilioAccountSid: z.string().nullable(),
    twilioAuthToken: z.object({ set: z.boolean() }),
    openaiApiKey: z.object({ set: z.boolean() }),
    geminiApiKey: z.object({ set: z.boolean() }),
    providerApiKeys: z.record(z.string(), z.object({ set: z.boolean() })),
  }),
  updated_at: z.string(),
});

const changesSchema = z.object({
  data: z.array(
    z.object({
      id: z.uuid(),
      actor: z.enum(['api', 'cli']),
      actor_user_id: z.uuid().nullable(),
      actor_name: z.string().nullable(),
      fields: z.array(z.string()),
      created_at: z.string(),
    }),
  ),
});

registerRoute({
  method: 'get',
  path: '/v1/bot/settings/',
  scope: SCOPE,
  tags,
  summary: "The tenant's settings, the problems of invalid stored values, and which secrets are set",
  responses: { 200: { description: 'The settings', schema: viewSchema } },
});
registerRoute({
  method: 'patch',
  path: '/v1/bot/settings/',
  scope: SCOPE,
  tags,
  summary: 'Change settings with a JSON merge patch; set secrets through `credentials` (write-only)',
  description:
    'The patched document must be valid as a whole, or nothing is stored (400 validation_failed, one entry per field). ' +
    'Every change is recorded (who, when, which fields) and listed by GET /v1/bot/settings/changes/. ' +
    'Content-Type application/json or application/merge-patch+json.',
  body: patchBodySchema.and(z.object({ credentials: credentialsPatchSchema.optional() })),
  bodyContentType: 'application/merge-patch+json',
  responses: { 200: { description: 'The settings after the change', schema: viewSchema } },
});
registerRoute({
  method: 'get',
  path: '/v1/bot/settings/changes/',
  scope: SCOPE,
  tags,
  summary: 'The latest settings changes: who, when and which fields (never values)',
  responses: { 200: { description: 'Changes, newest first', schema: changesSchema } },
});
registerRoute({
  method: 'get',
  path: '/v1/bot/settings/webhook-secret/',
  scope: SCOPE,
  tags,
  summary: "The secret that signs this tenant's outbound webhooks (handoff, provider-health alerts)",
  description: 'See docs/webhooks.md for the signature scheme and how to verify it.',
  responses: { 200: { description: 'The signing secret', schema: z.object({ secret: z.string(), scheme: z.string() }) } },
});

/** The wire form of a settings view. */
function present(view: SettingsView): z.infer<typeof viewSchema> {
  const set = (value: boolean) => ({ set: value });
  return {
    settings: view.settings,
    problems: view.problems,
    credentials: {
      twilioAccountSid: view.credentials.twilioAccountSid,
      twilioAuthToken: set(view.credentials.twilioAuthToken),
      openaiApiKey: set(view.credentials.openaiApiKey),
      geminiApiKey: set(view.credentials.geminiApiKey),
      providerApiKeys: Object.fromEntries(view.credentials.providerApiKeys.map((provider) => [provider, set(true)])),
    },
    updated_at: view.updatedAt,
  };
}

/** Routes under /v1/bot/settings. */
export function createSettingsRouter(deps: { settings: TenantSettingsService }): Router {
  const router = Router();
  router.use(requireScope(SCOPE));
  // A merge patch may come as application/merge-patch+json, which the API's JSON parser does not read.
  router.use(express.json({ limit: '256kb', type: 'application/merge-patch+json' }));

  router.get('/', async (_request, response) => {
    response.json(present(await deps.settings.get(authOf(response).tenantId)));
  });

  router.patch('/', async (request, response) => {
    const patch = parseRequest(patchBodySchema, request.body, 'body');
    const auth = authOf(response);
    response.json(present(await deps.settings.patch(auth.tenantId, patch, { kind: 'api', userId: auth.userId })));
  });

  router.get('/changes', async (_request, response) => {
    const changes = await deps.settings.changes(authOf(response).tenantId);
    response.json({
      data: changes.map((change) => ({
        id: change.id,
        actor: change.actor,
        actor_user_id: change.actorUserId,
        actor_name: change.actorName,
        fields: change.fields,
        created_at: change.createdAt,
      })),
    });
  });

  router.get('/webhook-secret', (_request, response) => {
    response.json({
      secret: deps.settings.webhookSecret(authOf(response).tenantId),
      scheme: 'v1: hex HMAC-SHA256 of "<timestamp>.<body>"',
    });
  });
  return router;
}
